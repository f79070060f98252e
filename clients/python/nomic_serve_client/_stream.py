"""Bulk embedding over the EmbedBatch stream: a bounded window in flight, results in order.

At most `window` texts are between the source and the caller at any time (sent, answered
but waiting for an earlier one, or waiting to be sent again), so a corpus of any size is
never held in memory; the server's own read-ahead window and HTTP/2 flow control slow the
writer further when it is busy. Two failures are absorbed instead of surfaced:
- an item refused for overload (RESOURCE_EXHAUSTED with a retry hint) is sent again after
  the hint, on the same stream, while later items go on;
- a stream that breaks (UNAVAILABLE: the server restarted, a replica went away) is opened
  again, and every item sent on it but not yet answered is sent again first.
Both are bounded by the retry policy's attempts; a stream that makes progress starts
counting again. Everything else an item gets is its own `ItemError`, in its place.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TypeVar

import grpc
import numpy as np
from google.rpc import error_details_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ._config import RetryPolicy
from ._exceptions import DeadlineExceeded, ItemError, code_of, from_rpc_error

__all__ = ["Chunk", "EmbedResult"]

_END = object()
T = TypeVar("T")


@dataclass(frozen=True)
class Chunk:
    """One chunk of a long text: its vector and where it is, in the text's own tokens and in
    its characters (`text[char_start:char_end]`)."""

    embedding: np.ndarray  # float32, unit length
    token_start: int
    token_end: int
    char_start: int
    char_end: int


@dataclass(frozen=True)
class EmbedResult:
    """One text's answer: its vector (or its chunks, with `long_input`), or the error that
    text alone got."""

    index: int  # position in the caller's iterable, from 0
    embedding: np.ndarray | None  # float32, unit length; None when `error` is set or chunked
    tokens: int
    truncated: bool
    error: ItemError | None = None
    chunks: tuple[Chunk, ...] = ()


@dataclass
class _Entry:
    seq: int
    request: pb.EmbedBatchRequest
    tries: int = 0
    not_before: float = 0.0


OpenStream = Callable[[], grpc.aio.StreamStreamCall]


class BatchStream:
    """One bulk job: `results()` yields an EmbedResult per source text, in source order."""

    def __init__(
        self,
        source: Iterable[pb.EmbedBatchRequest] | AsyncIterable[pb.EmbedBatchRequest],
        open_stream: OpenStream,
        *,
        window: int,
        policy: RetryPolicy,
        idle_timeout_s: float | None,
    ) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._source = source
        self._open = open_stream
        self._window = window
        self._policy = policy
        self._idle_timeout_s = idle_timeout_s
        self._pull = asyncio.Lock()
        self._changed = asyncio.Condition()
        self._resend: deque[_Entry] = deque()  # in seq order
        self._sent: deque[_Entry] = deque()  # on the current stream, in the order sent
        self._answered: dict[int, EmbedResult] = {}
        self._next_in = 0  # seq of the next text taken from the source
        self._next_out = 0  # seq of the next result the caller gets
        self._exhausted = False
        self._stream = 0  # which stream is current; a writer of an older one stops

    async def results(self) -> AsyncIterator[EmbedResult]:
        source = _aiter(self._source)
        failures = 0
        while True:
            call = self._open()
            self._stream += 1
            writer = asyncio.create_task(self._write(call, source, self._stream))
            try:
                async for result in self._read(call, writer):
                    failures = 0
                    yield result
                if self._next_out == self._next_in and self._exhausted:
                    return
                raise RuntimeError("the server ended the stream with texts unanswered")
            except grpc.aio.AioRpcError as error:
                failure = from_rpc_error(error)
                failures += 1
                if (
                    not RetryPolicy.retryable(failure.code, None)
                    or failures >= self._policy.attempts
                ):
                    raise failure from None
                await self._restart(self._policy.backoff_s(failures, failure.retry_after_s))
            finally:
                writer.cancel()
                call.cancel()

    async def _restart(self, wait_s: float) -> None:
        async with self._changed:
            self._stream += 1  # the old writer stops at its next step
            self._resend = deque(sorted([*self._sent, *self._resend], key=lambda e: e.seq))
            self._sent.clear()
            self._changed.notify_all()
        await asyncio.sleep(wait_s)

    async def _write(
        self,
        call: grpc.aio.StreamStreamCall,
        source: AsyncIterator[pb.EmbedBatchRequest],
        stream: int,
    ) -> None:
        try:
            while (entry := await self._take(source, stream)) is not None:
                await call.write(entry.request)
            if self._stream == stream:
                await call.done_writing()
        except (grpc.RpcError, asyncio.InvalidStateError):
            pass  # the call is over: the reader reports why, and the entry is sent again

    async def _take(
        self, source: AsyncIterator[pb.EmbedBatchRequest], stream: int
    ) -> _Entry | None:
        """The next entry to send on `stream`, marked as sent; None once every text has been
        answered for good (none can come back refused to go again) or the stream is no
        longer current."""
        while True:
            async with self._changed:
                await self._changed.wait_for(
                    lambda: (
                        self._stream != stream
                        or bool(self._resend)
                        or (not self._exhausted and self._next_in - self._next_out < self._window)
                        or (self._exhausted and not self._sent)
                    )
                )
                if self._stream != stream:
                    return None
                if self._resend:
                    entry = self._resend.popleft()
                    self._sent.append(entry)  # before the wait: a restart meanwhile resends it
                elif self._exhausted:
                    return None
                else:
                    entry = None
            if entry is not None:
                delay = entry.not_before - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                return entry if self._stream == stream else None
            async with self._pull:
                request = await anext(source, _END)
                async with self._changed:
                    if request is _END:
                        self._exhausted = True
                        self._changed.notify_all()
                        continue  # items refused for overload may still come back
                    assert isinstance(request, pb.EmbedBatchRequest)
                    entry = _Entry(self._next_in, request)
                    self._next_in += 1
                    if self._stream != stream:
                        self._resend.append(entry)  # taken for a stream that is gone
                        return None
                    self._sent.append(entry)
                    return entry

    async def _read(
        self, call: grpc.aio.StreamStreamCall, writer: asyncio.Task[None]
    ) -> AsyncIterator[EmbedResult]:
        while True:
            response = await self._next_response(call, writer)
            if response is grpc.aio.EOF:
                return
            assert isinstance(response, pb.EmbedBatchResponse)
            async with self._changed:
                entry = self._sent.popleft()
                if response.HasField("error") and self._again(entry, response.error):
                    self._resend.append(entry)
                    self._resend = deque(sorted(self._resend, key=lambda e: e.seq))
                else:
                    self._answered[entry.seq] = _result(entry.seq, response)
                self._changed.notify_all()
            while self._next_out in self._answered:
                result = self._answered.pop(self._next_out)
                async with self._changed:
                    self._next_out += 1
                    self._changed.notify_all()
                yield result
            if self._exhausted and self._next_out == self._next_in:
                return

    def _again(self, entry: _Entry, status: object) -> bool:
        """Whether an item refused for overload is sent again (after the server's hint)."""
        code = code_of(status.code)  # type: ignore[attr-defined]
        hint = _status_retry_after(status)
        entry.tries += 1
        if not RetryPolicy.retryable(code, hint) or entry.tries >= self._policy.attempts:
            return False
        entry.not_before = time.monotonic() + self._policy.backoff_s(entry.tries, hint)
        return True

    async def _next_response(
        self, call: grpc.aio.StreamStreamCall, writer: asyncio.Task[None]
    ) -> object:
        """The next response; DeadlineExceeded when texts are in flight and none has been
        answered for `idle_timeout_s` (a stream has no deadline of its own: a job runs for
        hours, but a server that stops answering must not hang it). What the source raised
        (an unreadable file) is raised here."""
        read = asyncio.ensure_future(call.read())
        try:
            while True:
                waited = {read} if writer.done() else {read, writer}
                done, _ = await asyncio.wait(
                    waited, timeout=self._idle_timeout_s, return_when=asyncio.FIRST_COMPLETED
                )
                if writer in done and not writer.cancelled() and writer.exception() is not None:
                    raise writer.exception()  # type: ignore[misc]
                if read in done:
                    return read.result()
                if done:
                    continue  # the writer finished: the answers are still to come
                if self._sent:
                    raise DeadlineExceeded(
                        grpc.StatusCode.DEADLINE_EXCEEDED,
                        f"no answer for {self._idle_timeout_s:g} s with "
                        f"{len(self._sent)} texts in flight",
                    )
        finally:
            read.cancel()


def _result(seq: int, response: pb.EmbedBatchResponse) -> EmbedResult:
    if response.HasField("error"):
        error = ItemError(seq, code_of(response.error.code), response.error.message)
        return EmbedResult(seq, None, 0, False, error)
    if response.HasField("chunks"):
        chunks = tuple(
            Chunk(
                np.array(c.embedding, dtype=np.float32),
                c.token_start,
                c.token_end,
                c.char_start,
                c.char_end,
            )
            for c in response.chunks.chunks
        )
        return EmbedResult(seq, None, response.tokens, response.truncated, chunks=chunks)
    vector = np.array(response.embedding, dtype=np.float32)
    return EmbedResult(seq, vector, response.tokens, response.truncated)


def _status_retry_after(status: object) -> float | None:
    for detail in status.details:  # type: ignore[attr-defined]
        info = error_details_pb2.RetryInfo()
        if detail.Unpack(info):
            return info.retry_delay.ToNanoseconds() / 1e9
    return None


async def _aiter(source: Iterable[T] | AsyncIterable[T]) -> AsyncIterator[T]:
    """An async view of either kind of iterable. A plain iterable is pulled on the event loop:
    reading a file line by line is quicker than a hop to a thread."""
    if isinstance(source, AsyncIterable):
        async for item in source:
            yield item
    else:
        iterator: Iterator[T] = iter(source)
        for item in iterator:
            yield item
