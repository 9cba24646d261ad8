"""Deforum's REST API: FastAPI router (build_router), job queue (JobQueue), auth and path safety."""
