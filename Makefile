# Two set-up commands for a fresh machine: `make demo` (render) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deforum-installed
OUTDIR ?= outputs
JOBS ?= 2

.PHONY: demo test bench fuzz lint venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-api.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/python -m deforum render default_settings.txt --preview --outdir $(OUTDIR)

test: $(STAMP)
	$(BIN)/python -m ruff check deforum tests bench
	$(BIN)/python -m pytest -n $(JOBS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-3000} $(BIN)/python -m pytest tests/test_fuzz.py -p no:randomly

lint: $(STAMP)
	$(BIN)/python -m ruff check deforum tests bench

clean:
	rm -rf $(OUTDIR) .pytest_cache build *.egg-info
