# The two commands of the README: `make run` (set up, index, serve) and `make test` (set up, lint, test);
# `make check` is the fast loop (lint, types, unit tests) while editing.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.DEFAULT_GOAL := test
.PHONY: setup browser postgres run ingest test check fast lint typecheck unit eval report clean

setup: $(STAMP)

# torch 2.13.0 first: it is the local CPU build; anything else would pull several GB of CUDA packages.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	touch $(STAMP)

run: setup
	$(BIN)/copilot ingest
	$(BIN)/copilot serve --host 127.0.0.1 --port 8000

ingest: setup
	$(BIN)/copilot ingest

test: setup browser postgres lint typecheck unit

# The fast loop while editing: lint, types and the tests that need neither the real model, a server nor a browser,
# on both cores (pytest-xdist).
check: setup lint typecheck fast

fast: setup
	$(BIN)/python -m pytest -q -n 2 -m "not slow and not integration"

# The sidebar is tested in Debian's Chromium (Playwright's own browser download does not work offline).
browser:
	@command -v chromium >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq chromium)

# The store's contract tests run on a real PostgreSQL server started by the tests (Debian's binaries).
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq postgresql)

lint: setup
	$(BIN)/ruff check copilot api evals bench tests

typecheck: setup
	$(BIN)/mypy

unit: setup
	$(BIN)/python -m pytest

eval: setup
	$(BIN)/copilot eval evals/datasets/*.jsonl --out out/eval

report: setup
	$(BIN)/copilot ingest
	$(BIN)/copilot compare-retrieval evals/datasets/retrieval.jsonl
	$(BIN)/copilot guardrail-report evals/datasets/guardrails*.jsonl
	$(BIN)/copilot draft-report evals/datasets/drafts.jsonl

clean:
	rm -rf $(VENV) .copilot
