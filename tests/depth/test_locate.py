"""Finding depth weights offline: models folders, $DEFORUM_MODELS_DIR, ./models, the HF cache; the missing error."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from deforum.config.weights import MODELS_DIR_ENV, models_roots
from deforum.depth import DepthModelMissing, load_depth_estimator
from deforum.depth.algorithms import spec_for
from deforum.depth.locate import cached_snapshot, find_weights, is_model_folder

DA = spec_for("Depth-Anything-V2-Small")
MIDAS = spec_for("Midas-3-Hybrid")


def _copy_model(models_dir: Path, name: str, target: Path) -> Path:
    """Copy one tiny model folder (from the session's fake models dir) to ``target``."""
    shutil.copytree(models_dir / "Deforum" / name, target)
    return target


def test_missing_weights_error_names_model_files_and_places(tmp_path: Path) -> None:
    with pytest.raises(DepthModelMissing) as caught:
        load_depth_estimator("Depth-Anything-V2-Small", models_dir=str(tmp_path / "empty"))
    message = str(caught.value)
    assert isinstance(caught.value, FileNotFoundError)
    for part in ("Depth-Anything-V2-Small", "depth-anything/Depth-Anything-V2-Small-hf", "config.json",
                 "model.safetensors", str(tmp_path / "empty" / "Deforum" / "Depth-Anything-V2-Small-hf"),
                 MODELS_DIR_ENV, "Downloads are off", "deforum models download", "hf-cache"):
        assert part in message


def test_missing_midas_mentions_the_original_checkpoint(tmp_path: Path) -> None:
    with pytest.raises(DepthModelMissing, match="dpt_large-midas-2f21e586.pt") as caught:
        find_weights(MIDAS, tmp_path)
    assert "Intel/dpt-large" in str(caught.value) and "Intel/dpt-hybrid-midas" in str(caught.value)


def test_search_roots_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MODELS_DIR_ENV, str(tmp_path / "env"))
    assert models_roots(tmp_path / "arg") == [tmp_path / "arg", tmp_path / "env", tmp_path / "models"]
    assert models_roots() == [tmp_path / "env", tmp_path / "models"]


@pytest.mark.parametrize("layout", ["Deforum/Depth-Anything-V2-Small-hf", "depth/Depth-Anything-V2-Small-hf",
                                    "depth-anything/Depth-Anything-V2-Small-hf", "Deforum/depth-anything/"
                                    "Depth-Anything-V2-Small-hf", "."])
def test_accepted_folder_layouts(models_dir: Path, tmp_path: Path, layout: str) -> None:
    target = tmp_path / "mine" / layout
    if layout == ".":
        target = tmp_path / "mine"
    _copy_model(models_dir, "Depth-Anything-V2-Small-hf", target)
    source = find_weights(DA, tmp_path / "mine")
    assert (source.path, source.kind) == (target, "folder")


def test_env_and_cwd_models_folders(models_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    local = tmp_path / "models" / "Deforum" / "Depth-Anything-V2-Small-hf"
    _copy_model(models_dir, "Depth-Anything-V2-Small-hf", local)
    assert find_weights(DA).path == local
    monkeypatch.setenv(MODELS_DIR_ENV, str(models_dir))
    assert find_weights(DA).path == models_dir / "Deforum" / "Depth-Anything-V2-Small-hf"


def test_hugging_face_cache_snapshot(models_dir: Path, tmp_path: Path) -> None:
    repo = tmp_path / "hf-cache" / "models--depth-anything--Depth-Anything-V2-Small-hf"
    _copy_model(models_dir, "Depth-Anything-V2-Small-hf", repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123")
    assert cached_snapshot("depth-anything/Depth-Anything-V2-Small-hf") == repo / "snapshots" / "abc123"
    assert find_weights(DA, tmp_path / "nothing-here").path == repo / "snapshots" / "abc123"


def test_wrong_model_type_is_skipped(models_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    wrong = _copy_model(models_dir, "dpt-large", tmp_path / "m" / "Deforum" / "Depth-Anything-V2-Small-hf")
    assert not is_model_folder(wrong, "depth_anything")
    assert "not 'depth_anything'" in caplog.text
    with pytest.raises(DepthModelMissing):
        find_weights(DA, tmp_path / "m")


def test_folder_without_weights_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "cfg").mkdir()
    (tmp_path / "cfg" / "config.json").write_text(json.dumps({"model_type": "dpt"}))
    assert not is_model_folder(tmp_path / "cfg", "dpt")


def test_original_midas_checkpoint_is_found_before_the_hybrid_folder(models_dir: Path, tmp_path: Path) -> None:
    deforum = tmp_path / "m" / "Deforum"
    _copy_model(models_dir, "dpt-large", deforum / "dpt-hybrid-midas")
    (deforum / "dpt_large-midas-2f21e586.pt").write_bytes(b"placeholder")
    source = find_weights(MIDAS, tmp_path / "m")
    assert (source.path.name, source.kind) == ("dpt_large-midas-2f21e586.pt", "original")
    (deforum / "dpt_large-midas-2f21e586.pt").unlink()
    assert find_weights(MIDAS, tmp_path / "m").path == deforum / "dpt-hybrid-midas"
