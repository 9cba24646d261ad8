"""Downloading weights on first use: the offline switch, the large-download yes, progress, and ``obtain``.

Order for every model: the models folders, then the Hugging Face cache (both through the loader's own ``find``),
then a download of the catalog entry (hub repos through huggingface_hub, release files through
``config.download``), then ``find`` again. Offline (``HF_HUB_OFFLINE=1``, ``--offline``, the WebUI option) the
loader's message is the answer, with the command that fetches the model ahead of time.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from deforum.config.catalog import CatalogEntry, entry
from deforum.config.download import DownloadError, Progress, download_file
from deforum.config.weights import WeightsFile, WeightsMissing, find_weights_file, hf_hub_cache, models_roots

log = logging.getLogger(__name__)

OFFLINE_ENVS = ("HF_HUB_OFFLINE", "DEFORUM_OFFLINE")
LARGE_ENV = "DEFORUM_ALLOW_LARGE_DOWNLOADS"
RELEASES_ENV = "DEFORUM_RELEASES_ENDPOINT"
TRUE_WORDS = ("1", "true", "yes", "on")
T = TypeVar("T")
ProgressFactory = Callable[[str], Progress]
_progress_factory: list[ProgressFactory] = []
_FLAGS = {"offline": False, "allow_large": False}


def _truthy(name: str) -> bool:
    """Whether the environment variable ``name`` says yes."""
    return os.environ.get(name, "").strip().lower() in TRUE_WORDS


def downloads_enabled() -> bool:
    """False when HF_HUB_OFFLINE, DEFORUM_OFFLINE, --offline or the WebUI's offline option says offline."""
    return not (_FLAGS["offline"] or any(_truthy(name) for name in OFFLINE_ENVS))


def large_downloads_allowed() -> bool:
    """Whether multi-gigabyte downloads (Wan 14B, Qwen) were allowed (--allow-large-downloads, the WebUI option)."""
    return _FLAGS["allow_large"] or _truthy(LARGE_ENV)


def configure(*, offline: bool | None = None, allow_large: bool | None = None,
              progress: ProgressFactory | None = None) -> None:
    """Set the process-wide switches (the CLI's flags, the WebUI's options; the environment still wins for offline
    and large downloads) and the progress reporter."""
    if offline is not None:
        _FLAGS["offline"] = offline
    if allow_large is not None:
        _FLAGS["allow_large"] = allow_large
    if progress is not None:
        _progress_factory[:] = [progress]


def release_target(item: CatalogEntry, models_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where a release file is saved: ``<first models folder>/<folder>/<filename>``."""
    return models_roots(models_dir)[0] / item.folder / item.filename


def download(item: CatalogEntry, models_dir: str | os.PathLike[str] | None = None) -> Path:
    """Fetch one catalog entry now (the caller checked the switches); the file or snapshot folder."""
    if item.is_hub:
        return _hub_snapshot(item)
    progress = _progress_factory[0](item.label) if _progress_factory else None
    return download_file(release_url(item), release_target(item, models_dir), checksum=item.checksum,
                         progress=progress)


def release_url(item: CatalogEntry) -> str:
    """The release file's URL, on the mirror $DEFORUM_RELEASES_ENDPOINT when set (same path)."""
    mirror = os.environ.get(RELEASES_ENV, "").rstrip("/")
    return mirror + urlsplit(item.url).path if mirror else item.url


def _hub_snapshot(item: CatalogEntry) -> Path:
    """The repo's snapshot in the Hugging Face cache, downloaded through huggingface_hub ($HF_ENDPOINT honoured)."""
    from huggingface_hub import snapshot_download

    options: dict[str, object] = {"cache_dir": str(hf_hub_cache())}
    if os.environ.get("HF_ENDPOINT"):
        options["endpoint"] = os.environ["HF_ENDPOINT"]
    if item.patterns:
        options["allow_patterns"] = list(item.patterns)
    log.warning("Downloading %s (%s, about %d MB) into the Hugging Face cache %s", item.label, item.repo,
                item.size_mb, hf_hub_cache())
    try:
        return Path(snapshot_download(item.repo, **options))
    except Exception as err:  # huggingface_hub raises its own, requests' or httpx' errors by version
        raise DownloadError(f"Downloading {item.repo} failed: {err}") from None


def refusal(item: CatalogEntry, allow_large: bool = False) -> str | None:
    """Why ``item`` may not be downloaded now (offline, or large without a yes), or None."""
    fetch = f"`deforum models download {item.name}` on a machine with internet access"
    if not downloads_enabled():
        return (f"Downloads are off (HF_HUB_OFFLINE=1, --offline or the WebUI's offline option). Fetch it ahead "
                f"with {fetch}.")
    if item.large and not (allow_large or large_downloads_allowed()):
        return (f"{item.label} is a large download (about {item.size_mb / 1000:.0f} GB); allow it with "
                f"--allow-large-downloads (or the WebUI option 'Allow large downloads'), or fetch it with "
                f"`deforum --allow-large-downloads models download {item.name}`.")
    return None


def obtain(name: str, find: Callable[[], T], models_dir: str | os.PathLike[str] | None = None, *,
           allow_large: bool = False) -> T:
    """``find()``; when its weights are missing, download catalog entry ``name`` (if allowed) and find again."""
    try:
        return find()
    except WeightsMissing as missing:
        error = missing
    item = entry(name)
    reason = refusal(item, allow_large)
    if reason is not None:
        raise type(error)(f"{error}\n{reason}") from None
    try:
        download(item, models_dir)
    except DownloadError as err:
        raise type(error)(f"{error}\nThe download failed: {err}") from None
    return find()


def find_or_download_file(spec: WeightsFile, models_dir: str | os.PathLike[str] | None = None) -> Path:
    """``find_weights_file``, downloading the spec's catalog entry first when the file is nowhere on disk."""
    if not spec.catalog:
        return find_weights_file(spec, models_dir)
    return obtain(spec.catalog, lambda: find_weights_file(spec, models_dir), models_dir)


def location(item: CatalogEntry, models_dir: str | os.PathLike[str] | None = None) -> Path | None:
    """Where ``item`` already is: its release file in a models folder, or its repo (folder or cache), else None."""
    for root in models_roots(models_dir):
        if item.is_hub:
            folder = root / "Deforum" / item.repo.split("/")[1]
            if (folder / "config.json").is_file() or (folder / "model_index.json").is_file():
                return folder
        elif (root / item.folder / item.filename).is_file():
            return root / item.folder / item.filename
    if item.is_hub:
        snapshots = hf_hub_cache() / f"models--{item.repo.replace('/', '--')}" / "snapshots"
        found = sorted(p for p in snapshots.iterdir() if any(p.iterdir())) if snapshots.is_dir() else []
        return found[0] if found else None
    return None
