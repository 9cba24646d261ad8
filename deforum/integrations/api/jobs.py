"""The job queue: FIFO, one worker per GPU, statuses kept in a JobStore (SQLite), cancel, resume, retention."""

from __future__ import annotations

import dataclasses
import logging
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from deforum.config.settings_io import load
from deforum.core.services import CancelToken
from deforum.integrations.api.models import JobErrorType, JobPhase, JobStatusCategory
from deforum.integrations.api.store import JobStore, Retention, record_fields
from deforum.media.frames_io import ImageSourceError
from deforum.models.errors import DeforumError
from deforum.models.settings import Settings, SettingsError

log = logging.getLogger(__name__)

CANCEL_MESSAGE = "Cancelled due to user request."
INTERRUPTED_MESSAGE = ("Interrupted: the server stopped while this job was rendering; its frames are kept. Resume it "
                       "with POST /deforum_api/jobs/{id}/resume.")
MAX_QUEUED_JOBS = 10_000
RESUMABLE = (JobStatusCategory.INTERRUPTED, JobStatusCategory.CANCELLED)


class QueueFull(DeforumError, RuntimeError):
    """Too many jobs are waiting; the submission is refused as a whole."""
TERMINAL_ERRORS = (SettingsError, ValueError, ImageSourceError, FileNotFoundError, NotADirectoryError, PermissionError)


@dataclass(frozen=True)
class JobRecord:
    """One job's status, with the original API's fields (see models.JobStatus)."""

    id: str
    batch_id: str
    status: JobStatusCategory = JobStatusCategory.ACCEPTED
    phase: JobPhase = JobPhase.QUEUED
    error_type: JobErrorType = JobErrorType.NONE
    phase_progress: float = 0.0
    started_at: float = 0.0
    last_updated: float = 0.0
    execution_time: float = 0.0
    update_interval_time: float = 0.0
    updates: int = 0
    message: str | None = None
    outdir: str | None = None
    timestring: str | None = None
    deforum_settings: Mapping[str, Any] | None = None
    options_overrides: Mapping[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """The JSON object the API returns (the batch id is not part of the original's status)."""
        data = dataclasses.asdict(self)
        data.pop("batch_id")
        for key in ("status", "phase", "error_type"):
            data[key] = data[key].value
        return data

    @property
    def finished(self) -> bool:
        """True once the job has succeeded, failed or been cancelled."""
        return self.status is not JobStatusCategory.ACCEPTED


class JobProgress:
    """render_fn's progress callback (done, total); also records the output folder, carries job id and overrides."""

    def __init__(self, queue: JobQueue, job_id: str, options_overrides: Mapping[str, Any] | None) -> None:
        self.queue, self.job_id = queue, job_id
        self.options_overrides = dict(options_overrides or {})

    def __call__(self, done: int, total: int) -> None:
        """Frames done of total: GENERATING, then POST_PROCESSING once every frame is written."""
        phase = JobPhase.POST_PROCESSING if total and done >= total else JobPhase.GENERATING
        self.queue._update(self.job_id, phase=phase, phase_progress=done / total if total else 0.0)

    def output(self, outdir: Path, timestring: str) -> None:
        """Record where the job writes (known before the first frame)."""
        self.queue._update(self.job_id, phase=JobPhase.GENERATING, outdir=str(outdir), timestring=timestring)


# render_fn(settings, cancel, progress) returns a RunResult (or anything with outdir, timestring, frames_written,
# cancelled); raising fails the job: SettingsError, ValueError, missing files are TERMINAL, anything else RETRYABLE.
RenderFn = Callable[[Settings, CancelToken, JobProgress], Any]


@dataclass
class _Job:
    """A job's inputs and live state (held under the queue's lock)."""

    record: JobRecord
    settings: Settings | None
    cancel: CancelToken = field(default_factory=CancelToken)
    done: threading.Event = field(default_factory=threading.Event)


class JobQueue:
    """FIFO render queue: `workers` threads call render_fn one job at a time; statuses live in `store`."""

    def __init__(self, render_fn: RenderFn, *, output_root: Path, workers: int = 1, store: JobStore | None = None,
                 retention: Retention | None = None) -> None:
        self.render_fn = render_fn
        self.output_root = Path(output_root)
        self.store = store or JobStore()
        self.retention = retention or Retention()
        self._lock = threading.Condition()
        self._jobs: dict[str, _Job] = {}
        self._batches: dict[str, list[str]] = {}
        self._pending: deque[str] = deque()
        self._closed = False
        self._stopping = False
        self._restore()
        self.prune()
        self._threads = [threading.Thread(target=self._work, name=f"deforum-api-worker-{n}", daemon=True)
                         for n in range(max(1, workers))]
        for thread in self._threads:
            thread.start()

    def submit(self, settings: Sequence[Settings], raw: Sequence[Mapping[str, Any]],
               options_overrides: Mapping[str, Any] | None = None) -> tuple[str, list[str]]:
        """Queue one job per validated settings object (raw: as submitted, shown in the status)."""
        now = time.time()
        overrides = dict(options_overrides) if options_overrides else None
        with self._lock:
            if self._closed:
                raise RuntimeError("The job queue is shut down.")
            if len(self._pending) + len(settings) > MAX_QUEUED_JOBS:
                raise QueueFull(f"{len(self._pending)} job(s) are waiting (the limit is {MAX_QUEUED_JOBS}); "
                                "submit again later.")
            batch_id = self._new_batch_id()
            job_ids = [f"{batch_id}-{i}" for i in range(len(settings))]
            for job_id, item, data in zip(job_ids, settings, raw, strict=True):
                record = JobRecord(id=job_id, batch_id=batch_id, started_at=now, last_updated=now,
                                   options_overrides=overrides)
                self.store.insert(job_id, batch_id, record_fields(record), data, item.to_flat())
                self._jobs[job_id] = _Job(record, item)
                self._pending.append(job_id)
            self._batches[batch_id] = list(job_ids)
            self._lock.notify_all()
        log.info("Accepted batch %s: %d job(s)", batch_id, len(job_ids))
        return batch_id, job_ids

    def _new_batch_id(self) -> str:
        """The original's id shape, `batch(<number>)`, never reused within this server."""
        while True:
            batch_id = f"batch({secrets.randbelow(10**9)})"
            if batch_id not in self._batches:
                return batch_id

    def get(self, job_id: str, *, with_settings: bool = False) -> JobRecord | None:
        """A job's status (with the settings it was submitted with, when asked), or None when unknown."""
        with self._lock:
            job = self._jobs.get(job_id)
            record = job.record if job else None
        return self._with_settings(record) if record and with_settings else record

    def jobs(self) -> dict[str, JobRecord]:
        """Every job's status, in submission order (without the submitted settings)."""
        with self._lock:
            return {job_id: job.record for job_id, job in self._jobs.items()}

    def page(self, offset: int, limit: int, *, with_settings: bool = False) -> tuple[list[JobRecord], int]:
        """Up to `limit` job statuses from `offset` in submission order, and how many jobs there are."""
        with self._lock:
            ids = list(self._jobs)[offset:offset + limit]
            records, total = [self._jobs[job_id].record for job_id in ids], len(self._jobs)
        return ([self._with_settings(r) for r in records] if with_settings else records), total

    def batches(self) -> dict[str, list[str]]:
        """Every batch id with its job ids."""
        with self._lock:
            return {batch_id: list(ids) for batch_id, ids in self._batches.items()}

    def batch(self, batch_id: str) -> list[JobRecord] | None:
        """The statuses of a batch's jobs, or None when the batch is unknown."""
        with self._lock:
            ids = self._batches.get(batch_id)
            records = None if ids is None else [self._jobs[i].record for i in ids]
        return None if records is None else [self._with_settings(r) for r in records]

    def _with_settings(self, record: JobRecord) -> JobRecord:
        """The record with its submitted settings read back from the store."""
        return dataclasses.replace(record, deforum_settings=self.store.submitted(record.id))

    def cancel(self, job_id: str) -> bool:
        """Cancel a queued job (removed, never runs) or a running one (stops between frames); KeyError if unknown."""
        with self._lock:
            job = self._jobs[job_id]
            if job.record.finished:
                return False
            queued = job.record.phase is JobPhase.QUEUED and job_id in self._pending
            if queued:
                self._pending.remove(job_id)
            job.cancel.cancel()
            self._set(job, status=JobStatusCategory.CANCELLED, message=CANCEL_MESSAGE)
            if queued:
                job.done.set()
        log.info("Cancelled job %s (%s)", job_id, "queued" if queued else "running")
        return True

    def wait(self, job_id: str, timeout: float | None = None) -> JobRecord:
        """Block until the job has finished (or timeout); returns its status; KeyError if unknown."""
        with self._lock:
            job = self._jobs[job_id]
        job.done.wait(timeout)
        with self._lock:
            return job.record

    def is_done(self, job_id: str) -> bool:
        """True once the job will not change any more (its render, if any, has returned)."""
        with self._lock:
            return self._jobs[job_id].done.is_set()

    def pending(self) -> list[str]:
        """Ids of the jobs waiting to start, in order."""
        with self._lock:
            return list(self._pending)

    def resume(self, job_id: str) -> bool:
        """Queue an interrupted (or cancelled, once running) job again, resuming its run; KeyError if unknown."""
        with self._lock:
            job = self._jobs[job_id]
            record = job.record
            if self._closed or record.status not in RESUMABLE or not record.timestring or not job.done.is_set():
                return False
        settings = self._stored_settings(job_id)
        if settings is None:
            return False
        settings = settings.replace(resume_from_timestring=True, resume_timestring=record.timestring)
        with self._lock:
            if job.record is not record:
                return False
            job.settings, job.cancel = settings, CancelToken()
            job.done.clear()
            self._set(job, status=JobStatusCategory.ACCEPTED, phase=JobPhase.QUEUED, error_type=JobErrorType.NONE,
                      message=None, phase_progress=0.0)
            self._pending.append(job_id)
            self._lock.notify_all()
        log.info("Job %s queued to resume run %s", job_id, record.timestring)
        return True

    def prune(self, now: float | None = None) -> list[str]:
        """Forget finished jobs beyond the retention (age, then count); returns their ids."""
        now = time.time() if now is None else now
        days, keep = self.retention.days, self.retention.jobs
        with self._lock:
            finished = sorted(((job.record.last_updated, job_id) for job_id, job in self._jobs.items()
                               if job.record.finished and job.done.is_set()), reverse=True)
            doomed = {job_id for updated, job_id in finished if days is not None and updated < now - days * 86400}
            survivors = [job_id for _, job_id in finished if job_id not in doomed]
            doomed.update(survivors[keep:] if keep is not None else ())
            for job_id in doomed:
                self._forget(job_id)
        if doomed:
            self.store.delete(doomed)
        return sorted(doomed)

    def _forget(self, job_id: str) -> None:
        """Drop a job from memory (caller holds the lock); an emptied batch goes too."""
        batch_id = self._jobs.pop(job_id).record.batch_id
        remaining = [i for i in self._batches.get(batch_id, []) if i != job_id]
        if remaining:
            self._batches[batch_id] = remaining
        else:
            self._batches.pop(batch_id, None)

    def shutdown(self, *, cancel_running: bool = True, timeout: float | None = 10.0) -> None:
        """Stop taking jobs and wait for the workers; with a persistent store queued jobs stay queued for the next
        start and a running one stops after its frame as INTERRUPTED (resumable), else both are cancelled."""
        with self._lock:
            self._closed = True
            self._stopping = self.store.persistent
            running = [job for i, job in self._jobs.items() if not job.record.finished and i not in self._pending]
            doomed = [] if self._stopping else [i for i, job in self._jobs.items() if not job.record.finished
                                                and (cancel_running or i in self._pending)]
            self._lock.notify_all()
        if self._stopping and cancel_running:
            for job in running:
                job.cancel.cancel()
        for job_id in doomed:
            self.cancel(job_id)
        for thread in self._threads:
            thread.join(timeout)

    def _restore(self) -> None:
        """Load the stored jobs: queued ones wait again, ones that were running become INTERRUPTED."""
        for stored in self.store.load_all():
            job = _Job(JobRecord(id=stored.id, batch_id=stored.batch_id, **stored.fields), None)
            self._jobs[stored.id] = job
            self._batches.setdefault(stored.batch_id, []).append(stored.id)
            if job.record.status is JobStatusCategory.ACCEPTED and job.record.phase is JobPhase.QUEUED:
                job.settings = self._stored_settings(stored.id)
                if job.settings is not None:
                    self._pending.append(stored.id)
                    continue
                self._set(job, status=JobStatusCategory.FAILED, error_type=JobErrorType.TERMINAL,
                          message="Its stored settings no longer load; submit them again.")
            elif job.record.status is JobStatusCategory.ACCEPTED:
                self._set(job, status=JobStatusCategory.INTERRUPTED, message=INTERRUPTED_MESSAGE.format(id=stored.id))
            job.done.set()
        if self._jobs:
            log.info("Restored %d job(s), %d queued", len(self._jobs), len(self._pending))

    def _stored_settings(self, job_id: str) -> Settings | None:
        """The validated settings a stored job renders, or None when they no longer load."""
        data = self.store.validated(job_id)
        try:
            return None if data is None else load(data, check_schedule_syntax=False)
        except SettingsError as err:
            log.warning("Job %s: stored settings no longer load: %s", job_id, err)
            return None

    def _work(self) -> None:
        """Worker thread: take the oldest queued job and run it, until shut down."""
        while True:
            with self._lock:
                while not self._pending and not self._closed:
                    self._lock.wait()
                if self._closed:
                    return
                job = self._jobs[self._pending.popleft()]
                self._set(job, phase=JobPhase.PREPARING)
            self._run(job)
            self.prune()

    def _run(self, job: _Job) -> None:
        """Render one job and record how it ended."""
        job_id = job.record.id
        progress = JobProgress(self, job_id, job.record.options_overrides)
        try:
            result = self.render_fn(job.settings, job.cancel, progress)
        except TERMINAL_ERRORS as err:
            self._fail(job, JobErrorType.TERMINAL, str(err))
        except Exception as err:
            log.exception("Job %s failed", job_id)
            self._fail(job, JobErrorType.RETRYABLE, f"Generation error: {type(err).__name__}: {err}")
        else:
            self._finish(job, result)
        finally:
            job.done.set()

    def _finish(self, job: _Job, result: Any) -> None:
        """Record a returned render: SUCCEEDED, or CANCELLED when it stopped early (INTERRUPTED if the server stops)."""
        outdir = getattr(result, "outdir", None)
        changes: dict[str, Any] = {"phase": JobPhase.DONE}
        if outdir is not None:
            changes.update(outdir=str(outdir), timestring=getattr(result, "timestring", None))
        frames = getattr(result, "frames_written", None)
        with self._lock:
            stopped = getattr(result, "cancelled", False) or job.record.status is JobStatusCategory.CANCELLED
            if stopped and self._stopping and job.record.status is JobStatusCategory.ACCEPTED:
                self._set(job, status=JobStatusCategory.INTERRUPTED,
                          message=INTERRUPTED_MESSAGE.format(id=job.record.id), **changes)
            elif stopped:
                kept = f" {frames} frame(s) kept." if frames is not None else ""
                self._set(job, status=JobStatusCategory.CANCELLED, message=CANCEL_MESSAGE + kept, **changes)
            else:
                self._set(job, status=JobStatusCategory.SUCCEEDED, phase_progress=1.0, **changes)
            job.settings = None
        log.info("Job %s finished: %s", job.record.id, job.record.status.value)

    def _fail(self, job: _Job, error_type: JobErrorType, message: str) -> None:
        """Record a failed render (a cancelled job stays cancelled)."""
        with self._lock:
            if job.record.status is JobStatusCategory.CANCELLED:
                self._set(job, phase=JobPhase.DONE)
            else:
                self._set(job, status=JobStatusCategory.FAILED, error_type=error_type, message=message)
            job.settings = None
        log.warning("Job %s failed (%s): %s", job.record.id, error_type.value, message)

    def _update(self, job_id: str, **changes: Any) -> None:
        """Apply a status change reported by a running render."""
        with self._lock:
            job = self._jobs[job_id]
            if job.record.finished:
                changes.pop("phase", None)
                changes.pop("phase_progress", None)
            self._set(job, **changes)

    def _set(self, job: _Job, **changes: Any) -> None:
        """Replace the job's record with the changes and the original's timing fields, and store it (lock held)."""
        now = time.time()
        old = job.record
        job.record = dataclasses.replace(old, **changes, last_updated=now, execution_time=now - old.started_at,
                                         update_interval_time=now - old.last_updated, updates=old.updates + 1)
        self.store.update(job.record.id, record_fields(job.record))
