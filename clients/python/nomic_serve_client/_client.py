"""The blocking client: an `AsyncClient` on a private event loop in a daemon thread.

One implementation serves both surfaces, so they cannot drift apart; a blocking call costs
one hand-off to that thread and back (tens of microseconds, against a gRPC round trip of a
millisecond or more). Calls from several threads share the one channel safely.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Coroutine, Iterable, Iterator, Sequence
from typing import Any, Literal, TypeVar

import numpy as np

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ._async_client import AsyncClient, LongInput, Task
from ._config import DEFAULT_RETRY, DEFAULT_TIMEOUT_S, DEFAULT_WINDOW, TLS, RetryPolicy
from ._images import ImageInput
from ._stream import EmbedResult

__all__ = ["Client"]

T = TypeVar("T")


class Client:
    """The same surface as `AsyncClient`, blocking. Use it as a context manager, or `close()`."""

    def __init__(
        self,
        target: str = "localhost:50051",
        *,
        api_key: str | None = None,
        tls: TLS | bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._loop.run_forever, name="nomic-serve-client", daemon=True
        )
        self._thread.start()

        async def build() -> AsyncClient:  # grpc.aio channels belong to the loop they start on
            return AsyncClient(target, api_key=api_key, tls=tls, timeout=timeout, retry=retry)

        self._async = self._run(build())
        self.target, self.timeout, self.retry = target, timeout, retry

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        self._run(self._async.aclose())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def embed(
        self,
        texts: str | Sequence[str],
        *,
        task: Task | None = "search_document",
        dim: int | None = None,
        truncate: bool = True,
    ) -> np.ndarray:
        """See `AsyncClient.embed`."""
        return self._run(self._async.embed(texts, task=task, dim=dim, truncate=truncate))

    def embed_query(
        self, texts: str | Sequence[str], *, dim: int | None = None, truncate: bool = True
    ) -> np.ndarray:
        return self._run(self._async.embed_query(texts, dim=dim, truncate=truncate))

    def embed_stream(
        self,
        texts: Iterable[str],
        *,
        task: Task | None = "search_document",
        dim: int | None = None,
        truncate: bool = True,
        window: int = DEFAULT_WINDOW,
        on_error: Literal["raise", "none"] = "raise",
    ) -> Iterator[np.ndarray | None]:
        """See `AsyncClient.embed_stream`; `texts` is pulled on the client's own thread."""
        return self._iterate(
            self._async.embed_stream(
                texts, task=task, dim=dim, truncate=truncate, window=window, on_error=on_error
            )
        )

    def embed_stream_results(
        self,
        texts: Iterable[str],
        *,
        task: Task | None = "search_document",
        dim: int | None = None,
        truncate: bool = True,
        window: int = DEFAULT_WINDOW,
        long_input: LongInput | None = None,
        chunk_tokens: int = 0,
        chunk_overlap: int = 0,
    ) -> Iterator[EmbedResult]:
        return self._iterate(
            self._async.embed_stream_results(
                texts,
                task=task,
                dim=dim,
                truncate=truncate,
                window=window,
                long_input=long_input,
                chunk_tokens=chunk_tokens,
                chunk_overlap=chunk_overlap,
            )
        )

    def embed_images(
        self, images: ImageInput | Sequence[ImageInput], *, dim: int | None = None
    ) -> np.ndarray:
        return self._run(self._async.embed_images(images, dim=dim))

    def image_stats(
        self, image: ImageInput, *, averaging: Literal["arithmetic", "geometric"] | None = None
    ) -> pb.ImageStatsResponse:
        return self._run(self._async.image_stats(image, averaging=averaging))

    def health(self) -> pb.HealthResponse:
        return self._run(self._async.health())

    def info(self) -> pb.InfoResponse:
        return self._run(self._async.info())

    def _iterate(self, results: AsyncIterator[T]) -> Iterator[T]:
        """A blocking view of an async generator; leaving the loop early closes it (and its
        stream) on the client's thread."""
        try:
            while True:
                try:
                    yield self._run(_next(results))
                except StopAsyncIteration:
                    return
        finally:
            self._run(results.aclose())  # type: ignore[attr-defined]


async def _next(results: AsyncIterator[T]) -> T:
    return await results.__anext__()
