#!/usr/bin/env bash
# Build the Lambda artifacts without Docker: `sam build` for arm64/python3.12, then make them fast to cold-start.
#
#   scripts/build_lambda.sh            # uses .venv-tools/bin/sam (make tools installs it)
#   SAM=sam scripts/build_lambda.sh    # any other sam
#
# 1. sam build runs under Python 3.12 (pyenv): with the default 3.11 its binary validation of python3.12 fails.
# 2. botocore is removed from the layer: aws-xray-sdk (Powertools' tracer extra) pulls in 30 MB of it, the
#    python3.12 runtime ships boto3/botocore already, and a layer copy would shadow the runtime's boto3.
# 3. Every .py is compiled by Python 3.12 (sam build writes no .pyc; Lambda's file system is read-only, so without
#    them each cold start compiles everything again). unchecked-hash: zip timestamps cannot invalidate them.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM="${SAM:-.venv-tools/bin/sam}"
PY312="${PY312:-3.12.1}"
BUILD=.aws-sam/build
export SAM_CLI_TELEMETRY=0

PYENV_VERSION="3.11.7:${PY312}" "$SAM" build "$@"

LAYER="$BUILD/CoreLayer/python"
rm -rf "$LAYER"/botocore "$LAYER"/botocore-*.dist-info "$LAYER/requirements.txt"

PYENV_VERSION="$PY312" python3.12 -m compileall -q -j 0 --invalidation-mode unchecked-hash "$LAYER" \
    "$BUILD"/*Function
echo "built $BUILD: $(find "$BUILD" -name '*.pyc' | wc -l) .pyc files compiled by $(PYENV_VERSION="$PY312" python3.12 -V)"
