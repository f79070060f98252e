"""The clients a framework integration calls through: one blocking `Client` for the sync
methods and one `AsyncClient` per event loop for the async ones, made on first use.

Frameworks call the async methods from whatever loop the application runs (and tests run
several), while a grpc.aio channel belongs to the loop it was made on: so one per loop,
dropped with its loop. Nothing is connected before the first call, so building an
embeddings object (as frameworks do at import or configuration time) costs nothing."""

from __future__ import annotations

import asyncio
import threading
import weakref
from dataclasses import dataclass, field

import numpy as np

from ._async_client import AsyncClient, Task
from ._client import Client
from ._config import DEFAULT_RETRY, DEFAULT_TIMEOUT_S, TLS, RetryPolicy

__all__ = ["Connections"]


@dataclass
class Connections:
    target: str = "localhost:50051"
    api_key: str | None = None
    tls: TLS | bool | None = None
    timeout: float = DEFAULT_TIMEOUT_S
    retry: RetryPolicy = DEFAULT_RETRY
    _client: Client | None = field(default=None, init=False, repr=False)
    _async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, AsyncClient] = field(
        default_factory=weakref.WeakKeyDictionary, init=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False, repr=False)

    def blocking(self) -> Client:
        with self._lock:
            if self._client is None:
                self._client = Client(
                    self.target,
                    api_key=self.api_key,
                    tls=self.tls,
                    timeout=self.timeout,
                    retry=self.retry,
                )
            return self._client

    def awaiting(self) -> AsyncClient:
        """The AsyncClient of the running loop (call it from a coroutine)."""
        loop = asyncio.get_running_loop()
        client = self._async.get(loop)
        if client is None:
            client = AsyncClient(
                self.target,
                api_key=self.api_key,
                tls=self.tls,
                timeout=self.timeout,
                retry=self.retry,
            )
            self._async[loop] = client
        return client

    def embed(self, texts: list[str], task: Task, dim: int | None) -> list[list[float]]:
        return _rows(self.blocking().embed(texts, task=task, dim=dim))

    async def aembed(self, texts: list[str], task: Task, dim: int | None) -> list[list[float]]:
        return _rows(await self.awaiting().embed(texts, task=task, dim=dim))

    def close(self) -> None:
        """Closes the blocking client; async ones close with `aclose` from their loop."""
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    async def aclose(self) -> None:
        client = self._async.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


def _rows(vectors: np.ndarray) -> list[list[float]]:
    """Frameworks take lists of Python floats (they serialize or compare them as such)."""
    rows: list[list[float]] = vectors.tolist()
    return rows
