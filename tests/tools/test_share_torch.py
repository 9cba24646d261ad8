"""tools/share_torch.py: the test venvs share torch's files by hard link, and pip then sees it installed."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import pytest

TOOL = Path(__file__).resolve().parents[2] / "tools" / "share_torch.py"


def load_tool():
    spec = importlib.util.spec_from_file_location("share_torch", TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_venv(root: Path, dists: dict[str, list[str]]) -> Path:
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    for dist, files in dists.items():
        info = site / f"{dist}.dist-info"
        info.mkdir()
        for relative in files:
            (site / relative).parent.mkdir(parents=True, exist_ok=True)
            (site / relative).write_text(relative)
        rows = [f"{relative},sha256=x,1" for relative in files] + [f"{dist}.dist-info/RECORD,,", "../../bin/torchrun,,"]
        (info / "RECORD").write_text("\n".join(rows) + "\n")
    return site


def test_links_torch_family_and_leaves_others(tmp_path: Path) -> None:
    tool = load_tool()
    source = make_venv(tmp_path / "src", {
        "torch-2.14.1": ["torch/__init__.py", "torch/lib/libtorch_cpu.so"],
        "nvidia_cublas-13.1.1.3": ["nvidia/cublas/lib/libcublas.so"],
        "numpy-2.4.6": ["numpy/__init__.py"],
    })
    target = make_venv(tmp_path / "dst", {"numpy-1.26.2": ["numpy/__init__.py"]})
    assert tool.main([str(tmp_path / "src"), str(tmp_path / "dst")]) == 0
    linked = target / "torch" / "lib" / "libtorch_cpu.so"
    assert os.stat(linked).st_ino == os.stat(source / "torch" / "lib" / "libtorch_cpu.so").st_ino
    assert (target / "nvidia" / "cublas" / "lib" / "libcublas.so").is_file()
    assert (target / "torch-2.14.1.dist-info" / "RECORD").is_file()
    assert (target / "numpy" / "__init__.py").read_text() == "numpy/__init__.py"
    assert not (target / "numpy-2.4.6.dist-info").exists()
    assert not (tmp_path / "dst" / "bin").exists()


def test_existing_distribution_is_not_touched(tmp_path: Path) -> None:
    tool = load_tool()
    make_venv(tmp_path / "src", {"torch-2.14.1": ["torch/__init__.py"]})
    target = make_venv(tmp_path / "dst", {"torch-2.13.0": ["torch/__init__.py"]})
    tool.main([str(tmp_path / "src"), str(tmp_path / "dst")])
    assert not (target / "torch-2.14.1.dist-info").exists()
    assert (target / "torch" / "__init__.py").stat().st_nlink == 1


def test_missing_venv_is_a_clear_exit(tmp_path: Path) -> None:
    tool = load_tool()
    with pytest.raises(SystemExit, match="create the venv first"):
        tool.main([str(tmp_path / "nowhere"), str(tmp_path / "also")])
