#!/usr/bin/env bash
# Build the Lambda artifacts without Docker: `sam build` for arm64/python3.12, then make them fast to cold-start.
#
#   scripts/build_lambda.sh            # uses .venv-tools/bin/sam (make tools installs it)
#   SAM=sam scripts/build_lambda.sh    # any other sam
#
# 1. sam build runs under Python 3.12 (pyenv): with the default 3.11 its binary validation of python3.12 fails.
# 2. Two layers (template.yaml): CoreLayer (the sluice package and what both functions need) and ParsersLayer
#    (pypdfium2, python-docx with lxml, selectolax: 10.7 MB zipped), attached to the ingest function only, so
#    the query function stays under 10 MB zipped. Both unpack into /opt/python, so the parsers layer drops what
#    the core layer carries already (typing_extensions): one copy, whichever order the layers are applied in.
# 3. Removed from the core layer, each never imported by Sluice (docs/benchmarks.md "AWS build" has the sizes):
#    - botocore: aws-xray-sdk (Powertools' tracer extra) pulls in 30 MB of it, the python3.12 runtime ships
#      boto3/botocore already, and a layer copy would shadow the runtime's boto3;
#    - pydantic/v1, the Pydantic 1 compatibility copy: Sluice has no v1 models, and FastAPI only imports it
#      (when declaring routes, ~20 ms of every cold start) to ask whether a model is a v1 one, falling back to
#      "no" when it is missing;
#    - Powertools' REST event handler and the utilities Sluice does not use (Sluice answers HTTP with FastAPI and
#      uses only the logger, metrics, tracer, batch and data classes, which import none of them; the one lazy
#      reference, pydantic_to_dict, serves events that are Pydantic models, and Sluice's events are dicts);
#    - test suites shipped inside packages, and type stubs (*.pyi), which nothing reads at run time.
# 4. Every .py is compiled by Python 3.12 (sam build writes no .pyc; Lambda's file system is read-only, so without
#    them each cold start compiles everything again). unchecked-hash: zip timestamps cannot invalidate them.
set -euo pipefail
cd "$(dirname "$0")/.."

SAM="${SAM:-.venv-tools/bin/sam}"
PY312="${PY312:-3.12.1}"
BUILD=.aws-sam/build
export SAM_CLI_TELEMETRY=0

PYENV_VERSION="3.11.7:${PY312}" "$SAM" build "$@"

CORE="$BUILD/CoreLayer/python"
PARSERS="$BUILD/ParsersLayer/python"
POWERTOOLS="$CORE/aws_lambda_powertools"
rm -rf "$CORE/requirements.txt" "$PARSERS/requirements.txt" \
    "$CORE"/botocore "$CORE"/botocore-*.dist-info \
    "$CORE/pydantic/v1" \
    "$POWERTOOLS/event_handler" \
    "$POWERTOOLS"/utilities/{auth_alpha,circuit_breaker,data_masking,feature_flags,idempotency,kafka} \
    "$POWERTOOLS"/utilities/{parameters,streaming,validation}
for shared in "$CORE"/typing_extensions*; do rm -rf "$PARSERS/$(basename "$shared")"; done
find "$CORE" "$PARSERS" -type d \( -name tests -o -name __pycache__ \) -prune -exec rm -rf {} +
find "$CORE" "$PARSERS" -name '*.pyi' -delete

PYENV_VERSION="$PY312" python3.12 -m compileall -q -j 0 --invalidation-mode unchecked-hash "$CORE" "$PARSERS" \
    "$BUILD"/*Function
echo "built $BUILD: $(find "$BUILD" -name '*.pyc' | wc -l) .pyc files compiled by $(PYENV_VERSION="$PY312" python3.12 -V)"
