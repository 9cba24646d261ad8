"""Issue 20 item 10: renders started in the same second into one folder get different timestrings."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

from deforum.core.run_claim import claim_timestring, next_timestring, release_claim
from tests.conftest import DATA, ROOT

DEFAULTS = DATA / "compat/original/default_settings.txt"


def test_next_timestring_rolls_over_minutes_and_days() -> None:
    assert next_timestring("20240101235959") == "20240102000000"
    assert next_timestring("20240229120059") == "20240229120100"


def test_a_claimed_second_moves_the_next_claim_on(tmp_path: Path) -> None:
    first = claim_timestring(lambda _: tmp_path, "20240101000000")
    second = claim_timestring(lambda _: tmp_path, "20240101000000")
    assert (first[0], second[0]) == ("20240101000000", "20240101000001")
    assert (tmp_path / "20240101000001_settings.txt").is_file()


def test_concurrent_claims_are_all_different(tmp_path: Path) -> None:
    claimed: list[str] = []
    lock = threading.Lock()

    def claim() -> None:
        timestring = claim_timestring(lambda _: tmp_path, "20240101000000")[0]
        with lock:
            claimed.append(timestring)

    threads = [threading.Thread(target=claim) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(claimed)) == 16


def test_two_cli_renders_in_the_same_second_keep_both_runs(tmp_path: Path) -> None:
    args = [sys.executable, "-m", "deforum", "render", str(DEFAULTS), "--preview", "--outdir", str(tmp_path),
            "--set", "W=64", "--set", "H=64", "--set", "max_frames=3", "--set", "batch_name=same",
            "--set", "skip_video_creation=true", "--set", "seed=1"]
    procs = [subprocess.Popen(args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
    runs = sorted(path.name.split("_")[0] for path in (tmp_path / "same").glob("*_settings.txt"))
    assert len(runs) == 2
    for run in runs:
        assert len(list((tmp_path / "same").glob(f"{run}_0*.png"))) == 3


def test_a_run_that_fails_before_it_starts_releases_its_claim(tmp_path: Path) -> None:
    from deforum.cli import main

    code = main(["render", str(DEFAULTS), "--preview", "--outdir", str(tmp_path), "--set", "W=64", "--set", "H=64",
                 "--set", "max_frames=2", "--set", "batch_name=fails", "--set", "animation_mode=Video Input",
                 "--set", f"video_init_path={tmp_path / 'missing.mp4'}"])
    assert code == 2
    assert list((tmp_path / "fails").glob("*_settings.txt")) == []


def test_release_claim_keeps_written_settings(tmp_path: Path) -> None:
    written = tmp_path / "20240101000000_settings.txt"
    written.write_text("{}")
    release_claim(written)
    release_claim(tmp_path / "absent_settings.txt")
    assert written.read_text() == "{}"
