"""The batch scheduler with a fake inference function: how batches are cut and what is dropped."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nomic_serve.core.scheduler import BatchLimits, TextScheduler
from nomic_serve.core.types import TokenizedText
from nomic_serve.errors import DeadlineExceeded, InferenceFailed, Overloaded


def _text(tokens: int, marker: int = 0) -> TokenizedText:
    ids = np.full(tokens, marker, dtype=np.int64)
    return TokenizedText(ids=ids, type_ids=np.zeros_like(ids), untruncated_tokens=tokens)


class FakeModel:
    """Records every batch; `gate` holds inference until the test opens it."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.alone: list[bool] = []
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, batch: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        self.gate.wait(10)
        self.batches.append([item.tokens for item in batch])
        self.alone.append(alone)
        return [np.full(4, float(item.ids[0]), dtype=np.float32) for item in batch]


def _limits(**overrides: object) -> BatchLimits:
    values = dict(batched=True, workers=1, max_queued=100, max_batch_size=8, max_batch_tokens=1000)
    values.update(overrides)
    return BatchLimits(**values)


@pytest.fixture
def pool():
    with ThreadPoolExecutor(4) as executor:
        yield executor


async def _held(scheduler: TextScheduler, model: FakeModel, first: TokenizedText):
    """Starts one submission and waits until the worker is blocked on it in the model."""
    model.gate.clear()
    running = asyncio.ensure_future(scheduler.submit([first], None))
    while scheduler.queued:
        await asyncio.sleep(0.001)
    await asyncio.sleep(0.01)
    return running


async def test_results_come_back_in_submission_order(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    result = await scheduler.submit([_text(5, 1), _text(4, 2), _text(6, 3)], None)
    assert [float(v[0]) for v in result.pooled] == [1.0, 2.0, 3.0]
    assert model.batches == [[4, 5, 6]]  # one batch, sorted by length
    await scheduler.aclose()


async def test_batches_form_across_requests_while_a_batch_runs(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    running = await _held(scheduler, model, _text(4))
    waiting = [asyncio.ensure_future(scheduler.submit([_text(n)], None)) for n in (6, 5, 7)]
    await asyncio.sleep(0.01)
    model.gate.set()
    await asyncio.gather(running, *waiting)
    assert model.batches == [[4], [5, 6, 7]]
    await scheduler.aclose()


async def test_token_budget_counts_padding_and_the_oldest_is_never_starved(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_batch_tokens=40), pool)
    running = await _held(scheduler, model, _text(1))
    lengths = [30, 5, 6, 7, 8, 9]  # the 30-token text is the oldest queued
    waiting = [asyncio.ensure_future(scheduler.submit([_text(n)], None)) for n in lengths]
    await asyncio.sleep(0.01)
    model.gate.set()
    await asyncio.gather(running, *waiting)
    # The oldest goes first even alone (30 x 2 padded tokens would exceed 40); the rest grow
    # from the next oldest towards the closest lengths until the padded size would not fit.
    assert model.batches == [[1], [30], [5, 6, 7, 8], [9]]
    assert all(max(b) * len(b) <= 40 for b in model.batches)
    await scheduler.aclose()


async def test_batch_size_is_capped(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_batch_size=3), pool)
    await scheduler.submit([_text(4, i) for i in range(7)], None)
    assert [len(b) for b in model.batches] == [3, 3, 1]
    await scheduler.aclose()


async def test_isolated_mode_never_shares_a_batch_but_runs_in_parallel(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(batched=False, workers=3), pool)
    active, peak, lock = 0, 0, threading.Lock()

    def slow(batch: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        threading.Event().wait(0.05)
        with lock:
            active -= 1
        return model(batch, alone)

    scheduler = TextScheduler(slow, _limits(batched=False, workers=3), pool)
    await asyncio.gather(*(scheduler.submit([_text(4, i)], None) for i in range(6)))
    assert all(len(b) == 1 for b in model.batches) and len(model.batches) == 6
    assert peak == 3
    await scheduler.aclose()


async def test_a_batch_runs_alone_only_when_nothing_else_runs_or_waits(pool) -> None:
    """`alone` lets an isolated model give a lone input every core (its solo session)."""
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(batched=False, workers=2), pool)
    await scheduler.submit([_text(4)], None)
    assert model.alone == [True]
    held = await _held(scheduler, model, _text(5))  # running, alone
    waiting = asyncio.ensure_future(scheduler.submit([_text(6), _text(7)], None))
    while scheduler.queued > 1:  # the second worker took one while the first still runs
        await asyncio.sleep(0.001)
    model.gate.set()
    await asyncio.gather(held, waiting)
    runs = dict(zip((b[0] for b in model.batches), model.alone, strict=True))
    assert runs[5] is True and runs[6] is False  # 6 started while 5 ran
    await scheduler.aclose()


async def test_cancelled_and_expired_entries_are_dropped_before_inference(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    loop = asyncio.get_running_loop()
    running = await _held(scheduler, model, _text(2))
    gone = asyncio.ensure_future(scheduler.submit([_text(11)], None))
    expired = asyncio.ensure_future(scheduler.submit([_text(12)], loop.time() + 0.01))
    kept = asyncio.ensure_future(scheduler.submit([_text(13)], loop.time() + 60))
    await asyncio.sleep(0.02)
    gone.cancel()
    await asyncio.sleep(0.02)
    model.gate.set()
    await running
    assert (await kept).pooled
    with pytest.raises(DeadlineExceeded):
        await expired
    assert model.batches == [[2], [13]]  # neither 11 nor 12 reached the model
    await scheduler.aclose()


async def test_a_full_queue_refuses_at_once_with_a_retry_hint(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_queued=3), pool)
    running = await _held(scheduler, model, _text(2))
    queued = asyncio.ensure_future(scheduler.submit([_text(3), _text(3)], None))
    await asyncio.sleep(0.01)
    with pytest.raises(Overloaded, match="MAX_PENDING_ITEMS") as refused:
        await scheduler.submit([_text(3), _text(3)], None)
    assert 0.05 <= refused.value.retry_after_s <= 10
    model.gate.set()
    await asyncio.gather(running, queued)
    await scheduler.aclose()


async def test_an_engine_error_reaches_every_entry_of_its_batch(pool) -> None:
    def broken(batch: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        raise InferenceFailed("inference failed: Fail")

    scheduler = TextScheduler(broken, _limits(), pool)
    with pytest.raises(InferenceFailed):
        await scheduler.submit([_text(3), _text(4)], None)
    await scheduler.aclose()


async def test_padding_stays_within_half_the_real_tokens(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    await scheduler.submit([_text(n) for n in (10, 11, 12, 40, 41)], None)
    # 10..12 pad to 36 for 33 real tokens; adding 40 would pad to 160 for 73: cut there.
    assert model.batches == [[10, 11, 12], [40, 41]]
    await scheduler.aclose()


async def test_the_padding_ratio_is_a_limit(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_padding_ratio=1.0), pool)
    await scheduler.submit([_text(n) for n in (10, 10, 11, 11, 11)], None)
    assert sorted(model.batches) == [[10, 10], [11, 11, 11]]  # equal lengths only
    await scheduler.aclose()
