"""REST API pieces in-process: job queue, auth, path rules, request validation, pydantic models."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

pytest.importorskip("fastapi")

from deforum.core.services import CancelToken  # noqa: E402
from deforum.integrations.api.auth import credentials_match, parse_credentials  # noqa: E402
from deforum.integrations.api.jobs import JobQueue  # noqa: E402
from deforum.integrations.api.models import Batch, JobErrorType, JobPhase, JobStatus, JobStatusCategory  # noqa: E402
from deforum.integrations.api.paths import escapes, is_inside, keys_in_use, local_path  # noqa: E402
from deforum.integrations.api.simple import merge_allowed  # noqa: E402
from deforum.integrations.api.standalone import TimestringAllocator  # noqa: E402
from deforum.integrations.api.validate import InvalidRequest, RequestPolicy, validate_batch  # noqa: E402
from deforum.models.settings import Settings, SettingsError  # noqa: E402

WAIT = 10.0


@dataclass(frozen=True)
class FakeResult:
    outdir: Path
    timestring: str
    frames_written: int
    cancelled: bool
    video: None = None


class FakeRenderer:
    """A render_fn that records the order of jobs and can be held at a frame until released."""

    def __init__(self, frames: int = 3, hold: bool = False) -> None:
        self.frames, self.order = frames, []
        self.started, self.release = threading.Event(), threading.Event()
        if not hold:
            self.release.set()

    def __call__(self, settings: Settings, cancel: CancelToken, progress) -> FakeResult:
        self.order.append(settings.args.batch_name)
        if settings.args.batch_name == "boom":
            raise RuntimeError("out of memory")
        if settings.args.batch_name == "bad":
            raise SettingsError(["Setting 'zoom': nope."])
        progress.output(Path("/out") / settings.args.batch_name, "20240101000000")
        written = 0
        for frame in range(self.frames):
            self.started.set()
            self.release.wait(WAIT)
            if cancel.cancelled:
                break
            written = frame + 1
            progress(written, self.frames)
        return FakeResult(Path("/out") / settings.args.batch_name, "20240101000000", written, cancel.cancelled)


def settings(name: str) -> Settings:
    return Settings().replace(batch_name=name)


def submit(queue: JobQueue, *names: str) -> list[str]:
    items = [settings(n) for n in names]
    return queue.submit(items, [{"batch_name": n} for n in names])[1]


@pytest.fixture
def renderer() -> FakeRenderer:
    return FakeRenderer()


def test_jobs_run_in_submission_order_and_succeed(renderer: FakeRenderer, tmp_path: Path) -> None:
    queue = JobQueue(renderer, output_root=tmp_path)
    ids = submit(queue, "a", "b") + submit(queue, "c")
    records = [queue.wait(i, WAIT) for i in ids]
    assert renderer.order == ["a", "b", "c"]
    first = records[0]
    assert first.status is JobStatusCategory.SUCCEEDED and first.phase is JobPhase.DONE
    assert first.phase_progress == 1.0 and first.outdir == str(Path("/out/a")) and first.timestring == "20240101000000"
    assert first.updates >= 5 and first.execution_time >= 0 and first.last_updated >= first.started_at
    assert list(queue.batches().values()) == [ids[:2], ids[2:]]
    assert ids[0].startswith("batch(") and ids[0].endswith(")-0")
    queue.shutdown()


def test_failures_are_terminal_for_settings_and_retryable_otherwise(renderer: FakeRenderer, tmp_path: Path) -> None:
    queue = JobQueue(renderer, output_root=tmp_path)
    boom, bad = (queue.wait(i, WAIT) for i in submit(queue, "boom", "bad"))
    assert boom.status is JobStatusCategory.FAILED and boom.error_type is JobErrorType.RETRYABLE
    assert "out of memory" in boom.message
    assert bad.error_type is JobErrorType.TERMINAL and "zoom" in bad.message
    queue.shutdown()


def test_cancel_queued_job_never_runs_and_running_job_stops(tmp_path: Path) -> None:
    renderer = FakeRenderer(frames=50, hold=True)
    queue = JobQueue(renderer, output_root=tmp_path)
    running, queued = submit(queue, "running", "queued")
    assert renderer.started.wait(WAIT)
    assert queue.cancel(queued) and queue.pending() == []
    assert queue.get(queued).status is JobStatusCategory.CANCELLED and queue.is_done(queued)
    assert queue.cancel(running)
    assert queue.get(running).status is JobStatusCategory.CANCELLED
    renderer.release.set()
    record = queue.wait(running, WAIT)
    assert record.phase is JobPhase.DONE and "frame(s) kept" in record.message
    assert renderer.order == ["running"]
    assert not queue.cancel(running)
    with pytest.raises(KeyError):
        queue.cancel("nope")
    queue.shutdown()


def test_shutdown_cancels_waiting_jobs(tmp_path: Path) -> None:
    renderer = FakeRenderer(frames=5, hold=True)
    queue = JobQueue(renderer, output_root=tmp_path)
    ids = submit(queue, "x", "y")
    assert renderer.started.wait(WAIT)
    threading.Timer(0.2, renderer.release.set).start()
    queue.shutdown(timeout=WAIT)
    assert all(queue.get(i).status is JobStatusCategory.CANCELLED for i in ids)
    with pytest.raises(RuntimeError):
        submit(queue, "late")


def test_credentials_parse_and_match() -> None:
    known = parse_credentials("alice:s3cret, bob:pa:ss")
    assert known == {"alice": "s3cret", "bob": "pa:ss"}
    assert credentials_match(known, "bob", "pa:ss") and credentials_match(known, "alice", "s3cret")
    assert not credentials_match(known, "alice", "pa:ss") and not credentials_match(known, "eve", "")
    for bad in ("", "alice", ":pw", "alice:pw,"):
        with pytest.raises(ValueError):
            parse_credentials(bad)


@pytest.mark.parametrize("text", ["../x", "a/../../b", "/etc", "C:\\x", "\\\\server\\share", "~/x", "..\\x"])
def test_escaping_paths(text: str) -> None:
    assert escapes(text)


@pytest.mark.parametrize("text", ["Deforum_{timestring}", "a/b", "my..name", ""])
def test_plain_names_do_not_escape(text: str) -> None:
    assert not escapes(text)


def test_local_path_classification(tmp_path: Path) -> None:
    assert local_path("https://deforum.github.io/a1/M1.jpg") is None
    assert local_path("") is None and local_path("None") is None and local_path(None) is None
    assert local_path("file:///etc/passwd") == Path("/etc/passwd")
    assert local_path('"/tmp/x.png"') == Path("/tmp/x.png")
    assert is_inside(tmp_path / "a" / "b", tmp_path) and not is_inside(tmp_path / ".." / "x", tmp_path)


def test_keys_in_use_follow_the_switches() -> None:
    used = keys_in_use(Settings().replace(use_init=True, cn_2_enabled=True, add_soundtrack="File"))
    assert {"init_image", "cn_2_vid_path", "cn_2_mask_vid_path", "soundtrack_path"} <= used
    assert "mask_file" not in used and "cn_1_vid_path" not in used


def policy(tmp_path: Path, allow: bool = False) -> RequestPolicy:
    return RequestPolicy(tmp_path, allow_local_files=allow)


def problems(items: list[dict], tmp_path: Path, allow: bool = False, overrides: dict | None = None) -> list:
    with pytest.raises(InvalidRequest) as err:
        validate_batch(items, overrides, policy(tmp_path, allow))
    return [(p.loc, p.msg) for p in err.value.problems]


def test_validation_names_every_bad_key_of_every_job(tmp_path: Path) -> None:
    found = problems([{"W": 64}, {"zoom": "0: (1.0", "batch_name": "../up", "init_image": "/etc/passwd"}], tmp_path)
    keys = {loc[-1] for loc, _ in found}
    assert keys == {"zoom", "batch_name", "init_image"}
    assert all(loc[:3] == ("body", "deforum_settings", 1) for loc, _ in found)


def test_local_files_allowed_are_resolved_and_must_exist_when_used(tmp_path: Path) -> None:
    image = tmp_path / "init.png"
    image.write_bytes(b"x")
    accepted = validate_batch([{"use_init": True, "init_image": str(image)},
                               {"mask_file": "missing.png"}], None, policy(tmp_path, allow=True))
    assert accepted[0].args.init_image == str(image.resolve())
    found = problems([{"use_init": True, "init_image": str(tmp_path / "missing.png")}], tmp_path, allow=True)
    assert found[0][0][-1] == "init_image" and "not found" in found[0][1]


def test_option_overrides_and_resume_timestring_are_checked(tmp_path: Path) -> None:
    found = problems([{"resume_from_timestring": True, "resume_timestring": "../../x"}], tmp_path,
                     overrides={"outdir_samples": "/elsewhere"})
    assert {loc[-1] for loc, _ in found} == {"outdir_samples", "resume_timestring"}
    assert "may not be changed" in dict((loc[-1], msg) for loc, msg in found)["outdir_samples"]


def test_timestrings_are_unique_per_folder(tmp_path: Path) -> None:
    allocator = TimestringAllocator(clock=lambda: 1_700_000_000.0)
    same = Settings().replace(batch_name="same")
    first, second = allocator.allocate(same, tmp_path), allocator.allocate(same, tmp_path)
    assert first[1] == second[1] and int(second[0]) > int(first[0])
    other = allocator.allocate(Settings().replace(batch_name="other"), tmp_path)
    assert other[0] == first[0]


def test_simple_api_merges_only_allowed_keys() -> None:
    data = merge_allowed('{"W": 64, "H": 96, "seed": 5, "batch_name": "mine", "nonsense": 1}', "W;seed;nonsense")
    assert data["W"] == 64 and data["H"] == 512 and data["seed"] == 5
    assert "nonsense" not in data and len(data["batch_name"]) == 32 and "positive_prompts" in data
    with pytest.raises(InvalidRequest):
        merge_allowed("{not json", "")


def test_models_have_explicit_defaults() -> None:
    assert Batch().deforum_settings is None and Batch().options_overrides is None
    assert Batch(deforum_settings=[{"W": 64}]).deforum_settings == [{"W": 64}]
    assert Batch(deforum_settings={"W": 64}).deforum_settings == {"W": 64}
    status = JobStatus(id="x")
    assert status.message is None and status.outdir is None and status.deforum_settings is None
    for model in (Batch, JobStatus):
        fields = getattr(model, "model_fields", None) or model.__fields__
        assert all(not _required(f) for f in fields.values())


def _required(field) -> bool:
    is_required = getattr(field, "is_required", None)
    return is_required() if callable(is_required) else bool(field.required)


def test_timing_fields_follow_the_original(tmp_path: Path) -> None:
    queue = JobQueue(FakeRenderer(frames=1), output_root=tmp_path)
    record = queue.wait(submit(queue, "t")[0], WAIT)
    assert record.execution_time == pytest.approx(record.last_updated - record.started_at)
    assert 0 <= record.update_interval_time <= record.execution_time
    assert time.time() - record.started_at < WAIT
    queue.shutdown()


def test_serve_command_registers_its_options() -> None:
    from deforum.cli import build_parser
    from deforum.cli.serve import add_serve_command, cmd_serve

    args = build_parser((add_serve_command,)).parse_args(
        ["serve", "--port", "0", "--auth", "a:b", "--outdir", "o", "--allow-local-files"])
    assert args.handler is cmd_serve and args.host == "127.0.0.1" and args.port == 0
    assert args.auth == "a:b" and args.outdir == "o" and args.allow_local_files
    defaults = build_parser((add_serve_command,)).parse_args(["serve"])
    assert defaults.port == 7861 and not defaults.allow_local_files


def test_serve_with_a_missing_model_stops_before_listening(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from deforum.cli import main

    missing = tmp_path / "nope.safetensors"
    assert main(["serve", "--port", "0", "--outdir", str(tmp_path / "out"), "--model", str(missing),
                 "--models-dir", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert f"Model checkpoint not found: {missing}" in err and "Traceback" not in err


def test_importing_deforum_and_the_serve_command_does_not_import_fastapi() -> None:
    import subprocess
    import sys

    code = "import sys, deforum, deforum.cli, deforum.cli.serve; print('fastapi' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                         cwd=Path(__file__).resolve().parents[3])
    assert out.stdout.strip() == "False", out.stderr
