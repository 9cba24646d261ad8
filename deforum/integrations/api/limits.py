"""Request limits on Deforum's own routes: a body-size cap (413) and JSON nesting/number limits (422)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from deforum.config.json_limits import loads_limited

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
BODY_METHODS = ("POST", "PUT", "PATCH")


def _too_large(limit: int) -> JSONResponse:
    """The 413 answer."""
    return JSONResponse(status_code=413, content={"message": f"The request body is larger than {limit} bytes "
                                                             "(the server's --max-body-mb). Send smaller settings."})


async def _read_limited(request: Request, limit: int) -> bytes | None:
    """The body, read as it arrives and abandoned past `limit` bytes (None then)."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def _parse_limited(request: Request, body: bytes) -> JSONResponse | None:
    """Pre-parse a JSON body with the nesting and digit limits; a 422 answer when they are exceeded."""
    if not body:
        return None
    try:
        request._json = loads_limited(body.decode("utf-8"))  # the parsed body FastAPI then uses
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None  # FastAPI answers invalid JSON itself
    except ValueError as err:
        return JSONResponse(status_code=422, content={"message": f"The request body is not usable JSON: {err}.",
                                                      "detail": [{"loc": ["body"], "msg": str(err),
                                                                  "type": "value_error"}]})
    return None


def limited_route_class(max_body_bytes: int = DEFAULT_MAX_BODY_BYTES) -> type[APIRoute]:
    """An APIRoute class whose routes refuse bodies over `max_body_bytes` (413) and JSON nested too deeply (422)."""

    class LimitedRoute(APIRoute):
        """A route that reads at most max_body_bytes of its request body."""

        def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
            """Wrap FastAPI's handler with the body checks."""
            handler = super().get_route_handler()

            async def limited(request: Request) -> Response:
                if request.method not in BODY_METHODS:
                    return await handler(request)
                length = request.headers.get("content-length", "")
                if length and (not length.isdigit() or int(length) > max_body_bytes):
                    return _too_large(max_body_bytes)
                body = await _read_limited(request, max_body_bytes)
                if body is None:
                    return _too_large(max_body_bytes)
                request._body = body
                refused = _parse_limited(request, body)
                return refused if refused is not None else await handler(request)

            return limited

    return LimitedRoute
