"""A loopback HTTP server that plays the Hugging Face hub (for HF_ENDPOINT) and a release/file host, for tests.

Serves hub repos (``/api/models/<repo>/revision/<rev>``, ``/api/models/<repo>/tree/<rev>``,
``/<repo>/resolve/<rev>/<file>``) and plain files with Range support, redirects, a byte cut-off (an interrupted
download) and a delay; records every request. Listens on 127.0.0.1 only.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import unquote, urlsplit

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class HostState:
    """What the server serves and what it saw."""

    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    repos: dict[str, dict[str, bytes]] = field(default_factory=dict)
    redirects: dict[str, str] = field(default_factory=dict)
    cut_after: dict[str, int] = field(default_factory=dict)
    delay_s: float = 0.0
    requests: list[tuple[str, str, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def gets(self, path: str) -> list[str]:
        """The Range headers ('' for none) of every GET of ``path``."""
        return [rng for method, seen, rng in self.requests if method == "GET" and seen == path]


class _Handler(BaseHTTPRequestHandler):
    """Answers hub API, hub resolve and plain file requests from the server's HostState."""

    server: _Server

    def log_message(self, *args: object) -> None:
        """Quiet."""

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def do_GET(self) -> None:  # noqa: N802
        self._answer(body=True)

    def _answer(self, body: bool) -> None:
        state = self.server.state
        path = unquote(urlsplit(self.path).path)
        with state.lock:
            state.requests.append((self.command, path, self.headers.get("Range", "")))
        if state.delay_s:
            time.sleep(state.delay_s)
        if path in state.redirects:
            self._send(302, b"", "text/plain", body, {"Location": state.redirects[path]})
        elif path.startswith("/api/models/"):
            self._api(path.removeprefix("/api/models/"), body)
        elif "/resolve/" in path:
            repo, _, rest = path.lstrip("/").partition("/resolve/")
            self._file(state.repos.get(repo, {}).get(rest.partition("/")[2]), "application/octet-stream", body,
                       {"X-Repo-Commit": COMMIT}, path)
        else:
            content, kind = state.files.get(path, (None, ""))
            self._file(content, kind, body, {}, path)

    def _api(self, rest: str, body: bool) -> None:
        """Repo info (sha + siblings) and the recursive tree listing."""
        for marker in ("/revision/", "/tree/"):
            repo, found, _ = rest.partition(marker)
            if found and repo in self.server.state.repos:
                files = self.server.state.repos[repo]
                if marker == "/tree/":
                    data: object = [{"type": "file", "path": name, "size": len(blob),
                                     "oid": hashlib.sha1(blob).hexdigest()} for name, blob in files.items()]
                else:
                    data = {"id": repo, "modelId": repo, "sha": COMMIT,
                            "siblings": [{"rfilename": name} for name in files]}
                self._send(200, json.dumps(data).encode(), "application/json", body, {})
                return
        self._send(404, b'{"error": "Repository not found"}', "application/json", body,
                   {"X-Error-Code": "RepoNotFound"})

    def _file(self, content: bytes | None, kind: str, body: bool, extra: dict[str, str], path: str) -> None:
        """The file (206 from a Range start), a 404, or a cut-off transfer."""
        if content is None:
            self._send(404, b"not found", "text/plain", body, extra)
            return
        start = int(self.headers.get("Range", "bytes=0-").removeprefix("bytes=").split("-")[0] or 0)
        headers = {**extra, "ETag": f'"{hashlib.sha256(content).hexdigest()}"', "Accept-Ranges": "bytes"}
        if start:
            headers["Content-Range"] = f"bytes {start}-{len(content) - 1}/{len(content)}"
        part = content[start:]
        cut = self.server.state.cut_after.pop(path, None) if body else None
        self._send(206 if start else 200, part, kind, body, headers, cut)

    def _send(self, code: int, data: bytes, kind: str, body: bool, headers: dict[str, str],
              cut: int | None = None) -> None:
        """Status, headers, and the body (only ``cut`` bytes of it, then the connection closes)."""
        self.send_response(code)
        for name, value in {"Content-Type": kind, "Content-Length": str(len(data)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if body:
            self.wfile.write(data if cut is None else data[:cut])
        if cut is not None:
            self.close_connection = True


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    state: HostState


class LoopbackHosts:
    """The running server: ``url(path)``, ``add_file``, ``add_repo``; a context manager that stops it."""

    def __init__(self) -> None:
        self.state = HostState()
        self.server = _Server(("127.0.0.1", 0), _Handler)
        self.server.state = self.state
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> LoopbackHosts:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def endpoint(self) -> str:
        """``http://127.0.0.1:<port>``."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, path: str) -> str:
        """The full URL of a path on this server."""
        return self.endpoint + path

    def add_file(self, path: str, content: bytes, kind: str = "application/octet-stream") -> str:
        """Serve ``content`` at ``path``; returns its URL."""
        self.state.files[path] = (content, kind)
        return self.url(path)

    def add_repo(self, repo: str, folder: Path) -> None:
        """Serve every file under ``folder`` as the hub repo ``repo``."""
        self.state.repos[repo] = {p.relative_to(folder).as_posix(): p.read_bytes()
                                  for p in sorted(folder.rglob("*")) if p.is_file()}
