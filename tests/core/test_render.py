"""End-to-end preview renders: frame counts, names, settings file, video, resume, cancel, errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from deforum.config.settings_io import load, run_record
from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService, mock_generation
from deforum.core.run import run_render
from deforum.core.services import CancelToken
from deforum.core.sink import checkpoint_path
from deforum.media.frames_io import existing_frames, read_image
from deforum.media.video import count_video_frames
from deforum.models.settings import SettingsError
from tests.conftest import DATA

SMALL = {"W": 64, "H": 64, "max_frames": 6, "seed": 7, "batch_name": "run", "legacy_colormatch": False}


def preview() -> RenderServices:
    return RenderServices(model=PreviewModelService())


def small_settings(**changes: object):
    base = load(DATA / "compat/original/default_settings.txt")
    return base.replace(**{**SMALL, **changes})


def render(tmp_path: Path, name: str = "a", **changes: object):
    return run_render(small_settings(**changes), preview(), tmp_path / name, timestring="20240101000000")


@pytest.mark.parametrize("cadence", [1, 3])
@pytest.mark.parametrize("mode", ["2D", "3D"])
def test_preview_render_writes_every_frame_and_the_video(tmp_path: Path, mode: str, cadence: int) -> None:
    result = render(tmp_path, animation_mode=mode, diffusion_cadence=cadence, max_frames=7)
    assert existing_frames(result.outdir, result.timestring) == list(range(7))
    assert result.outdir == tmp_path / "a" / "run"
    assert (result.outdir / "20240101000000_000000006.png").is_file()
    assert result.video is not None and count_video_frames(str(result.video)) == 7
    saved = json.loads((result.outdir / "20240101000000_settings.txt").read_text())
    assert saved["seed"] == 7 and saved["max_frames"] == 7 and saved["diffusion_cadence"] == cadence
    assert not checkpoint_path(result.outdir, result.timestring).exists()


@pytest.mark.parametrize("coherence", ["None", "HSV", "LAB", "RGB"])
@pytest.mark.parametrize("noise_type", ["perlin", "uniform"])
def test_colour_and_noise_modes_render(tmp_path: Path, coherence: str, noise_type: str) -> None:
    result = render(tmp_path, color_coherence=coherence, noise_type=noise_type, max_frames=3,
                    skip_video_creation=True)
    frames = [read_image(result.outdir / f"20240101000000_{i:09}.png") for i in range(3)]
    assert all(f.shape == (64, 64, 3) and f.dtype == np.uint8 for f in frames)
    assert not np.array_equal(frames[0], frames[2])


def test_preview_is_deterministic(tmp_path: Path) -> None:
    first = render(tmp_path, "a", diffusion_cadence=2, skip_video_creation=True)
    second = render(tmp_path, "b", diffusion_cadence=2, skip_video_creation=True)
    for i in range(6):
        name = f"20240101000000_{i:09}.png"
        assert (first.outdir / name).read_bytes() == (second.outdir / name).read_bytes()


def test_random_seed_is_resolved_once_and_recorded(tmp_path: Path) -> None:
    result = render(tmp_path, seed=-1, max_frames=2, skip_video_creation=True)
    seed = json.loads((result.outdir / "20240101000000_settings.txt").read_text())["seed"]
    assert isinstance(seed, int) and 0 <= seed < 2**32


class CancelAfter(PreviewModelService):
    """A preview service that cancels the render after n generations."""

    def __init__(self, token: CancelToken, generations: int) -> None:
        super().__init__()
        self.token, self.left = token, generations

    def generate(self, request, cancel=None):
        self.left -= 1
        if self.left == 0:
            self.token.cancel()
        return super().generate(request, cancel)


@pytest.mark.parametrize("cadence", [1, 2, 3])
def test_cancel_then_resume_gives_identical_frames(tmp_path: Path, cadence: int) -> None:
    changes = {"diffusion_cadence": cadence, "max_frames": 10, "animation_mode": "3D"}
    full = run_render(small_settings(**changes), preview(), tmp_path / "full", timestring="20240101000000")
    token = CancelToken()
    settings = small_settings(**changes)
    part = run_render(settings, RenderServices(model=CancelAfter(token, 2)), tmp_path / "part",
                      cancel=token, timestring="20240101000000")
    assert part.cancelled and 0 < part.frames_written < 10
    assert part.video is not None and count_video_frames(str(part.video)) == part.frames_written
    resumed = run_render(settings, preview(), tmp_path / "part", resume="20240101000000")
    assert not resumed.cancelled
    for i in range(10):
        name = f"20240101000000_{i:09}.png"
        assert (full.outdir / name).read_bytes() == (resumed.outdir / name).read_bytes(), name
    assert count_video_frames(str(resumed.video)) == 10
    # the full render's video was encoded during the render, the resumed one stitched from the frames
    assert resumed.video.read_bytes() == full.video.read_bytes()


def test_resume_without_a_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="Cannot resume 20990101000000"):
        run_render(small_settings(), preview(), tmp_path, resume="20990101000000")


def test_unsupported_feature_fails_before_the_first_frame(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Setting 'parseq_manifest'"):
        render(tmp_path, parseq_manifest='{"rendered_frames": []}')
    assert not (tmp_path / "a").exists()


def test_mock_generation_blends_a_rectangle_by_denoising_strength() -> None:
    image = np.full((30, 30, 3), 100, np.uint8)
    assert np.array_equal(mock_generation(image, 0.0), image)
    half = mock_generation(image, 0.5)
    assert half[10, 10, 0] == 178 and half[15, 15, 0] == 50


def test_subtitles_have_one_cue_per_frame_and_survive_a_resume(tmp_path: Path) -> None:
    token = CancelToken()
    settings = small_settings(max_frames=6, diffusion_cadence=2, skip_video_creation=True)
    part = run_render(settings, RenderServices(model=CancelAfter(token, 2)), tmp_path, cancel=token,
                      timestring="20240101000000", subtitles=["Zoom", "Prompt"])
    assert part.cancelled
    run_render(settings, preview(), tmp_path, resume="20240101000000", subtitles=["Zoom", "Prompt"])
    text = (part.outdir / "20240101000000.srt").read_text()
    cues = [c for c in text.split("\n\n") if c.strip()]
    assert [c.splitlines()[0] for c in cues] == [str(i) for i in range(1, 7)]
    assert cues[0].splitlines()[1] == "00:00:00,000 --> 00:00:00,066"
    assert "F#: 0; Cadence: True; Seed: 8; Zoom: 1.002" in cues[0]
    assert "F#: 1; Cadence: False; Seed: 8; Zoom: 1.003; Prompt:  tiny cute swamp bunny" in cues[1]
    assert "F#: 5; Cadence: False; Seed: 10;" in cues[5]


def test_every_compat_file_renders_in_preview(compat_file: Path, tmp_path: Path) -> None:
    settings = load(compat_file).replace(W=64, H=64, max_frames=5, batch_name="compat", seed=1)
    result = run_render(settings, preview(), tmp_path, timestring="20240101000000")
    assert existing_frames(result.outdir, result.timestring) == list(range(5))
    assert count_video_frames(str(result.video)) == 5
    saved = load(result.outdir / "20240101000000_settings.txt")
    assert saved.replace(batch_name="compat") == run_record(settings, seed=1, batch_name="compat")


def test_disk_full_is_a_clear_error_and_the_run_resumes_identically(tmp_path: Path, monkeypatch) -> None:
    import errno
    import threading

    from deforum.core import sink as sink_module
    from deforum.core.sink import FrameWriteError

    settings = small_settings(max_frames=8, diffusion_cadence=2, skip_video_creation=True)
    full = run_render(settings, preview(), tmp_path / "full", timestring="20240101000000")
    real_write = sink_module.write_png_temp
    written = []
    lock = threading.Lock()

    def full_disk(path, image, **options):
        with lock:
            if len(written) == 5:
                raise OSError(errno.ENOSPC, "No space left on device")
            written.append(path)
        return real_write(path, image, **options)

    monkeypatch.setattr(sink_module, "write_png_temp", full_disk)
    with pytest.raises(FrameWriteError, match="free disk space and continue with --resume 20240101000000"):
        run_render(settings, preview(), tmp_path / "part", timestring="20240101000000")
    outdir = tmp_path / "part" / "run"
    assert len(existing_frames(outdir, "20240101000000")) == 5
    assert not [p for p in outdir.iterdir() if p.name.endswith(".tmp")]
    monkeypatch.setattr(sink_module, "write_png_temp", real_write)
    resumed = run_render(settings, preview(), tmp_path / "part", resume="20240101000000")
    for i in range(8):
        name = f"20240101000000_{i:09}.png"
        assert (resumed.outdir / name).read_bytes() == (full.outdir / name).read_bytes()


class CancelInside(PreviewModelService):
    """A service that is cancelled while generating its third frame (as a diffusion service would be)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def generate(self, request, cancel=None):
        from deforum.core.services import RenderCancelled

        self.calls += 1
        if self.calls == 3:
            raise RenderCancelled()
        return super().generate(request, cancel)


def test_cancel_during_generation_keeps_frames_and_makes_the_video(tmp_path: Path) -> None:
    result = run_render(small_settings(max_frames=6, diffusion_cadence=1), RenderServices(model=CancelInside()),
                        tmp_path, timestring="20240101000000")
    assert result.cancelled and result.frames_written == 2
    assert count_video_frames(str(result.video)) == 2


def test_output_options_record_the_model_and_encode_the_video(tmp_path: Path) -> None:
    from deforum.core.run import OutputOptions

    output = OutputOptions(crf=30, preset="ultrafast", model_name="tiny.safetensors", model_hash="abc123")
    result = run_render(small_settings(max_frames=3), preview(), tmp_path, timestring="20240101000000",
                        output=output)
    saved = json.loads((result.outdir / "20240101000000_settings.txt").read_text())
    assert (saved["sd_model_name"], saved["sd_model_hash"]) == ("tiny.safetensors", "abc123")
    assert count_video_frames(str(result.video)) == 3


def test_the_settings_file_has_the_originals_json_types(tmp_path: Path) -> None:
    result = render(tmp_path, init_image="None", diffusion_redo=0, max_frames=1, skip_video_creation=True)
    saved = json.loads((result.outdir / "20240101000000_settings.txt").read_text())
    assert saved["init_image"] is None and saved["diffusion_redo"] == 0
def test_each_noise_field_is_drawn_once_ahead_of_its_frame(tmp_path: Path, monkeypatch) -> None:
    from deforum.media import noise

    calls = []
    real = noise.noise_field
    monkeypatch.setattr(noise, "noise_field", lambda *args, **kwargs: calls.append(args[2]) or real(*args, **kwargs))
    render(tmp_path, max_frames=6, diffusion_cadence=1, skip_video_creation=True, animation_mode="2D")
    assert len(calls) == 5 and len(set(calls)) == 5
