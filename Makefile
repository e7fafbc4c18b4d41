# Everything set-up needs, from the package registries, into .venv in this folder.
# `make demo` runs the main job on the embedded defaults; `make test` runs every test.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_HOME ?= .ddq-demo

.PHONY: install demo test lint typecheck check eval bench clean

TEST_STAMP := $(VENV)/.installed-test
RUNTIME_EXTRAS := local,onnx,openvino,openai,serve,postgres,tracing

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "error: $(PYTHON) not found (DDQ needs Python 3.11)"; exit 1; }
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[$(RUNTIME_EXTRAS)]'
	touch $(STAMP)

## The test tools, and llama.cpp's server for the openai provider's tests (it compiles from
## source the first time, ~4 minutes on 2 cores; pip keeps the wheel in its cache).
$(TEST_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[$(RUNTIME_EXTRAS),dev,llm-test]'
	touch $(TEST_STAMP)

install: $(STAMP)

## The main job on the embedded defaults (SQLite + Milvus Lite + the local model, no network):
## ingest the sample knowledge base, answer the sample questionnaire (XLSX) as a job, and
## write the answered workbook and the review report into $(DEMO_OUT).
DEMO_OUT ?= demo-output
DEMO_FILE ?= examples/questionnaires/harborline_vendor_security.xlsx

demo: $(STAMP)
	rm -rf $(DEMO_HOME) $(DEMO_OUT)
	$(BIN)/ddq ingest examples/knowledge --home $(DEMO_HOME)
	$(BIN)/ddq questions $(DEMO_FILE) --home $(DEMO_HOME) | tail -n 1
	$(BIN)/ddq answer $(DEMO_FILE) --home $(DEMO_HOME) \
		-o $(DEMO_OUT)/$(basename $(notdir $(DEMO_FILE)))-answered$(suffix $(DEMO_FILE))

## Every test: unit, integration (real Milvus Lite, SQLite, PostgreSQL, the real model), e2e.
test: $(TEST_STAMP)
	bash scripts/services.sh
	bash scripts/system-packages.sh
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/mypy
	DDQ_TEST_POSTGRES_URL=$${DDQ_TEST_POSTGRES_URL:-postgresql://postgres@127.0.0.1:5432/test} \
		$(BIN)/pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

eval: $(STAMP)
	$(BIN)/ddq eval beir ../shared/data/scifact

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_ingest.py
	$(BIN)/python benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) $(DEMO_HOME) .pytest_cache .mypy_cache .ruff_cache
