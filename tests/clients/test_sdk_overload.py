"""Retries and deadlines, against an in-process server whose inference the test holds."""

from __future__ import annotations

import asyncio
import threading

import grpc
import numpy as np
import pytest

import nomic_serve_client as sdk
from nomic_serve.api import servicer
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..integration.conftest import Served, serving
from ..support.waiting import eventually

# One worker, batches of one, two texts queued at most: a third waiting text is refused.
HELD = dict(
    max_pending_items=2, max_list_inputs=2, max_batch_size=1, inference_workers=1, cache_bytes=0
)


def _refusals(served: Served) -> float:
    registry = served.app.metrics.registry
    value = registry.get_sample_value(
        "nomic_serve_overload_refusals_total", {"limit": "MAX_PENDING_ITEMS"}
    )
    return value or 0.0


_RUNNING = threading.Event()  # set by the held session when a text reaches it


def _hold(served: Served, monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Every inference waits for the returned gate (the solo session's too)."""
    assert served.text is not None
    gate = threading.Event()
    _RUNNING.clear()
    engine = served.text.engine
    for session in {engine.session, engine.solo_session} - {None}:

        def held(*args, real=session.run):
            _RUNNING.set()
            return gate.wait(20) and real(*args)

        monkeypatch.setattr(session, "run", held)
    return gate


async def _fill(served: Served) -> list[asyncio.Future]:
    """One text running, then two queued: the server is full until the gate opens. The
    first is running before the others are sent: sent together, all three could be queued
    before the worker takes one, and the third would be refused."""
    assert served.text is not None
    scheduler = served.text.engine.scheduler
    calls = [asyncio.ensure_future(served.stub.Embed(pb.EmbedRequest(input="filler 0")))]
    await eventually(_RUNNING.is_set)
    calls += [
        asyncio.ensure_future(served.stub.Embed(pb.EmbedRequest(input=f"filler {i}")))
        for i in (1, 2)
    ]
    await eventually(lambda: scheduler.queued >= 2)
    return calls


async def test_an_overloaded_call_is_retried_after_the_servers_hint(
    tiny_model, monkeypatch
) -> None:
    async with serving(tiny_model.model, **HELD) as served:
        gate = _hold(served, monkeypatch)
        fillers = await _fill(served)
        async with sdk.AsyncClient(f"127.0.0.1:{served.app.port}", timeout=20) as client:
            await client.info()  # the version check's call is not the one held
            call = asyncio.ensure_future(client.embed("a cat"))
            await eventually(lambda: _refusals(served) >= 1)  # refused once, at least
            assert not call.done()  # ... and waiting to try again
            gate.set()
            vector = await call
            await asyncio.gather(*fillers)
            direct = await served.stub.Embed(
                pb.EmbedRequest(input="a cat", prefix="search_document")
            )
        np.testing.assert_allclose(vector, np.array(direct.embedding, dtype=np.float32), atol=1e-6)


async def test_without_retries_overload_is_the_typed_error_with_its_hint(
    tiny_model, monkeypatch
) -> None:
    async with serving(tiny_model.model, **HELD) as served:
        gate = _hold(served, monkeypatch)
        fillers = await _fill(served)
        no_retry = sdk.RetryPolicy(attempts=1)
        async with sdk.AsyncClient(f"127.0.0.1:{served.app.port}", retry=no_retry) as client:
            await client.info()
            with pytest.raises(sdk.ResourceExhausted) as caught:
                await client.embed("a cat")
            gate.set()
            await asyncio.gather(*fillers)
    assert caught.value.retry_after_s is not None and caught.value.retry_after_s > 0
    assert "MAX_PENDING_ITEMS" in caught.value.message


async def test_invalid_arguments_are_never_retried(tiny_model) -> None:
    """The client has given up when it raises, so the server's count is final once it shows
    (the interceptor counts a call just after its status goes out)."""
    async with serving(tiny_model.model, cache_bytes=0) as served:
        async with sdk.AsyncClient(f"127.0.0.1:{served.app.port}") as client:
            with pytest.raises(sdk.InvalidArgument):
                await client.embed("a cat", dim=999)
        labels = {"method": "/nomic.serve.v1.EmbeddingService/Embed", "code": "INVALID_ARGUMENT"}
        registry = served.app.metrics.registry
        await eventually(lambda: registry.get_sample_value("nomic_serve_requests_total", labels))
        assert registry.get_sample_value("nomic_serve_requests_total", labels) == 1.0


async def test_stream_items_refused_for_overload_are_sent_again_in_place(
    tiny_model, monkeypatch
) -> None:
    texts = [f"stream text {i}" for i in range(12)]
    async with serving(tiny_model.model, **HELD) as served:
        gate = _hold(served, monkeypatch)
        refused = []  # a stream's counts reach the metrics when it ends: watch its items
        real = servicer._stream_error
        monkeypatch.setattr(
            servicer, "_stream_error", lambda i, exc: refused.append(i) or real(i, exc)
        )
        fillers = await _fill(served)
        async with sdk.AsyncClient(f"127.0.0.1:{served.app.port}", timeout=20) as client:
            await client.info()
            results = asyncio.ensure_future(client.embed(texts))
            await eventually(lambda: len(refused) >= 1)
            gate.set()
            vectors = await results
            await asyncio.gather(*fillers)
            lone = [await client.embed(text) for text in texts]
        assert _refusals(served) >= len(refused)  # each refused item counted, once it ended
    np.testing.assert_allclose(vectors, np.stack(lone), atol=1e-6)


async def test_a_deadline_is_the_typed_error_for_calls_and_streams(tiny_model, monkeypatch) -> None:
    async with serving(tiny_model.model, **HELD) as served:
        gate = _hold(served, monkeypatch)
        async with sdk.AsyncClient(f"127.0.0.1:{served.app.port}", timeout=0.5) as client:
            await client.info()
            with pytest.raises(sdk.DeadlineExceeded) as unary:
                await client.embed("a held cat")
            with pytest.raises(sdk.DeadlineExceeded) as stream:
                await client.embed(["a held dog", "a held bird"])
        gate.set()
    assert unary.value.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert "in flight" in stream.value.message
