"""HTTP Basic authentication for the API routes (the WebUI's --api-auth does not cover extension routes)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from typing import Union

from fastapi import Depends, HTTPException
from fastapi.security import HTTPBasic, HTTPBasicCredentials

REALM = "deforum"
AuthSpec = Union[str, Mapping[str, str]]


def parse_credentials(spec: AuthSpec) -> dict[str, str]:
    """`user:pass,user2:pass2` (the WebUI's --api-auth form) or a mapping, as {user: password}."""
    if isinstance(spec, Mapping):
        pairs = dict(spec)
    else:
        pairs = {}
        for item in (part.strip() for part in spec.split(",")):
            user, sep, password = item.partition(":")
            if not item or not sep or not user:
                raise ValueError(f"Bad credentials {item!r}: expected user:password (several separated by commas).")
            pairs[user] = password
    if not pairs:
        raise ValueError("No credentials given: expected user:password (several separated by commas).")
    return pairs


def _digest(text: str) -> bytes:
    """A fixed-length digest, so comparisons take the same time whatever the lengths."""
    return hashlib.sha256(text.encode("utf-8")).digest()


def credentials_match(known: Mapping[str, str], username: str, password: str) -> bool:
    """Constant-time check of a username/password against every known pair."""
    user, secret = _digest(username), _digest(password)
    matched = False
    for known_user, known_password in known.items():
        same_user = secrets.compare_digest(user, _digest(known_user))
        same_password = secrets.compare_digest(secret, _digest(known_password))
        matched |= same_user & same_password
    return matched


def basic_auth(spec: AuthSpec) -> Callable[..., str]:
    """A FastAPI dependency: 401 with WWW-Authenticate unless the request carries known Basic credentials."""
    known = parse_credentials(spec)
    scheme = HTTPBasic(auto_error=False, realm=REALM, description="The server's --auth user:password.")
    challenge = {"WWW-Authenticate": f'Basic realm="{REALM}"'}

    def require_credentials(credentials: HTTPBasicCredentials | None = Depends(scheme)) -> str:
        """The authenticated user name."""
        if credentials is None or not credentials_match(known, credentials.username, credentials.password):
            raise HTTPException(status_code=401, detail="Authentication required: HTTP Basic user:password.",
                                headers=challenge)
        return credentials.username

    return require_credentials
