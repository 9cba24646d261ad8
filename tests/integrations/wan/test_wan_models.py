"""Finding Wan weights on disk: named folders, wan_model_path, the HF cache offline, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from deforum.integrations.wan.models import WanModelError, WanModelMissing, select_models
from deforum.models.settings import Settings

CLASSES = {"vace": "WanVACEPipeline", "t2v": "WanPipeline", "i2v": "WanImageToVideoPipeline"}


def fake_model(folder: Path, kind: str = "vace", skip: str = "") -> Path:
    """A folder shaped like a diffusers Wan model (component folders empty)."""
    parts = ["scheduler", "text_encoder", "tokenizer", "transformer", "vae"]
    parts += ["image_encoder", "image_processor"] if kind == "i2v" else []
    index = {"_class_name": CLASSES[kind], "transformer_2": [None, None],
             **{part: ["diffusers", "Part"] for part in parts}}
    folder.mkdir(parents=True)
    (folder / "model_index.json").write_text(json.dumps(index), encoding="utf-8")
    for part in parts:
        if part != skip:
            (folder / part).mkdir()
    return folder


@pytest.fixture
def models(tmp_path, monkeypatch) -> Path:
    """An empty models folder as the working folder's models/, with an empty Hugging Face cache."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DEFORUM_MODELS_DIR", raising=False)
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
    (tmp_path / "models").mkdir()
    return tmp_path / "models"


def wan(**values) -> Settings:
    """Wan settings with the given wan_* values."""
    return Settings.from_dict({"animation_mode": "Wan Video", **values})


def test_a_missing_model_names_the_folder_the_files_and_the_download(models):
    with pytest.raises(WanModelMissing) as err:
        select_models(wan(), {"t2v", "i2v"})
    text = str(err.value)
    assert "Setting 'wan_t2v_model'" in text and "'1.3B VACE' was not found" in text
    assert "Wan2.1-VACE-1.3B-diffusers" in text and str(models / "Deforum" / "wan") in text
    assert "model_index.json" in text and "transformer/" in text and "Downloads are off" in text
    assert "hf download Wan-AI/Wan2.1-VACE-1.3B-diffusers" in text


def test_the_vace_model_serves_both_roles(models):
    folder = fake_model(models / "Deforum" / "wan" / "Wan2.1-VACE-1.3B-diffusers")
    found = select_models(wan(), {"t2v", "i2v"})
    assert found.text == found.image and found.text.path == folder and found.text.kind == "vace"


def test_folders_match_in_any_letter_case_and_in_models_wan(models):
    folder = fake_model(models / "wan" / "wan2.1-t2v-1.3b-diffusers", "t2v")
    found = select_models(wan(wan_t2v_model="1.3B T2V (Legacy)"), {"t2v"})
    assert found.text.path == folder and found.image is None


def test_a_legacy_pair_of_text_and_image_models(models):
    fake_model(models / "Deforum" / "wan" / "Wan2.1-T2V-14B-Diffusers", "t2v")
    i2v = fake_model(models / "Deforum" / "wan" / "Wan2.1-I2V-14B-480P-Diffusers", "i2v")
    found = select_models(wan(wan_t2v_model="14B T2V (Legacy)", wan_i2v_model="14B I2V 480P (Legacy)"),
                          {"t2v", "i2v"})
    assert (found.text.kind, found.image.path) == ("t2v", i2v)


def test_a_text_only_primary_model_cannot_continue_clips(models):
    fake_model(models / "wan" / "Wan2.1-T2V-1.3B-Diffusers", "t2v")
    settings = wan(wan_t2v_model="1.3B T2V (Legacy)")
    with pytest.raises(WanModelError, match="Use T2V Model \\(No Continuity\\)"):
        select_models(settings, {"t2v", "i2v"})
    assert select_models(settings, {"t2v"}).text.kind == "t2v"


def test_an_incomplete_folder_says_what_is_missing(models):
    fake_model(models / "wan" / "Wan2.1-VACE-1.3B-diffusers", skip="transformer")
    with pytest.raises(WanModelMissing, match="incomplete: missing transformer/"):
        select_models(wan(), {"t2v"})


def test_the_original_wan_layout_is_explained(models):
    folder = models / "wan" / "Wan2.1-VACE-1.3B"
    folder.mkdir(parents=True)
    (folder / "Wan2.1_VAE.pth").write_bytes(b"")
    with pytest.raises(WanModelMissing, match="original Wan repository's files"):
        select_models(wan(), {"t2v"})


def test_custom_path_reads_the_kind_from_model_index(models, tmp_path):
    folder = fake_model(tmp_path / "elsewhere" / "my-wan", "t2v")
    found = select_models(wan(wan_t2v_model="Custom Path", wan_model_path=str(folder),
                              wan_i2v_model="Use T2V Model (No Continuity)"), {"t2v"})
    assert found.text.path == folder and found.text.label == "Custom Path"
    with pytest.raises(WanModelError, match="t2v model and cannot make image-to-video clips"):
        select_models(wan(wan_i2v_model="Custom Path", wan_model_path=str(folder)), {"i2v"})


def test_wan_model_path_is_searched_first(models, tmp_path):
    folder = fake_model(tmp_path / "mine" / "Wan2.1-VACE-1.3B-diffusers")
    fake_model(models / "wan" / "Wan2.1-VACE-1.3B-diffusers")
    assert select_models(wan(wan_model_path=str(tmp_path / "mine")), {"t2v"}).text.path == folder


def test_auto_detect_follows_the_preferred_size(models):
    fake_model(models / "wan" / "Wan2.1-VACE-1.3B-diffusers")
    big = fake_model(models / "wan" / "Wan2.1-VACE-14B-diffusers")
    picked = select_models(wan(wan_t2v_model="Auto-Detect", wan_preferred_size="14B VACE (High Quality)"), {"t2v"})
    assert picked.text.path == big
    both = select_models(wan(wan_t2v_model="Auto-Detect", wan_i2v_model="Auto-Detect"), {"t2v", "i2v"})
    assert both.text.path.name == "Wan2.1-VACE-1.3B-diffusers" and both.image == both.text


def test_the_hugging_face_cache_is_read_offline(models, tmp_path):
    repo = tmp_path / "hf" / "models--Wan-AI--Wan2.1-VACE-1.3B-diffusers"
    snapshot = fake_model(repo / "snapshots" / "abc123")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("abc123", encoding="utf-8")
    assert select_models(wan(), {"t2v"}).text.path == snapshot


def test_an_unknown_choice_lists_the_choices(models):
    with pytest.raises(WanModelError, match="unknown model 'Wan 9'.*1.3B VACE"):
        select_models(wan(wan_t2v_model="Wan 9"), {"t2v"})


@pytest.fixture
def hub(models, monkeypatch):
    """A loopback Hugging Face hub with downloads on."""
    from tests.loopback_hosts import LoopbackHosts

    with LoopbackHosts() as server:
        monkeypatch.setenv("DEFORUM_OFFLINE", "0")
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        yield server


def test_wan_auto_download_fetches_a_missing_1_3b_model_into_the_cache(hub, models, tmp_path):
    repo = fake_model(tmp_path / "repo")
    for part in ("scheduler", "text_encoder", "tokenizer", "transformer", "vae"):
        (repo / part / "config.json").write_text("{}", encoding="utf-8")
    hub.add_repo("Wan-AI/Wan2.1-VACE-1.3B-diffusers", repo)
    chosen = select_models(wan(wan_t2v_model="1.3B VACE"), {"t2v"}).text
    assert chosen.kind == "vace" and (tmp_path / "hf") in chosen.path.parents
    count = len(hub.state.requests)
    assert select_models(wan(wan_t2v_model="1.3B VACE"), {"t2v"}).text.path == chosen.path
    assert len(hub.state.requests) == count


def test_a_14b_model_needs_the_large_download_yes_and_auto_download_off_never_asks(hub, models):
    with pytest.raises(WanModelMissing, match="--allow-large-downloads"):
        select_models(wan(wan_t2v_model="14B VACE"), {"t2v"})
    with pytest.raises(WanModelMissing) as err:
        select_models(wan(wan_t2v_model="1.3B VACE", wan_auto_download=False), {"t2v"})
    assert "deforum models download" not in str(err.value) and hub.state.requests == []
