"""Claim a run's timestring atomically: two renders started in the same second into one folder never share one."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

TIMESTRING_FORMAT = "%Y%m%d%H%M%S"
MAX_CLAIM_TRIES = 1000


def next_timestring(timestring: str) -> str:
    """The timestring one second later (local time, as the original's run ids)."""
    moment = time.mktime(time.strptime(timestring, TIMESTRING_FORMAT))
    return time.strftime(TIMESTRING_FORMAT, time.localtime(moment + 1))


def claim_timestring(folder_of: Callable[[str], Path], timestring: str) -> tuple[str, Path]:
    """(timestring, folder): the first of `timestring` and the seconds after it whose settings file we create first.

    The claim is the exclusive creation of `<folder>/<timestring>_settings.txt` (written in full later), so a
    second process, or a second job, that picks the same second moves on to the next one.
    """
    for _ in range(MAX_CLAIM_TRIES):
        folder = folder_of(timestring)
        folder.mkdir(parents=True, exist_ok=True)
        try:
            descriptor = os.open(folder / f"{timestring}_settings.txt", os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            timestring = next_timestring(timestring)
            continue
        os.close(descriptor)
        return timestring, folder
    raise RuntimeError(f"No free timestring in {folder_of(timestring)} after {MAX_CLAIM_TRIES} tries; "
                       "remove old runs from the folder or use a batch_name with {timestring}.")


def release_claim(settings_file: Path) -> None:
    """Remove a claimed, still empty settings file (the run failed before it started)."""
    try:
        if settings_file.stat().st_size == 0:
            settings_file.unlink()
    except FileNotFoundError:
        pass
