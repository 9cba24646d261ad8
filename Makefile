# Two set-up commands for a fresh machine: `make demo` (render) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deforum-installed
OUTDIR ?= outputs
JOBS ?= 2
# The second test pass: the code the WebUI runs, against the WebUI's own versions (requirements-webui.txt).
WEBUI_VENV := .venv-webui
WEBUI_BIN := $(WEBUI_VENV)/bin
WEBUI_STAMP := $(WEBUI_VENV)/.deforum-installed
WEBUI_TESTS := tests/animation tests/media tests/core tests/prompt tests/config tests/models \
	tests/integrations/test_webui_*.py tests/integrations/test_api_units.py tests/integrations/test_api_http.py \
	tests/integrations/test_clipseg.py tests/integrations/test_matting.py

.PHONY: demo test bench fuzz lint venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-api.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

$(WEBUI_STAMP): requirements-webui.txt
	test -x $(WEBUI_BIN)/python || $(PYTHON) -m venv $(WEBUI_VENV)
	$(WEBUI_BIN)/python -m pip install -q -r requirements-webui.txt
	touch $(WEBUI_STAMP)

demo: $(STAMP)
	$(BIN)/python -m deforum render default_settings.txt --preview --outdir $(OUTDIR)

test: $(STAMP) $(WEBUI_STAMP)
	$(BIN)/python -m ruff check deforum tests bench
	$(BIN)/python -m pytest -n $(JOBS)
	$(WEBUI_BIN)/python -m pytest -n $(JOBS) $(WEBUI_TESTS)

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-3000} $(BIN)/python -m pytest tests/test_fuzz.py -p no:randomly

lint: $(STAMP)
	$(BIN)/python -m ruff check deforum tests bench

clean:
	rm -rf $(OUTDIR) .pytest_cache build *.egg-info
