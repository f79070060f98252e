"""An in-process LRU cache of full-dimension text embeddings, bounded in bytes.

It stores the pooled vector *before* the Matryoshka cut, so one entry serves every `dim`,
and the token counts both before and after truncation, so a hit can still answer
`truncate: false` with the exact count. It is keyed by (model, prefix, text): the model sees
prefix + text, and each model has its own vector space.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from dataclasses import dataclass, replace

import numpy as np

__all__ = ["ENTRY_OVERHEAD", "CacheStats", "CachedText", "EmbeddingCache", "entry_bytes"]

# Bytes one entry costs beyond its vector and its text. Measured with tracemalloc on
# CPython 3.11 at 280-330 (the ndarray header, the slotted CachedText, the key tuple, the
# OrderedDict node and its share of the table), plus up to 56 for the two token ints it
# keeps alive. Model and prefix strings are normally shared objects (the profile's name, a
# PREFIX_NAMES constant); the remaining slack covers them when they are not.
ENTRY_OVERHEAD = 512


@dataclass(frozen=True, slots=True)
class CachedText:
    """What one text costs the model to compute; everything a later request needs."""

    pooled: np.ndarray  # float32 [H], before layer norm / cut / normalization
    tokens: int  # tokens the model saw, after truncation
    untruncated_tokens: int  # tokens before truncation, for a later truncate=false refusal
    truncated: bool


@dataclass(frozen=True)
class CacheStats:
    """A consistent snapshot of the counters, for /info and metrics."""

    hits: int
    misses: int
    entries: int
    bytes: int
    max_bytes: int
    evictions: int


def entry_bytes(text: str, value: CachedText) -> int:
    """The bytes one entry is charged: its vector, its text as Python holds it, the overhead."""
    return value.pooled.nbytes + sys.getsizeof(text) + ENTRY_OVERHEAD


class EmbeddingCache:
    """LRU over (model, prefix, text), never holding more than `max_bytes` by `entry_bytes`.

    Thread-safe: the event loop and the worker threads share it, so every access to the
    map and counters holds one lock, and copying happens outside it. `max_bytes == 0`
    disables it without taking the lock: get always misses and counts nothing, put drops.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple[str, str, str], CachedText] = OrderedDict()
        self._lock = threading.Lock()
        self._bytes = 0
        self._hits = 0
        self._misses = 0
        self._evictions = 0

    def get(self, model: str, prefix: str, text: str) -> CachedText | None:
        """The entry for this text, refreshed as most recently used; None on a miss."""
        if not self.max_bytes:
            return None
        key = (model, prefix, text)
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self._misses += 1
                return None
            self._entries.move_to_end(key)
            self._hits += 1
        return found

    def put(self, model: str, prefix: str, text: str, value: CachedText) -> None:
        """Stores a read-only copy, evicting least recently used entries to stay in bounds.

        The copy keeps a caller that later mutates its array from corrupting hits. An entry
        larger than max_bytes is dropped, since storing it would evict everything else.
        """
        if not self.max_bytes:
            return
        if value.pooled.dtype != np.float32 or value.pooled.ndim != 1:
            raise ValueError(
                f"pooled must be float32 [H], got {value.pooled.dtype} {value.pooled.shape}"
            )
        size = entry_bytes(text, value)
        if size > self.max_bytes:
            return
        pooled = value.pooled.copy()
        pooled.setflags(write=False)
        stored = replace(value, pooled=pooled)
        key = (model, prefix, text)
        with self._lock:
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._bytes -= entry_bytes(text, previous)
            self._entries[key] = stored
            self._bytes += size
            while self._bytes > self.max_bytes:
                (_, _, evicted_text), evicted = self._entries.popitem(last=False)
                self._bytes -= entry_bytes(evicted_text, evicted)
                self._evictions += 1

    def stats(self) -> CacheStats:
        """The counters, read together under the lock so they agree with one another."""
        with self._lock:
            return CacheStats(
                hits=self._hits,
                misses=self._misses,
                entries=len(self._entries),
                bytes=self._bytes,
                max_bytes=self.max_bytes,
                evictions=self._evictions,
            )
