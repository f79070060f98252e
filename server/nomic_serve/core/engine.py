"""The text engine: runs validated items end to end, off the event loop.

The event loop only admits work and awaits it; tokenization, `session.run` and pooling
run on a dedicated thread pool. Admission is counted in items, so a burst larger than
MAX_PENDING_ITEMS is refused at once (Overloaded) instead of queuing without bound.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from ..errors import Overloaded
from .inference import TextSession
from .postprocessing import matryoshka, pool
from .prompts import prompt_for
from .tokenization import TextTokenizer, pad_batch
from .types import TextEmbedding, TextItem, TextProfile, Timings, TokenizedText

__all__ = ["EmbedResult", "TextEngine"]

# Padded tokens per inference in batched mode (longest x batch size); bounds activation memory.
TOKEN_BUDGET = 16384


@dataclass(frozen=True)
class EmbedResult:
    """Embeddings in input order, with the time each stage took."""

    embeddings: list[TextEmbedding]
    timings: Timings


class TextEngine:
    """Owns one text model's tokenizer and session and the pool they run on."""

    def __init__(
        self,
        *,
        session: TextSession,
        tokenizer: TextTokenizer,
        profile: TextProfile,
        pool: ThreadPoolExecutor,
        max_pending_items: int,
    ) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.profile = profile
        self._pool = pool
        self._max_pending = max_pending_items
        self._pending = 0

    async def embed(self, items: Sequence[TextItem]) -> EmbedResult:
        """Embeds items in one unit of work; raises Overloaded when admission is full."""
        if self._pending + len(items) > self._max_pending:
            raise Overloaded(
                f"server is busy: {self._pending} texts pending, limit {self._max_pending} "
                "(MAX_PENDING_ITEMS); retry shortly"
            )
        self._pending += len(items)
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool, self.embed_sync, list(items))
        finally:
            self._pending -= len(items)

    def embed_sync(self, items: list[TextItem]) -> EmbedResult:
        """The whole text path for a list of items, on the calling thread."""
        timings = Timings()
        started = time.perf_counter()
        tokenized = self.tokenizer.encode(
            [prompt_for(item, self.profile) for item in items], [item.truncate for item in items]
        )
        timings.tokenize_ms = _ms_since(started)
        pooled = [None] * len(items)
        for group in self._groups(tokenized):
            started = time.perf_counter()
            ids, mask, type_ids = pad_batch([tokenized[i] for i in group], self.tokenizer.pad_id)
            hidden = self.session.run(ids, mask, type_ids)
            timings.inference_ms += _ms_since(started)
            started = time.perf_counter()
            for row, vector in zip(group, pool(hidden, mask, self.profile.pooling), strict=True):
                pooled[row] = vector
            timings.postprocess_ms += _ms_since(started)
        started = time.perf_counter()
        embeddings = [
            TextEmbedding(
                vector=matryoshka(vector, item.dim, self.profile.layer_norm),
                tokens=encoded.tokens,
                truncated=encoded.truncated,
            )
            for item, encoded, vector in zip(items, tokenized, pooled, strict=True)
        ]
        timings.postprocess_ms += _ms_since(started)
        return EmbedResult(embeddings=embeddings, timings=timings)

    def _groups(self, tokenized: list[TokenizedText]) -> list[list[int]]:
        """Indices per inference: each alone when batching is inexact, else length-sorted
        batches whose padded size stays under TOKEN_BUDGET."""
        if not self.session.mode.batched:
            return [[index] for index in range(len(tokenized))]
        order = sorted(range(len(tokenized)), key=lambda i: tokenized[i].tokens)
        groups: list[list[int]] = []
        for index in order:
            length = tokenized[index].tokens
            if groups and length * (len(groups[-1]) + 1) <= TOKEN_BUDGET:
                groups[-1].append(index)
            else:
                groups.append([index])
        return groups


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
