"""Issue 20 item 11: '%' in batch_name, settings-file permissions, a full disk at the checkpoint, Ctrl-C's exit code."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

import numpy as np
import pytest

import deforum.cli.settings
import deforum.core.sink
from deforum.cli import EXIT_INTERRUPTED, main
from deforum.core.sink import DiskFrameSink, FrameWriteError
from deforum.core.state import FrameState
from deforum.media.frames_io import frames_pattern
from tests.conftest import DATA

DEFAULTS = DATA / "compat/original/default_settings.txt"
SMALL = ["--preview", "--set", "W=64", "--set", "H=64", "--set", "max_frames=3", "--set", "seed=1"]


def test_a_percent_sign_in_batch_name_still_makes_the_video(tmp_path: Path) -> None:
    assert main(["render", str(DEFAULTS), "--outdir", str(tmp_path), *SMALL, "--set", "batch_name=50%off",
                 "--set", "make_gif=true"]) == 0
    folder = tmp_path / "50%off"
    assert len(list(folder.glob("*.mp4"))) == 1 and len(list(folder.glob("*.gif"))) == 1


def test_frames_pattern_escapes_only_the_folder() -> None:
    pattern = frames_pattern("/out/50%off", "20240101000000_%09d.png")
    assert pattern % 7 == os.path.join("/out/50%off", "20240101000000_000000007.png")


def test_the_settings_file_has_the_frames_permissions(tmp_path: Path) -> None:
    previous = os.umask(0o022)
    try:
        assert main(["render", str(DEFAULTS), "--outdir", str(tmp_path), *SMALL, "--set", "batch_name=perm",
                     "--set", "skip_video_creation=true"]) == 0
    finally:
        os.umask(previous)
    folder = tmp_path / "perm"
    settings_mode = stat.S_IMODE(next(folder.glob("*_settings.txt")).stat().st_mode)
    frame_mode = stat.S_IMODE(next(folder.glob("*_000000000.png")).stat().st_mode)
    assert settings_mode == frame_mode == 0o644


def test_a_full_disk_at_the_checkpoint_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def full(*_args, **_kwargs) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(deforum.core.sink, "write_file_atomic", full)
    sink = DiskFrameSink(tmp_path, "20240101000000")
    with pytest.raises(FrameWriteError) as caught:  # written in the background: raised at the latest on close
        sink.save_state(FrameState(prev_img=np.zeros((4, 4, 3), np.uint8)))
        sink.close()
    message = str(caught.value)
    assert caught.value.errno == errno.ENOSPC
    assert "resume checkpoint" in message and "free disk space" in message and "--resume 20240101000000" in message


def test_ctrl_c_outside_a_render_exits_130(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    def interrupted(_args) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(deforum.cli.settings, "cmd_schedule", interrupted)
    assert main(["schedule", "0:(1)", "--frames", "2"]) == EXIT_INTERRUPTED == 130
    assert "interrupted" in capsys.readouterr().err
