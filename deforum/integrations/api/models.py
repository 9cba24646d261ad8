"""Request and response models of the REST API (pydantic v1 and v2 alike: explicit defaults, no v2-only config)."""

from enum import Enum
from typing import Any, Dict, List, Optional, Union

from pydantic import BaseModel, Field

SettingsObject = Dict[str, Any]


class JobStatusCategory(str, Enum):
    """Where a job stands overall."""

    ACCEPTED = "ACCEPTED"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"
    INTERRUPTED = "INTERRUPTED"


class JobPhase(str, Enum):
    """What a job is doing now."""

    QUEUED = "QUEUED"
    PREPARING = "PREPARING"
    GENERATING = "GENERATING"
    POST_PROCESSING = "POST_PROCESSING"
    DONE = "DONE"


class JobErrorType(str, Enum):
    """Whether a failed job may succeed when submitted again."""

    NONE = "NONE"
    RETRYABLE = "RETRYABLE"
    TERMINAL = "TERMINAL"


class Batch(BaseModel):
    """POST /deforum_api/batches: one settings object (one job) or a list of them, and WebUI option overrides."""

    deforum_settings: Optional[Union[List[SettingsObject], SettingsObject]] = Field(
        default=None, description="A settings object as saved in a *_settings.txt file, or a list of them.")
    options_overrides: Optional[Dict[str, Any]] = Field(
        default=None, description="WebUI options to set while the batch renders (ignored by the standalone server).")


class BatchAccepted(BaseModel):
    """202 answer to a batch submission."""

    message: str = "Job(s) accepted"
    batch_id: str = ""
    job_ids: List[str] = Field(default_factory=list)
    warnings: List[str] = Field(default_factory=list, description="Settings not used by these jobs, and legacy "
                                "keys upgraded: one line each, naming the keys and why.")


class JobStatus(BaseModel):
    """The status of one job (the original's fields)."""

    id: str = ""
    status: JobStatusCategory = JobStatusCategory.ACCEPTED
    phase: JobPhase = JobPhase.QUEUED
    error_type: JobErrorType = JobErrorType.NONE
    phase_progress: float = 0.0
    started_at: float = Field(default=0.0, description="Unix time the job was accepted.")
    last_updated: float = Field(default=0.0, description="Unix time of the last status update.")
    execution_time: float = Field(default=0.0, description="Seconds from started_at to the last update.")
    update_interval_time: float = Field(default=0.0, description="Seconds between the last two updates.")
    updates: int = Field(default=0, description="Number of status updates so far.")
    message: Optional[str] = None
    outdir: Optional[str] = None
    timestring: Optional[str] = None
    deforum_settings: Optional[SettingsObject] = None
    options_overrides: Optional[Dict[str, Any]] = None


class NotFound(BaseModel):
    """404 answer for an unknown batch or job id."""

    id: str = ""
    status: str = "NOT FOUND"
    message: Optional[str] = None


class JobCancelled(BaseModel):
    """Answer to DELETE /deforum_api/jobs/{id}."""

    id: str = ""
    message: str = ""


class BatchCancelled(BaseModel):
    """Answer to DELETE /deforum_api/batches/{id}."""

    ids: List[str] = Field(default_factory=list)
    message: str = ""


class SettingsProblem(BaseModel):
    """One invalid setting: where it is (job index and key) and a readable message."""

    loc: List[Union[str, int]] = Field(default_factory=list)
    msg: str = ""
    type: str = "settings_error"


class InvalidSettings(BaseModel):
    """422 answer: every problem in every submitted settings object, each naming the key."""

    message: str = ""
    detail: List[SettingsProblem] = Field(default_factory=list)


class Message(BaseModel):
    """A plain message (400 and 401 answers)."""

    message: Optional[str] = None
    detail: Optional[str] = None


class Version(BaseModel):
    """GET /deforum/version and /deforum/api_version."""

    version: str = ""


class RunResultModel(BaseModel):
    """Answer to POST /deforum/run once the render has finished."""

    outdir: Optional[str] = None
    batch_id: Optional[str] = None
    job_id: Optional[str] = None
    status: Optional[JobStatusCategory] = None
    message: Optional[str] = None
