"""Settings files: every compat file loads, checks and round-trips; both shapes; bad files give clear errors."""

from __future__ import annotations

import json
import string
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from deforum.config.settings_io import dumps, load, run_record, save, to_file_dict
from deforum.models.fields import Kind
from deforum.models.settings import FIELD_SPECS, Settings, SettingsError
from tests.conftest import DATA


def test_compat_file_loads_and_round_trips(compat_file: Path, tmp_path: Path) -> None:
    settings = load(compat_file)
    for shape in ("ui", "run"):
        out = save(settings, tmp_path / f"{shape}.txt", shape=shape)
        assert load(out) == settings


def test_compat_file_keeps_every_original_value(compat_file: Path) -> None:
    raw = json.loads(compat_file.read_text())
    flat = load(compat_file).to_flat()
    skipped = {"prompts", "positive_prompts", "negative_prompts", "sd_model_name", "sd_model_hash",
               "deforum_git_commit_id", "fill"}
    for key, value in raw.items():
        if key in FIELD_SPECS and key not in skipped:
            if FIELD_SPECS[key].kind is Kind.CHOICE and isinstance(value, str):
                assert flat[key].lower() == value.lower(), key
            else:
                assert flat[key] == value, key


def test_the_run_record_has_the_originals_json_types(tmp_path: Path) -> None:
    settings = load(DATA / "compat/original/simple.input_settings.txt")  # init_image "None", diffusion_redo 0
    out = save(run_record(settings, seed=5, batch_name="b"), tmp_path / "run.txt", shape="run")
    written = json.loads(out.read_text())
    assert written["init_image"] is None and written["diffusion_redo"] == 0
    assert (written["seed"], written["batch_name"]) == (5, "b")
    text = save(settings.replace(diffusion_redo="2"), tmp_path / "s.txt").read_text()
    assert json.loads(text)["diffusion_redo"] == "2"


def test_the_run_record_keeps_init_image_when_an_init_is_used() -> None:
    settings = load(DATA / "compat/original/simple.input_settings.txt").replace(init_image="a.png")
    assert run_record(settings.replace(use_init=True), seed=1, batch_name="b").args.init_image == "a.png"
    assert run_record(settings.replace(hybrid_use_init_image=True), seed=1, batch_name="b").args.init_image == "a.png"
    assert run_record(settings, seed=1, batch_name="b").args.init_image is None


def test_runtime_shape_prompts_are_unmerged() -> None:
    settings = load(DATA / "compat/original/default_settings.txt")
    assert settings.prompts["0"].startswith("tiny cute swamp bunny")
    assert settings.prompts["60"] == "a beautiful coconut --neg photo, realistic"
    assert settings.animation_prompts_negative == "nsfw, nude"
    assert settings == Settings().replace(batch_name="Deforum_20230812221310", seed=-1)


def test_ui_shape_keeps_shared_prompts() -> None:
    settings = load(DATA / "compat/original/simple.input_settings.txt")
    raw = json.loads((DATA / "compat/original/simple.input_settings.txt").read_text())
    assert dict(settings.prompts) == raw["prompts"]
    assert settings.animation_prompts_negative == raw["animation_prompts_negative"]


def test_saved_file_matches_the_original_layout(tmp_path: Path) -> None:
    original = DATA / "compat/original/default_settings.txt"
    written = save(load(original), tmp_path / "s.txt", shape="run", model_name="revAnimated_v122.safetensors",
                   model_hash="3f4fefd9", commit="eb16c856")
    theirs = json.loads(original.read_text())
    ours = json.loads(written.read_text())
    assert [k for k in ours if k in theirs] == list(theirs)
    assert ours["prompts"] == theirs["prompts"]
    assert written.read_text().startswith('{\n    "W": 512,')


def test_forge_file_loads_its_extra_keys() -> None:
    settings = load(DATA / "compat/forge-fork/default_settings.txt")
    assert settings.forge.scheduler == "Simple"
    assert settings.forge.wan_prompts["0"].startswith("A cute white bunny")
    assert settings.extras == {}


def test_legacy_upgrades_applied() -> None:
    settings = load({"flip_2d_perspective": True, "color_coherence": "Match Frame 0 LAB",
                     "hybrid_composite": True, "optical_flow_cadence": False, "cn_1_weight": 0.8,
                     "cn_2_resize_mode": "Envelope (Outer Fit)", "use_zoe_depth": True, "sampler": 6,
                     "fill": 1, "skip_video_for_run_all": True, "histogram_matching": True})
    assert settings.anim.enable_perspective_flip is True
    assert settings.anim.color_coherence == "LAB"
    assert settings.anim.hybrid_composite == "Normal"
    assert settings.anim.optical_flow_cadence == "None"
    assert settings.controlnet.cn_1_weight == "0:(0.8)"
    assert settings.controlnet.cn_2_resize_mode == "Outer Fit (Shrink to Fit)"
    assert settings.anim.depth_algorithm == "Zoe+AdaBins (old)"
    assert settings.args.sampler == "Euler a"
    assert settings.args.fill == 1
    assert settings.output.skip_video_creation is True
    assert settings.anim.legacy_colormatch is True
    assert "histogram_matching" not in settings.extras


def test_missing_legacy_colormatch_means_true_present_is_kept() -> None:
    assert load({}).anim.legacy_colormatch is True
    assert load({"legacy_colormatch": False}).anim.legacy_colormatch is False


def test_unknown_keys_warn_and_survive_a_save(tmp_path: Path) -> None:
    settings = load({"legacy_colormatch": False, "from_the_future": 42})
    assert any("from_the_future" in w for w in settings.warnings)
    assert load(save(settings, tmp_path / "s.txt")).extras == {"from_the_future": 42}


def test_save_is_atomic_and_leaves_no_temp_files(tmp_path: Path) -> None:
    target = tmp_path / "settings.txt"
    target.write_text("old")
    save(Settings(), target)
    assert json.loads(target.read_text())["W"] == 512
    assert [p.name for p in tmp_path.iterdir()] == ["settings.txt"]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        ("{not json", "Not valid JSON"),
        ("[1, 2]", "must hold one JSON object"),
        ('{"W": "big"}', "Setting 'W': 'big' is not a whole number"),
        ('{"animation_mode": "4D"}', "Setting 'animation_mode': '4D' is not a valid choice"),
        ('{"zoom": "0: (1.0), 10: (sin(t)"}', "zoom"),
        ('{"angle": "0: (__import__(\\"os\\"))"}', "angle"),
    ],
)
def test_bad_files_give_one_clear_message(tmp_path: Path, content: str, fragment: str) -> None:
    path = tmp_path / "bad.txt"
    path.write_text(content)
    with pytest.raises(SettingsError) as info:
        load(path)
    assert fragment in str(info.value)
    assert str(path) in str(info.value)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="Settings file not found"):
        load(tmp_path / "nope.txt")


TEXT = st.text(alphabet=string.ascii_letters + string.digits + " ,.-()'!:" + "éü–", max_size=30)
SIMPLE_CHANGES = st.fixed_dictionaries({}, optional={
    "W": st.integers(8, 4096), "H": st.integers(8, 4096), "seed": st.integers(-1, 2**32 - 1),
    "strength": st.floats(0, 1), "max_frames": st.integers(1, 10_000), "batch_name": TEXT,
    "animation_mode": st.sampled_from(["2D", "3D", "Video Input", "Interpolation"]),
    "use_init": st.booleans(), "fps": st.floats(0.5, 240), "fill": st.integers(0, 3),
    "diffusion_redo": st.integers(0, 9).map(str), "init_image": st.one_of(st.none(), TEXT),
    "prompts": st.dictionaries(st.integers(0, 500).map(str), TEXT, min_size=1, max_size=5),
    "animation_prompts_positive": TEXT, "animation_prompts_negative": TEXT,
})


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=SIMPLE_CHANGES, shape=st.sampled_from(["ui", "run"]))
def test_load_save_load_is_identity(changes: dict, shape: str, tmp_path: Path) -> None:
    settings = Settings().replace(legacy_colormatch=False, **changes)
    text = dumps(to_file_dict(settings, shape=shape))
    assert load(json.loads(text)) == settings
