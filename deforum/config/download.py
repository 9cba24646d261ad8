"""A small streaming HTTP downloader: progress, a resumable ``.part`` file, a hash check, an atomic move, a lock.

Used for the release files the original extension downloaded (MiDaS, RIFE, FILM, Real-ESRGAN, RVM, RAFT) and, with
a size cap and a content-type check, for URL inputs. Nothing stays in the target folder when a check fails.
"""

from __future__ import annotations

import hashlib
import http.client
import logging
import os
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from deforum.models.errors import DeforumError

log = logging.getLogger(__name__)

Progress = Callable[[int, "int | None"], None]
Opener = Callable[[urllib.request.Request, float], "urllib.response.addinfourl"]
CHUNK = 1 << 20
TIMEOUT_S = 30.0


class DownloadError(DeforumError, OSError):
    """A download failed (HTTP error, timeout, too large, wrong content type, wrong hash); nothing was kept."""


@dataclass(frozen=True)
class Checksum:
    """The expected digest of a file: ``sha256`` (a prefix such as torch hub's 8 digits is enough) or ``blake2b``."""

    algorithm: Literal["sha256", "blake2b"]
    digest: str

    def matches(self, found: str) -> bool:
        """Whether a computed hex digest agrees with this one (full or prefix)."""
        return bool(self.digest) and found.lower().startswith(self.digest.lower())


@dataclass(frozen=True)
class Limits:
    """Per-request limits: seconds without data, the largest size accepted, accepted content-type prefixes."""

    timeout: float = TIMEOUT_S
    max_bytes: int | None = None
    content_types: tuple[str, ...] = ()


def file_digest(path: Path, algorithm: Literal["sha256", "blake2b"]) -> str:
    """The hex digest of a file, read in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def lock_path(dest: Path) -> Path:
    """The lock file of a download target: in the temp folder, so nothing is left beside the target."""
    key = hashlib.sha256(str(dest.absolute()).encode()).hexdigest()[:24]
    folder = Path(tempfile.gettempdir()) / "deforum-download-locks"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{key}.lock"


def download_file(url: str, dest: Path, *, checksum: Checksum | None = None, progress: Progress | None = None,
                  limits: Limits = Limits(), opener: Opener | None = None) -> Path:
    """Fetch ``url`` into ``dest`` once, even with parallel jobs: resume ``dest.part``, check, move into place."""
    from filelock import FileLock

    dest.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(lock_path(dest))):
        if dest.is_file():
            return dest
        part = dest.with_name(dest.name + ".part")
        _stream(url, part, progress, limits, opener or _open)
        if checksum is not None:
            found = file_digest(part, checksum.algorithm)
            if not checksum.matches(found):
                part.unlink(missing_ok=True)
                raise DownloadError(f"{url} downloaded, but its {checksum.algorithm} is {found[:16]}…, expected "
                                    f"{checksum.digest[:16]}…; the file was deleted. Try again later, or download "
                                    f"it yourself and put it at {dest}.")
        os.replace(part, dest)
    log.info("Downloaded %s to %s", url, dest)
    return dest


def _open(request: urllib.request.Request, timeout: float) -> urllib.response.addinfourl:
    """urllib's opener (redirects followed)."""
    return urllib.request.urlopen(request, timeout=timeout)


def _stream(url: str, part: Path, progress: Progress | None, limits: Limits, opener: Opener) -> None:
    """Append the rest of ``url`` to ``part`` (a Range request when part of it is there), checking the limits."""
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "deforum", **({"Range": f"bytes={have}-"}
                                                                                 if have else {})})
    try:
        response = opener(request, limits.timeout)
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:
            return
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url}: HTTP {err.code} {err.reason}.") from None
    except (urllib.error.URLError, TimeoutError, OSError) as err:
        raise DownloadError(f"{url}: {getattr(err, 'reason', err)} (the partial file is kept and resumes).") from None
    with response:
        resumed = have and getattr(response, "status", 200) == 206
        total = _total(response, have if resumed else 0)
        _check_headers(url, response, total, limits, part)
        _copy(response, part, resumed, total, progress, limits.max_bytes, url)


def _total(response: urllib.response.addinfourl, offset: int) -> int | None:
    """The whole file's size from Content-Length (plus what was already there), or None."""
    length = response.headers.get("Content-Length")
    return offset + int(length) if length and length.isdigit() else None


def _check_headers(url: str, response: urllib.response.addinfourl, total: int | None, limits: Limits,
                   part: Path) -> None:
    """Refuse a wrong content type or a declared size above the cap before reading the body."""
    kind = (response.headers.get("Content-Type") or "").split(";")[0].strip().lower()
    if limits.content_types and not kind.startswith(limits.content_types):
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url} is {kind or 'of no stated type'}, expected {' or '.join(limits.content_types)}.")
    if limits.max_bytes is not None and total is not None and total > limits.max_bytes:
        part.unlink(missing_ok=True)
        raise DownloadError(f"{url} is {total} bytes, more than the {limits.max_bytes}-byte limit.")


def _copy(response: urllib.response.addinfourl, part: Path, resumed: bool, total: int | None,
          progress: Progress | None, max_bytes: int | None, url: str) -> None:
    """Copy the body to ``part`` in chunks, reporting progress, stopping past ``max_bytes``."""
    done = part.stat().st_size if resumed else 0
    with part.open("ab" if resumed else "wb") as handle:
        while True:
            try:
                chunk = response.read(CHUNK)
            except (TimeoutError, OSError, http.client.HTTPException) as err:
                raise DownloadError(f"{url}: {err} after {done} bytes (the partial file resumes).") from None
            if not chunk:
                break
            done += len(chunk)
            if max_bytes is not None and done > max_bytes:
                handle.close()
                part.unlink(missing_ok=True)
                raise DownloadError(f"{url} is larger than the {max_bytes}-byte limit.")
            handle.write(chunk)
            if progress is not None:
                progress(done, total)
    if total is not None and done < total:
        raise DownloadError(f"{url}: the connection closed after {done} of {total} bytes (the partial file resumes).")
