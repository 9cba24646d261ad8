"""Checkpoint names and hashes recorded in settings files, as the WebUI writes them."""

from __future__ import annotations

from pathlib import Path

from deforum.config.weights import checkpoint_identity


def test_a_file_below_stable_diffusion_is_named_by_its_relative_path_with_the_legacy_hash(tmp_path: Path) -> None:
    checkpoint = tmp_path / "models" / "Stable-diffusion" / "styles" / "dream.safetensors"
    checkpoint.parent.mkdir(parents=True)
    checkpoint.write_bytes(bytes(range(256)) * (0x110000 // 256))  # 1 MiB + 64 KiB of a repeating ramp
    assert checkpoint_identity(checkpoint) == ("styles/dream.safetensors", "7daca209")


def test_a_small_file_elsewhere_is_named_by_its_file_name(tmp_path: Path) -> None:
    checkpoint = tmp_path / "tiny.ckpt"
    checkpoint.write_bytes(b"x" * 100)
    assert checkpoint_identity(checkpoint) == ("tiny.ckpt", "e3b0c442")  # nothing past 1 MiB: SHA-256 of b""


def test_a_diffusers_folder_has_a_name_and_no_hash(tmp_path: Path) -> None:
    folder = tmp_path / "my-pipeline"
    folder.mkdir()
    assert checkpoint_identity(folder) == ("my-pipeline", "")
