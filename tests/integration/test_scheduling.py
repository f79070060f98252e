"""The scheduler through the server: batching without cross-talk, deadlines, the cache."""

from __future__ import annotations

import asyncio
import functools
import threading

import grpc
import numpy as np
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.waiting import eventually
from .conftest import ONE_SESSION, serving

TEXTS = [
    f"the {a} and the {b}"
    for a in ("cat", "dog", "fish", "bird")
    for b in ("tree", "house", "car", "road", "sky", "sea", "sun", "moon")
]


def _record_batches(monkeypatch, engine, session: str = "session") -> list[int]:
    sizes: list[int] = []
    real = getattr(engine, session).run

    def run(ids, mask, type_ids):
        sizes.append(ids.shape[0])
        return real(ids, mask, type_ids)

    monkeypatch.setattr(getattr(engine, session), "run", run)
    return sizes


async def _alone(stub, texts: list[str]) -> list[np.ndarray]:
    return [np.asarray((await stub.Embed(pb.EmbedRequest(input=t))).embedding) for t in texts]


async def test_concurrent_requests_share_batches_without_cross_talk(tiny_model, monkeypatch):
    """The first inference is held until the other requests are queued, so they must share
    batches; each result still equals the text embedded alone."""
    async with serving(tiny_model.model, cache_bytes=0, **ONE_SESSION) as served:
        engine = served.text.engine
        alone = await _alone(served.stub, TEXTS)
        sizes = _record_batches(monkeypatch, engine)
        gate, recorded = threading.Event(), engine.session.run
        monkeypatch.setattr(engine.session, "run", lambda *a: gate.wait(10) and recorded(*a))
        calls = [asyncio.ensure_future(served.stub.Embed(pb.EmbedRequest(input=t))) for t in TEXTS]
        await eventually(lambda: engine.scheduler.queued == len(TEXTS) - 1)
        gate.set()
        replies = await asyncio.gather(*calls)
    assert max(sizes) > 1 and len(sizes) < len(TEXTS)  # requests really shared batches
    for reply, expected in zip(replies, alone, strict=True):
        assert np.abs(np.asarray(reply.embedding) - expected).max() <= 1e-5


async def test_a_batched_model_runs_an_inference_per_core_and_a_lone_one_on_every_core(
    tiny_model, monkeypatch
):
    """On CPU (two cores here, whatever the machine): two one-thread inferences at once, and
    a batch with nothing else running or queued on the solo session's two threads. The
    answers are the same whichever session computed them."""
    from nomic_serve.core import policy

    monkeypatch.setattr(policy, "available_cores", lambda *_: 2)
    async with serving(tiny_model.model, cache_bytes=0) as served:
        info = await served.stub.Info(pb.InfoRequest())
        scheduler, engine = info.text.scheduler, served.text.engine
        assert info.text.batching == "batched"
        assert (scheduler.workers, scheduler.intra_op_threads) == (2, 1)
        assert scheduler.solo_session and engine.solo_session.threads.intra_op == 2
        solo = _record_batches(monkeypatch, engine, "solo_session")
        alone = await _alone(served.stub, TEXTS)  # one at a time: the solo session
        assert solo == [1] * len(TEXTS)
        # The next lone batch is held on the solo session: whatever arrives meanwhile runs
        # on the one-thread session, in batches, on the other worker.
        gate, entered, held = threading.Event(), threading.Event(), engine.solo_session.run

        def hold(*arrays):
            entered.set()
            gate.wait(10)
            return held(*arrays)

        monkeypatch.setattr(engine.solo_session, "run", hold)
        sizes = _record_batches(monkeypatch, engine)
        first = asyncio.ensure_future(served.stub.Embed(pb.EmbedRequest(input=TEXTS[0])))
        await eventually(entered.is_set)
        rest = await asyncio.gather(
            *(served.stub.Embed(pb.EmbedRequest(input=t)) for t in TEXTS[1:])
        )
        gate.set()
        replies = [await first, *rest]
    assert sum(sizes) == len(TEXTS) - 1 and max(sizes) > 1
    for reply, expected in zip(replies, alone, strict=True):
        assert np.abs(np.asarray(reply.embedding) - expected).max() <= 1e-5


async def test_an_interfering_model_never_shares_a_batch(quantized_model, monkeypatch):
    async with serving(quantized_model.model, cache_bytes=0) as served:
        info = await served.stub.Info(pb.InfoRequest())
        scheduler = info.text.scheduler
        assert info.text.batching == "isolated" and scheduler.workers >= 1
        assert scheduler.solo_session and scheduler.intra_op_threads >= 1
        solo = _record_batches(monkeypatch, served.text.engine, "solo_session")
        alone = await _alone(served.stub, TEXTS)  # one at a time: the solo session
        assert solo == [1] * len(TEXTS)
        sizes = _record_batches(monkeypatch, served.text.engine)
        replies = await asyncio.gather(
            *(served.stub.Embed(pb.EmbedRequest(input=t)) for t in TEXTS)
        )
        listed = await served.stub.EmbedList(pb.EmbedListRequest(inputs=TEXTS))
    assert set(sizes) == {1} and len(sizes) >= len(TEXTS)  # the list ran on the other session
    assert set(solo) == {1}
    for reply, vector, expected in zip(replies, listed.embeddings, alone, strict=True):
        np.testing.assert_array_equal(np.asarray(reply.embedding), expected)  # bit-identical
        np.testing.assert_array_equal(np.asarray(list(vector), dtype=np.float32), expected)


async def test_expired_callers_are_dropped_before_inference(tiny_model, monkeypatch):
    async with serving(tiny_model.model, cache_bytes=0, max_batch_size=1, **ONE_SESSION) as served:
        engine = served.text.engine
        gate, entered, real, ran = threading.Event(), threading.Event(), engine.session.run, []
        words = {engine.tokenizer.encode([w], [True])[0].ids[1]: w for w in ("sky", "sea", "sun")}

        def run(ids, mask, type_ids):
            entered.set()
            gate.wait(10)
            ran.append(words[int(ids[0, 1])])  # the word after [CLS]
            return real(ids, mask, type_ids)

        monkeypatch.setattr(engine.session, "run", run)
        request = functools.partial(pb.EmbedRequest, prefix="none")
        first = asyncio.ensure_future(served.stub.Embed(request(input="sky")))
        assert await asyncio.to_thread(entered.wait, 10)  # "sky" is inside the model
        late = served.stub.Embed(request(input="sea"), timeout=0.2)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await late
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        # The server cancels the expired call on its own clock, and its text leaves the queue
        # then, while "sky" still holds the model: not when a batch is next cut.
        await eventually(lambda: engine.scheduler.queued == 0)
        gate.set()
        await first
        await served.stub.Embed(request(input="sun"))  # runs after anything still queued
    assert ran == ["sky", "sun"]  # "sea" never reached the model


async def test_cache_hits_are_exact_and_counted(tiny_model, monkeypatch):
    async with serving(tiny_model.model, **ONE_SESSION) as served:
        first = await served.stub.Embed(pb.EmbedRequest(input="the cat", dim=16))
        sizes = _record_batches(monkeypatch, served.text.engine)
        again = await served.stub.Embed(pb.EmbedRequest(input="the cat", dim=16))
        other_dim = await served.stub.Embed(pb.EmbedRequest(input="the cat", dim=8))
        other_prefix = await served.stub.Embed(
            pb.EmbedRequest(input="the cat", prefix="search_document")
        )
        cache = (await served.stub.Info(pb.InfoRequest())).cache
    assert list(again.embedding) == list(first.embedding) and again.tokens == first.tokens
    assert len(other_dim.embedding) == 8
    assert sizes == [1]  # only the new prefix ran the model
    assert len(other_prefix.embedding) == 32
    assert (cache.hits, cache.misses, cache.entries) == (2, 2, 2)
    assert 0 < cache.bytes <= cache.max_bytes == 64 * 1024 * 1024


async def test_a_cached_truncated_text_is_still_refused_without_truncation(tiny_model):
    long = "hello world " * 40
    async with serving(tiny_model.model) as served:
        assert (await served.stub.Embed(pb.EmbedRequest(input=long, prefix="none"))).truncated
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input=long, prefix="none", truncate=False))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "82 tokens, more than the model's limit of 64" in caught.value.details()


async def test_a_text_repeated_in_one_request_is_computed_once(tiny_model, monkeypatch):
    async with serving(tiny_model.model, cache_bytes=0, **ONE_SESSION) as served:
        sizes = _record_batches(monkeypatch, served.text.engine)
        reply = await served.stub.EmbedList(pb.EmbedListRequest(inputs=["sky", "sea", "sky"]))
    assert sum(sizes) == 2
    assert list(reply.embeddings[0]) == list(reply.embeddings[2]) and reply.tokens[0] > 0
