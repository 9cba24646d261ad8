"""The original's /deforum_api routes (batches and jobs), fixed, on one APIRouter; build_router adds the rest."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import JSONResponse

from deforum.integrations.api import examples
from deforum.integrations.api.auth import AuthSpec, basic_auth
from deforum.integrations.api.jobs import JobQueue, QueueFull
from deforum.integrations.api.limits import DEFAULT_MAX_BODY_BYTES, limited_route_class
from deforum.integrations.api.models import (
    Batch,
    BatchAccepted,
    BatchCancelled,
    InvalidSettings,
    JobCancelled,
    JobStatus,
    Message,
    NotFound,
)
from deforum.integrations.api.simple import add_simple_routes
from deforum.integrations.api.validate import InvalidRequest, Preflight, RequestPolicy, validate_batch

NO_SETTINGS = ("No settings files provided. Please provide an element 'deforum_settings' of type list in the "
               "request JSON payload.")
TAG = "deforum_api"
DEFAULT_PAGE, MAX_PAGE = 100, 1000
OFFSET = Query(0, ge=0, description="How many entries to skip (submission order).")
LIMIT = Query(DEFAULT_PAGE, ge=1, le=MAX_PAGE, description=f"How many entries to return (at most {MAX_PAGE}).")
WITH_SETTINGS = Query(False, description="Include each job's submitted deforum_settings (large).")


def _page(content: Any, total: int, offset: int, limit: int) -> JSONResponse:
    """A JSON listing page, rendered by the caller's worker thread, with its position in headers."""
    return JSONResponse(content=content, headers={"X-Total-Count": str(total), "X-Offset": str(offset),
                                                  "X-Limit": str(limit)})


def _not_found(item_id: str, what: str) -> JSONResponse:
    """The original's 404 body, with a message."""
    return JSONResponse(status_code=404, content={"id": item_id, "status": "NOT FOUND",
                                                  "message": f"{what} with ID {item_id} not found."})


def _submit(queue: JobQueue, policy: RequestPolicy, batch: Batch) -> JSONResponse:
    """Validate every settings object, then queue them as one batch (nothing is queued when one is invalid)."""
    items = batch.deforum_settings
    if not items:
        return JSONResponse(status_code=400, content={"message": NO_SETTINGS})
    items = items if isinstance(items, list) else [items]
    try:
        settings = validate_batch(items, batch.options_overrides, policy)
    except InvalidRequest as err:
        return JSONResponse(status_code=422, content=err.to_dict())
    try:
        batch_id, job_ids = queue.submit(settings, items, batch.options_overrides)
    except QueueFull as err:
        return JSONResponse(status_code=503, content={"message": str(err)})
    warnings = list(dict.fromkeys(note for item in settings for note in item.warnings))
    return JSONResponse(status_code=202, content={"message": "Job(s) accepted", "batch_id": batch_id,
                                                  "job_ids": job_ids, "warnings": warnings})


def add_batch_routes(router: APIRouter, queue: JobQueue, policy: RequestPolicy) -> None:
    """POST/GET /deforum_api/batches, GET/DELETE /deforum_api/batches/{id}."""

    @router.post("/deforum_api/batches", status_code=202, response_model=BatchAccepted, tags=[TAG],
                 summary="Submit a batch: one job per settings object",
                 responses={400: {"model": Message}, 422: {"model": InvalidSettings,
                                                           "content": {"application/json": {
                                                               "example": examples.INVALID}}}},
                 openapi_extra=examples.BATCH_REQUEST)
    def submit_batch(batch: Batch) -> Any:
        """Validate the settings like a settings file (422 naming each bad key) and queue one job per object."""
        return _submit(queue, policy, batch)

    @router.get("/deforum_api/batches", response_model=dict[str, list[str]], tags=[TAG],
                summary="List batches and their job ids (paginated)")
    def list_batches(offset: int = OFFSET, limit: int = LIMIT) -> Any:
        """Batches kept by the server (see retention), oldest first, with their job ids; X-Total-Count counts all."""
        batches = queue.batches()
        return _page(dict(list(batches.items())[offset:offset + limit]), len(batches), offset, limit)

    @router.get("/deforum_api/batches/{batch_id}", response_model=list[JobStatus], tags=[TAG],
                summary="Statuses of a batch's jobs", responses={404: {"model": NotFound}})
    def get_batch(batch_id: str) -> Any:
        """The status of every job in the batch."""
        records = queue.batch(batch_id)
        if records is None:
            return _not_found(batch_id, "Batch")
        return [r.to_dict() for r in records]

    @router.delete("/deforum_api/batches/{batch_id}", response_model=BatchCancelled, tags=[TAG],
                   summary="Cancel every unfinished job of a batch", responses={404: {"model": NotFound}})
    def cancel_batch(batch_id: str) -> Any:
        """Queued jobs are removed from the queue; a running one stops after its current frame."""
        job_ids = queue.batches().get(batch_id)
        if job_ids is None:
            return _not_found(batch_id, "Batch")
        cancelled = [job_id for job_id in job_ids if _cancel(queue, job_id)]
        return {"ids": cancelled, "message": f"{len(cancelled)} job(s) cancelled."}


def _cancel(queue: JobQueue, job_id: str) -> bool:
    """Cancel a job; False when it has already finished (or vanished)."""
    try:
        return queue.cancel(job_id)
    except KeyError:
        return False


def add_job_routes(router: APIRouter, queue: JobQueue) -> None:
    """GET /deforum_api/jobs, GET/DELETE /deforum_api/jobs/{id}."""

    @router.get("/deforum_api/jobs", response_model=dict[str, JobStatus], tags=[TAG],
                summary="Job statuses by id (paginated, settings left out unless asked)")
    def list_jobs(offset: int = OFFSET, limit: int = LIMIT, include_settings: bool = WITH_SETTINGS) -> Any:
        """Jobs kept by the server, oldest first; deforum_settings is null unless include_settings=true."""
        records, total = queue.page(offset, limit, with_settings=include_settings)
        return _page({record.id: record.to_dict() for record in records}, total, offset, limit)

    @router.get("/deforum_api/jobs/{job_id}", response_model=JobStatus, tags=[TAG], summary="One job's status",
                responses={200: {"content": {"application/json": {"example": examples.JOB_STATUS}}},
                           404: {"model": NotFound}})
    def get_job(job_id: str) -> Any:
        """Status, phase, progress, output folder and the settings the job was submitted with."""
        record = queue.get(job_id, with_settings=True)
        if record is None:
            return _not_found(job_id, "Job")
        return record.to_dict()

    @router.delete("/deforum_api/jobs/{job_id}", response_model=JobCancelled, tags=[TAG], summary="Cancel a job",
                   responses={400: {"model": JobCancelled}, 404: {"model": JobCancelled}})
    def cancel_job(job_id: str, response: Response) -> Any:
        """A queued job is removed from the queue; a running one stops after its current frame (frames kept)."""
        try:
            cancelled = queue.cancel(job_id)
        except KeyError:
            response.status_code = 404
            return {"id": job_id, "message": f"Job with ID {job_id} not found."}
        if not cancelled:
            response.status_code = 400
            return {"id": job_id,
                    "message": f"Job with ID {job_id} not in a cancellable state. Has it already finished?"}
        return {"id": job_id, "message": "Job cancelled."}

    @router.post("/deforum_api/jobs/{job_id}/resume", status_code=202, response_model=JobCancelled, tags=[TAG],
                 summary="Resume an interrupted job", responses={404: {"model": JobCancelled},
                                                                 409: {"model": JobCancelled}})
    def resume_job(job_id: str, response: Response) -> Any:
        """Queue an INTERRUPTED job (or a CANCELLED one that had started) again; it continues its run's frames."""
        try:
            resumed = queue.resume(job_id)
        except KeyError:
            response.status_code = 404
            return {"id": job_id, "message": f"Job with ID {job_id} not found."}
        if not resumed:
            response.status_code = 409
            return {"id": job_id, "message": f"Job with ID {job_id} cannot be resumed: only an INTERRUPTED job, or a "
                                             "CANCELLED one that had started rendering, can."}
        return {"id": job_id, "message": "Job queued to resume."}


def build_router(queue: JobQueue, *, auth: AuthSpec | None = None, allow_local_files: bool = False,
                 preflight: Preflight | None = None, batch_api: bool = True, simple_api: bool = True,
                 max_body_bytes: int = DEFAULT_MAX_BODY_BYTES, allow_urls: bool = False) -> APIRouter:
    """The API on one router: the batch/job routes and/or the simple API, all behind Basic auth when given."""
    dependencies = [Depends(basic_auth(auth))] if auth else []
    router = APIRouter(dependencies=dependencies, route_class=limited_route_class(max_body_bytes))
    policy = RequestPolicy(queue.output_root, allow_local_files=allow_local_files, preflight=preflight,
                           allow_urls=allow_urls)
    if batch_api:
        add_batch_routes(router, queue, policy)
        add_job_routes(router, queue)
    if simple_api:
        add_simple_routes(router, queue, policy)
    return router

