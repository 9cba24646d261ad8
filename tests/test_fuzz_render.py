"""Fuzzing the render path, the REST API and the WebUI adapter with what a red team sends.

Integer edge cases (INT64_MIN, division/modulo by 0 and -1, huge powers) anywhere an expression is read, file
references anywhere in a settings file (plain paths, file:// URLs, `[file]` in mask expressions, JSON, manifests,
model names), size-like values around and beyond their bounds under an address-space limit, and numbers past float
range. The legal outcomes are a render, or a clear refusal naming the key (exit 2 / 422); never a crash, a 500, a
MemoryError, a read of the secret file, or an error that tells whether it exists.

The budget is small in the normal suite; `make fuzz` raises it (FUZZ_EXAMPLES).
"""

from __future__ import annotations

import json
import os
import resource
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deforum.config.file_settings import FILE_SETTINGS
from deforum.config.settings_io import load
from deforum.core.inputs import RenderServices
from deforum.core.preview import PreviewModelService
from deforum.core.run import run_render
from deforum.core.services import CancelToken
from deforum.media.frames_io import write_png_atomic
from deforum.models.settings import SettingsError
from tests.webui_stub.fixture import webui_host  # noqa: F401  (the `webui` fixture)

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "8"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 20,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
BASE = {"W": 64, "H": 64, "max_frames": 3, "animation_mode": "2D", "diffusion_cadence": 1, "seed": 3,
        "skip_video_creation": True, "batch_name": "fuzz"}
EDGE_INTEGERS = ["-9223372036854775807-1", "9223372036854775807", "-1", "0", "1", "2147483647", "-2147483648",
                 "63", "64"]
OPERATORS = ["%", "//", "**", "/", "*", "-", "+", "&", "|", "^"]
SCHEDULE_KEYS = ["angle", "zoom", "translation_x", "noise_schedule", "strength_schedule", "contrast_schedule",
                 "kernel_schedule", "sigma_schedule", "amount_schedule", "seed_schedule", "cfg_scale_schedule",
                 "fov_schedule", "perspective_flip_fv", "near_schedule"]
ADDRESS_SPACE_HEADROOM = 3 * 1024**3
BUG_ERRORS = (ArithmeticError, MemoryError, RecursionError, LookupError, TypeError, AttributeError, AssertionError)

SECRET_DIR = Path(tempfile.mkdtemp(prefix="deforum_fuzz_secret_"))
SECRET = SECRET_DIR / "secret.png"
write_png_atomic(SECRET, np.zeros((8, 8, 3), np.uint8))
OPENED: list[str] = []


def _audit(event: str, args: tuple) -> None:
    """Record every open or program start that names the secret file."""
    if event in ("open", "subprocess.Popen", "os.exec") and SECRET_DIR.name in repr(args):
        OPENED.append(f"{event}: {args!r:.200}")


sys.addaudithook(_audit)


def _edge_expression(draw: st.DrawFn) -> str:
    """An integer expression over t mixing the int64/int32 edges with every operator."""
    left, right = draw(st.sampled_from(EDGE_INTEGERS)), draw(st.sampled_from(EDGE_INTEGERS))
    operator = draw(st.sampled_from(OPERATORS))
    variable = draw(st.sampled_from(["t", "max_f", "s", "(t>1)"]))
    return f"(({variable})*0+({left})){operator}(({variable})*0+({right}))"


@st.composite
def integer_edge_settings(draw: st.DrawFn) -> dict:
    """Settings whose schedules, prompt backticks and frame keys carry integer edge expressions."""
    data = dict(BASE)
    for key in draw(st.lists(st.sampled_from(SCHEDULE_KEYS), min_size=1, max_size=3, unique=True)):
        data[key] = f"0: ({_edge_expression(draw)})"
    data["prompts"] = {"0": f"a `{_edge_expression(draw)}` b", "max_f-1": "c"}
    if draw(st.booleans()):
        data["prompts"][_edge_expression(draw).replace("t", "max_f")] = "d"
    return data


def _reference(draw: st.DrawFn, kind: str) -> str:
    """A value naming the secret file, written the way a setting of this kind names files."""
    path = draw(st.sampled_from([str(SECRET), f"file://{SECRET}", f'"{SECRET}"', f"{SECRET_DIR}/../{SECRET_DIR.name}/"
                                 "secret.png"]))
    return {"path": path, "model_folder": path, "manifest": path, "model_name": f"../..{SECRET}",
            "guided_images": json.dumps({"0": path, "max_f": "https://x.org/a.png"}),
            "mask_schedule": f'0: ("{{video_mask}} & [{path}]"), 1: ("!<cat> | [{path}]")',
            "model_schedule": f'0: ("../..{SECRET}")'}[kind]


@st.composite
def file_reference_settings(draw: st.DrawFn) -> dict:
    """Settings naming the secret from one or more of the settings that can name files, switched on or not."""
    data = dict(BASE)
    for item in draw(st.lists(st.sampled_from(FILE_SETTINGS), min_size=1, max_size=3, unique_by=lambda i: i.key)):
        data[item.key] = _reference(draw, item.kind)
    for switch in draw(st.lists(st.sampled_from(["use_init", "use_mask", "use_noise_mask", "use_mask_video",
                                                 "use_looper"]), max_size=3)):
        data[switch] = True
    return data


SIZE_VALUES = {
    "W": [8, 64, 4096, 4097, 8192, 8193, 10**309], "H": [8, 64, 4096, 8192, -1, 1e308],
    "max_frames": [1, 3, 1_000_000, 1_000_001, 1e30, 10**309], "diffusion_cadence": [1, 2, 10**9],
    "kernel_schedule": ["0: (5)", "0: (64)", "0: (65)", "0: (1000000000)", "0: (1e308*10)"],
    "fps": [1, 1000, 1001, 1e308], "cn_1_processor_res": [64, 8192, 8193, 10**12],
    "mask_overlay_blur": [4, 8192, 8193], "steps": [1, 10000, 10001], "seed_iter_N": [1, 2**32, 2**70],
}


@st.composite
def size_settings(draw: st.DrawFn) -> dict:
    """Settings with size-like values at and beyond their bounds, and long prompts over many frames."""
    data = dict(BASE)
    for key in draw(st.lists(st.sampled_from(sorted(SIZE_VALUES)), min_size=1, max_size=3, unique=True)):
        data[key] = draw(st.sampled_from(SIZE_VALUES[key]))
    if draw(st.booleans()):
        length = draw(st.sampled_from([10, 100_000, 1_000_000]))
        data["prompts"] = {"0": "x" * length + draw(st.sampled_from(["", " `t`"]))}
        data["max_frames"] = draw(st.sampled_from([3, 1000, 100_000]))
    return data


@contextmanager
def address_space_limit(headroom: int = ADDRESS_SPACE_HEADROOM) -> Iterator[None]:
    """Lower this process's soft address-space limit to its current size plus `headroom` (a blow-up then fails
    with MemoryError instead of exhausting the machine); the limit is restored afterwards."""
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    size = _vm_size()
    wanted = size + headroom if size else resource.RLIM_INFINITY
    if hard != resource.RLIM_INFINITY:
        wanted = min(wanted, hard)
    resource.setrlimit(resource.RLIMIT_AS, (wanted, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _vm_size() -> int:
    """This process's virtual size in bytes (0 where /proc is missing)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    except OSError:
        return 0
    return 0


def render_a_few_frames(data: dict, root: Path, frames: int = 2) -> None:
    """Load like a settings file, then render up to `frames` preview frames; raise what the render raises."""
    loaded = load(data)
    cancel = CancelToken()

    def progress(done: int, total: int) -> None:
        if done >= frames:
            cancel.cancel()

    run_render(loaded.replace(motion_preview_mode=True), RenderServices(model=PreviewModelService()), root,
               cancel=cancel, progress=progress)


def assert_clear_refusal(err: BaseException) -> None:
    """A refusal must be a clear error (a message, no traceback text), never a bug-class exception."""
    assert not isinstance(err, BUG_ERRORS), f"{type(err).__name__}: {err}"
    assert str(err) and "Traceback" not in str(err)


@FUZZ
@given(data=integer_edge_settings())
def test_integer_edges_render_or_are_refused(data: dict, tmp_path_factory: pytest.TempPathFactory) -> None:
    try:
        render_a_few_frames(data, tmp_path_factory.mktemp("edges"))
    except (ValueError, OSError) as err:
        assert_clear_refusal(err)


@FUZZ
@given(data=size_settings())
def test_size_blow_ups_are_refused_before_memory_runs_out(data: dict,
                                                          tmp_path_factory: pytest.TempPathFactory) -> None:
    try:
        with address_space_limit():
            loaded = load(data)
            if loaded["W"] * loaded["H"] <= 256 * 256:
                render_a_few_frames(data, tmp_path_factory.mktemp("sizes"), frames=1)
    except SettingsError as err:
        assert "Setting '" in str(err)
    except (ValueError, OSError) as err:
        assert_clear_refusal(err)


def test_the_address_space_limit_turns_a_blow_up_into_memory_error() -> None:
    # np.empty touches no page (no risk without the limit); 8 GiB is beyond any heap a worker has already mapped
    with pytest.raises(MemoryError), address_space_limit(headroom=256 * 1024**2):
        np.empty(8 * 1024**3, dtype=np.uint8)


@FUZZ
@given(data=file_reference_settings())
def test_file_references_anywhere_are_refused_by_the_api(data: dict, tmp_path_factory: pytest.TempPathFactory) -> None:
    from tests.integrations.api.test_api_file_rules import _refused_keys

    listed = {item.key for item in FILE_SETTINGS}
    refused = _refused_keys([data], tmp_path_factory.mktemp("refs"))
    assert refused and refused <= listed | {"settings"}
    assert not OPENED, OPENED


def _api_client(root: Path, webui: object | None = None):
    """A TestClient on the standalone API (preview renders) or, given the stub WebUI, on its --deforum-api mount."""
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    if webui is not None:
        from deforum.integrations.webui import jobs

        webui.shared.cmd_opts.deforum_api = True
        webui.shared.cmd_opts.listen = True  # an exposed WebUI: local files are refused, as on a server
        app = FastAPI()
        jobs.on_app_started(None, app)
        return TestClient(app), jobs.job_queue()
    from deforum.integrations.api.jobs import JobQueue
    from deforum.integrations.api.standalone import create_app, preview_render_fn

    queue = JobQueue(preview_render_fn(root), output_root=root)
    return TestClient(create_app(queue)), queue


OPTION_NAMES = ["deforum_ffmpeg_location", "outdir_samples", "CLIP_stop_at_last_layers", "sd_vae",
                "deforum_persistent_settings_path", "eta_ddim"]
HOSTILE_OPTIONS = st.dictionaries(st.sampled_from(OPTION_NAMES),
                                  st.sampled_from(["/bin/sh", "../../x", 2, "Automatic", None]), max_size=2)
BODIES = st.one_of(integer_edge_settings(), file_reference_settings(), size_settings())


def _post_and_check(client, queue, data: dict, overrides: dict) -> None:
    """POST one hostile batch: 202/400/413/422 only; an accepted job never reads or names the secret."""
    answer = client.post("/deforum_api/batches", json={"deforum_settings": data, "options_overrides": overrides})
    assert answer.status_code in (202, 400, 413, 422), answer.text[:500]
    if answer.status_code == 422:
        assert all(entry["msg"] and "Traceback" not in entry["msg"] for entry in answer.json()["detail"])
    if answer.status_code == 202:
        assert not (set(overrides) - {"CLIP_stop_at_last_layers", "sd_vae", "eta_ddim"})
        big = float(data.get("max_frames", 3)) > 5 or float(data.get("W", 64)) * float(data.get("H", 64)) > 256**2
        for job_id in answer.json()["job_ids"]:
            if big:
                client.delete(f"/deforum_api/jobs/{job_id}")
            record = queue.wait(job_id, timeout=120)
            assert str(SECRET_DIR) not in (record.message or "")
    assert not OPENED, OPENED


@FUZZ
@given(data=BODIES, overrides=HOSTILE_OPTIONS)
def test_the_standalone_api_answers_hostile_batches_clearly(data: dict, overrides: dict,
                                                            tmp_path_factory: pytest.TempPathFactory) -> None:
    pytest.importorskip("fastapi")
    client, queue = _api_client(tmp_path_factory.mktemp("api"))
    try:
        with address_space_limit():
            _post_and_check(client, queue, data, overrides)
    finally:
        queue.shutdown(timeout=30)


@pytest.fixture
def webui_client(webui):
    pytest.importorskip("fastapi")
    client, queue = _api_client(webui.root, webui)
    yield client, queue, webui


@FUZZ
@given(data=BODIES, overrides=HOSTILE_OPTIONS)
def test_the_webui_adapter_answers_hostile_batches_clearly(webui_client, data: dict, overrides: dict) -> None:
    client, queue, webui = webui_client
    before = dict(webui.shared.opts.data)
    with address_space_limit():
        _post_and_check(client, queue, data, overrides)
    assert webui.shared.opts.data.get("deforum_ffmpeg_location") == before.get("deforum_ffmpeg_location")

