"""Camera Shakify: the add-on's tables, looped and scaled per frame, on top of the 3D schedules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from deforum.animation.shakify import DATA_FILE, all_shakes, find_shake, shake_choices, shake_offsets
from deforum.config.settings_io import load
from deforum.core.engine import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.core.run_inputs import render_inputs, with_shake
from deforum.media.frames_io import read_image
from deforum.models.spec_forge import SHAKE_NAMES
from tests.conftest import DATA

FORK = DATA / "compat/forge-fork/default_settings.txt"
RAW = json.loads(DATA_FILE.read_text())
TS = "20240101000000"


def table(key: str, kind: str, axis: int) -> np.ndarray:
    return np.asarray(RAW[key][kind][axis])


def test_every_shake_the_fork_offered_is_there_with_its_label() -> None:
    assert tuple(shake_choices()) == SHAKE_NAMES
    assert shake_choices()["HANDYCAM_RUN"] == "HandyCam Run"
    assert find_shake("Bike On Gravel (2D)") is all_shakes()["BIKE_ON_GRAVEL_2D"]
    assert find_shake("NONE") is None and find_shake("None") is None
    assert set(all_shakes()["THE_ZEEK_2D"].tables) == {"rotation_euler"}
    assert all(shake.fps == 24.0 for shake in all_shakes().values())


def test_an_unknown_shake_name_is_an_error_naming_the_setting() -> None:
    with pytest.raises(ValueError, match="Setting 'shake_name': 'Earthquake' is not .* INVESTIGATION"):
        find_shake("Earthquake")


@pytest.mark.parametrize("key", ["INVESTIGATION", "THE_WEDDING", "SPACESHIP_SHAKE_2D"])
@given(intensity=st.floats(0, 3), frames=st.integers(1, 900))
def test_at_the_recording_fps_each_frame_is_the_table_times_intensity(key: str, intensity: float,
                                                                      frames: int) -> None:
    shake = all_shakes()[key]
    offsets = shake_offsets(shake, frames, 24.0, intensity, 1.0)
    n = shake.length
    for kind, names in (("location", ("translation_x", "translation_y", "translation_z")),
                        ("rotation_euler", ("rotation_3d_x", "rotation_3d_y", "rotation_3d_z"))):
        if kind not in RAW[key]:
            assert names[0] not in offsets
            continue
        for axis, name in enumerate(names):
            expected = table(key, kind, axis)[np.arange(frames) % n] * intensity
            np.testing.assert_allclose(offsets[name], expected, rtol=0, atol=1e-12)


def test_speed_scales_time_as_the_add_on_plays_it() -> None:
    shake = all_shakes()["INVESTIGATION"]
    x = table("INVESTIGATION", "location", 0)
    double = shake_offsets(shake, 200, 48.0, 1.0, 2.0)["translation_x"]
    np.testing.assert_allclose(double, x[:200], atol=1e-12)
    half = shake_offsets(shake, 200, 24.0, 1.5, 0.5)["translation_x"]
    np.testing.assert_allclose(half[0::2], 1.5 * x[:100], atol=1e-12)
    np.testing.assert_allclose(half[1::2], 1.5 * (x[:100] + x[1:101]) / 2, atol=1e-12)
    at_60 = shake_offsets(shake, 6, 60.0, 1.0, 1.0)["rotation_3d_z"]
    z = table("INVESTIGATION", "rotation_euler", 2)
    np.testing.assert_allclose(at_60, [np.interp(f * 0.4, np.arange(len(z)), z) for f in range(6)], atol=1e-12)


def fork_settings(**changes: object):
    base = load(FORK)
    return base.replace(**{"W": 32, "H": 24, "seed": 5, "batch_name": "shake", "add_soundtrack": "None",
                           "max_frames": 40, "skip_video_creation": True, **changes})


def test_shakify_preview_offsets_equal_table_times_intensity_at_the_speed() -> None:
    settings = fork_settings(shake_name="INVESTIGATION", shake_intensity=2.5, shake_speed=1.5, fps=60)
    plain = render_inputs(settings, 5)
    shaken = with_shake(plain)
    t = np.arange(40) * 1.5 * 24 / 60
    for kind, names in (("location", ("translation_x", "translation_y", "translation_z")),
                        ("rotation_euler", ("rotation_3d_x", "rotation_3d_y", "rotation_3d_z"))):
        for axis, name in enumerate(names):
            row = table("INVESTIGATION", kind, axis)
            expected = 2.5 * np.interp(t, np.arange(len(row)), row)
            np.testing.assert_allclose(shaken.keys[name] - plain.keys[name], expected, atol=1e-12)
    assert np.array_equal(shaken.keys["zoom"], plain.keys["zoom"])


def test_off_and_2d_do_not_shake() -> None:
    for changes in ({"keyframe_distribution": "Off"}, {"animation_mode": "2D"}, {"shake_name": "NONE"}):
        inputs = render_inputs(fork_settings(**changes), 5)
        assert with_shake(inputs) is inputs


def test_a_shaken_render_moves_the_camera(tmp_path: Path) -> None:
    services = RenderServices(model=PreviewModelService())
    still = run_render(fork_settings(shake_name="NONE"), services, tmp_path / "a", timestring=TS)
    shaken = run_render(fork_settings(shake_intensity=3.0), services, tmp_path / "b", timestring=TS)
    first = [read_image(r.outdir / f"{TS}_{0:09}.png") for r in (still, shaken)]
    later = [read_image(r.outdir / f"{TS}_{11:09}.png") for r in (still, shaken)]
    assert np.array_equal(*first) and not np.array_equal(*later)
