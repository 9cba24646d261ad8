"""BackgroundWriter: the render's file work (PNG encoding and writes, .srt cues, video feed, checkpoints) off the
frame loop, on a small thread pool with a bounded queue; errors come back on the next call and at the end."""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

log = logging.getLogger(__name__)

Job = Callable[[], Any]
DEFAULT_WORKERS = 2
DEFAULT_MAX_PENDING = 4
ORDERED_PER_JOB = 5  # a frame queues up to five ordered jobs (rename, video, .srt cue, preview video, checkpoint)


class BackgroundWriter:
    """Independent jobs (one file each) run on `workers` threads, at most `max_pending` queued or running at once
    (four times as many ordered jobs); ordered jobs run one at a time in the order given, each after the
    independent jobs it names. Once an ordered job fails (or an independent job it waits for) no later ordered
    job runs: they call their `on_skip` instead, so what the ordered jobs committed is a prefix."""

    def __init__(self, workers: int = DEFAULT_WORKERS, max_pending: int = DEFAULT_MAX_PENDING) -> None:
        if workers < 1 or max_pending < 1:
            raise ValueError(f"need workers >= 1 and max_pending >= 1, got {workers} and {max_pending}")
        self._pool = ThreadPoolExecutor(workers, thread_name_prefix="deforum-write")
        self._ordered = ThreadPoolExecutor(1, thread_name_prefix="deforum-ordered")
        self._pending: deque[Future[Any]] = deque()
        self._ordered_pending: deque[Future[Any]] = deque()
        self._max_pending = max_pending
        self._failed = False
        self._raised: list[BaseException] = []

    def submit(self, job: Job) -> Future[Any]:
        """Queue an independent job; waits while the queue is full; raises the error of an earlier job."""
        self.raise_failures()
        while len(self._pending) >= self._max_pending:
            self._pending.popleft().result()
        future = self._pool.submit(job)
        self._pending.append(future)
        return future

    def submit_ordered(self, job: Job, after: Sequence[Future[Any]] = (), on_skip: Job | None = None) -> None:
        """Queue a job that runs after every earlier ordered job and after the `after` jobs have succeeded;
        `on_skip` cleans up when it does not run or fails."""
        self.raise_failures()
        waits = tuple(after)

        def run() -> None:
            if self._failed:
                if on_skip is not None:
                    on_skip()
                return
            try:
                for future in waits:
                    future.result()
                job()
            except BaseException:
                self._failed = True
                if on_skip is not None:
                    on_skip()
                raise

        while len(self._ordered_pending) >= ORDERED_PER_JOB * self._max_pending:
            self._ordered_pending.popleft().result()
        self._ordered_pending.append(self._ordered.submit(run))

    def pending(self) -> tuple[Future[Any], ...]:
        """The independent jobs not yet known to have succeeded."""
        return tuple(self._pending)

    def raise_failures(self) -> None:
        """Forget the jobs that succeeded; raise the error of the first that failed."""
        for queue in (self._pending, self._ordered_pending):
            while queue and queue[0].done():
                error = queue[0].exception()
                if error is not None:
                    self._raised.append(error)
                queue.popleft().result()
            failed = next((future for future in queue if future.done() and future.exception() is not None), None)
            if failed is not None:
                queue.remove(failed)
                self._raised.append(failed.exception())
                failed.result()

    def drain(self) -> None:
        """Wait for every queued job; raise the first error (in queue order)."""
        while self._pending or self._ordered_pending:
            wait([*self._pending, *self._ordered_pending])
            self.raise_failures()

    def close(self) -> None:
        """Finish every queued job, stop the threads, raise the first error."""
        try:
            self.drain()
        finally:
            self._shutdown()

    def abort(self) -> None:
        """Finish the queued jobs without raising (errors not raised before are logged) and stop the threads."""
        raised_before = list(self._raised)
        while self._pending or self._ordered_pending:
            try:
                self.drain()
            except Exception as err:  # noqa: BLE001 - reported, the render's own error is the one raised
                if not any(err is raised for raised in raised_before):
                    log.warning("A background write failed while the render was stopping: %s", err)
        self._shutdown()

    def _shutdown(self) -> None:
        """Stop both thread pools (their queues are empty)."""
        self._pool.shutdown(wait=True)
        self._ordered.shutdown(wait=True)
