"""The batch scheduler with a fake inference function: admission, fair order, how batches are
cut and what is dropped. Inference is held on a gate where a test needs things queued, and
the tests wait for conditions (with a deadline), never for a fixed time."""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from nomic_serve.core.scheduler import BatchLimits, Flow, Scheduled, TextScheduler
from nomic_serve.core.types import TokenizedText
from nomic_serve.errors import DeadlineExceeded, InferenceFailed, Overloaded

from ..support.waiting import eventually


def _text(tokens: int, marker: int = 0) -> TokenizedText:
    ids = np.full(tokens, marker, dtype=np.int64)
    return TokenizedText(ids=ids, type_ids=np.zeros_like(ids), untruncated_tokens=tokens)


class FakeModel:
    """Records every batch; `gate` holds inference until the test opens it."""

    def __init__(self) -> None:
        self.batches: list[list[int]] = []
        self.markers: list[list[int]] = []
        self.alone: list[bool] = []
        self.gate = threading.Event()
        self.gate.set()
        self.entered = threading.Event()

    def __call__(self, batch: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        self.entered.set()
        assert self.gate.wait(10), "the test never opened the gate"
        self.batches.append([item.tokens for item in batch])
        self.markers.append([int(item.ids[0]) for item in batch])
        self.alone.append(alone)
        return [np.full(4, float(item.ids[0]), dtype=np.float32) for item in batch]


def _limits(**overrides: object) -> BatchLimits:
    values = dict(batched=True, workers=1, max_queued=100, max_batch_size=8, max_batch_tokens=1000)
    values.update(overrides)
    return BatchLimits(**values)  # type: ignore[arg-type]


@pytest.fixture
def pool():
    with ThreadPoolExecutor(4) as executor:
        yield executor


def submit(
    scheduler: TextScheduler,
    texts: list[TokenizedText],
    deadline: float | None = None,
    flow: Flow | None = None,
) -> asyncio.Future[Scheduled]:
    """Admits and queues `texts` at once (as the engine does), as a running future."""
    admission = scheduler.admit(len(texts))
    return asyncio.ensure_future(
        scheduler.submit(texts, deadline, flow=flow or Flow(), admission=admission)
    )


async def _held(scheduler: TextScheduler, model: FakeModel, first: TokenizedText):
    """One submission whose batch is inside the model, held there by the closed gate."""
    model.gate.clear()
    model.entered.clear()
    running = submit(scheduler, [first])
    assert await asyncio.to_thread(model.entered.wait, 10)
    return running


async def test_results_come_back_in_submission_order(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    result = await submit(scheduler, [_text(5, 1), _text(4, 2), _text(6, 3)])
    assert [float(v[0]) for v in result.pooled] == [1.0, 2.0, 3.0]
    assert model.batches == [[4, 5, 6]]  # one batch, sorted by length
    await scheduler.aclose()


async def test_batches_form_across_requests_while_a_batch_runs(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    running = await _held(scheduler, model, _text(4))
    waiting = [submit(scheduler, [_text(n)]) for n in (6, 5, 7)]
    await eventually(lambda: scheduler.queued == 3)
    model.gate.set()
    await asyncio.gather(running, *waiting)
    assert model.batches == [[4], [5, 6, 7]]
    await scheduler.aclose()


async def test_token_budget_counts_padding_and_the_first_is_never_starved(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_batch_tokens=40), pool)
    running = await _held(scheduler, model, _text(1))
    lengths = [30, 5, 6, 7, 8, 9]  # the 30-token text comes first
    waiting = [submit(scheduler, [_text(n)]) for n in lengths]
    await eventually(lambda: scheduler.queued == len(lengths))
    model.gate.set()
    await asyncio.gather(running, *waiting)
    # The first goes first even alone (30 x 2 padded tokens would exceed 40); the rest grow
    # from the next towards the closest lengths until the padded size would not fit.
    assert model.batches == [[1], [30], [5, 6, 7, 8], [9]]
    assert all(max(b) * len(b) <= 40 for b in model.batches)
    await scheduler.aclose()


async def test_batch_size_is_capped(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_batch_size=3), pool)
    await submit(scheduler, [_text(4, i) for i in range(7)])
    assert [len(b) for b in model.batches] == [3, 3, 1]
    await scheduler.aclose()


async def test_a_lone_text_is_served_within_a_batch_of_a_bulk_job(pool) -> None:
    """200 texts of one request are queued ahead of a single text: fair order puts the lone
    text in the second batch after the running one, not behind all 200 (FIFO: the 26th)."""
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_queued=1000), pool)
    running = await _held(scheduler, model, _text(4, 0))
    bulk = submit(scheduler, [_text(4, 1) for _ in range(200)])
    lone = submit(scheduler, [_text(5, 2)])
    await eventually(lambda: scheduler.queued == 201)
    model.gate.set()
    await asyncio.gather(running, bulk, lone)
    served_in = next(i for i, batch in enumerate(model.markers) if 2 in batch)
    assert served_in <= 2, model.markers[:4]
    await scheduler.aclose()


async def test_two_bulk_jobs_share_the_model_turn_about(pool) -> None:
    """Two lists queued together progress together: both are in every early batch's
    neighbourhood, neither waits for the other to finish."""
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_batch_size=4), pool)
    running = await _held(scheduler, model, _text(4, 0))
    first = submit(scheduler, [_text(4, 1) for _ in range(40)])
    second = submit(scheduler, [_text(4, 2) for _ in range(40)])
    await eventually(lambda: scheduler.queued == 80)
    model.gate.set()
    await asyncio.gather(running, first, second)
    early = {marker for batch in model.markers[1:5] for marker in batch}
    assert early == {1, 2}
    await scheduler.aclose()


async def test_a_stream_is_one_flow_however_many_texts_it_sends(pool) -> None:
    """Texts sent one by one on one flow (an EmbedBatch stream) queue behind each other,
    so a new caller overtakes a stream's backlog just as it overtakes a list's."""
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_batch_size=2), pool)
    running = await _held(scheduler, model, _text(4, 0))
    stream = Flow()
    items = [submit(scheduler, [_text(4, 1)], flow=stream) for _ in range(20)]
    lone = submit(scheduler, [_text(4, 2)])
    await eventually(lambda: scheduler.queued == 21)
    model.gate.set()
    await asyncio.gather(running, lone, *items)
    served_in = next(i for i, batch in enumerate(model.markers) if 2 in batch)
    assert served_in <= 2, model.markers[:4]
    await scheduler.aclose()


async def test_isolated_mode_never_shares_a_batch_but_runs_in_parallel(pool) -> None:
    model = FakeModel()
    active, peak, started, lock = 0, 0, 0, threading.Lock()
    all_in = threading.Barrier(3, timeout=10)

    def slow(batch: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        nonlocal active, peak, started
        with lock:
            active += 1
            started += 1
            peak = max(peak, active)
            first_three = started <= 3
        if first_three:
            all_in.wait()  # the first three run at the same time, or this times out
        with lock:
            active -= 1
        return model(batch, alone)

    scheduler = TextScheduler(slow, _limits(batched=False, workers=3), pool)
    await asyncio.gather(*(submit(scheduler, [_text(4, i)]) for i in range(6)))
    assert all(len(b) == 1 for b in model.batches) and len(model.batches) == 6
    assert peak == 3
    await scheduler.aclose()


async def test_a_batch_runs_alone_only_when_nothing_else_runs_or_waits(pool) -> None:
    """`alone` lets an isolated model give a lone input every core (its solo session)."""
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(batched=False, workers=2), pool)
    await submit(scheduler, [_text(4)])
    assert model.alone == [True]
    held = await _held(scheduler, model, _text(5))  # running, alone
    waiting = submit(scheduler, [_text(6), _text(7)])
    await eventually(lambda: scheduler.queued == 1)  # the second worker took one
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
    gone = submit(scheduler, [_text(11)])
    expired = submit(scheduler, [_text(12)], loop.time() - 1)  # its deadline has passed
    kept = submit(scheduler, [_text(13)], loop.time() + 60)
    await eventually(lambda: scheduler.queued == 3)
    gone.cancel()
    await eventually(gone.done)
    assert scheduler.queued == 2  # counted out at once, not when a batch is next cut
    model.gate.set()
    await running
    assert (await kept).pooled
    with pytest.raises(DeadlineExceeded):
        await expired
    assert model.batches == [[2], [13]]  # neither 11 nor 12 reached the model
    assert scheduler.queued == 0
    await scheduler.aclose()


async def test_a_full_queue_refuses_at_admission_with_a_retry_hint(pool) -> None:
    """Room is reserved at admission, before tokenization: a request that does not fit is
    refused at once, and one admitted keeps its room until it is queued."""
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_queued=3), pool)
    running = await _held(scheduler, model, _text(2))
    reserved = scheduler.admit(2)  # a request still tokenizing
    with pytest.raises(Overloaded, match="MAX_PENDING_ITEMS") as refused:
        scheduler.admit(2)
    assert 0.05 <= refused.value.retry_after_s <= 10
    queued = asyncio.ensure_future(
        scheduler.submit([_text(3), _text(3)], None, flow=Flow(), admission=reserved)
    )
    await eventually(lambda: scheduler.queued == 2)
    extra = scheduler.admit(1)  # the last free place
    extra.close()
    scheduler.admit(1).close()  # closing gave it back
    model.gate.set()
    await asyncio.gather(running, queued)
    await scheduler.aclose()


async def test_an_admission_gives_back_what_it_did_not_use(pool) -> None:
    scheduler = TextScheduler(FakeModel(), _limits(max_queued=4), pool)
    admission = scheduler.admit(4)
    admission.release(3)  # e.g. three cache hits
    await scheduler.submit([_text(3)], None, flow=Flow(), admission=admission)
    admission.close()
    scheduler.admit(4).close()  # all four places are free again
    with pytest.raises(ValueError, match="2 texts submitted, 1 admitted"):
        await scheduler.submit([_text(3)] * 2, None, flow=Flow(), admission=scheduler.admit(1))
    await scheduler.aclose()


async def test_an_engine_error_reaches_every_entry_of_its_batch(pool) -> None:
    def broken(batch: list[TokenizedText], alone: bool) -> list[np.ndarray]:
        raise InferenceFailed("inference failed: Fail")

    scheduler = TextScheduler(broken, _limits(), pool)
    with pytest.raises(InferenceFailed):
        await submit(scheduler, [_text(3), _text(4)])
    await scheduler.aclose()


async def test_padding_stays_within_half_the_real_tokens(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(), pool)
    await submit(scheduler, [_text(n) for n in (10, 11, 12, 40, 41)])
    # 10..12 pad to 36 for 33 real tokens; adding 40 would pad to 160 for 73: cut there.
    assert model.batches == [[10, 11, 12], [40, 41]]
    await scheduler.aclose()


async def test_the_padding_ratio_is_a_limit(pool) -> None:
    model = FakeModel()
    scheduler = TextScheduler(model, _limits(max_padding_ratio=1.0), pool)
    await submit(scheduler, [_text(n) for n in (10, 10, 11, 11, 11)])
    assert sorted(model.batches) == [[10, 10], [11, 11, 11]]  # equal lengths only
    await scheduler.aclose()


async def test_a_free_worker_waits_for_a_fuller_batch_while_another_runs(pool) -> None:
    """With a batch running, a lone short text is not cut into a batch of its own: the free
    worker waits (here up to 5 s) until half a batch's tokens are queued, then takes them
    together. When nothing runs, a text is taken at once."""
    model = FakeModel()
    limits = _limits(workers=2, max_batch_tokens=16, hold_s=5.0)
    scheduler = TextScheduler(model, limits, pool)
    try:
        running = await _held(scheduler, model, _text(4, marker=1))
        short = submit(scheduler, [_text(1, marker=2)])
        for _ in range(5):  # turns of the loop in which a worker not holding would take it
            await asyncio.sleep(0)
        assert scheduler.queued == 1
        rest = submit(scheduler, [_text(1, marker=3) for _ in range(7)])  # 8 tokens: half
        await eventually(lambda: scheduler.queued == 0)
        model.gate.set()
        await asyncio.gather(running, short, rest)
        # Both batches wait at the gate; either thread may record its batch first.
        held = next(markers for markers in model.markers if 2 in markers)
        assert sorted(held) == [2, 3, 3, 3, 3, 3, 3, 3]
        idle = submit(scheduler, [_text(1, marker=4)])
        await idle  # nothing running: no wait (the hold is 5 s)
        assert model.markers[-1] == [4]
    finally:
        await scheduler.aclose()


def test_long_texts_cost_their_flow_more_than_their_tokens() -> None:
    """Attention is quadratic: past 512 tokens a text weighs on its flow's fair share in
    proportion to its length squared, so long documents cannot crowd out short texts."""
    from nomic_serve.core.scheduler import share_cost

    assert share_cost(16) == 16 and share_cost(512) == 512
    assert share_cost(1024) == 2048 and share_cost(8192) == 8192 * 16
