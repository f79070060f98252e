"""The batch scheduler: owns the texts waiting for one model and cuts them into batches.

Modelled on TEI's queue: every admitted text becomes an Entry with a future; worker tasks
take the next batch as soon as they are free (no fixed waiting window), run it on the
inference pool and resolve the futures. The queue is bounded in texts, so a burst beyond it
is refused at once with a retry hint instead of queuing without bound.

A batch is cut around the oldest entry: the queue is sorted by token count and the batch
grows from the oldest entry towards the neighbours closest in length, while the padded size
(longest x count) stays within the token budget. Similar lengths keep padding small; always
including the oldest entry means a long text is never starved by a stream of short ones.
When batching is inexact for the model (dynamic activation quantization), every batch is a
single entry and several workers run at once, one core each; a batch that runs alone
(nothing else running or queued) is flagged so the engine may give it every core.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import DeadlineExceeded, Overloaded
from .types import TokenizedText

__all__ = ["BatchLimits", "Scheduled", "TextScheduler"]

# Runs one batch on a worker thread: encoded texts in, one pooled vector per text out. The
# flag says the batch runs alone (no other batch running or queued).
InferBatch = Callable[[list[TokenizedText], bool], list[np.ndarray]]


@dataclass(frozen=True)
class BatchLimits:
    """How batches are cut and how much may wait (all configurable, reported by Info)."""

    batched: bool  # False: every input alone (the model's graph interferes across a batch)
    workers: int  # batches run at once
    max_queued: int  # texts waiting at most; beyond it Overloaded
    max_batch_size: int  # texts per batch
    max_batch_tokens: int  # padded tokens per batch: longest x count
    max_padding_ratio: float = 1.5  # padded tokens / real tokens a batch may reach
    batch_wait_s: float = 0.0  # optional pause to let a batch fill; 0: cut at once


@dataclass(eq=False)
class _Entry:
    encoded: TokenizedText
    future: asyncio.Future[np.ndarray]
    deadline: float | None  # loop time after which nobody wants the result
    inference_ms: float = 0.0  # of the batch that served it


@dataclass(frozen=True)
class Scheduled:
    """Pooled vectors in submission order, and where the time went."""

    pooled: list[np.ndarray]
    queue_ms: float
    inference_ms: float


class TextScheduler:
    """One model's queue and its worker tasks; `submit` is the only way in."""

    def __init__(self, infer: InferBatch, limits: BatchLimits, pool: ThreadPoolExecutor) -> None:
        self.limits = limits
        self._infer = infer
        self._pool = pool
        self._queue: list[_Entry] = []  # arrival order
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0  # batches on the inference pool now
        self._item_seconds = 0.01  # moving average of inference time per text: the retry hint

    @property
    def queued(self) -> int:
        return len(self._queue)

    async def submit(self, encoded: Sequence[TokenizedText], deadline: float | None) -> Scheduled:
        """Queues the texts and waits for their pooled vectors (Overloaded when full)."""
        if len(self._queue) + len(encoded) > self.limits.max_queued:
            raise Overloaded(
                f"server is busy: {len(self._queue)} texts queued, limit "
                f"{self.limits.max_queued} (MAX_PENDING_ITEMS); retry shortly",
                retry_after_s=self._retry_after(),
            )
        self._start_workers()
        loop = asyncio.get_running_loop()
        entries = [_Entry(item, loop.create_future(), deadline) for item in encoded]
        self._queue.extend(entries)
        self._wake.set()
        started = time.perf_counter()
        try:
            pooled = await asyncio.gather(*(entry.future for entry in entries))
        except BaseException:
            for entry in entries:
                entry.future.cancel()  # still queued: the workers skip it
            raise
        inference_ms = max(entry.inference_ms for entry in entries)
        total_ms = (time.perf_counter() - started) * 1000
        return Scheduled(list(pooled), max(total_ms - inference_ms, 0.0), inference_ms)

    async def aclose(self) -> None:
        for worker in self._workers:
            worker.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)

    def _start_workers(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(), name=f"scheduler-{i}")
                for i in range(self.limits.workers)
            ]

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = self._next_batch(loop.time())
            if not batch:
                self._wake.clear()
                await self._wake.wait()
                if self.limits.batch_wait_s:
                    await asyncio.sleep(self.limits.batch_wait_s)
                continue
            if self._queue:
                self._wake.set()  # more work: let an idle worker take it
            alone = self._running == 0 and not self._queue
            self._running += 1
            started = time.perf_counter()
            try:
                pooled = await loop.run_in_executor(
                    self._pool, self._infer, [entry.encoded for entry in batch], alone
                )
            except Exception as error:  # the engine's own errors: every entry of the batch
                for entry in batch:
                    if not entry.future.done():
                        entry.future.set_exception(error)
                continue
            finally:
                self._running -= 1
            elapsed = time.perf_counter() - started
            self._item_seconds = 0.8 * self._item_seconds + 0.2 * elapsed / len(batch)
            for entry, vector in zip(batch, pooled, strict=True):
                if not entry.future.done():
                    entry.inference_ms = elapsed * 1000
                    entry.future.set_result(vector)

    def _next_batch(self, now: float) -> list[_Entry]:
        """Drops entries nobody waits for, then cuts the next batch (empty when idle)."""
        live = []
        for entry in self._queue:
            if entry.future.done():
                continue  # cancelled: the caller went away
            if entry.deadline is not None and entry.deadline <= now:
                entry.future.set_exception(
                    DeadlineExceeded("the deadline passed while the text was queued")
                )
                continue
            live.append(entry)
        if not live:
            self._queue = []
            return []
        batch = [live[0]] if not self.limits.batched else self._around_oldest(live)
        chosen = set(map(id, batch))
        self._queue = [entry for entry in live if id(entry) not in chosen]
        return batch

    def _around_oldest(self, live: list[_Entry]) -> list[_Entry]:
        by_length = sorted(live, key=lambda entry: entry.encoded.tokens)
        lengths = [entry.encoded.tokens for entry in by_length]
        start = bisect.bisect_left(lengths, live[0].encoded.tokens)
        low = high = next(i for i in range(start, len(by_length)) if by_length[i] is live[0])
        while high - low + 1 < self.limits.max_batch_size:
            grown = self._grow(lengths, low, high)
            if grown is None:
                break
            low, high = grown
        return by_length[low : high + 1]

    def _grow(self, lengths: list[int], low: int, high: int) -> tuple[int, int] | None:
        """The window one entry larger, on the side closer in length, if it stays within the
        token budget and wastes little on padding (on a busy CPU padding is pure loss)."""
        options = []
        if high + 1 < len(lengths):
            options.append((lengths[high + 1] - lengths[high], lengths[high + 1], low, high + 1))
        if low > 0:
            options.append((lengths[low] - lengths[low - 1], lengths[high], low - 1, high))
        limits = self.limits
        for _, longest, new_low, new_high in sorted(options):
            padded = longest * (new_high - new_low + 1)
            real = sum(lengths[new_low : new_high + 1])
            if padded <= limits.max_batch_tokens and padded <= real * limits.max_padding_ratio:
                return new_low, new_high
        return None

    def _retry_after(self) -> float:
        """Seconds until the queue has likely drained enough to take a request again."""
        backlog = len(self._queue) * self._item_seconds / max(self.limits.workers, 1)
        return min(max(backlog, 0.05), 10.0)
