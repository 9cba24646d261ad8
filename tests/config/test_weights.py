"""Checkpoint names and hashes recorded in settings files, as the WebUI writes them."""

from __future__ import annotations

from pathlib import Path

from deforum.config.weights import checkpoint_identity, find_named_file


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


def test_named_files_are_found_by_stem_or_relative_path_first_folder_first(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    for path in (first / "sub" / "Style.safetensors", second / "Style.pt", second / "other.ckpt",
                 first / "notes.txt"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"x")
    suffixes = (".safetensors", ".pt", ".ckpt")
    assert find_named_file("Style", [first, second], suffixes) == first / "sub" / "Style.safetensors"
    assert find_named_file("sub/Style", [first, second], suffixes) == first / "sub" / "Style.safetensors"
    assert find_named_file("sub\\Style", [first, second], suffixes) == first / "sub" / "Style.safetensors"
    assert find_named_file("style", [second, first], suffixes) == second / "Style.pt"
    assert find_named_file("OTHER", [first, second], suffixes) == second / "other.ckpt"
    assert find_named_file("notes", [first, second], suffixes) is None
    assert find_named_file("Style", [tmp_path / "missing"], suffixes) is None
