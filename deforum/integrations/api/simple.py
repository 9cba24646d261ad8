"""The original's simple API: versions, and POST /deforum/run (allowed keys merged onto the default settings)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse

from deforum import __version__
from deforum.config.json_limits import loads_limited
from deforum.config.settings_io import FILE_ONLY_KEYS, to_file_dict
from deforum.integrations.api import examples
from deforum.integrations.api.jobs import JobQueue, JobRecord
from deforum.integrations.api.models import InvalidSettings, JobStatusCategory, RunResultModel, Version
from deforum.integrations.api.validate import InvalidRequest, Problem, RequestPolicy, validate_batch
from deforum.models.settings import Settings

API_VERSION = "1.0"
POLL_SECONDS = 0.2
TAG = "deforum simple API"
STATUS_CODES = {JobStatusCategory.SUCCEEDED: 200, JobStatusCategory.CANCELLED: 409, JobStatusCategory.FAILED: 500}


def default_settings() -> dict[str, Any]:
    """The default settings as the original's default_settings.txt holds them (the run shape)."""
    data = to_file_dict(Settings(), shape="run")
    for key in FILE_ONLY_KEYS:
        data.pop(key, None)
    return data


def merge_allowed(settings_json: str, allowed_params: str) -> dict[str, Any]:
    """The defaults with the allowed keys (`;`-separated) taken from settings_json; batch_name a fresh run id."""
    try:
        given = loads_limited(settings_json)
    except ValueError as err:
        problem = Problem(("query", "settings_json"), f"settings_json is not valid JSON: {err}.")
        raise InvalidRequest([problem]) from None
    if not isinstance(given, dict):
        raise InvalidRequest([Problem(("query", "settings_json"), "settings_json must be a JSON object of settings.")])
    allowed = {name.strip() for name in allowed_params.split(";") if name.strip()}
    data = default_settings()
    data.update({key: given[key] for key in data if key in given and key in allowed})
    data["batch_name"] = uuid.uuid4().hex
    return data


async def _wait_done(queue: JobQueue, job_id: str) -> JobRecord:
    """Wait for a job without blocking the event loop (the render runs in the queue's worker thread)."""
    while not queue.is_done(job_id):
        await asyncio.sleep(POLL_SECONDS)
    return queue.wait(job_id, 0)


def _result(record: JobRecord, batch_id: str) -> JSONResponse:
    """The run's answer: 200 with the output folder; 409 when cancelled, 500 with the reason when it failed."""
    body = {"outdir": record.outdir, "batch_id": batch_id, "job_id": record.id, "status": record.status.value,
            "message": record.message}
    if record.status is not JobStatusCategory.SUCCEEDED:
        body["detail"] = record.message or "The render did not finish."
    return JSONResponse(status_code=STATUS_CODES.get(record.status, 500), content=body)


def add_simple_routes(router: APIRouter, queue: JobQueue, policy: RequestPolicy) -> None:
    """GET /deforum/api_version, GET /deforum/version, POST /deforum/run."""

    @router.get("/deforum/api_version", response_model=Version, tags=[TAG], summary="Version of this API")
    async def api_version() -> Any:
        """Always 1.0, as the original."""
        return {"version": API_VERSION}

    @router.get("/deforum/version", response_model=Version, tags=[TAG], summary="Deforum's version")
    async def deforum_version() -> Any:
        """The version of the deforum package serving the API."""
        return {"version": __version__}

    @router.post("/deforum/run", response_model=RunResultModel, tags=[TAG], summary="Render and wait",
                 responses={200: {"content": {"application/json": {"example": examples.RUN_RESULT}}},
                            409: {"model": RunResultModel}, 422: {"model": InvalidSettings},
                            500: {"model": RunResultModel}})
    async def run(settings_json: str = Query(..., description="A JSON object of settings, e.g. "
                                                              + examples.SIMPLE_SETTINGS_JSON),
                  allowed_params: str = Query("", description="The keys of settings_json to use, separated by "
                                                              "';', e.g. " + examples.SIMPLE_ALLOWED)) -> Any:
        """Merge the allowed keys onto the defaults, queue the job and answer once it has finished."""
        try:
            data = merge_allowed(settings_json, allowed_params)
            settings = await run_in_threadpool(validate_batch, [data], None, policy)
        except InvalidRequest as err:
            return JSONResponse(status_code=422, content=err.to_dict())
        batch_id, job_ids = queue.submit(settings, [data])
        return _result(await _wait_done(queue, job_ids[0]), batch_id)
