"""The Wan worker's own Python environment, created on first use without touching the WebUI's packages.

A venv (``$DEFORUM_WAN_ENV``, default ``<extension>/.wan-env``) whose own site-packages hold the pinned
diffusers/transformers of requirements-wan-worker.txt and come first on its path; a .pth file then adds the
WebUI's site-packages after them, so the worker reuses the WebUI's torch (and everything else it does not pin)
without a second copy. pip runs only inside the venv. ``$DEFORUM_WAN_PYTHON`` names an existing interpreter
that already has diffusers' Wan pipelines instead (nothing is created).
"""

from __future__ import annotations

import hashlib
import logging
import os
import site
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from deforum.integrations.wan.models import WanModelError

log = logging.getLogger(__name__)

ENV_FOLDER = "DEFORUM_WAN_ENV"
ENV_PYTHON = "DEFORUM_WAN_PYTHON"
PROJECT_ROOT = Path(__file__).resolve().parents[3]
REQUIREMENTS = PROJECT_ROOT / "requirements-wan-worker.txt"
HOST_PATHS_FILE = "deforum_host_packages.pth"
STAMP = ".deforum-wan-ready"
PIP_SECONDS = 1800


class WanEnvironmentError(WanModelError):
    """The worker's environment could not be made; the message says what failed and what to do."""


def env_folder() -> Path:
    """Where the worker's venv lives: $DEFORUM_WAN_ENV, else .wan-env in the extension's folder."""
    return Path(os.environ.get(ENV_FOLDER) or PROJECT_ROOT / ".wan-env").expanduser()


def env_python(folder: Path) -> Path:
    """The venv's interpreter."""
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def host_site_packages() -> list[str]:
    """This (the WebUI's) Python's site-packages folders, which the worker reads after its own."""
    paths = [*site.getsitepackages(), *[p for p in sys.path if p.endswith(("site-packages", "dist-packages"))]]
    return list(dict.fromkeys(p for p in paths if Path(p).is_dir()))


def stamp_text() -> str:
    """What the ready stamp records: the pinned requirements and the host folders the venv reads."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return "\n".join([digest, *host_site_packages()]) + "\n"


def _run(command: list[str], step: str, notice: Callable[[str], None]) -> None:
    """Run one set-up command, logging its output; WanEnvironmentError with its last lines when it fails."""
    notice(f"Wan environment: {step}")
    hint = (f"Setting it up needs the package index once (pip); or set {ENV_PYTHON} to a Python that has "
            f"diffusers' Wan pipelines (e.g. Deforum's standalone .venv).")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=PIP_SECONDS)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise WanEnvironmentError(f"Wan environment: {step} failed ({exc}). {hint}") from exc
    for line in (done.stdout + done.stderr).splitlines():
        log.debug("wan env: %s", line)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-15:])
        raise WanEnvironmentError(f"Wan environment: {step} failed (exit code {done.returncode}). {hint}\n{tail}")


def _venv_site_packages(python: Path) -> Path:
    """The venv's own site-packages folder (asked of its interpreter)."""
    done = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, timeout=120, check=True)
    return Path(done.stdout.strip())


def create_env(folder: Path, notice: Callable[[str], None]) -> Path:
    """Make the venv, point it at the WebUI's packages, install the pinned requirements; its interpreter."""
    notice(f"Wan: first use, setting up its own Python environment in {folder} (diffusers and transformers as "
           f"{REQUIREMENTS.name} pins them; the WebUI's packages stay as they are). This happens once and "
           f"downloads about 60 MB.")
    _run([sys.executable, "-m", "venv", str(folder)], "creating the venv", notice)
    python = env_python(folder)
    (_venv_site_packages(python) / HOST_PATHS_FILE).write_text("\n".join(host_site_packages()) + "\n",
                                                               encoding="utf-8")
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS)],
         f"installing {REQUIREMENTS.name}", notice)
    (folder / STAMP).write_text(stamp_text(), encoding="utf-8")
    notice("Wan environment ready.")
    return python


def worker_python(notice: Callable[[str], None] | None = None) -> str:
    """The interpreter the worker runs on: $DEFORUM_WAN_PYTHON, the ready venv, or a venv made now."""
    notice = notice or log.warning
    if os.environ.get(ENV_PYTHON):
        return os.environ[ENV_PYTHON]
    folder = env_folder()
    stamp = folder / STAMP
    if stamp.is_file() and stamp.read_text(encoding="utf-8") == stamp_text() and env_python(folder).is_file():
        return str(env_python(folder))
    return str(create_env(folder, notice))
