"""install.py's optional extras (requirements-audio.txt): installed when missing, a failure is only a warning."""

from __future__ import annotations

import importlib.util
import sys
import types

import pytest

from tests.conftest import ROOT


def load_install(monkeypatch: pytest.MonkeyPatch, run_pip) -> types.ModuleType:
    """install.py loaded with a fake `launch` module."""
    monkeypatch.setitem(sys.modules, "launch", types.SimpleNamespace(run_pip=run_pip))
    spec = importlib.util.spec_from_file_location("deforum_install_optional", ROOT / "install.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_audio_extra_is_listed_and_pinned() -> None:
    lines = [line for line in (ROOT / "requirements-audio.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    assert {line.split("==")[0] for line in lines} == {"librosa", "matplotlib"}
    assert all("==" in line for line in lines)
    assert "-r requirements-audio.txt" in (ROOT / "requirements-dev.txt").read_text()


def test_main_installs_missing_optional_packages_after_the_required_ones(monkeypatch) -> None:
    calls: list[str] = []
    install = load_install(monkeypatch, lambda command, desc: calls.append(command))
    monkeypatch.setattr(install, "missing", lambda requirements: [r for r in requirements if "librosa" in r
                                                                  or "surely-absent" in r])
    monkeypatch.setattr(install, "REQUIREMENTS", ROOT / "requirements.txt")
    install.main()
    assert [call.split()[1] for call in calls] == ['"librosa==0.11.0"']


def test_a_failing_optional_package_is_a_warning_not_a_failed_install(monkeypatch, caplog) -> None:
    def run_pip(command: str, desc: str) -> None:
        raise RuntimeError("no wheel for this platform")

    install = load_install(monkeypatch, run_pip)
    assert install.install_optional("librosa==0.11.0", "") is False
    assert "optional librosa==0.11.0 could not be installed" in caplog.text
