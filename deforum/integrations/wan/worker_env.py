"""The Wan worker's own Python environment, created on first use without touching the WebUI's packages.

A venv (``$DEFORUM_WAN_ENV``, default ``<extension>/.wan-env``) with the pinned diffusers/transformers of
requirements-wan-worker.txt. It reuses the WebUI's torch, numpy and OpenCV (with the packages they depend on)
without a second copy: those are linked into a folder next to the venv (``<env>-host-packages``) that a .pth file adds
after the venv's own site-packages. Only they are shared, so the WebUI's other packages (an old kornia, say)
cannot leak into diffusers' optional imports. pip runs with the venv's interpreter, with the shared packages
pinned by a constraints file, and never uninstalls outside the venv, so the WebUI's packages stay as they are.
``$DEFORUM_WAN_PYTHON`` names an existing interpreter that already has diffusers' Wan pipelines instead.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
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
SHARED_ROOTS = ("torch", "numpy", "opencv-python", "opencv-python-headless", "opencv-contrib-python")
PINNED_SHARED = ("torch", "numpy")


class WanEnvironmentError(WanModelError):
    """The worker's environment could not be made; the message says what failed and what to do."""


def env_folder() -> Path:
    """Where the worker's venv lives: $DEFORUM_WAN_ENV, else .wan-env in the extension's folder."""
    return Path(os.environ.get(ENV_FOLDER) or PROJECT_ROOT / ".wan-env").expanduser()


def env_python(folder: Path) -> Path:
    """The venv's interpreter."""
    return folder / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def shared_distributions(roots: tuple[str, ...] = SHARED_ROOTS) -> dict[str, metadata.Distribution]:
    """The installed distributions of ``roots`` and, recursively, of what they require (extras left out)."""
    found: dict[str, metadata.Distribution] = {}
    todo = list(roots)
    while todo:
        name = re.sub(r"[-_.]+", "-", todo.pop()).lower()
        if name in found:
            continue
        try:
            found[name] = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            continue
        todo += [re.match(r"[A-Za-z0-9_.\-]+", req)[0] for req in found[name].requires or [] if "extra ==" not in req]
    return found


def link_shared(view: Path, distributions: dict[str, metadata.Distribution]) -> None:
    """Fill ``view`` with links to each distribution's top-level folders and files (its dist-info included)."""
    shutil.rmtree(view, ignore_errors=True)
    view.mkdir(parents=True)
    for dist in distributions.values():
        for top in {Path(str(f)).parts[0] for f in dist.files or [] if not str(f).startswith("..")}:
            target = Path(str(dist.locate_file(top)))
            if target.exists() and not (view / top).exists():
                (view / top).symlink_to(target, target_is_directory=target.is_dir())


def constraints_text(distributions: dict[str, metadata.Distribution]) -> str:
    """pip constraints holding torch and numpy at the WebUI's versions (their helpers may be newer in the venv)."""
    return "".join(f"{name}=={distributions[name].version}\n" for name in PINNED_SHARED if name in distributions)


def stamp_text() -> str:
    """What the ready stamp records: the pinned requirements and the shared packages' versions."""
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return f"{digest}\n{constraints_text(shared_distributions())}"


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
    """Make the venv, share the WebUI's torch, numpy and OpenCV with it, install the pinned requirements."""
    notice(f"Wan: first use, setting up its own Python environment in {folder} (diffusers and transformers as "
           f"{REQUIREMENTS.name} pins them, the WebUI's torch; the WebUI's packages stay as they are). This "
           f"happens once and downloads about 100 MB.")
    _run([sys.executable, "-m", "venv", str(folder)], "creating the venv", notice)
    python = env_python(folder)
    shared = shared_distributions()
    view = folder.parent / f"{folder.name}-host-packages"  # outside the venv: pip never uninstalls from it
    link_shared(view, shared)
    (_venv_site_packages(python) / HOST_PATHS_FILE).write_text(f"{view}\n", encoding="utf-8")
    constraints = folder / "shared-constraints.txt"
    constraints.write_text(constraints_text(shared), encoding="utf-8")
    _run([str(python), "-m", "pip", "install", "--disable-pip-version-check", "-r", str(REQUIREMENTS),
          "-c", str(constraints)], f"installing {REQUIREMENTS.name}", notice)
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
