"""The batch scheduler: owns the texts waiting for one model and cuts them into batches.

Modelled on TEI's queue: every admitted text becomes an Entry with a future; worker tasks
take the next batch as soon as they are free (no fixed waiting window), run it on the
inference pool and resolve the futures. Admission comes first: a request reserves queue
space for all its texts (`admit`) before it tokenizes them, and a request that does not fit
is refused at once with a retry hint instead of queuing without bound.

The order is fair between callers, by start-time fair queuing over tokens: each request, or
each EmbedBatch stream as a whole, is a Flow, and its texts get virtual start tags that
continue where the flow's previous text ended, never earlier than the text now in service.
Batches are cut in tag order, so a lone Embed is served within about one text per active
flow, however many texts a bulk list or 64 streams have queued; a flow that was idle
gets no credit for it. Within the first few batches' worth of entries, a batch grows from
the first entry towards the entries closest in length, while the padded size (longest x
count) stays within the token budget: similar lengths keep padding small, and the first
entry is always taken, so nothing is starved.

When batching is inexact for the model (dynamic activation quantization), every batch is a
single entry and several workers run at once, one core each; a batch that runs alone
(nothing else running or queued) is flagged so the engine may give it every core.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from ..errors import DeadlineExceeded, Overloaded
from .types import TokenizedText

__all__ = ["Admission", "BatchLimits", "Flow", "Scheduled", "TextScheduler"]

# Up to this length a text's cost is linear in its tokens (the feed-forward layers dominate);
# beyond it attention, quadratic, takes over (BERT-base: about equal at 512).
ATTENTION_TOKENS = 512

# Runs one batch on a worker thread: encoded texts in, one pooled vector per text out. The
# flag says the batch runs alone (no other batch running or queued).
InferBatch = Callable[[list[TokenizedText], bool], list[np.ndarray]]
# Told of every batch cut: its size in texts and in padded tokens (metrics.py's histograms).
BatchObserver = Callable[[int, int], None]
# How far past the first entry (in batches) a batch may reach for texts of similar length.
LOOKAHEAD_BATCHES = 4
# How long a free worker waits for the queue to fill while another batch runs (see _hold).
HOLD_S = 0.002


@dataclass(frozen=True)
class BatchLimits:
    """How batches are cut and how much may wait (all configurable, reported by Info)."""

    batched: bool  # False: every input alone (the model's graph interferes across a batch)
    workers: int  # batches run at once
    max_queued: int  # texts admitted and not yet dispatched, at most; beyond it Overloaded
    max_batch_size: int  # texts per batch
    max_batch_tokens: int  # padded tokens per batch: longest x count
    max_padding_ratio: float = 1.5  # padded tokens / real tokens a batch may reach
    batch_wait_s: float = 0.0  # optional pause to let a batch fill; 0: cut at once
    hold_s: float = HOLD_S  # a free worker's wait for a fuller batch while another runs


@dataclass(eq=False)
class Flow:
    """One caller's share of the queue: a request, or a whole EmbedBatch stream."""

    finish: float = 0.0  # virtual finish tag of the flow's latest text


_QUEUED, _DISPATCHED, _DROPPED = range(3)


@dataclass(eq=False)
class _Entry:
    encoded: TokenizedText
    future: asyncio.Future[np.ndarray]
    deadline: float | None  # loop time after which nobody wants the result
    start: float  # virtual start tag: the fair order
    seq: int  # ties keep arrival order
    state: int = _QUEUED
    inference_ms: float = 0.0  # of the batch that served it
    batch: tuple[float, float, int, int] | None = None  # its start, end, texts, padded tokens

    def key(self) -> tuple[float, int, _Entry]:
        return (self.start, self.seq, self)


@dataclass(frozen=True)
class Scheduled:
    """Pooled vectors in submission order, and where the time went."""

    pooled: list[np.ndarray]
    queue_ms: float
    inference_ms: float
    # (start, end: time.perf_counter) of the request's batches, first to last, and the first
    # batch's texts and padded tokens: what the trace shows.
    batches: tuple[float, float, int, int] = (0.0, 0.0, 0, 0)


@dataclass(eq=False)
class Admission:
    """Queue space a request holds from before tokenization until its texts are queued."""

    scheduler: TextScheduler
    held: int
    _closed: bool = field(default=False, repr=False)

    def release(self, count: int) -> None:
        """Gives back space the request turned out not to need (cache hits, repeats)."""
        count = min(count, self.held)
        self.held -= count
        self.scheduler._reserved -= count

    def close(self) -> None:
        """Gives back whatever is still held (the request failed or finished)."""
        if not self._closed:
            self._closed = True
            self.release(self.held)


class TextScheduler:
    """One model's queue and its worker tasks; `admit` then `submit` is the only way in."""

    def __init__(self, infer: InferBatch, limits: BatchLimits, pool: ThreadPoolExecutor) -> None:
        self.limits = limits
        self._infer = infer
        self._pool = pool
        self._heap: list[tuple[float, int, _Entry]] = []  # may hold dropped entries
        self._live = 0  # queued entries whose caller still waits: exact at every moment
        self._live_tokens = 0  # their tokens
        self._reserved = 0  # admitted texts not queued yet (tokenizing)
        self._virtual = 0.0  # start tag of the latest dispatched text
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._workers: list[asyncio.Task[None]] = []
        self._running = 0  # batches on the inference pool now
        self._running_texts = 0  # their texts
        self._item_seconds = 0.01  # moving average of inference time per text: the retry hint
        self.dropped = {"deadline": 0, "cancelled": 0}  # queued texts never run, by reason
        self.on_batch: BatchObserver = _ignore_batch

    @property
    def queued(self) -> int:
        """Texts waiting for a batch now (not counting those still being tokenized)."""
        return self._live

    @property
    def in_flight(self) -> int:
        """Texts admitted and not answered yet: being tokenized, queued or in a batch."""
        return self._reserved + self._live + self._running_texts

    def admit(self, count: int) -> Admission:
        """Reserves room for `count` texts, or raises Overloaded before any work is done."""
        waiting = self._live + self._reserved
        if waiting + count > self.limits.max_queued:
            raise self._full(waiting)
        self._reserved += count
        return Admission(self, count)

    def check_room(self) -> None:
        """Overloaded when not even one more text fits: a call can be refused unread."""
        waiting = self._live + self._reserved
        if waiting >= self.limits.max_queued:
            raise self._full(waiting)

    def _full(self, waiting: int) -> Overloaded:
        return Overloaded(
            f"server is busy: {waiting} texts queued, limit {self.limits.max_queued} "
            "(MAX_PENDING_ITEMS); retry shortly",
            limit="MAX_PENDING_ITEMS",
            retry_after_s=self._retry_after(),
        )

    async def submit(
        self,
        encoded: Sequence[TokenizedText],
        deadline: float | None,
        *,
        flow: Flow,
        admission: Admission,
    ) -> Scheduled:
        """Queues the texts (their room was reserved by `admit`) and waits for their pooled
        vectors; DeadlineExceeded when the deadline (loop time) passes while they wait."""
        if len(encoded) > admission.held:
            raise ValueError(f"{len(encoded)} texts submitted, {admission.held} admitted")
        admission.release(len(encoded))
        self._start_workers()
        loop = asyncio.get_running_loop()
        entries = []
        for item in encoded:
            start = max(self._virtual, flow.finish)
            flow.finish = start + share_cost(item.tokens)
            entry = _Entry(item, loop.create_future(), deadline, start, next(self._seq))
            heapq.heappush(self._heap, entry.key())
            entries.append(entry)
        self._live += len(entries)
        self._live_tokens += sum(item.tokens for item in encoded)
        self._wake.set()
        started = time.perf_counter()
        try:
            if len(entries) == 1:  # most requests: no gathering future and its callbacks
                pooled = [await entries[0].future]
            else:
                pooled = await asyncio.gather(*(entry.future for entry in entries))
        except BaseException:
            for entry in entries:
                entry.future.cancel()
                self._drop(entry, "cancelled")  # still queued: the workers will skip it
            raise
        inference_ms = max(entry.inference_ms for entry in entries)
        total_ms = (time.perf_counter() - started) * 1000
        batches = [entry.batch for entry in entries if entry.batch is not None]
        first = min(batches)
        span = (first[0], max(batch[1] for batch in batches), first[2], first[3])
        return Scheduled(list(pooled), max(total_ms - inference_ms, 0.0), inference_ms, span)

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

    def _drop(self, entry: _Entry, reason: str) -> None:
        if entry.state == _QUEUED:
            self.dropped[reason] += 1
            entry.state = _DROPPED
            self._live -= 1
            self._live_tokens -= entry.encoded.tokens
        if len(self._heap) > 2 * self.limits.max_queued + 64:
            self._heap = [key for key in self._heap if key[2].state == _QUEUED]
            heapq.heapify(self._heap)

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            if self._should_hold():
                await self._hold(loop)
            batch = self._next_batch(loop.time())
            if not batch:
                self._wake.clear()
                await self._wake.wait()
                if self.limits.batch_wait_s:
                    await asyncio.sleep(self.limits.batch_wait_s)
                continue
            if self._live:
                self._wake.set()  # more work: let an idle worker take it
            alone = self._running == 0 and not self._live
            self._running += 1
            self._running_texts += len(batch)
            padded = len(batch) * max(entry.encoded.tokens for entry in batch)
            self.on_batch(len(batch), padded)
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
                self._running_texts -= len(batch)
                if self._live:  # a worker holding for more of them need not wait any longer
                    self._wake.set()
            ended = time.perf_counter()
            elapsed = ended - started
            self._item_seconds = 0.8 * self._item_seconds + 0.2 * elapsed / len(batch)
            for entry, vector in zip(batch, pooled, strict=True):
                if not entry.future.done():
                    entry.inference_ms = elapsed * 1000
                    entry.batch = (started, ended, len(batch), padded)
                    entry.future.set_result(vector)

    def _should_hold(self) -> bool:
        """Whether a free worker should wait for more texts before cutting a batch: on CPU a
        batch of a few texts costs up to a third more per text than a full one (MiniLM on
        one thread: 3.4 core-ms per text alone, 2.5 in 16), and while another batch runs the
        cores are busy anyway. Never when nothing runs (a lone request keeps its latency),
        and never with one worker (a GPU's batches)."""
        return (
            self.limits.batched
            and self.limits.workers > 1
            and self.limits.hold_s > 0
            and self._running > 0
            and 0 < self._live_tokens < self.limits.max_batch_tokens // 2
        )

    async def _hold(self, loop: asyncio.AbstractEventLoop) -> None:
        """Waits up to `hold_s`, until the queue holds half a batch's tokens or a running
        batch ends, whichever comes first."""
        deadline = loop.time() + self.limits.hold_s
        while self._should_hold() and (remaining := deadline - loop.time()) > 0:
            self._wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), remaining)

    def _next_batch(self, now: float) -> list[_Entry]:
        """The next batch in fair order (empty when idle); entries nobody waits for any more
        are dropped on the way. Costs O(lookahead x log n), never a pass over the queue."""
        lookahead = self.limits.max_batch_size * LOOKAHEAD_BATCHES if self.limits.batched else 1
        candidates: list[_Entry] = []
        while self._heap and len(candidates) < lookahead:
            entry = heapq.heappop(self._heap)[2]
            if entry.state != _QUEUED:
                continue
            if entry.future.done():  # cancelled: the caller went away
                self._drop(entry, "cancelled")
            elif entry.deadline is not None and entry.deadline <= now:
                entry.future.set_exception(
                    DeadlineExceeded("the deadline passed while the text was queued")
                )
                self._drop(entry, "deadline")
            else:
                candidates.append(entry)
        if not candidates:
            return []
        batch = self._around_first(candidates) if self.limits.batched else candidates[:1]
        chosen = set(map(id, batch))
        for entry in candidates:
            if id(entry) not in chosen:
                heapq.heappush(self._heap, entry.key())
        for entry in batch:
            entry.state = _DISPATCHED
        self._live -= len(batch)
        self._live_tokens -= sum(entry.encoded.tokens for entry in batch)
        self._virtual = max(self._virtual, candidates[0].start)
        return batch

    def _around_first(self, candidates: list[_Entry]) -> list[_Entry]:
        """The first entry in fair order and its neighbours in length among the candidates."""
        first = candidates[0]
        by_length = sorted(candidates, key=lambda entry: entry.encoded.tokens)
        lengths = [entry.encoded.tokens for entry in by_length]
        low = high = next(i for i, entry in enumerate(by_length) if entry is first)
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
        backlog = (self._live + self._reserved) * self._item_seconds / max(self.limits.workers, 1)
        return min(max(backlog, 0.05), 10.0)


def share_cost(tokens: int) -> float:
    """What a text costs its flow's fair share: its tokens, and past ATTENTION_TOKENS more,
    as attention grows with the square of the length (a 8,192-token context costs about
    16 times its tokens), so a stream of long documents cannot crowd out short requests by
    costing as little as their token count says."""
    return tokens * max(1.0, tokens / ATTENTION_TOKENS)


def _ignore_batch(size: int, padded_tokens: int) -> None:
    """The default BatchObserver: a scheduler nobody watches."""
