"""CORS origins as the original server defined them: exact origins, never permissive by accident.

`CORS_ORIGINS` replaces the localhost defaults; invalid entries are ignored and logged, and
if none is valid the defaults apply again. Only `DISABLE_CORS` allows every origin.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["DEFAULT_ORIGINS", "CorsPolicy", "cors_policy"]

log = logging.getLogger(__name__)

DEFAULT_ORIGINS = (
    "http://localhost:3000",
    "http://localhost:8080",
    "http://127.0.0.1:3000",
    "http://127.0.0.1:8080",
)


@dataclass(frozen=True)
class CorsPolicy:
    """Which origins browsers may call from; `origins` is empty when every origin may."""

    allow_all: bool
    origins: tuple[str, ...]


def cors_policy(cors_origins: str | None, disable_cors: bool) -> CorsPolicy:
    if disable_cors:
        return CorsPolicy(allow_all=True, origins=())
    if cors_origins is None:
        return CorsPolicy(allow_all=False, origins=DEFAULT_ORIGINS)
    valid = []
    for entry in (part.strip() for part in cors_origins.split(",")):
        if not entry:
            continue
        origin = _origin(entry)
        if origin is None:
            log.warning("CORS_ORIGINS: ignoring invalid origin %r", entry)
        elif origin not in valid:
            valid.append(origin)
    if not valid:
        log.warning("CORS_ORIGINS holds no valid origin; using the localhost defaults")
        return CorsPolicy(allow_all=False, origins=DEFAULT_ORIGINS)
    return CorsPolicy(allow_all=False, origins=tuple(valid))


def _origin(entry: str) -> str | None:
    """`scheme://host[:port]`, lowercased, or None when the entry is not exactly an origin."""
    if "*" in entry:
        return None
    try:
        parts = urlsplit(entry)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return None
    if parts.username or parts.password or parts.query or parts.fragment:
        return None
    if parts.path not in ("", "/"):
        return None
    host = parts.hostname if ":" not in parts.hostname else f"[{parts.hostname}]"
    return f"{parts.scheme}://{host}" + (f":{port}" if port is not None else "")
