"""The text engine: one request's texts through admission, tokenization, the scheduler and
pooling.

Admission comes first: the request reserves queue space for all its texts before anything is
looked up or tokenized, so an overloaded server refuses at once. The event loop then only
coordinates: long texts are tokenized on their own bounded pool, in chunks, one chunk of a
request at a time (so a bulk request takes turns with everyone else instead of filling the
pool's queue); inference runs on the engine's own pool through the scheduler, which batches
texts fairly across requests. Full-dimension pooled vectors are cached, so a repeated text
skips both tokenization and inference.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from .. import tracing
from ..errors import InputTooLong, InvalidInput
from . import chunking
from .cache import CachedText, EmbeddingCache
from .chunking import ChunkPlan
from .inference import TextSession
from .postprocessing import matryoshka, pool
from .prompts import prompt_for, prompt_head
from .scheduler import Admission, BatchLimits, Flow, TextScheduler
from .tokenization import TextTokenizer, pad_batch
from .types import TextItem, TextProfile, Timings, TokenizedText
from .validation import TextRules
from .workpool import WorkPool, start_worker

__all__ = ["ChunkedResult", "EmbedResult", "TextEngine"]

# Up to this many characters, tokenizing on the event loop (tens of microseconds) costs less
# than the hop to the tokenizer pool and back; longer inputs go to the pool. Inline, the GIL
# stays held: `encode_batch` releases it and must then wait for it behind the inference
# threads, which cost more than the encoding (a generated 2-layer model at c32: 1,351 ->
# 1,600-1,780 requests/s once short texts kept the GIL).
INLINE_TOKENIZE_CHARS = 2000
# One tokenizer job holds at most this many characters (about 20 ms of work), so a request
# of thousands of long texts takes its turns with the others between chunks.
TOKENIZE_CHUNK_CHARS = 64 * 1024
# Told of the texts each request computed: their token counts before truncation, and how
# many were truncated (metrics.py's histogram and counter).
TokenizedObserver = Callable[[list[int], int], None]


@dataclass(frozen=True)
class ChunkedResult:
    """A long text's chunks in text order, their vectors ([chunks, dim], unit rows), how
    many tokens the whole text has, and where time went."""

    spans: list[chunking.Span]
    vectors: np.ndarray
    tokens: int
    timings: Timings


@dataclass(frozen=True)
class EmbedResult:
    """Embeddings of one request in input order ([N, dim], unit rows), and where time went."""

    vectors: np.ndarray
    tokens: list[int]
    truncated: list[bool]
    timings: Timings


class TextEngine:
    """Owns one text model's tokenizer, session, scheduler and inference threads."""

    def __init__(
        self,
        *,
        session: TextSession,
        solo_session: TextSession | None = None,
        tokenizer: TextTokenizer,
        rules: TextRules,
        limits: BatchLimits,
        tokenize_pool: WorkPool,
        cache: EmbeddingCache,
        nice: int = 0,
    ) -> None:
        self.session = session
        self.solo_session = solo_session  # CPU: every core for what runs alone
        self.tokenizer = tokenizer
        self.rules = rules
        self.cache = cache
        self._tokenize_pool = tokenize_pool
        self._inference_pool = ThreadPoolExecutor(
            limits.workers, "inference", initializer=start_worker, initargs=(nice,)
        )
        self.scheduler = TextScheduler(self.infer, limits, self._inference_pool)
        self.on_tokenized: TokenizedObserver = _ignore_tokenized

    @property
    def profile(self) -> TextProfile:
        return self.rules.profile

    async def embed(
        self, items: Sequence[TextItem], deadline: float | None = None, flow: Flow | None = None
    ) -> EmbedResult:
        """Embeds one request's items (they share one `dim`). Raises Overloaded at once when
        the queue has no room for them, InputTooLong naming the caller's index, and
        DeadlineExceeded when the deadline (event-loop time) passes while they wait. Texts
        of one `flow` (an EmbedBatch stream) share its fair share of the queue."""
        admission = self.scheduler.admit(len(items))
        try:
            return await self._embed(items, deadline, flow or Flow(), admission)
        finally:
            admission.close()

    async def _embed(
        self, items: Sequence[TextItem], deadline: float | None, flow: Flow, admission: Admission
    ) -> EmbedResult:
        timings = Timings()
        model = self.profile.name
        found = [self.cache.get(model, item.prefix, item.text) for item in items]
        # Texts to compute, each once however often the request repeats it.
        repeats: dict[tuple[str, str, bool], list[int]] = {}
        for i, hit in enumerate(found):
            if hit is None:
                key = (items[i].prefix, items[i].text, items[i].truncate)
                repeats.setdefault(key, []).append(i)
        admission.release(len(items) - len(repeats))
        firsts = [indices[0] for indices in repeats.values()]
        encoded: list[TokenizedText] = []
        if firsts:
            started = time.perf_counter()
            with tracing.phase("tokenize", **{"nomic_serve.texts": len(firsts)}):
                encoded = await self._tokenize(
                    [prompt_for(items[i], self.profile) for i in firsts],
                    [items[i].truncate for i in firsts],
                )
            timings.tokenize_ms = (time.perf_counter() - started) * 1000
            self.on_tokenized(
                [text.untruncated_tokens for text in encoded], sum(t.truncated for t in encoded)
            )
        self._refuse_too_long(items, found, dict(zip(firsts, encoded, strict=True)))
        if firsts:
            submitted = time.perf_counter()
            scheduled = await self.scheduler.submit(
                encoded, deadline, flow=flow, admission=admission
            )
            start, end, size, padded = scheduled.batches
            tracing.phase_span("queue", submitted, start)
            tracing.phase_span(
                "inference",
                start,
                end,
                **{"nomic_serve.batch_size": size, "nomic_serve.batch_padded_tokens": padded},
            )
            timings.queue_ms, timings.inference_ms = scheduled.queue_ms, scheduled.inference_ms
            for indices, text, vector in zip(
                repeats.values(), encoded, scheduled.pooled, strict=True
            ):
                value = CachedText(vector, text.tokens, text.untruncated_tokens, text.truncated)
                first = items[indices[0]]
                self.cache.put(model, first.prefix, first.text, value)
                for i in indices:
                    found[i] = value
        hits = [hit for hit in found if hit is not None]
        started = time.perf_counter()
        with tracing.phase("postprocess"):
            vectors = matryoshka(
                np.stack([hit.pooled for hit in hits]), items[0].dim, self.profile.layer_norm
            )
        timings.postprocess_ms = (time.perf_counter() - started) * 1000
        return EmbedResult(
            vectors=vectors,
            tokens=[hit.tokens for hit in hits],
            truncated=[hit.truncated or item.cut for hit, item in zip(hits, items, strict=True)],
            timings=timings,
        )

    def _refuse_too_long(
        self,
        items: Sequence[TextItem],
        found: Sequence[CachedText | None],
        encoded: dict[int, TokenizedText],
    ) -> None:
        """InputTooLong for the first over-long text (by the caller's index) that may not be
        truncated; a cache hit or a repeat is judged like the text it stands for."""
        counts: dict[tuple[str, str], int] = {}
        for i, text in encoded.items():
            counts[(items[i].prefix, items[i].text)] = text.untruncated_tokens
        for i, (item, hit) in enumerate(zip(items, found, strict=True)):
            if item.truncate:
                continue
            count = hit.untruncated_tokens if hit else counts[(item.prefix, item.text)]
            if count > self.tokenizer.max_tokens:
                where = "input" if len(items) == 1 else f"inputs[{i}]"
                raise InputTooLong(self.tokenizer.too_long(count, where))

    async def _tokenize(self, texts: list[str], may_cut: list[bool]) -> list[TokenizedText]:
        if sum(map(len, texts)) <= INLINE_TOKENIZE_CHARS:
            return self.tokenizer.encode(texts, may_cut, hold_gil=True)  # no thread hop
        encoded: list[TokenizedText] = []
        for start, end in _chunks(texts, TOKENIZE_CHUNK_CHARS):
            work = functools.partial(self.tokenizer.encode, texts[start:end], may_cut[start:end])
            encoded += await self._tokenize_pool.run(work)
        return encoded

    def infer(self, encoded: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        """One batch on the calling (worker) thread: pad, run, pool over the attention mask
        (a late-chunked text: mean over each of its spans, [spans, H]). `alone`: nothing else
        is running or waiting, so the solo session may take every core."""
        ids, mask, type_ids = pad_batch(encoded, self.tokenizer.pad_id)
        session = self.solo_session if alone and self.solo_session else self.session
        hidden = session.run(ids, mask, type_ids)
        pooled = pool(hidden, mask, self.profile.pooling)
        return [
            np.stack([hidden[row, start:end].mean(axis=0) for start, end in item.spans]).astype(
                np.float32
            )
            if item.spans
            else pooled[row]
            for row, item in enumerate(encoded)
        ]

    def chunk_budget(self, item: TextItem) -> int:
        """The most of a text's own tokens one input can hold beside its special and prefix
        tokens."""
        return self._frame(item)[2]

    def _frame(self, item: TextItem) -> tuple[list[int], list[int], int]:
        """The ids before and after the text's own tokens, and how many of those fit."""
        head, tail = self.tokenizer.frame(prompt_head(item, self.profile))
        return head, tail, self.tokenizer.max_tokens - len(head) - len(tail)

    async def embed_chunks(
        self,
        item: TextItem,
        plan: ChunkPlan,
        deadline: float | None = None,
        flow: Flow | None = None,
    ) -> ChunkedResult:
        """A long text in chunks (see chunking.py). `chunk`: each chunk's characters are an
        input of their own, with the item's prefix, through `embed` (cache included).
        `late_chunk`: the text is encoded in contexts as long as the model takes (one when it
        fits, else windows sharing a quarter of their width, each token read from the window
        where it sits furthest from an edge), and each chunk is the mean of its tokens'
        hidden states; then the Matryoshka recipe, per chunk."""
        started = time.perf_counter()
        if len(item.text) <= INLINE_TOKENIZE_CHARS:
            ids, offsets = self.tokenizer.document(item.text)
        else:
            ids, offsets = await self._tokenize_pool.run(
                functools.partial(self.tokenizer.document, item.text)
            )
        spans = chunking.plan(item.text, offsets, plan.size, plan.overlap)
        if len(spans) > self.rules.max_inputs:
            raise InvalidInput(
                f"the text makes {len(spans):,} chunks of {plan.size} tokens, more than the "
                f"limit of {self.rules.max_inputs:,} (MAX_LIST_INPUTS); ask for longer chunks"
            )
        timings = Timings(tokenize_ms=(time.perf_counter() - started) * 1000)
        if plan.mode == "chunk":
            pieces = [
                TextItem(item.text[s.char_start : s.char_end], item.prefix, item.dim, True)
                for s in spans
            ]
            result = await self.embed(pieces, deadline, flow)
            result.timings.add(timings)
            return ChunkedResult(spans, result.vectors, len(ids), result.timings)
        head, tail, width = self._frame(item)
        windows = chunking.macro_windows(len(ids), width)
        contexts: list[TokenizedText] = []
        owners: list[list[tuple[int, int]]] = []
        for (start, end), (first, last) in zip(windows, chunking.ownership(windows), strict=True):
            # Each chunk's tokens that this window owns: their hidden states come from here.
            owned = [
                (index, max(s.token_start, first), min(s.token_end, last))
                for index, s in enumerate(spans)
                if max(s.token_start, first) < min(s.token_end, last)
            ]
            if not owned:
                continue
            sequence = np.asarray([*head, *ids[start:end], *tail], dtype=np.int64)
            at = len(head) - start
            contexts.append(
                TokenizedText(
                    ids=sequence,
                    type_ids=np.zeros_like(sequence),
                    untruncated_tokens=len(sequence),
                    spans=tuple((low + at, high + at) for _, low, high in owned),
                )
            )
            owners.append([(index, high - low) for index, low, high in owned])
        admission = self.scheduler.admit(len(contexts))
        try:
            scheduled = await self.scheduler.submit(
                contexts, deadline, flow=flow or Flow(), admission=admission
            )
        finally:
            admission.close()
        timings.queue_ms, timings.inference_ms = scheduled.queue_ms, scheduled.inference_ms
        # A chunk owned by two windows is the token-weighted mean of its two pieces: the
        # mean of all its tokens' hidden states.
        sums = np.zeros((len(spans), self.profile.dimension), dtype=np.float64)
        counts = np.zeros(len(spans), dtype=np.float64)
        for owned_pieces, rows in zip(owners, scheduled.pooled, strict=True):
            for (index, length), row in zip(owned_pieces, rows, strict=True):
                sums[index] += row * length
                counts[index] += length
        pooled = (sums / counts[:, None]).astype(np.float32)
        started = time.perf_counter()
        vectors = matryoshka(pooled, item.dim, self.profile.layer_norm)
        timings.postprocess_ms = (time.perf_counter() - started) * 1000
        return ChunkedResult(spans, vectors, len(ids), timings)

    async def aclose(self) -> None:
        await self.scheduler.aclose()
        await asyncio.to_thread(self._inference_pool.shutdown, wait=True, cancel_futures=True)


def _chunks(texts: Sequence[str], max_chars: int) -> Iterator[tuple[int, int]]:
    """(start, end) slices of consecutive texts of at most `max_chars` characters together
    (a single longer text is a chunk of its own)."""
    start, size = 0, 0
    for index, text in enumerate(texts):
        if index > start and size + len(text) > max_chars:
            yield start, index
            start, size = index, 0
        size += len(text)
    yield start, len(texts)


def _ignore_tokenized(tokens: list[int], truncated: int) -> None:
    """The default TokenizedObserver: an engine nobody watches."""
