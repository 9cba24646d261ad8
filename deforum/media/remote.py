"""URL inputs: an http(s) value of a path setting is fetched once per run into a cache folder, then read locally.

Each fetch has a timeout, a size cap and a content-type check (an HTML error page is not an image). A render runs
inside ``url_inputs()`` (one cache per run, removed afterwards); outside one, a process-wide cache is used. The
REST API server sets ``public_only``: then private, loopback and link-local addresses are refused, also after
redirects. Offline (``config.fetch.downloads_enabled``) a URL is refused with the fix.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import ipaddress
import os
import re
import shutil
import socket
import tempfile
import threading
import urllib.request
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from pathlib import Path
from typing import Literal, ParamSpec, TypeVar
from urllib.parse import unquote, urlsplit

from deforum.config.download import DownloadError, Limits, download_file
from deforum.config.fetch import downloads_enabled
from deforum.models.errors import DeforumError

Kind = Literal["image", "video", "audio", "json"]
P = ParamSpec("P")
R = TypeVar("R")
WEB_URL = re.compile(r"(?i)^https?://")
MAX_MB_ENV = "DEFORUM_URL_MAX_MB"
DEFAULT_MAX_MB = 1024
TIMEOUT_S = 30.0
ANY_BINARY = ("application/octet-stream", "binary/octet-stream")
CONTENT_TYPES: dict[str, tuple[str, ...]] = {
    "image": ("image/", *ANY_BINARY),
    "video": ("video/", "application/mp4", *ANY_BINARY),
    "audio": ("audio/", "video/", "application/ogg", *ANY_BINARY),
    "json": ("application/json", "text/plain", "text/json", *ANY_BINARY),
}


class UrlInputError(DeforumError, ValueError):
    """A URL setting could not be fetched (offline, refused address, HTTP error, too large, wrong type)."""


def is_web_url(value: str) -> bool:
    """Whether a setting value is an http(s) URL (quotes and blanks around it ignored)."""
    return bool(WEB_URL.match(value.strip().strip('"').strip()))


def public_address_problem(url: str) -> str | None:
    """Why ``url``'s host is not a public address (private, loopback, link-local, unresolvable), or None."""
    host = urlsplit(url).hostname or ""
    try:
        infos = socket.getaddrinfo(host, None)
    except (socket.gaierror, UnicodeError):
        return f"its host {host!r} does not resolve"
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        mapped = getattr(address, "ipv4_mapped", None) or address
        if not mapped.is_global or mapped.is_multicast:
            return f"its host {host!r} is a private, loopback or link-local address ({address})"
    return None


class _PublicRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only to a public address."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # type: ignore[no-untyped-def]
        problem = public_address_problem(newurl)
        if problem:
            raise DownloadError(f"{req.full_url} redirects to {newurl}, refused: {problem}.")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _public_opener(request: urllib.request.Request, timeout: float):  # type: ignore[no-untyped-def]
    """urllib's opener that refuses non-public hosts, first and after each redirect."""
    problem = public_address_problem(request.full_url)
    if problem:
        raise DownloadError(f"{request.full_url} refused: {problem}.")
    return urllib.request.build_opener(_PublicRedirects).open(request, timeout=timeout)


class UrlCache:
    """The local copies of one run's URL inputs: each URL fetched once, into ``folder``."""

    def __init__(self, folder: Path, *, public_only: bool = False) -> None:
        self.folder, self.public_only = folder, public_only
        self.fetched: dict[str, Path] = {}
        self._lock = threading.Lock()

    def get(self, url: str, kind: Kind, setting: str) -> Path:
        """The local copy of ``url`` (fetched on first use); UrlInputError naming the setting on failure."""
        with self._lock:
            if url not in self.fetched:
                self.fetched[url] = self._fetch(url, kind, setting)
            return self.fetched[url]

    def _fetch(self, url: str, kind: Kind, setting: str) -> Path:
        """Download ``url`` into ``<folder>/<hash>/<file name>``."""
        if not downloads_enabled():
            raise UrlInputError(f"Setting '{setting}': {url} is a web URL, but downloads are off (--offline, "
                                f"HF_HUB_OFFLINE=1 or the WebUI's offline option). Download it yourself and set "
                                f"'{setting}' to the local file path.")
        name = Path(unquote(urlsplit(url).path)).name or "download"
        dest = self.folder / hashlib.sha256(url.encode()).hexdigest()[:16] / name
        limits = Limits(TIMEOUT_S, max_mb() * 1_000_000, CONTENT_TYPES[kind])
        try:
            return download_file(url, dest, limits=limits, opener=_public_opener if self.public_only else None)
        except DownloadError as err:
            raise UrlInputError(f"Setting '{setting}': {err}") from None


def max_mb() -> int:
    """The size cap of one URL input in MB ($DEFORUM_URL_MAX_MB, default 1024)."""
    text = os.environ.get(MAX_MB_ENV, "")
    return int(text) if text.isdigit() and int(text) > 0 else DEFAULT_MAX_MB


_RUN_CACHE: ContextVar[UrlCache | None] = ContextVar("deforum_url_cache", default=None)
_PROCESS: dict[str, UrlCache] = {}
_PUBLIC_ONLY = {"value": False}


def require_public_urls(flag: bool = True) -> None:
    """Process-wide: URL inputs must be public addresses (the REST API server started with --allow-urls)."""
    _PUBLIC_ONLY["value"] = flag
    _PROCESS.clear()


def _process_cache() -> UrlCache:
    """The cache used outside a run (a temporary folder for the process)."""
    if "cache" not in _PROCESS:
        _PROCESS["cache"] = UrlCache(Path(tempfile.mkdtemp(prefix="deforum-urls-")), public_only=_PUBLIC_ONLY["value"])
    return _PROCESS["cache"]


@contextlib.contextmanager
def url_inputs() -> Iterator[UrlCache]:
    """One run's URL cache (a temporary folder, removed on exit); nested runs share the outer one."""
    outer = _RUN_CACHE.get()
    if outer is not None:
        yield outer
        return
    folder = Path(tempfile.mkdtemp(prefix="deforum-run-urls-"))
    token = _RUN_CACHE.set(UrlCache(folder, public_only=_PUBLIC_ONLY["value"]))
    try:
        yield _RUN_CACHE.get()  # type: ignore[misc]
    finally:
        _RUN_CACHE.reset(token)
        shutil.rmtree(folder, ignore_errors=True)


def localize(value: str, setting: str, kind: Kind) -> str:
    """A URL value as the path of its local copy (fetched once per run); any other value unchanged."""
    if not is_web_url(value):
        return value
    cache = _RUN_CACHE.get() or _process_cache()
    return str(cache.get(value.strip().strip('"').strip(), kind, setting))


def with_url_inputs(function: Callable[P, R]) -> Callable[P, R]:
    """Run ``function`` inside ``url_inputs()`` (one URL cache for the whole run)."""

    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        with url_inputs():
            return function(*args, **kwargs)

    return wrapper
