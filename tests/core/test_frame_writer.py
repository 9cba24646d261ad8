"""BackgroundWriter and the background DiskFrameSink: bounded queue, order, errors on the next call and at the end,
and a checkpoint only after the frames before it."""

from __future__ import annotations

import errno
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from deforum.core import sink as sink_module
from deforum.core.frame_writer import BackgroundWriter
from deforum.core.sink import DiskFrameSink, FrameWriteError, checkpoint_path
from deforum.core.state import FrameState
from deforum.media.frames_io import existing_frames, frame_filename, read_image


def test_ordered_jobs_run_in_order_after_the_jobs_they_wait_for() -> None:
    writer = BackgroundWriter(workers=2, max_pending=3)
    done: list[str] = []
    slow = writer.submit(lambda: (time.sleep(0.05), done.append("slow")))
    writer.submit(lambda: done.append("fast"))
    writer.submit_ordered(lambda: done.append("after slow"), after=(slow,))
    writer.submit_ordered(lambda: done.append("next"))
    writer.close()
    assert done.index("slow") < done.index("after slow") < done.index("next")
    assert len(done) == 4


def test_the_queue_is_bounded() -> None:
    writer = BackgroundWriter(workers=1, max_pending=2)
    release = threading.Event()
    writer.submit(release.wait)
    writer.submit(lambda: None)
    blocked = threading.Thread(target=writer.submit, args=(lambda: None,))
    blocked.start()
    blocked.join(0.2)
    assert blocked.is_alive()
    release.set()
    blocked.join(5)
    assert not blocked.is_alive()
    writer.close()


def test_an_error_comes_back_on_the_next_call_and_later_ordered_jobs_are_skipped() -> None:
    writer = BackgroundWriter(workers=1, max_pending=4)
    skipped: list[int] = []
    go = threading.Event()

    def fail() -> None:
        go.wait()
        raise OSError(errno.ENOSPC, "full")

    failing = writer.submit(fail)
    writer.submit_ordered(lambda: None, after=(failing,), on_skip=lambda: skipped.append(1))
    writer.submit_ordered(lambda: skipped.append(-1), on_skip=lambda: skipped.append(2))
    go.set()
    time.sleep(0.2)
    with pytest.raises(OSError, match="full"):
        writer.submit(lambda: None)
    writer.abort()
    assert skipped == [1, 2]


def test_an_error_comes_back_at_the_end() -> None:
    writer = BackgroundWriter()

    def fail() -> None:
        raise OSError("late failure")

    writer.submit_ordered(fail)
    with pytest.raises(OSError, match="late failure"):
        writer.close()


def _frame(index: int) -> np.ndarray:
    """A small distinct RGB frame."""
    return np.full((8, 12, 3), index * 7 % 256, np.uint8)


def test_the_sink_writes_every_frame_and_each_checkpoint_after_its_frames(tmp_path: Path, monkeypatch) -> None:
    seen_at_checkpoint: list[tuple[int, list[int]]] = []
    real_checkpoint = sink_module.write_checkpoint

    def checkpoint(outdir, timestring, arrays, frames):
        seen_at_checkpoint.append((int(arrays["next_segment"]), existing_frames(outdir, timestring)))
        real_checkpoint(outdir, timestring, arrays, frames)

    monkeypatch.setattr(sink_module, "write_checkpoint", checkpoint)
    sink = DiskFrameSink(tmp_path, "ts")
    for index in range(10):
        sink.write_frame(index, _frame(index))
        if index % 3 == 2:
            sink.save_state(FrameState(prev_img=_frame(index), next_segment=index + 1))
    sink.close()
    assert existing_frames(tmp_path, "ts") == list(range(10))
    assert all(np.array_equal(read_image(tmp_path / frame_filename("ts", i)), _frame(i)) for i in range(10))
    assert seen_at_checkpoint[-1][0] == 9
    assert all(frames[:segment] == list(range(segment)) for segment, frames in seen_at_checkpoint)
    assert sink.load_state().next_segment == 9
    assert checkpoint_path(tmp_path, "ts").is_file()


def test_checkpoints_queued_behind_newer_ones_are_skipped_and_their_frames_synced_by_the_next(tmp_path: Path,
                                                                                            monkeypatch) -> None:
    monkeypatch.setattr(sink_module, "CHECKPOINT_INTERVAL_S", 1e9)
    written: list[tuple[int, list[str]]] = []
    real_checkpoint, real_temp = sink_module.write_checkpoint, sink_module.write_png_temp
    go = threading.Event()
    monkeypatch.setattr(sink_module, "write_png_temp", lambda *args, **kwargs: go.wait() and real_temp(*args, **kwargs))
    monkeypatch.setattr(sink_module, "write_checkpoint", lambda outdir, ts, arrays, frames: written.append(
        (int(arrays["next_segment"]), [p.name for p in frames])) or real_checkpoint(outdir, ts, arrays, frames))
    sink = DiskFrameSink(tmp_path, "ts")
    for index in range(3):
        sink.write_frame(index, _frame(index))
        sink.save_state(FrameState(next_segment=index + 1))
    go.set()
    sink.close()
    assert written == [(1, [frame_filename("ts", 0)]), (3, [frame_filename("ts", 1), frame_filename("ts", 2)])]
    assert sink.load_state().next_segment == 3


def test_a_failed_frame_leaves_the_frames_before_it_no_temp_files_and_no_later_checkpoint(tmp_path: Path,
                                                                                         monkeypatch, caplog) -> None:
    real_write = sink_module.write_png_temp

    def full_disk(path, image, **options):
        if path.name == frame_filename("ts", 4):
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, image, **options)

    monkeypatch.setattr(sink_module, "write_png_temp", full_disk)
    sink = DiskFrameSink(tmp_path, "ts")
    sink.write_frame(0, _frame(0))
    sink.save_state(FrameState(next_segment=1))
    with pytest.raises(FrameWriteError, match="Could not write frame 4.*--resume ts"):
        for index in range(1, 12):
            sink.write_frame(index, _frame(index))
            sink.save_state(FrameState(next_segment=index + 1))
            time.sleep(0.02)
        sink.close()
    sink.abort()
    assert "while the render was stopping" not in caplog.text  # the error raised is not logged again
    assert existing_frames(tmp_path, "ts") == [0, 1, 2, 3]
    assert 1 <= sink.load_state().next_segment <= 4  # never past the frames on disk
    assert not [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
