"""Package hygiene: importing deforum (and loading settings) pulls in no heavy or WebUI modules."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT

HEAVY = ("torch", "gradio", "modules", "diffusers", "transformers", "cv2", "fastapi")


def imported_after(statement: str) -> set[str]:
    """Top-level module names present after running statement in a fresh interpreter."""
    code = f"import sys; {statement}; print(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    return set(done.stdout.split())


def test_import_deforum_is_light() -> None:
    assert not imported_after("import deforum") & set(HEAVY)


def test_loading_and_checking_settings_needs_no_torch() -> None:
    statement = "from deforum.config.settings_io import load; load('default_settings.txt')"
    assert not imported_after(statement) & set(HEAVY)


def test_the_facade_loads_and_renders_a_preview(tmp_path) -> None:
    import deforum

    settings = deforum.load_settings(ROOT / "default_settings.txt").replace(W=64, H=64, max_frames=3,
                                                                           batch_name="facade")
    assert isinstance(settings, deforum.Settings)
    result = deforum.render(settings, tmp_path, preview=True)
    assert result.frames_written == 3 and sorted(p.name for p in result.outdir.glob("*.png"))[0].endswith(
        "_000000000.png")
    assert result.outdir.parent == tmp_path
