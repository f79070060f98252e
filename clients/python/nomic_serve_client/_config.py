"""How a client connects and retries: small value objects with named defaults."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

import grpc

__all__ = ["DEFAULT_RETRY", "DEFAULT_TIMEOUT_S", "DEFAULT_WINDOW", "TLS", "RetryPolicy"]

DEFAULT_TIMEOUT_S = 60.0
DEFAULT_WINDOW = 256  # stream items in flight: enough to keep a server's batches full


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with full jitter. Only UNAVAILABLE (no server, or one draining)
    and RESOURCE_EXHAUSTED *with* a retry hint (overload; the hint is then the shortest
    wait) are retried: a request over a limit gets the same answer every time."""

    attempts: int = 5  # in all, the first one included
    initial_backoff_s: float = 0.1
    max_backoff_s: float = 5.0
    multiplier: float = 2.0

    def backoff_s(self, attempt: int, hint_s: float | None) -> float:
        """How long to wait after failed attempt number `attempt` (counting from 1)."""
        ceiling = min(self.max_backoff_s, self.initial_backoff_s * self.multiplier ** (attempt - 1))
        wait = random.uniform(0, ceiling)
        return max(wait, hint_s) if hint_s is not None else wait

    @staticmethod
    def retryable(code: grpc.StatusCode, hint_s: float | None) -> bool:
        if code == grpc.StatusCode.UNAVAILABLE:
            return True
        return code == grpc.StatusCode.RESOURCE_EXHAUSTED and hint_s is not None


DEFAULT_RETRY = RetryPolicy()
NO_RETRY = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class TLS:
    """TLS to the server: `ca` verifies it (system roots when None); `cert` and `key` are
    this client's certificate for mTLS (TLS_CLIENT_CA on the server)."""

    ca: Path | str | None = None
    cert: Path | str | None = None
    key: Path | str | None = None

    def credentials(self) -> grpc.ChannelCredentials:
        def read(path: Path | str | None) -> bytes | None:
            return Path(path).read_bytes() if path is not None else None

        return grpc.ssl_channel_credentials(read(self.ca), read(self.key), read(self.cert))
