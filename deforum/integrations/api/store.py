"""Job records in SQLite (embedded, one file in the output root): statuses survive a restart; retention prunes them.

The queue keeps live records in memory and writes every change here; submitted settings live only here (read back
for one job's status, a listing that asks for them, a restart or a resume), so memory does not grow with them.
"""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from deforum.integrations.api.models import JobErrorType, JobPhase, JobStatusCategory

STORE_FILENAME = ".deforum-jobs.sqlite3"
IN_MEMORY = ":memory:"
_STATUS_FIELDS = ("status", "phase", "error_type", "phase_progress", "started_at", "last_updated", "execution_time",
                  "update_interval_time", "updates", "message", "outdir", "timestring", "options_overrides")
_SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT UNIQUE NOT NULL, batch_id TEXT NOT NULL,
    status TEXT NOT NULL, phase TEXT NOT NULL, error_type TEXT NOT NULL, phase_progress REAL NOT NULL,
    started_at REAL NOT NULL, last_updated REAL NOT NULL, execution_time REAL NOT NULL,
    update_interval_time REAL NOT NULL, updates INTEGER NOT NULL, message TEXT, outdir TEXT, timestring TEXT,
    options_overrides TEXT, submitted TEXT NOT NULL, validated TEXT NOT NULL)
"""


@dataclass(frozen=True)
class Retention:
    """How long finished jobs are kept: at most `days` after their last update and the newest `jobs` of them."""

    days: float | None = 7.0
    jobs: int | None = 1000


@dataclass(frozen=True)
class StoredJob:
    """One job as stored: its status fields (as JobRecord keyword arguments) and its batch."""

    id: str
    batch_id: str
    fields: Mapping[str, Any]


def store_path(output_root: Path) -> Path:
    """Where a server with this output root keeps its job records."""
    return Path(output_root) / STORE_FILENAME


class JobStore:
    """A small thread-safe SQLite table of job records (`:memory:` keeps them for the process only)."""

    def __init__(self, path: str | Path = IN_MEMORY) -> None:
        self.path = str(path)
        self.persistent = self.path != IN_MEMORY
        self._owner = _claim(Path(self.path)) if self.persistent else None
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        with self._lock:
            if self.persistent:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)

    def insert(self, job_id: str, batch_id: str, record: Mapping[str, Any], submitted: Mapping[str, Any],
               validated: Mapping[str, Any]) -> None:
        """Add a new job with what was submitted and the validated flat settings it renders."""
        values = _row_values(record)
        with self._lock:
            self._db.execute(f"INSERT INTO jobs (id, batch_id, {', '.join(_STATUS_FIELDS)}, submitted, validated) "
                             f"VALUES (?, ?, {', '.join('?' * len(_STATUS_FIELDS))}, ?, ?)",
                             (job_id, batch_id, *values, json.dumps(submitted), json.dumps(validated)))

    def update(self, job_id: str, record: Mapping[str, Any]) -> None:
        """Write a job's current status fields."""
        with self._lock:
            self._db.execute(f"UPDATE jobs SET {', '.join(f'{name} = ?' for name in _STATUS_FIELDS)} WHERE id = ?",
                             (*_row_values(record), job_id))

    def load_all(self) -> list[StoredJob]:
        """Every stored job, in submission order."""
        with self._lock:
            rows = self._db.execute(f"SELECT id, batch_id, {', '.join(_STATUS_FIELDS)} FROM jobs ORDER BY seq")
            return [StoredJob(row[0], row[1], _fields(row[2:])) for row in rows.fetchall()]

    def submitted(self, job_id: str) -> dict[str, Any] | None:
        """The settings object the job was submitted with, or None when the job is not stored."""
        return self._json_column("submitted", job_id)

    def validated(self, job_id: str) -> dict[str, Any] | None:
        """The validated flat settings the job renders, or None when the job is not stored."""
        return self._json_column("validated", job_id)

    def delete(self, job_ids: Iterable[str]) -> None:
        """Forget jobs (retention)."""
        with self._lock:
            self._db.executemany("DELETE FROM jobs WHERE id = ?", [(job_id,) for job_id in job_ids])

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()
        if self._owner is not None:
            self._owner.close()

    def _json_column(self, column: str, job_id: str) -> dict[str, Any] | None:
        """One JSON column of one job."""
        with self._lock:
            row = self._db.execute(f"SELECT {column} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else json.loads(row[0])


def _claim(path: Path) -> IO[bytes]:
    """Hold an exclusive lock beside the database: one server per output root (two would run the same jobs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = open(path.with_name(path.name + ".lock"), "wb")  # noqa: SIM115 - held for the store's lifetime
    try:
        import fcntl
    except ImportError:  # Windows: no advisory lock; one server per output root is then the user's care
        return handle
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise RuntimeError(f"Another Deforum server keeps its jobs in {path}: use another --outdir, or stop it "
                           "first.") from None
    return handle


def _row_values(record: Mapping[str, Any]) -> tuple[Any, ...]:
    """The status columns of a JobRecord's fields (enums as text, overrides as JSON)."""
    values = []
    for name in _STATUS_FIELDS:
        value = record[name]
        if name == "options_overrides":
            value = None if value is None else json.dumps(dict(value))
        elif hasattr(value, "value"):
            value = value.value
        values.append(value)
    return tuple(values)


def _fields(row: tuple[Any, ...]) -> dict[str, Any]:
    """JobRecord keyword arguments from the status columns."""
    fields = dict(zip(_STATUS_FIELDS, row, strict=True))
    fields["status"] = JobStatusCategory(fields["status"])
    fields["phase"] = JobPhase(fields["phase"])
    fields["error_type"] = JobErrorType(fields["error_type"])
    if fields["options_overrides"] is not None:
        fields["options_overrides"] = json.loads(fields["options_overrides"])
    return fields


def record_fields(record: Any) -> dict[str, Any]:
    """A JobRecord's fields as a mapping (for insert/update)."""
    return {field.name: getattr(record, field.name) for field in dataclasses.fields(record)}
