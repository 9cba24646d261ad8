"""Frame naming, crash-safe PNG writes, image loading, frame listing, the test card and batch-name placeholders."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from deforum.media import frames_io
from deforum.media.frames_io import ImageSourceError

ROOT = Path(__file__).resolve().parents[2]


def test_frame_and_depth_names_follow_the_original_layout():
    assert frames_io.frame_filename("20240101120000", 0) == "20240101120000_000000000.png"
    assert frames_io.frame_filename("ts", 1234) == "ts_000001234.png"
    assert frames_io.depth_filename("ts", 7) == "ts_depth_000000007.png"
    assert frames_io.input_frame_filename("/videos/my clip.mp4", 3) == "my clip000000003.jpg"


def test_negative_frame_index_is_refused():
    with pytest.raises(ValueError, match="frame index"):
        frames_io.frame_filename("ts", -1)


def test_png_round_trip_leaves_only_the_final_file(tmp_path):
    image = frames_io.test_card(48, 32)
    target = tmp_path / frames_io.frame_filename("ts", 0)
    frames_io.write_png_atomic(target, image)
    assert os.listdir(tmp_path) == [target.name]
    np.testing.assert_array_equal(frames_io.read_image(target), image)


def _failing_fsync(fd):
    """Stand-in for os.fsync that fails once the temp file holds the PNG bytes."""
    raise OSError("disk full (simulated)")


def test_writer_failing_midway_leaves_no_file(tmp_path, monkeypatch):
    monkeypatch.setattr(frames_io.os, "fsync", _failing_fsync)
    target = tmp_path / "ts_000000000.png"
    with pytest.raises(OSError, match="simulated"):
        frames_io.write_png_atomic(target, frames_io.test_card(16, 16))
    assert os.listdir(tmp_path) == []


def test_writer_failing_midway_keeps_the_previous_frame(tmp_path, monkeypatch):
    target = tmp_path / "ts_000000000.png"
    old = frames_io.test_card(16, 16)
    frames_io.write_png_atomic(target, old)
    monkeypatch.setattr(frames_io.os, "fsync", _failing_fsync)
    with pytest.raises(OSError):
        frames_io.write_png_atomic(target, np.zeros((16, 16, 3), np.uint8))
    assert os.listdir(tmp_path) == [target.name]
    np.testing.assert_array_equal(frames_io.read_image(target), old)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX-only")
def test_process_killed_midway_leaves_no_partial_png(tmp_path):
    child = textwrap.dedent(
        f"""
        import os, signal, numpy as np
        from deforum.media import frames_io
        def dying_fsync(fd):
            os.kill(os.getpid(), signal.SIGKILL)
        frames_io.os.fsync = dying_fsync
        frames_io.write_png_atomic({str(tmp_path / 'ts_000000003.png')!r}, np.zeros((8, 8, 3), np.uint8))
        """
    )
    result = subprocess.run([sys.executable, "-c", child], cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.returncode == -signal.SIGKILL
    leftovers = os.listdir(tmp_path)
    assert "ts_000000003.png" not in leftovers
    assert len(leftovers) == 1 and leftovers[0].endswith(".tmp")
    assert frames_io.existing_frames(tmp_path, "ts") == []
    assert frames_io.remove_stale_temp_files(tmp_path) == 1
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "LA", "CMYK"])
def test_read_image_converts_any_mode_to_rgb(tmp_path, mode):
    path = tmp_path / f"img_{mode}.png" if mode != "CMYK" else tmp_path / "img.jpg"
    Image.fromarray(frames_io.test_card(20, 10)).convert(mode).save(path)
    image = frames_io.read_image(path)
    assert image.shape == (10, 20, 3) and image.dtype == np.uint8


def test_load_image_source_reads_paths_file_urls_and_quoted_paths(tmp_path):
    path = tmp_path / "init image.png"
    Image.fromarray(frames_io.test_card(40, 30)).convert("RGBA").save(path)
    plain = frames_io.load_image_source(str(path))
    assert plain.shape == (30, 40, 3)
    np.testing.assert_array_equal(frames_io.load_image_source(path.as_uri()), plain)
    np.testing.assert_array_equal(frames_io.load_image_source(f'"{path}"'), plain)
    assert frames_io.load_image_source(str(path), (20, 16)).shape == (16, 20, 3)


def test_http_url_offline_is_refused_with_the_fix():
    with pytest.raises(ImageSourceError) as caught:
        frames_io.load_image_source("https://example.com/init.png", setting="init_image")
    message = str(caught.value)
    assert "downloads are off" in message and "'init_image'" in message and "local file path" in message


def test_missing_file_error_names_path_and_setting(tmp_path):
    missing = tmp_path / "nope.png"
    with pytest.raises(ImageSourceError) as caught:
        frames_io.load_image_source(str(missing), setting="mask_file")
    assert str(missing) in str(caught.value) and "mask_file" in str(caught.value)


def test_non_image_file_is_a_clear_error(tmp_path):
    bogus = tmp_path / "notes.png"
    bogus.write_text("not an image")
    with pytest.raises(ImageSourceError, match="not a readable image"):
        frames_io.load_image_source(str(bogus))


def test_existing_frames_lists_only_this_runs_frames(tmp_path):
    for name in ["ts_000000002.png", "ts_000000000.png", "ts_000000010.png", "ts_1234567890.png",
                 "ts_depth_000000001.png", "other_000000001.png", "ts_settings.txt", "ts.mp4",
                 ".ts_000000003.png.0123abcd.tmp", "ts_000000004.jpg", "ts_00004.png"]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "ts_000000005.png").mkdir()
    assert frames_io.existing_frames(tmp_path, "ts") == [0, 2, 10, 1234567890]
    assert frames_io.existing_frames(tmp_path / "absent", "ts") == []


def test_last_complete_frame_stops_at_gaps_and_truncated_files(tmp_path):
    assert frames_io.last_complete_frame(tmp_path, "ts") is None
    card = frames_io.test_card(16, 16)
    for frame in [0, 1, 2, 3, 5]:
        frames_io.write_png_atomic(tmp_path / frames_io.frame_filename("ts", frame), card)
    assert frames_io.last_complete_frame(tmp_path, "ts") == 3
    third = tmp_path / frames_io.frame_filename("ts", 3)
    third.write_bytes(third.read_bytes()[:-20])
    assert frames_io.last_complete_frame(tmp_path, "ts") == 2


def test_test_card_is_deterministic_and_shows_motion():
    card = frames_io.test_card(128, 96)
    assert card.shape == (96, 128, 3) and card.dtype == np.uint8
    np.testing.assert_array_equal(card, frames_io.test_card(128, 96))
    assert len(np.unique(card.reshape(-1, 3), axis=0)) > 500
    assert not np.array_equal(card, card[:, ::-1]) and not np.array_equal(card, card[::-1])
    assert frames_io.test_card(1, 1).shape == (1, 1, 3) and frames_io.test_card(7, 5).shape == (5, 7, 3)


def test_batch_name_placeholders_like_the_original():
    values = {"timestring": "20240101120000", "seed": 42, "W": 512, "H": 768}
    assert frames_io.substitute_batch_name("Deforum_{timestring}", values) == "Deforum_20240101120000"
    assert frames_io.substitute_batch_name("{seed}-{w}x{h}-{SEED}", values) == "42-512x768-42"
    assert frames_io.substitute_batch_name("run_{unknownThing}", values) == "run_unknownthing"
    assert frames_io.substitute_batch_name("{{seed}}", values) == "{42}"


def test_batch_name_empty_zero_and_dict_values():
    assert frames_io.substitute_batch_name("a_{empty}_{none}", {"empty": "", "none": None}) == "a____"
    assert frames_io.substitute_batch_name("s{seed}_{n}", {"seed": 0, "n": np.int64(0)}) == "s0_0"
    assert frames_io.substitute_batch_name("a\ud800b", {}) == "a_b"
    prompts = {"prompts": {"0": "a cat, on a mat " + "x" * 60, "10": "a dog"}}
    assert frames_io.substitute_batch_name("{prompts}", prompts) == ("a_cat__on_a_mat_" + "x" * 60)[:50]
    assert frames_io.substitute_batch_name("{p}", {"p": {"0": ["first", "second"]}}) == "first"


def test_batch_name_unsafe_characters_and_dot_runs():
    assert frames_io.substitute_batch_name('a<b>c:d"e/f\\g|h?i*j k,l\tm', {}) == "a_b_c_d_e_f_g_h_i_j_k_l_m"
    assert frames_io.substitute_batch_name("..", {}) == "__"
    assert frames_io.substitute_batch_name("{x}", {"x": "../../etc"}) == "______etc"
    assert frames_io.substitute_batch_name(".", {}) == "_"
    assert frames_io.substitute_batch_name("v1.5", {}) == "v1.5"


def test_batch_name_is_cut_to_a_valid_file_name_length():
    assert len(frames_io.substitute_batch_name("a" * 1000, {})) == 255
    cut = frames_io.substitute_batch_name("é" * 200, {})
    assert len(cut.encode("utf-8")) <= 255 and cut == "é" * 127


@settings(max_examples=200, deadline=None)
@given(
    template=st.text(max_size=120),
    values=st.dictionaries(st.text(max_size=12), st.one_of(st.text(max_size=80), st.integers(), st.none()), max_size=4),
)
def test_batch_name_never_escapes_its_folder(template, values):
    name = frames_io.substitute_batch_name(template + "".join(f"{{{key}}}" for key in values), values)
    assert "/" not in name and "\\" not in name and ".." not in name and "\x00" not in name
    assert name not in (".", "..") and len(name.encode("utf-8")) <= 255


def _png_chunks(data: bytes) -> list[tuple[str, bytes]]:
    """(type, payload) of each chunk of a PNG file."""
    chunks, at = [], 8
    while at < len(data):
        length = int.from_bytes(data[at:at + 4], "big")
        chunks.append((data[at + 4:at + 8].decode("ascii"), data[at + 8:at + 8 + length]))
        at += 12 + length
    return chunks


@pytest.mark.parametrize("shape", [(17, 23), (17, 23, 3), (17, 23, 4), (64, 48, 3)])
def test_encoded_png_has_the_pixels_bit_depth_and_chunks_pils_encoder_wrote(shape):
    import io

    image = np.random.default_rng(sum(shape)).integers(0, 256, shape, dtype=np.uint8)
    ours = frames_io.encode_png(image)
    reference = io.BytesIO()
    Image.fromarray(image).save(reference, format="PNG", compress_level=1)
    with Image.open(io.BytesIO(ours)) as decoded, Image.open(reference) as pil:
        assert decoded.mode == pil.mode and decoded.info == pil.info == {}
        np.testing.assert_array_equal(np.asarray(decoded), image)
    ours_chunks, pil_chunks = _png_chunks(ours), _png_chunks(reference.getvalue())
    assert ours_chunks[0] == pil_chunks[0]  # IHDR: size, bit depth 8, colour type, no interlace
    assert {name for name, _ in ours_chunks} == {name for name, _ in pil_chunks} == {"IHDR", "IDAT", "IEND"}


def test_encoding_a_pil_image_keeps_its_mode():
    import io

    image = Image.fromarray(np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000)
    data = frames_io.encode_png(image)
    assert data[24:26] == bytes([16, 0])  # IHDR: bit depth 16, greyscale (older Pillow reads such files as "I")
    with Image.open(io.BytesIO(data)) as decoded:
        assert decoded.mode in (image.mode, "I")
        np.testing.assert_array_equal(np.asarray(decoded), np.asarray(image))
