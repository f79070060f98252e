"""The embedding cache: exact hits, LRU order, the byte bound, isolation, thread safety."""

from __future__ import annotations

import sys
import threading
import tracemalloc

import numpy as np
import pytest

from nomic_serve.core.cache import (
    ENTRY_OVERHEAD,
    CachedText,
    CacheStats,
    EmbeddingCache,
    entry_bytes,
)

MODEL = "nomic-embed-text-v1.5"
PREFIX = "search_query"


def cached(seed: int, hidden: int = 768) -> CachedText:
    pooled = np.random.default_rng(seed).normal(size=hidden).astype(np.float32)
    return CachedText(pooled=pooled, tokens=seed + 1, untruncated_tokens=seed + 2, truncated=False)


def room_for(count: int, text: str = "text 0") -> int:
    """max_bytes holding exactly `count` entries of texts as long as `text`, 768 dims."""
    return count * entry_bytes(text, cached(0))


def test_hit_returns_the_bitwise_identical_vector_and_fields() -> None:
    cache = EmbeddingCache(1 << 20)
    value = CachedText(
        pooled=np.array([np.nan, -0.0, 1e-45, np.inf, 0.1], dtype=np.float32),
        tokens=8192,
        untruncated_tokens=9000,
        truncated=True,
    )
    cache.put(MODEL, PREFIX, "hello", value)
    hit = cache.get(MODEL, PREFIX, "hello")
    assert hit is not None
    assert hit.pooled.dtype == np.float32 and hit.pooled.tobytes() == value.pooled.tobytes()
    assert (hit.tokens, hit.untruncated_tokens, hit.truncated) == (8192, 9000, True)


def test_stored_array_is_read_only_and_independent_of_the_callers() -> None:
    cache = EmbeddingCache(1 << 20)
    value = cached(1)
    original = value.pooled.copy()
    cache.put(MODEL, PREFIX, "hello", value)
    value.pooled[:] = 0.0
    hit = cache.get(MODEL, PREFIX, "hello")
    assert hit is not None
    np.testing.assert_array_equal(hit.pooled, original)
    assert not hit.pooled.flags.writeable
    assert not np.shares_memory(hit.pooled, value.pooled)
    with pytest.raises(ValueError, match="read-only"):
        hit.pooled[0] = 1.0


def test_stats_count_hits_and_misses_exactly() -> None:
    cache = EmbeddingCache(1 << 20)
    assert cache.get(MODEL, PREFIX, "a") is None
    cache.put(MODEL, PREFIX, "a", cached(1))
    for _ in range(3):
        assert cache.get(MODEL, PREFIX, "a") is not None
    assert cache.get(MODEL, PREFIX, "b") is None
    assert cache.stats() == CacheStats(
        hits=3,
        misses=2,
        entries=1,
        bytes=entry_bytes("a", cached(1)),
        max_bytes=1 << 20,
        evictions=0,
    )


def test_byte_accounting_is_vector_plus_text_plus_overhead() -> None:
    value = cached(1, hidden=384)
    assert entry_bytes("", value) == 384 * 4 + sys.getsizeof("") + ENTRY_OVERHEAD
    assert entry_bytes("a" * 100, value) - entry_bytes("", value) == 100
    # Non-ASCII text costs Python more per character, and the charge follows it.
    assert entry_bytes("ü" * 100, value) > entry_bytes("u" * 100, value)
    assert entry_bytes("😀" * 100, value) > entry_bytes("ü" * 100, value)


def test_the_charge_is_not_below_what_python_really_allocates() -> None:
    count = 2000
    values = [cached(index) for index in range(count)]
    cache = EmbeddingCache(1 << 30)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        texts = [f"text number {index} " * 3 for index in range(count)]
        for text, value in zip(texts, values, strict=True):
            cache.put(MODEL, PREFIX, text, value)
        allocated = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # `allocated` also holds the list of texts (8 bytes a pointer plus its header).
    assert allocated <= cache.stats().bytes + 8 * count + 1024


def test_least_recently_used_is_evicted_and_get_refreshes_recency() -> None:
    cache = EmbeddingCache(room_for(3))
    for index in range(3):
        cache.put(MODEL, PREFIX, f"text {index}", cached(index))
    assert cache.get(MODEL, PREFIX, "text 0") is not None  # now 1 is the oldest
    cache.put(MODEL, PREFIX, "text 3", cached(3))
    assert cache.get(MODEL, PREFIX, "text 1") is None
    for index in (0, 2, 3):
        assert cache.get(MODEL, PREFIX, f"text {index}") is not None
    assert cache.stats().evictions == 1 and cache.stats().entries == 3


def test_put_of_an_existing_key_replaces_it_without_double_counting() -> None:
    cache = EmbeddingCache(room_for(2))
    cache.put(MODEL, PREFIX, "text 0", cached(0))
    cache.put(MODEL, PREFIX, "text 1", cached(1))
    cache.put(MODEL, PREFIX, "text 0", cached(5))  # refreshes: 1 is now the oldest
    stats = cache.stats()
    assert stats.entries == 2 and stats.bytes == room_for(2) and stats.evictions == 0
    hit = cache.get(MODEL, PREFIX, "text 0")
    assert hit is not None and hit.pooled.tobytes() == cached(5).pooled.tobytes()
    cache.put(MODEL, PREFIX, "text 2", cached(2))
    assert cache.get(MODEL, PREFIX, "text 1") is None


def test_byte_bound_holds_under_many_puts_and_evictions_are_counted() -> None:
    max_bytes = 50_000
    cache = EmbeddingCache(max_bytes)
    rng = np.random.default_rng(7)
    for index in range(2000):
        hidden = int(rng.integers(1, 1024))
        text = "x" * int(rng.integers(0, 2000))
        cache.put(MODEL, PREFIX, f"{index}{text}", cached(index, hidden))
        stats = cache.stats()
        assert stats.bytes <= max_bytes
        assert stats.entries + stats.evictions == index + 1
    assert cache.stats().evictions > 1000


def test_an_entry_larger_than_the_whole_cache_is_refused() -> None:
    cache = EmbeddingCache(room_for(1, "small"))
    cache.put(MODEL, PREFIX, "small", cached(0))
    cache.put(MODEL, PREFIX, "large", cached(1, hidden=4096))
    assert cache.get(MODEL, PREFIX, "large") is None
    assert cache.get(MODEL, PREFIX, "small") is not None  # nothing was evicted for it
    assert cache.stats().evictions == 0


def test_only_float32_vectors_are_accepted() -> None:
    cache = EmbeddingCache(1 << 20)
    value = CachedText(pooled=np.zeros(8), tokens=1, untruncated_tokens=1, truncated=False)
    with pytest.raises(ValueError, match="float32"):
        cache.put(MODEL, PREFIX, "a", value)
    flat = CachedText(
        pooled=np.zeros((2, 4), np.float32), tokens=1, untruncated_tokens=1, truncated=False
    )
    with pytest.raises(ValueError, match="float32"):
        cache.put(MODEL, PREFIX, "a", flat)


def test_zero_bytes_disables_the_cache() -> None:
    cache = EmbeddingCache(0)
    cache.put(MODEL, PREFIX, "a", cached(1))
    assert cache.get(MODEL, PREFIX, "a") is None
    assert cache.stats() == CacheStats(0, 0, 0, 0, 0, 0)


def test_negative_size_is_refused() -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        EmbeddingCache(-1)


def test_keys_are_separated_by_model_and_prefix() -> None:
    cache = EmbeddingCache(1 << 20)
    parts = [
        (MODEL, "search_query"),
        (MODEL, "search_document"),
        ("all-MiniLM-L6-v2", "search_query"),
    ]
    for seed, (model, prefix) in enumerate(parts):
        cache.put(model, prefix, "same text", cached(seed))
    for seed, (model, prefix) in enumerate(parts):
        hit = cache.get(model, prefix, "same text")
        assert hit is not None and hit.pooled.tobytes() == cached(seed).pooled.tobytes()
    assert cache.get(MODEL, "clustering", "same text") is None
    # The parts stay separate: moving text across the boundary is another key.
    cache.put(MODEL, "search_query", ": a", cached(9))
    assert cache.get(MODEL, "search_query: ", "a") is None


def test_concurrent_puts_and_gets_keep_the_invariants() -> None:
    max_bytes = room_for(40, "t0-000")
    cache = EmbeddingCache(max_bytes)
    values = {
        f"t{worker}-{index:03d}": cached(worker * 1000 + index)
        for worker in range(8)
        for index in range(200)
    }
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []
    gets = [0] * 8

    def work(worker: int) -> None:
        try:
            barrier.wait()
            for round_ in range(5):
                for index in range(200):
                    text = f"t{(worker + round_) % 8}-{index:03d}"
                    cache.put(MODEL, PREFIX, text, values[text])
                    hit = cache.get(MODEL, PREFIX, text)
                    gets[worker] += 1
                    if hit is not None:
                        assert hit.pooled.tobytes() == values[text].pooled.tobytes()
                    assert cache.stats().bytes <= max_bytes
        except BaseException as error:  # surfaced in the main thread below
            errors.append(error)

    threads = [threading.Thread(target=work, args=(worker,)) for worker in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    stats = cache.stats()
    assert stats.hits + stats.misses == sum(gets) == 8 * 5 * 200
    assert 0 < stats.entries <= 40 and stats.bytes == stats.entries * room_for(1, "t0-000")
    assert stats.evictions > 0
