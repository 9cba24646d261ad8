"""Weights on first use, against a loopback hub (HF_ENDPOINT) and release host serving tiny random-weight models."""

from __future__ import annotations

import hashlib
import io
import threading
from pathlib import Path

import numpy as np
import pytest
import torch

from deforum.config import fetch
from deforum.config.catalog import BY_NAME, entry
from deforum.config.download import Checksum, DownloadError, Limits, download_file
from deforum.config.weights import ModelWeightsMissing
from tests.loopback_hosts import LoopbackHosts

ESRGAN_PATH = "/xinntao/Real-ESRGAN/releases/download/v0.2.5.0/realesr-animevideov3.pth"
RIFE_PATH = "/hithereai/Practical-RIFE/releases/download/rife46/RIFE46.pkl"
DEPTH_REPO = "depth-anything/Depth-Anything-V2-Small-hf"


def tiny_esrgan_bytes() -> bytes:
    """A random-weight SRVGGNetCompact (4 features, 1 conv, ×4) saved the way Real-ESRGAN releases are."""
    from deforum.integrations.post.upscale import SRVGGNetCompact

    torch.manual_seed(0)
    buffer = io.BytesIO()
    torch.save({"params": SRVGGNetCompact(4, 1, 4).state_dict()}, buffer)
    return buffer.getvalue()


@pytest.fixture
def hosts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The loopback hub + release host, downloads on, an empty models folder and Hugging Face cache."""
    with LoopbackHosts() as server:
        monkeypatch.setenv("DEFORUM_OFFLINE", "0")
        monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
        monkeypatch.setenv("HF_ENDPOINT", server.endpoint)
        monkeypatch.setenv(fetch.RELEASES_ENV, server.endpoint)
        monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf"))
        monkeypatch.setenv("DEFORUM_MODELS_DIR", str(tmp_path / "models"))
        monkeypatch.setattr(fetch, "_progress_factory", [])
        yield server


def test_first_use_downloads_a_release_file_with_progress_and_the_second_reads_it(hosts, tmp_path):
    from deforum.integrations.post.upscale import load_upscaler

    blob = tiny_esrgan_bytes()
    hosts.add_file(ESRGAN_PATH, blob)
    seen: list[tuple[str, int, int | None]] = []
    fetch.configure(progress=lambda label: lambda done, total: seen.append((label, done, total)))
    image = np.random.default_rng(0).integers(0, 256, (8, 6, 3), dtype=np.uint8)
    assert load_upscaler("realesr-animevideov3", device="cpu").upscale(image, 4).shape == (32, 24, 3)
    saved = tmp_path / "models" / "Deforum" / "realesr-animevideov3.pth"
    assert saved.read_bytes() == blob and not list(saved.parent.glob("*.part"))
    assert seen[-1] == ("Real-ESRGAN realesr-animevideov3.pth", len(blob), len(blob))
    load_upscaler("realesr-animevideov3", device="cpu")
    assert hosts.state.gets(ESRGAN_PATH) == [""]


def test_a_hub_model_is_downloaded_into_the_cache_once(hosts, tmp_path):
    from deforum.depth.estimator import load_depth_estimator
    from deforum.depth.testing import save_tiny_model

    if not hasattr(pytest.importorskip("transformers"), "DepthAnythingConfig"):
        pytest.skip("this transformers has no Depth-Anything (the tokenizer test covers the hub here)")
    hosts.add_repo(DEPTH_REPO, save_tiny_model(tmp_path / "tiny", "depth_anything"))
    image = np.random.default_rng(1).integers(0, 256, (28, 42, 3), dtype=np.uint8)
    depth = load_depth_estimator("Depth-Anything-V2-Small", device="cpu").predict(image)
    assert depth.shape == (28, 42) and np.isfinite(depth).all()
    snapshot = tmp_path / "hf" / f"models--{DEPTH_REPO.replace('/', '--')}" / "snapshots"
    assert {p.name for p in next(snapshot.iterdir()).iterdir()} == {"config.json", "model.safetensors"}
    count = len(hosts.state.requests)
    load_depth_estimator("Depth-Anything-V2-Small", device="cpu")
    assert len(hosts.state.requests) == count


def test_hub_files_only_are_fetched_for_the_tokenizer_and_found_in_the_cache(hosts, tmp_path):
    from deforum.integrations.diffusers.tokenizer import find_or_download_tokenizer

    repo = tmp_path / "clip"
    repo.mkdir()
    (repo / "vocab.json").write_text('{"a</w>": 0, "<|endoftext|>": 1}', encoding="utf-8")
    (repo / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    (repo / "pytorch_model.bin").write_bytes(b"weights that must not be fetched")
    hosts.add_repo("openai/clip-vit-large-patch14", repo)
    found = find_or_download_tokenizer(models_dir=tmp_path / "models")
    assert (found / "vocab.json").read_text(encoding="utf-8") == (repo / "vocab.json").read_text(encoding="utf-8")
    assert not (found / "pytorch_model.bin").exists()
    assert not any("pytorch_model.bin" in path for _, path, _ in hosts.state.requests)
    count = len(hosts.state.requests)
    assert find_or_download_tokenizer(models_dir=tmp_path / "models") == found and len(hosts.state.requests) == count


def test_an_interrupted_download_resumes_from_the_partial_file(hosts, tmp_path):
    blob = bytes(range(256)) * 4096
    url = hosts.add_file("/big.bin", blob)
    hosts.state.cut_after["/big.bin"] = 300_000
    dest = tmp_path / "models" / "big.bin"
    with pytest.raises(DownloadError, match="resumes"):
        download_file(url, dest, checksum=Checksum("sha256", hashlib.sha256(blob).hexdigest()))
    assert not dest.exists() and dest.with_name("big.bin.part").stat().st_size == 300_000
    download_file(url, dest, checksum=Checksum("sha256", hashlib.sha256(blob).hexdigest()))
    assert dest.read_bytes() == blob and hosts.state.gets("/big.bin") == ["", "bytes=300000-"]


def test_a_wrong_hash_fails_and_leaves_nothing_in_models(hosts, tmp_path):
    from deforum.integrations.post.rife.model import load_rife

    hosts.add_file(RIFE_PATH, b"not the RIFE weights" * 100)
    with pytest.raises(ModelWeightsMissing, match="blake2b") as caught:
        load_rife(device="cpu")
    assert "RIFE46.pkl" in str(caught.value) and "deleted" in str(caught.value)
    assert [p for p in (tmp_path / "models").rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("switch", ["DEFORUM_OFFLINE", "HF_HUB_OFFLINE"])
def test_offline_gives_the_message_and_asks_nothing(hosts, monkeypatch, switch):
    from deforum.integrations.post.upscale import load_upscaler

    monkeypatch.setenv(switch, "1")
    hosts.add_file(ESRGAN_PATH, tiny_esrgan_bytes())
    with pytest.raises(ModelWeightsMissing) as caught:
        load_upscaler("realesr-animevideov3", device="cpu")
    text = str(caught.value)
    assert "realesr-animevideov3.pth" in text and "Downloads are off" in text
    assert "deforum models download realesr-animevideov3" in text and hosts.state.requests == []


def test_two_jobs_needing_the_same_file_download_it_once(hosts, tmp_path):
    from deforum.integrations.post.upscale import load_upscaler

    hosts.add_file(ESRGAN_PATH, tiny_esrgan_bytes())
    hosts.state.delay_s = 0.3
    errors: list[BaseException] = []

    def job() -> None:
        try:
            load_upscaler("realesr-animevideov3", device="cpu")
        except BaseException as err:  # noqa: BLE001 - handed to the main thread
            errors.append(err)

    threads = [threading.Thread(target=job) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert errors == [] and hosts.state.gets(ESRGAN_PATH) == [""]


def test_large_downloads_need_an_explicit_yes(hosts, monkeypatch):
    qwen = entry("qwen2.5-3b")
    assert "--allow-large-downloads" in fetch.refusal(qwen)
    assert fetch.refusal(qwen, allow_large=True) is None
    monkeypatch.setenv(fetch.LARGE_ENV, "1")
    assert fetch.refusal(qwen) is None and fetch.refusal(entry("wan-1.3b-vace")) is None
    assert all(item.large for item in BY_NAME.values() if "14b" in item.name or item.name.startswith("qwen"))


def test_a_size_cap_and_a_content_type_are_enforced_with_nothing_kept(hosts, tmp_path):
    url = hosts.add_file("/page.html", b"<html>" * 10, "text/html")
    dest = tmp_path / "in" / "page.png"
    with pytest.raises(DownloadError, match="text/html"):
        download_file(url, dest, limits=Limits(content_types=("image/",)))
    with pytest.raises(DownloadError, match="limit"):
        download_file(url, dest, limits=Limits(max_bytes=10))
    assert list(dest.parent.iterdir()) == []


def test_checksums_accept_a_prefix_and_refuse_an_empty_digest():
    assert Checksum("sha256", "FF5FADD5").matches("ff5fadd5" + "0" * 56)
    assert not Checksum("sha256", "ff5fadd6").matches("ff5fadd5" + "0" * 56)
    assert not Checksum("blake2b", "").matches("abc")
