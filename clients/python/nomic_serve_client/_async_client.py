"""The asyncio client: every call of the SDK is implemented here once (`Client` runs this one
on a private event loop)."""

from __future__ import annotations

import asyncio
import time
import warnings
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Literal, TypeVar, overload

import grpc
import numpy as np

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ._config import DEFAULT_RETRY, DEFAULT_TIMEOUT_S, DEFAULT_WINDOW, TLS, RetryPolicy
from ._exceptions import (
    DeadlineExceeded,
    ItemError,
    VersionMismatchWarning,
    code_of,
    from_rpc_error,
)
from ._images import ImageInput, as_image
from ._stream import BatchStream, EmbedResult
from ._version import __version__

__all__ = ["AsyncClient", "LongInput", "Task"]

Task = Literal["search_document", "search_query", "clustering", "classification", "none"]
LongInput = Literal["chunk", "late_chunk"]
T = TypeVar("T")

# The client takes whatever its server sends; the server holds requests to its own limit.
_CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", -1),
    ("grpc.max_send_message_length", -1),
    ("grpc.enable_retries", 0),  # retried here, by RetryPolicy, with the server's hints
]


class AsyncClient:
    """A connection to one nomic-serve (or a load balancer in front of several).

    `target` is `host:port`; `api_key` is sent as `authorization: Bearer`; `tls` is True (system
    roots) or a `TLS`; `timeout` bounds every unary call, its retries included, and how long a
    stream may go without an answer while texts are in flight."""

    def __init__(
        self,
        target: str = "localhost:50051",
        *,
        api_key: str | None = None,
        tls: TLS | bool | None = None,
        timeout: float = DEFAULT_TIMEOUT_S,
        retry: RetryPolicy = DEFAULT_RETRY,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.retry = retry
        if tls:
            credentials = (tls if isinstance(tls, TLS) else TLS()).credentials()
            self._channel = grpc.aio.secure_channel(target, credentials, _CHANNEL_OPTIONS)
        else:
            self._channel = grpc.aio.insecure_channel(target, _CHANNEL_OPTIONS)
        self._stub = rpc.EmbeddingServiceStub(self._channel)
        self._metadata = (("authorization", f"Bearer {api_key}"),) if api_key else ()
        self._info: pb.InfoResponse | None = None

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._channel.close()

    # --- text -------------------------------------------------------------------------

    @overload
    async def embed(
        self, texts: str, *, task: Task | None = ..., dim: int | None = ..., truncate: bool = ...
    ) -> np.ndarray: ...
    @overload
    async def embed(
        self,
        texts: Sequence[str],
        *,
        task: Task | None = ...,
        dim: int | None = ...,
        truncate: bool = ...,
    ) -> np.ndarray: ...
    async def embed(
        self,
        texts: str | Sequence[str],
        *,
        task: Task | None = "search_document",
        dim: int | None = None,
        truncate: bool = True,
    ) -> np.ndarray:
        """Unit-length float32 embeddings: shape [dim] for one text, [n, dim] for a sequence.
        `task` is the nomic task prefix (None: the server's DEFAULT_PREFIX). A sequence goes
        over one EmbedBatch stream (packed vectors, no list size limit); the first text that
        fails raises its ItemError."""
        await self._check_version()
        if isinstance(texts, str):
            request = pb.EmbedRequest(
                input=texts, dim=dim or 0, prefix=task or "", truncate=truncate
            )
            reply = await self._unary(self._stub.Embed, request)
            return np.array(reply.embedding, dtype=np.float32)
        rows: list[np.ndarray] = []
        async for result in self.embed_stream_results(texts, task=task, dim=dim, truncate=truncate):
            if result.error is not None:
                raise result.error
            assert result.embedding is not None
            rows.append(result.embedding)
        if not rows:
            return np.empty((0, dim or await self._native_dim()), dtype=np.float32)
        return np.stack(rows)

    async def embed_query(
        self, texts: str | Sequence[str], *, dim: int | None = None, truncate: bool = True
    ) -> np.ndarray:
        """`embed` with the search_query prefix: what a retrieval query is embedded with."""
        return await self.embed(texts, task="search_query", dim=dim, truncate=truncate)

    async def embed_stream(
        self,
        texts: Iterable[str] | AsyncIterable[str],
        *,
        task: Task | None = "search_document",
        dim: int | None = None,
        truncate: bool = True,
        window: int = DEFAULT_WINDOW,
        on_error: Literal["raise", "none"] = "raise",
    ) -> AsyncIterator[np.ndarray | None]:
        """One vector per text, in order, with at most `window` texts in flight. A text that
        fails raises its ItemError (`on_error="raise"`) or yields None (`"none"`)."""
        async for result in self.embed_stream_results(
            texts, task=task, dim=dim, truncate=truncate, window=window
        ):
            if result.error is not None and on_error == "raise":
                raise result.error
            yield result.embedding

    async def embed_stream_results(
        self,
        texts: Iterable[str] | AsyncIterable[str],
        *,
        task: Task | None = "search_document",
        dim: int | None = None,
        truncate: bool = True,
        window: int = DEFAULT_WINDOW,
        long_input: LongInput | None = None,
        chunk_tokens: int = 0,
        chunk_overlap: int = 0,
    ) -> AsyncIterator[EmbedResult]:
        """`embed_stream` with each text's token count, truncation flag and error. With
        `long_input` ("chunk" or "late_chunk") each result has `chunks` instead of one
        `embedding` (see the server's README, "Long documents")."""
        await self._check_version()
        prefix, size = task or "", dim or 0

        def request(text: str) -> pb.EmbedBatchRequest:
            return pb.EmbedBatchRequest(
                input=text,
                dim=size,
                prefix=prefix,
                truncate=truncate,
                long_input=long_input or "",
                chunk_tokens=chunk_tokens,
                chunk_overlap=chunk_overlap,
            )

        stream = BatchStream(
            _mapped(texts, request),
            lambda: self._stub.EmbedBatch(metadata=self._metadata),
            window=window,
            policy=self.retry,
            idle_timeout_s=self.timeout,
        )
        async for result in stream.results():
            yield result

    # --- images -----------------------------------------------------------------------

    async def embed_images(
        self, images: ImageInput | Sequence[ImageInput], *, dim: int | None = None
    ) -> np.ndarray:
        """Unit-length float32 embeddings of images (paths, URLs, data URLs, bytes or PIL
        images): shape [dim] for one, [n, dim] for a sequence, sent in requests of at most the
        server's IMAGE_MAX_PER_REQUEST images and gRPC message size."""
        await self._check_version()
        if not isinstance(images, Sequence) or isinstance(images, (str, bytes, bytearray)):
            content, data = as_image(images)
            request = pb.ImageEmbedRequest(dim=dim or 0)
            if content:
                request.content = content
            else:
                request.data = data
            reply = await self._unary(self._stub.ImageEmbed, request)
            return np.array(reply.embedding, dtype=np.float32)
        limits = (await self._server()).limits
        rows: list[np.ndarray] = []
        for start, chunk in _chunks(
            [as_image(image) for image in images],
            limits.image_max_per_request or 16,
            limits.grpc_max_message_bytes or 32 << 20,
        ):
            rows.extend(await self._image_chunk(start, chunk, dim or 0))
        if not rows:
            return np.empty((0, dim or 0), dtype=np.float32)
        return np.stack(rows)

    async def _image_chunk(
        self, start: int, chunk: list[tuple[str, bytes]], dim: int
    ) -> list[np.ndarray]:
        # The contract orders an ImageEmbedList's `contents` before its `data`.
        order = [i for i, (content, _) in enumerate(chunk) if content]
        order += [i for i, (content, _) in enumerate(chunk) if not content]
        request = pb.ImageEmbedListRequest(
            contents=[content for content, _ in chunk if content],
            data=[data for content, data in chunk if not content],
            dim=dim,
        )
        reply = await self._unary(self._stub.ImageEmbedList, request)
        if reply.errors:
            first = reply.errors[0]
            raise ItemError(
                start + order[first.index], code_of(first.status.code), first.status.message
            )
        rows: list[np.ndarray] = [np.empty(0)] * len(chunk)
        for position, vector in zip(order, reply.embeddings, strict=True):
            rows[position] = np.array([v.number_value for v in vector.values], dtype=np.float32)
        return rows

    async def image_stats(
        self, image: ImageInput, *, averaging: Literal["arithmetic", "geometric"] | None = None
    ) -> pb.ImageStatsResponse:
        """EXIF data and colour statistics of one image."""
        content, data = as_image(image)
        request = pb.ImageStatsRequest(averaging_method=averaging or "")
        if content:
            request.content = content
        else:
            request.data = data
        return await self._unary(self._stub.ImageStats, request)

    # --- the server -------------------------------------------------------------------

    async def health(self) -> pb.HealthResponse:
        return await self._unary(self._stub.Health, pb.HealthRequest())

    async def info(self) -> pb.InfoResponse:
        """The server's configuration, models and limits (always asked afresh)."""
        info: pb.InfoResponse = await self._unary(self._stub.Info, pb.InfoRequest())
        self._info = info
        return info

    async def _server(self) -> pb.InfoResponse:
        if self._info is None:
            info = await self.info()
            _warn_on_mismatch(info.version, self.target)
            return info
        return self._info

    async def _check_version(self) -> None:
        await self._server()

    async def _native_dim(self) -> int:
        return (await self._server()).text.dimension

    async def _unary(self, method: Callable[..., Awaitable[T]], request: object) -> T:
        """One call with retries (RetryPolicy), all of them within `timeout`."""
        deadline = time.monotonic() + self.timeout
        attempt = 0
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            try:
                return await method(request, timeout=max(remaining, 0.001), metadata=self._metadata)
            except grpc.aio.AioRpcError as error:
                failure = from_rpc_error(error)
            if not RetryPolicy.retryable(failure.code, failure.retry_after_s):
                raise failure
            wait = self.retry.backoff_s(attempt, failure.retry_after_s)
            if attempt >= self.retry.attempts:
                raise failure
            if time.monotonic() + wait >= deadline:
                raise DeadlineExceeded(
                    grpc.StatusCode.DEADLINE_EXCEEDED,
                    f"gave up after {attempt} attempts within {self.timeout:g} s: {failure}",
                ) from failure
            await asyncio.sleep(wait)


def _warn_on_mismatch(server: str, target: str) -> None:
    if server.split(".")[:2] != __version__.split(".")[:2]:
        warnings.warn(
            f"nomic-serve at {target} runs version {server}, this client is {__version__}: "
            "install nomic-serve-client of the server's version",
            VersionMismatchWarning,
            stacklevel=4,
        )


async def _mapped(
    texts: Iterable[str] | AsyncIterable[str], request: Callable[[str], pb.EmbedBatchRequest]
) -> AsyncIterator[pb.EmbedBatchRequest]:
    if isinstance(texts, AsyncIterable):
        async for text in texts:
            yield request(text)
    else:
        for text in texts:
            if not isinstance(text, str):
                raise TypeError(f"texts must be strings, not {type(text).__name__}")
            yield request(text)


def _chunks(
    items: list[tuple[str, bytes]], most: int, max_bytes: int
) -> Iterable[tuple[int, list[tuple[str, bytes]]]]:
    """Runs of at most `most` images whose bytes stay under `max_bytes` (less a margin for
    the framing); one image over it goes alone, for the server to refuse with its reason."""
    start, size = 0, 0
    chunk: list[tuple[str, bytes]] = []
    for index, item in enumerate(items):
        length = len(item[0]) + len(item[1]) + 16
        if chunk and (len(chunk) >= most or size + length > max_bytes - 4096):
            yield start, chunk
            start, chunk, size = index, [], 0
        chunk.append(item)
        size += length
    if chunk:
        yield start, chunk
