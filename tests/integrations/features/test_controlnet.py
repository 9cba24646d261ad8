"""ControlNet units per frame: schedules, loopback, input frames, preview, the WebUI mapping, absent extension."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from deforum.config.settings_io import load
from deforum.core.run import run_render
from deforum.core.run_inputs import render_inputs
from deforum.core.support import check_supported
from deforum.integrations.features.controlnet import (
    ControlNetError,
    ControlNetFrames,
    ControlNetHook,
    UnitFrames,
    UnitInputs,
    enabled_units,
    frames_folder,
)
from deforum.integrations.features.hooks import preflight, render_hooks
from deforum.integrations.features.parseq import ParseqHook
from deforum.integrations.webui.controlnet_map import require_extension, to_external_code_kwargs
from deforum.media.video import stitch_video
from deforum.models.generation import ControlNetUnit, GeneratedImage, GenerationRequest
from deforum.models.settings import SettingsError
from tests.conftest import DATA

ORIGINAL_UNIT_KEYS = {"enabled", "module", "model", "weight", "resize_mode", "control_mode", "low_vram",
                      "pixel_perfect", "processor_res", "threshold_a", "threshold_b", "guidance_start",
                      "guidance_end", "image"}


def settings(**changes: object):
    base = load(DATA / "compat/original/default_settings.txt")
    values = {"W": 64, "H": 64, "max_frames": 4, "seed": 7, "batch_name": "cn", "diffusion_cadence": 1,
              "animation_mode": "2D", "skip_video_creation": True, **changes}
    return base.replace(**values)


def unit_settings(**changes: object):
    return settings(cn_1_enabled=True, cn_1_module="canny", cn_1_model="control_canny [abcdef12]", **changes)


def write_image(path: Path, value: int, size: tuple[int, int] = (32, 24)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((size[1], size[0], 3), value, np.uint8)).save(path)
    return path


def source(s, outdir: Path) -> tuple[ControlNetFrames, object]:
    """The ControlNet source and keys a (non-preview) run would use."""
    inputs = dataclasses.replace(render_inputs(s, 7), outdir=outdir)
    decorated = ControlNetHook.from_settings(s).decorate(inputs)
    return decorated.controlnet, decorated.keys


INIT = np.full((64, 64, 3), 9, np.uint8)


def test_no_enabled_unit_means_no_hook() -> None:
    assert ControlNetHook.from_settings(settings()) is None
    assert [u.number for u in enabled_units(settings(cn_2_enabled=True, cn_4_enabled=True))] == [2, 4]


def test_units_per_frame_follow_the_schedules(tmp_path: Path) -> None:
    s = unit_settings(cn_1_weight="0: (0.5), 2: (1.5)", cn_1_guidance_start="0: (0.1)",
                      cn_1_guidance_end="0: (0.9), 3: (0.6)", cn_1_resize_mode="Just Resize",
                      cn_1_control_mode="ControlNet is more important", cn_1_pixel_perfect=True, cn_1_low_vram=True,
                      cn_1_processor_res=128, cn_1_threshold_a=50, cn_1_threshold_b=150,
                      cn_1_vid_path=str(write_image(tmp_path / "in.png", 200)))
    frames, keys = source(s, tmp_path / "out")
    units = [frames.units(keys, frame, INIT) for frame in range(4)]
    assert [u[0].weight for u in units] == pytest.approx([0.5, 1.0, 1.5, 1.5])
    assert [u[0].guidance_end for u in units] == pytest.approx([0.9, 0.8, 0.7, 0.6])
    first = units[0][0]
    assert (first.number, first.module, first.model, first.guidance_start) == (1, "canny", "control_canny [abcdef12]",
                                                                                 pytest.approx(0.1))
    assert (first.resize_mode, first.control_mode, first.pixel_perfect, first.low_vram) == \
        ("Just Resize", "ControlNet is more important", True, True)
    assert (first.processor_res, first.threshold_a, first.threshold_b) == (128, 50.0, 150.0)
    assert first.image.shape == (24, 32, 3) and int(first.image.mean()) in range(195, 206) and first.mask is None


def test_a_single_input_image_is_static_and_named_as_the_original(tmp_path: Path) -> None:
    s = unit_settings(cn_1_vid_path=f'"{write_image(tmp_path / "in.png", 120)}"',
                      cn_1_mask_vid_path=str(write_image(tmp_path / "mask.png", 255)))
    frames, keys = source(s, tmp_path / "out")
    assert (frames_folder(tmp_path / "out", 1) / "000000000.jpg").is_file()
    assert (tmp_path / "out" / "controlnet_1_maskframes" / "000000000.jpg").is_file()
    for frame in range(4):
        (unit,) = frames.units(keys, frame, None)
        assert abs(int(unit.image.mean()) - 120) <= 2 and unit.mask is not None and unit.mask.min() > 240


def test_an_input_video_is_extracted_per_unit(tmp_path: Path) -> None:
    pngs = tmp_path / "pngs"
    for i in range(3):
        write_image(pngs / f"f_{i:09}.png", 40 + 80 * i, (64, 64))
    video = tmp_path / "in.mp4"
    stitch_video(str(pngs / "f_%09d.png"), str(video), 10, frame_count=3, preset="ultrafast")
    s = unit_settings(cn_2_enabled=True, cn_2_model="depth", cn_2_vid_path=str(video), cn_1_vid_path=str(video))
    frames, keys = source(s, tmp_path / "out")
    names = sorted(p.name for p in frames_folder(tmp_path / "out", 2).iterdir())
    assert names == ["000000000.jpg", "000000001.jpg", "000000002.jpg"]
    means = [int(frames.units(keys, f, None)[1].image.mean()) for f in range(3)]
    assert means[0] < means[1] < means[2]
    assert [u.image is INIT for u in frames.units(keys, 3, INIT)] == [True, True]


def test_loopback_uses_the_init_image_and_skips_txt2img_frames(tmp_path: Path) -> None:
    s = unit_settings(cn_1_loopback_mode=True, cn_1_vid_path=str(tmp_path / "ignored.mp4"))
    frames, keys = source(s, tmp_path / "out")
    assert frames.units(keys, 0, None) == ()
    (unit,) = frames.units(keys, 1, INIT)
    assert unit.image is INIT and unit.mask is None
    assert not frames_folder(tmp_path / "out", 1).exists()


def test_a_unit_without_input_uses_the_init_image() -> None:
    item = UnitInputs(enabled_units(unit_settings())[0], UnitFrames(Path("/nonexistent"), False))
    keys = render_inputs(unit_settings(), 7).keys
    assert ControlNetFrames([item]).units(keys, 2, INIT)[0].image is INIT
    assert ControlNetFrames([item]).units(keys, 2, None) == ()


def test_parseq_managed_weights_reach_the_units(tmp_path: Path) -> None:
    manifest = json.dumps({"rendered_frames": [{"frame": i, "cn_1_weight": 0.25 * i} for i in range(4)]})
    s = unit_settings(parseq_manifest=manifest, cn_1_loopback_mode=True)
    inputs = dataclasses.replace(render_inputs(s, 7), outdir=tmp_path)
    for hook in render_hooks(s):
        inputs = hook.decorate(inputs)
    assert isinstance(render_hooks(s)[0], ParseqHook)
    assert [inputs.controlnet.units(inputs.keys, f, INIT)[0].weight for f in range(4)] == [0, 0.25, 0.5, 0.75]


def test_motion_preview_skips_controlnet(tmp_path: Path) -> None:
    s = unit_settings(motion_preview_mode=True, cn_1_vid_path=str(write_image(tmp_path / "in.png", 1)))
    inputs = dataclasses.replace(render_inputs(s, 7), outdir=tmp_path / "out")
    assert ControlNetHook.from_settings(s).decorate(inputs).controlnet is None
    assert not (tmp_path / "out").exists()


def test_a_missing_input_file_names_the_setting(tmp_path: Path) -> None:
    s = unit_settings(cn_1_vid_path=str(tmp_path / "nope.png"))
    with pytest.raises(ControlNetError, match="cn_1_vid_path"):
        source(s, tmp_path / "out")


def test_units_are_refused_without_the_hook_and_accepted_with_it() -> None:
    with pytest.raises(SettingsError, match="cn_N_enabled"):
        check_supported(unit_settings())
    check_supported(unit_settings(), {"cn_N_enabled"})
    assert preflight(unit_settings()) == []


class Recorder:
    """A model service that records requests and returns the init image (or grey)."""

    def __init__(self) -> None:
        self.requests: list[GenerationRequest] = []

    def generate(self, request: GenerationRequest, cancel: object = None) -> GeneratedImage:
        self.requests.append(request)
        image = request.init_image if request.init_image is not None else np.full((64, 64, 3), 128, np.uint8)
        return GeneratedImage(image=np.asarray(image, np.uint8), seed=request.seed)


def test_run_render_gives_every_request_its_units(tmp_path: Path) -> None:
    from deforum.core.engine import RenderServices

    s = unit_settings(cn_1_loopback_mode=True, cn_1_weight="0: (0.2), 3: (0.8)")
    recorder = Recorder()
    run_render(s, RenderServices(model=recorder), tmp_path, timestring="20240101000000", hooks=render_hooks(s))
    assert [r.frame for r in recorder.requests] == [0, 1, 2, 3]
    assert recorder.requests[0].controlnet == ()
    for request in recorder.requests[1:]:
        (unit,) = request.controlnet
        assert unit.image is request.init_image
    assert recorder.requests[3].controlnet[0].weight == pytest.approx(0.8)


def test_external_code_kwargs_are_the_originals_fields() -> None:
    image, mask = np.zeros((8, 8, 3), np.uint8), np.full((8, 8, 3), 255, np.uint8)
    unit = ControlNetUnit(number=2, module="canny", model="m [12345678]", image=image, weight=0.7,
                          guidance_start=0.1, guidance_end=0.9, resize_mode="Outer Fit (Shrink to Fit)",
                          control_mode="My prompt is more important", processor_res=512)
    kwargs = to_external_code_kwargs(unit)
    assert set(kwargs) == ORIGINAL_UNIT_KEYS and kwargs["enabled"] is True
    assert (kwargs["module"], kwargs["model"], kwargs["weight"], kwargs["processor_res"]) == \
        ("canny", "m [12345678]", 0.7, 512)
    assert (kwargs["resize_mode"], kwargs["control_mode"]) == ("Outer Fit (Shrink to Fit)",
                                                                "My prompt is more important")
    assert kwargs["image"] is not None and np.array_equal(kwargs["image"], image)
    with_mask = to_external_code_kwargs(dataclasses.replace(unit, mask=mask))["image"]
    assert set(with_mask) == {"image", "mask"} and np.array_equal(with_mask["mask"], mask)


def test_absent_extension_is_a_clear_error_naming_the_unit() -> None:
    with pytest.raises(ControlNetError, match=r"Setting 'cn_3_enabled'.*unit\(s\) 3, 5 .*not installed"):
        require_extension([3, 5], None)
    require_extension([], None)
    require_extension([1], object())
