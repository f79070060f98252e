"""API keys: which calls may run, decided before a byte of their request is read.

Keys come from API_KEYS (comma-separated) and API_KEYS_FILE (one per line, `#` comments),
the file re-read on SIGHUP without a restart. A call presents one as `authorization: Bearer
KEY` (what the openai client and Envoy's transcoded REST send) or `x-api-key: KEY`. Missing
and wrong keys get the same UNAUTHENTICATED answer, so a caller learns nothing about which
keys exist. Only SHA-256 digests of the keys are kept, compared in constant time against
every key, so neither a log line, a repr nor the timing of a refusal tells a key apart.
Health and reflection stay open by default (probes cannot send headers; API_KEYS_OPEN).
With API_KEY_RATE_LIMIT_RPS each key also has a token bucket: a key over its rate gets
RESOURCE_EXHAUSTED with a retry hint, before its request is read, whatever the other keys do.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import grpc

from ..errors import ConfigError, Overloaded, ServeError, Unauthenticated

__all__ = ["OPEN_GROUPS", "ApiKeys", "AuthInterceptor"]

log = logging.getLogger(__name__)

# API_KEYS_OPEN names groups of methods that need no key; their method path prefixes.
OPEN_GROUPS = {
    "health": ("/grpc.health.v1.Health/", "/nomic.serve.v1.EmbeddingService/Health"),
    "reflection": ("/grpc.reflection.",),
}
REFUSAL = "a valid API key is required: send `authorization: Bearer KEY` or `x-api-key: KEY`"


def _digest(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


class ApiKeys:
    """The keys accepted now (digests only), from the settings and the keys file."""

    def __init__(self, inline: Sequence[str], file: Path | None) -> None:
        self._inline = [_digest(key) for key in inline]
        self._file = file
        self._digests: list[bytes] = list(self._inline)
        if file is not None:
            try:
                self._digests = self._inline + self._read()
            except OSError as exc:
                raise ConfigError(f"API_KEYS_FILE {file}: {exc.strerror or exc}") from None

    @property
    def enabled(self) -> bool:
        """Whether calls need a key at all: any key configured, or a keys file (an empty
        file still closes the server, rather than opening it by accident)."""
        return bool(self._inline) or self._file is not None

    def __len__(self) -> int:
        return len(self._digests)

    def __repr__(self) -> str:
        return f"ApiKeys({len(self._digests)} keys)"

    def _read(self) -> list[bytes]:
        assert self._file is not None
        lines = self._file.read_text().splitlines()
        keys = [line.strip() for line in lines]
        return [_digest(key) for key in keys if key and not key.startswith("#")]

    def reload(self) -> None:
        """Re-reads the keys file (SIGHUP). An unreadable file keeps the keys in force: a
        rotation that went wrong must not lock every client out, nor let everyone in."""
        if self._file is None:
            return
        try:
            self._digests = self._inline + self._read()
        except OSError as exc:
            log.error("API_KEYS_FILE %s not reloaded: %s", self._file, exc.strerror or exc)
            return
        log.info("API keys reloaded", extra={"api_keys": len(self._digests)})

    def match(self, presented: str) -> bytes | None:
        """The digest of the key presented if it is one of ours. Compared with every key
        whatever the outcome, in constant time per key."""
        wanted = _digest(presented)
        found = None
        for digest in self._digests:
            if hmac.compare_digest(wanted, digest):
                found = digest
        return found


class KeyBuckets:
    """A token bucket per API key (by digest: at most one per configured key)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst or max(1, math.ceil(rate))
        self._buckets: dict[bytes, tuple[float, float]] = {}  # digest -> (tokens, at)

    def take(self, digest: bytes) -> bool:
        """Whether the key may make one more call now (and takes its token)."""
        now = time.monotonic()
        tokens, at = self._buckets.get(digest, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - at) * self.rate)
        if tokens < 1:
            self._buckets[digest] = (tokens, now)
            return False
        self._buckets[digest] = (tokens - 1, now)
        return True


class AuthInterceptor(grpc.aio.ServerInterceptor):
    """Refuses calls without a valid key with handlers that never read the request. Runs
    inside the RequestInterceptor, so refusals are logged and counted like any answer."""

    def __init__(
        self, keys: ApiKeys, open_groups: Iterable[str], buckets: KeyBuckets | None = None
    ) -> None:
        self._keys = keys
        self._open = tuple(prefix for group in open_groups for prefix in OPEN_GROUPS[group])
        self._buckets = buckets
        # Refusing handlers, one per method path and kind (bounded: only the server's methods).
        self._refusing: dict[tuple[str, bool], grpc.RpcMethodHandler] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        if not self._keys.enabled or method.startswith(self._open):
            return await continuation(handler_call_details)
        key = _presented(handler_call_details.invocation_metadata or ())
        digest = self._keys.match(key) if key is not None else None
        if digest is not None and (self._buckets is None or self._buckets.take(digest)):
            return await continuation(handler_call_details)
        found = await continuation(handler_call_details)
        if found is None:  # an unknown method stays UNIMPLEMENTED
            return None
        limited = digest is not None
        refusing = self._refusing.get((method, limited))
        if refusing is None:
            error = self._over_rate if limited else _unauthenticated
            refusing = _refusing(found.response_streaming, error)
            self._refusing[(method, limited)] = refusing
        return refusing

    def _over_rate(self) -> Overloaded:
        assert self._buckets is not None
        rate = self._buckets.rate
        return Overloaded(
            f"this API key is over its rate limit of {rate:g} calls a second "
            "(API_KEY_RATE_LIMIT_RPS); retry shortly",
            limit="API_KEY_RATE_LIMIT_RPS",
            retry_after_s=1 / rate,
        )


def _presented(metadata: Sequence[tuple[str, Any]]) -> str | None:
    """The key a call presents, if any; `authorization` first."""
    for name, value in metadata:
        if name == "authorization" and isinstance(value, str):
            scheme, _, token = value.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
    for name, value in metadata:
        if name == "x-api-key" and isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _unauthenticated() -> Unauthenticated:
    return Unauthenticated(REFUSAL)


def _refusing(response_streaming: bool, error: Callable[[], ServeError]) -> grpc.RpcMethodHandler:
    """A handler that raises a new `error()` without reading the request: taken as a
    client stream, grpc leaves the request's bytes unread (see codec.py's gates)."""

    async def refuse(_requests: Any, _context: Any) -> None:
        raise error()

    async def refuse_stream(_requests: Any, _context: Any) -> Any:
        raise error()
        yield  # an async generator, as a streaming handler must be

    if response_streaming:
        return grpc.stream_stream_rpc_method_handler(refuse_stream)
    return grpc.stream_unary_rpc_method_handler(refuse)
