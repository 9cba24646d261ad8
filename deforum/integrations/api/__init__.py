"""Deforum's REST API: FastAPI router (build_router), job queue (JobQueue), SQLite job store, auth and path safety."""

__all__ = [
    "auth", "examples", "jobs", "limits", "models", "option_rules", "paths", "router", "simple", "standalone",
    "store", "validate"
]
