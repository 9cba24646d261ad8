"""The command line: exit codes, messages without tracebacks, render prints the output folder last."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from deforum.cli import main
from tests.conftest import DATA, ROOT

DEFAULTS = DATA / "compat/original/default_settings.txt"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    """Run `python -m deforum` as a user would."""
    return subprocess.run([sys.executable, "-m", "deforum", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def test_settings_check_ok(capsys: pytest.CaptureFixture) -> None:
    assert main(["settings", "check", str(DEFAULTS)]) == 0
    assert "OK:" in capsys.readouterr().out


def test_settings_check_invalid_is_exit_2_with_the_key(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(json.dumps({"max_frames": -4, "zoom": "0: (1.0"}))
    assert main(["settings", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "Setting 'max_frames': -4 is out of range" in err and "Traceback" not in err


def test_settings_export_round_trips(tmp_path: Path) -> None:
    out = tmp_path / "export.txt"
    assert main(["settings", "export", str(DEFAULTS), "-o", str(out), "--set", "max_frames=12",
                 "--set", "zoom=0: (1.01)", "--set", "animation_mode=2D"]) == 0
    data = json.loads(out.read_text())
    assert (data["max_frames"], data["zoom"], data["animation_mode"]) == (12, "0: (1.01)", "2D")
    assert main(["settings", "check", str(out)]) == 0


def test_root_default_settings_is_the_canonical_export_of_the_defaults(tmp_path: Path) -> None:
    out = tmp_path / "defaults.txt"
    assert main(["settings", "export", str(ROOT / "default_settings.txt"), "-o", str(out)]) == 0
    assert out.read_text() == (ROOT / "default_settings.txt").read_text()


def test_schedule_prints_json_values(capsys: pytest.CaptureFixture) -> None:
    assert main(["schedule", "0:(2), 5:(t*10)", "--frames", "7"]) == 0
    assert json.loads(capsys.readouterr().out) == pytest.approx([2, 11.6, 21.2, 30.8, 40.4, 50, 60])


def test_schedule_error_is_exit_2(capsys: pytest.CaptureFixture) -> None:
    assert main(["schedule", "0:(__import__('os'))", "--frames", "3"]) == 2
    assert "Schedule 'schedule'" in capsys.readouterr().err


def test_render_without_preview_or_model_explains_how(capsys: pytest.CaptureFixture) -> None:
    assert main(["render", str(DEFAULTS)]) == 2
    assert "--model PATH" in capsys.readouterr().err


def test_render_preview_end_to_end(tmp_path: Path) -> None:
    done = run_cli("render", str(DEFAULTS), "--preview", "--outdir", str(tmp_path), "--set", "W=64",
                   "--set", "H=64", "--set", "max_frames=5", "--set", "batch_name=cli_{seed}", "--set", "seed=3")
    assert done.returncode == 0, done.stderr
    outdir = Path(done.stdout.strip().splitlines()[-1])
    assert outdir == tmp_path / "cli_3"
    assert len(list(outdir.glob("*_00000000[0-4].png"))) == 5
    assert len(list(outdir.glob("*.mp4"))) == 1


def test_ctrl_c_stops_after_the_frame_keeps_frames_and_makes_the_video(tmp_path: Path) -> None:
    import signal
    import time

    proc = subprocess.Popen([sys.executable, "-m", "deforum", "render", str(DEFAULTS), "--preview", "--outdir",
                             str(tmp_path), "--set", "W=256", "--set", "H=256", "--set", "max_frames=400",
                             "--set", "batch_name=int", "--set", "diffusion_cadence=1"],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outdir = tmp_path / "int"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(outdir.glob("*_0*.png"))) < 3:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    frames = sorted(outdir.glob("*_0*.png"))
    assert 3 <= len(frames) < 400
    assert "continue with --resume" in err
    videos = list(outdir.glob("*.mp4"))
    assert len(videos) == 1
    from deforum.media.video import count_video_frames

    assert count_video_frames(str(videos[0])) == len(frames)


@pytest.mark.parametrize("kill_after", [2, 7])
def test_sigkill_then_resume_matches_an_uninterrupted_render(tmp_path: Path, kill_after: int) -> None:
    import signal
    import time

    common = ["--preview", "--set", "W=96", "--set", "H=64", "--set", "max_frames=40", "--set", "seed=5",
              "--set", "diffusion_cadence=2", "--set", "skip_video_creation=true", "--set", "animation_mode=3D"]
    full = run_cli("render", str(DEFAULTS), "--outdir", str(tmp_path / "full"), "--set", "batch_name=b", *common)
    assert full.returncode == 0, full.stderr
    full_dir = Path(full.stdout.strip().splitlines()[-1])
    proc = subprocess.Popen([sys.executable, "-m", "deforum", "render", str(DEFAULTS), "--outdir",
                             str(tmp_path / "killed"), "--set", "batch_name=b", *common],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    outdir = tmp_path / "killed" / "b"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(outdir.glob("*_0*.png"))) < kill_after:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.communicate(timeout=60)
    assert len(list(outdir.glob("*_0*.png"))) < 40
    timestring = next(outdir.glob("*_settings.txt")).name.split("_")[0]
    resumed = run_cli("render", str(DEFAULTS), "--outdir", str(tmp_path / "killed"), "--set", "batch_name=b",
                      *common, "--resume", timestring)
    assert resumed.returncode == 0, resumed.stderr
    assert not [p.name for p in outdir.iterdir() if p.name.endswith(".tmp")]
    full_ts = next(full_dir.glob("*_settings.txt")).name.split("_")[0]
    for i in range(40):
        ours = (outdir / f"{timestring}_{i:09}.png").read_bytes()
        assert ours == (full_dir / f"{full_ts}_{i:09}.png").read_bytes(), i


def test_render_preview_every_writes_the_in_progress_video(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    from deforum.media.video import count_video_frames

    assert main(["render", str(DEFAULTS), "--preview", "--preview-every", "3", "--outdir", str(tmp_path),
                 "--set", "W=64", "--set", "H=64", "--set", "max_frames=8", "--set", "batch_name=pv"]) == 0
    outdir = Path(capsys.readouterr().out.strip().splitlines()[-1])
    [preview] = outdir.glob("*_preview.mp4")
    assert count_video_frames(str(preview)) == 6
    assert count_video_frames(str(outdir / preview.name.replace("_preview", ""))) == 8


def test_render_preview_every_must_be_a_frame_count(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["render", str(DEFAULTS), "--preview", "--preview-every", "-2"])
    assert exited.value.code == 2 and "--preview-every" in capsys.readouterr().err


@pytest.mark.slow
def test_render_with_a_local_checkpoint_uses_diffusion(tmp_path: Path) -> None:
    pytest.importorskip("diffusers")
    from deforum.integrations.diffusers.testing import tiny_pipeline, write_tiny_tokenizer

    tokenizer = write_tiny_tokenizer(tmp_path / "tokenizer")
    checkpoint = tmp_path / "tiny-diffusers"
    tiny_pipeline(tokenizer).save_pretrained(checkpoint)
    env_run = subprocess.run(
        [sys.executable, "-m", "deforum", "render", str(DEFAULTS), "--model", str(checkpoint), "--outdir",
         str(tmp_path / "out"), "--set", "W=64", "--set", "H=64", "--set", "max_frames=3", "--set", "steps=3",
         "--set", "batch_name=sd", "--set", "animation_mode=2D"],
        capture_output=True, text=True, cwd=ROOT, timeout=600,
        env={**__import__("os").environ, "DEFORUM_TOKENIZER_DIR": str(tokenizer), "HF_HUB_OFFLINE": "1"})
    assert env_run.returncode == 0, env_run.stderr
    outdir = Path(env_run.stdout.strip().splitlines()[-1])
    assert len(list(outdir.glob("*_00000000[0-2].png"))) == 3
    saved = json.loads(next(outdir.glob("*_settings.txt")).read_text())
    assert saved["motion_preview_mode"] is False
    assert (saved["sd_model_name"], saved["sd_model_hash"]) == ("tiny-diffusers", "")


def test_render_runs_rife_post_processing_with_local_weights(tmp_path: Path) -> None:
    from tests.integrations.post.test_postprocess_support import save_rife_weights

    models = tmp_path / "models"
    (models / "Deforum").mkdir(parents=True)
    save_rife_weights(models / "Deforum" / "RIFE46.pkl")
    done = run_cli("render", str(DEFAULTS), "--preview", "--outdir", str(tmp_path / "out"), "--models-dir",
                   str(models), "--set", "W=64", "--set", "H=64", "--set", "max_frames=4", "--set", "batch_name=pp",
                   "--set", "frame_interpolation_engine=RIFE v4.6", "--set", "frame_interpolation_x_amount=2",
                   "--set", "animation_mode=2D")
    assert done.returncode == 0, done.stderr
    outdir = Path(done.stdout.strip().splitlines()[-1])
    interpolated = list(outdir.glob("*_RIFE_x2.mp4"))
    assert len(interpolated) == 1
    from deforum.media.video import count_video_frames, probe_media

    assert count_video_frames(str(interpolated[0])) == 7
    assert probe_media(str(interpolated[0])).fps == pytest.approx(30)


def test_missing_rife_weights_fail_before_rendering(tmp_path: Path) -> None:
    done = run_cli("render", str(DEFAULTS), "--preview", "--outdir", str(tmp_path / "out"), "--models-dir",
                   str(tmp_path / "empty"), "--set", "frame_interpolation_engine=RIFE v4.6", "--set", "W=64",
                   "--set", "H=64", "--set", "batch_name=none")
    assert done.returncode == 2
    assert "RIFE46.pkl" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "none").exists()


def test_human_masks_without_matting_weights_name_the_file_unless_previewing(tmp_path: Path, caplog) -> None:
    from deforum.integrations.services import Environment, human_matting
    from deforum.models.settings import Settings

    def matting_for(settings: Settings, models_dir: str):
        return human_matting(settings, Environment(models_dir=models_dir))

    settings = Settings().replace(hybrid_motion="Optical Flow", hybrid_generate_human_masks="Video")
    with pytest.raises(ValueError, match=r"(?s)hybrid_generate_human_masks.*rvm_resnet50\.pth"):
        matting_for(settings, str(tmp_path))
    assert matting_for(settings.replace(motion_preview_mode=True), str(tmp_path)) is None
    assert "no human masks" in caplog.text
    assert matting_for(settings.replace(hybrid_generate_human_masks="None"), str(tmp_path)) is None


def test_a_preview_render_does_not_import_torchvision_or_dynamo(tmp_path: Path) -> None:
    script = ("import sys\nfrom deforum.cli import main\n"
              f"main(['render', {str(DEFAULTS)!r}, '--preview', '--outdir', {str(tmp_path)!r}, '--set', 'W=64', "
              "'--set', 'H=64', '--set', 'max_frames=2', '--set', 'skip_video_creation=true'])\n"
              "print(sorted(m for m in ('torchvision', 'torch._dynamo', 'torch') if m in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "['torch']"
