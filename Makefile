# Two set-up commands for a fresh machine: `make demo` (render) and `make test` (whole suite).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.deforum-installed
OUTDIR ?= outputs
JOBS ?= 2
# Second and third test passes: the code the WebUI runs, against A1111's and Forge's own versions
# (requirements-webui.txt, requirements-forge.txt), each in its own venv; the same torch is hard-linked from
# .venv (tools/share_torch.py) instead of unpacked three times (5 GB and a minute each).
COMPAT_STAMPS := .venv-webui/.deforum-installed .venv-forge/.deforum-installed
WEBUI_TESTS := tests/animation tests/media tests/core tests/prompt tests/config tests/models tests/ui \
	tests/integrations/webui tests/integrations/api/test_api_units.py tests/integrations/api/test_api_http.py \
	tests/integrations/features/test_clipseg.py tests/integrations/features/test_matting.py tests/fidelity

.PHONY: demo test bench gpu-check fuzz lint venv clean

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt requirements-api.txt requirements-audio.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q -r requirements-dev.txt
	$(BIN)/python -m pip install -q --no-deps -e .
	touch $(STAMP)

.venv-%/.deforum-installed: requirements-%.txt $(STAMP)
	test -x .venv-$*/bin/python || $(PYTHON) -m venv .venv-$*
	$(BIN)/python tools/share_torch.py $(VENV) .venv-$*
	.venv-$*/bin/python -m pip install -q -r requirements-$*.txt
	touch $@

demo: $(STAMP)
	$(BIN)/python -m deforum render default_settings.txt --preview --outdir $(OUTDIR)

test: $(STAMP) $(COMPAT_STAMPS)
	$(BIN)/python -m ruff check deforum tests bench
	$(BIN)/python -m pytest -n $(JOBS)
	.venv-webui/bin/python -m pytest -n $(JOBS) $(WEBUI_TESTS) tests/depth
	.venv-forge/bin/python -m pytest -n $(JOBS) $(WEBUI_TESTS) tests/depth

bench: $(STAMP)
	$(BIN)/python bench/run_all.py

# On a CUDA machine: SD 1.5 and SDXL checkpoints, 30 frames each, s/frame and the share outside the denoising loop;
# with WEBUI_URL, frames compared with the WebUI's on the same seed (bench/gpu_check.py). Skips cleanly without CUDA.
gpu-check: $(STAMP)
	$(BIN)/python bench/gpu_check.py $(if $(SD15),--sd15 "$(SD15)") $(if $(SDXL),--sdxl "$(SDXL)") \
		$(if $(WEBUI_URL),--webui-url "$(WEBUI_URL)") $(GPU_CHECK_ARGS)

fuzz: $(STAMP)
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-3000} $(BIN)/python -m pytest tests/test_fuzz.py -p no:randomly
	FUZZ_EXAMPLES=$${FUZZ_RENDER_EXAMPLES:-200} $(BIN)/python -m pytest -p no:randomly tests/test_fuzz_render.py \
		tests/animation/test_expression_integers.py

lint: $(STAMP)
	$(BIN)/python -m ruff check deforum tests bench

clean:
	rm -rf $(OUTDIR) .pytest_cache build *.egg-info
