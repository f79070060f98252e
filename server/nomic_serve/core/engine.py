"""The text engine: one request's texts through tokenization, the scheduler and pooling.

The event loop only coordinates: tokenization runs on the preprocessing pool, inference on the
engine's own pool through the scheduler, which batches texts across requests. Full-dimension
pooled vectors are cached, so a repeated text skips both tokenization and inference.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np

from ..errors import InputTooLong
from .cache import CachedText, EmbeddingCache
from .inference import TextSession
from .postprocessing import matryoshka, pool
from .prompts import prompt_for
from .scheduler import BatchLimits, TextScheduler
from .tokenization import TextTokenizer, pad_batch
from .types import TextEmbedding, TextItem, TextProfile, Timings, TokenizedText

__all__ = ["EmbedResult", "TextEngine"]

# Up to this many characters, tokenizing on the event loop (tens of microseconds) costs less
# than the hop to the tokenizer pool and back; longer inputs go to the pool.
INLINE_TOKENIZE_CHARS = 2000


@dataclass(frozen=True)
class EmbedResult:
    """Embeddings in input order, with the time each stage took."""

    embeddings: list[TextEmbedding]
    timings: Timings


class TextEngine:
    """Owns one text model's tokenizer, session, scheduler and inference threads."""

    def __init__(
        self,
        *,
        session: TextSession,
        solo_session: TextSession | None = None,
        tokenizer: TextTokenizer,
        profile: TextProfile,
        limits: BatchLimits,
        tokenize_pool: ThreadPoolExecutor,
        cache: EmbeddingCache,
    ) -> None:
        self.session = session
        self.solo_session = solo_session  # isolated models: every core for a lone input
        self.tokenizer = tokenizer
        self.profile = profile
        self.cache = cache
        self._tokenize_pool = tokenize_pool
        self._inference_pool = ThreadPoolExecutor(limits.workers, thread_name_prefix="inference")
        self.scheduler = TextScheduler(self.infer, limits, self._inference_pool)

    async def embed(self, items: Sequence[TextItem], deadline: float | None = None) -> EmbedResult:
        """Embeds items; raises Overloaded when the queue is full, DeadlineExceeded when the
        deadline (event-loop time) passes while they wait."""
        timings = Timings()
        prompts = [prompt_for(item, self.profile) for item in items]
        model = self.profile.name
        found = [self.cache.get(model, item.prefix, item.text) for item in items]
        for item, hit in zip(items, found, strict=True):
            if hit is not None and hit.truncated and not item.truncate:
                raise InputTooLong(self.tokenizer.too_long(hit.untruncated_tokens))
        # Texts to compute, each once however often the request repeats it.
        repeats: dict[tuple[str, str, bool], list[int]] = {}
        for i, hit in enumerate(found):
            if hit is None:
                repeats.setdefault((items[i].prefix, items[i].text, items[i].truncate), []).append(
                    i
                )
        if repeats:
            first = [indices[0] for indices in repeats.values()]
            started = time.perf_counter()
            texts, truncate = [prompts[i] for i in first], [items[i].truncate for i in first]
            if sum(map(len, texts)) <= INLINE_TOKENIZE_CHARS:
                encoded = self.tokenizer.encode(texts, truncate)  # tens of µs: no thread hop
            else:
                loop = asyncio.get_running_loop()
                encoded = await loop.run_in_executor(
                    self._tokenize_pool, self.tokenizer.encode, texts, truncate
                )
            timings.tokenize_ms = (time.perf_counter() - started) * 1000
            scheduled = await self.scheduler.submit(encoded, deadline)
            timings.queue_ms, timings.inference_ms = scheduled.queue_ms, scheduled.inference_ms
            for indices, text, vector in zip(
                repeats.values(), encoded, scheduled.pooled, strict=True
            ):
                value = CachedText(vector, text.tokens, text.untruncated_tokens, text.truncated)
                self.cache.put(model, items[indices[0]].prefix, items[indices[0]].text, value)
                for i in indices:
                    found[i] = value
        started = time.perf_counter()
        embeddings = [
            TextEmbedding(
                vector=matryoshka(hit.pooled, item.dim, self.profile.layer_norm),
                tokens=hit.tokens,
                truncated=hit.truncated,
            )
            for item, hit in zip(items, found, strict=True)
        ]
        timings.postprocess_ms = (time.perf_counter() - started) * 1000
        return EmbedResult(embeddings=embeddings, timings=timings)

    def infer(self, encoded: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        """One batch on the calling (worker) thread: pad, run, pool over the attention mask.
        `alone`: nothing else is running or waiting, so the solo session may take every core."""
        ids, mask, type_ids = pad_batch(encoded, self.tokenizer.pad_id)
        session = self.solo_session if alone and self.solo_session else self.session
        hidden = session.run(ids, mask, type_ids)
        return list(pool(hidden, mask, self.profile.pooling))

    async def aclose(self) -> None:
        await self.scheduler.aclose()
        await asyncio.to_thread(self._inference_pool.shutdown, wait=True, cancel_futures=True)
