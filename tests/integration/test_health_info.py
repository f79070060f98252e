"""Health (ours and the standard one), Info, and the graceful stop."""

from __future__ import annotations

import asyncio
import gc
import threading

import grpc
import pytest
from grpc_health.v1 import health_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.waiting import eventually
from .conftest import MISSING, Served, serving

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


async def _status(served: Served, service: str) -> int:
    reply = await served.health.Check(health_pb2.HealthCheckRequest(service=service))
    return reply.status


async def test_standard_health_has_an_entry_per_model(tiny: Served) -> None:
    assert await _status(tiny, "") == SERVING
    assert await _status(tiny, "nomic.serve.v1.EmbeddingService") == SERVING
    assert await _status(tiny, "text") == SERVING
    assert await _status(tiny, "vision") == NOT_SERVING
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await _status(tiny, "audio")
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


async def test_health_rpc_has_the_original_shape(tiny: Served) -> None:
    reply = await tiny.stub.Health(pb.HealthRequest())
    assert reply.status == "OK" and reply.text_model and not reply.vision_model
    assert reply.text_model_name == "nomic-embed-text-v1.5"
    assert reply.provider == "CPUExecutionProvider"


async def test_info_describes_what_is_really_served(tiny: Served, tiny_model) -> None:
    info = await tiny.stub.Info(pb.InfoRequest())
    assert info.averaging == "geometric" and not info.load_cuda
    assert info.txt_model == str(tiny_model.model) and info.tokenizer == str(tiny_model.tokenizer)
    assert info.img_model == "none"  # the test server runs without a vision model
    assert info.default_prefix == "search_query" and info.version
    text = info.text
    assert (text.name, text.dimension, text.max_tokens, text.pooling) == (
        "nomic-embed-text-v1.5",
        32,
        64,
        "mean",
    )
    assert text.matryoshka_layer_norm and "search_document" in text.prefixes
    assert list(text.providers) == ["CPUExecutionProvider"] and text.batching == "batched"
    assert text.source == "file"


async def test_without_a_model_text_rpcs_are_unavailable() -> None:
    async with serving(None) as served:
        for call, request in (
            (served.stub.Embed, pb.EmbedRequest(input="cat")),
            (served.stub.EmbedQuery, pb.EmbedQueryRequest(input="cat")),
            (served.stub.EmbedList, pb.EmbedListRequest(inputs=["cat"])),
        ):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await call(request)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
            assert caught.value.details() == MISSING
        health = await served.stub.Health(pb.HealthRequest())
        assert health.status == "OK" and not health.text_model
        assert await _status(served, "text") == NOT_SERVING
        assert await _status(served, "") == SERVING
        assert not (await served.stub.Info(pb.InfoRequest())).HasField("text")


async def test_graceful_stop_finishes_in_flight_work_and_refuses_new(
    tiny_model, monkeypatch
) -> None:
    """Stop while four lists of distinct texts are inside the server, held at the model: a
    health watcher sees NOT_SERVING at once, a new call is refused, the stop waits for the
    four lists, and every one of their 200 texts is answered."""
    async with serving(tiny_model.model, cache_bytes=0, inference_workers=1) as served:
        assert served.text is not None
        engine = served.text.engine
        gate, real, held = threading.Event(), engine.session.run, []

        def run(*arrays):
            held.append(len(arrays[0]))
            assert gate.wait(10), "the test never let inference go on"
            return real(*arrays)

        monkeypatch.setattr(engine.session, "run", run)
        watch = served.health.Watch(health_pb2.HealthCheckRequest(service="text"))
        assert (await watch.read()).status == SERVING
        texts = [[f"cat {i} dog {j}" for j in range(50)] for i in range(4)]
        lists = [
            asyncio.ensure_future(served.stub.EmbedList(pb.EmbedListRequest(inputs=t)))
            for t in texts
        ]
        # All 200 texts are inside: one batch at the model, the rest queued behind it.
        await eventually(lambda: held and engine.scheduler.queued + held[0] == 200)
        stopping = asyncio.ensure_future(served.running.stop(grace=30))
        assert (await watch.read()).status == NOT_SERVING
        with pytest.raises(grpc.aio.AioRpcError) as refused:
            await served.stub.Embed(pb.EmbedRequest(input="late"), timeout=10)
        # gRPC refuses it before any handler runs: UNAVAILABLE on a connection the server
        # is closing, CANCELLED when the call raced the stop.
        assert refused.value.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
        assert not stopping.done() and not any(call.done() for call in lists)
        watch.cancel()  # an open Watch would hold the stop for the whole grace period
        gate.set()
        replies = await asyncio.gather(*lists)
        await stopping
    assert [len(reply.embeddings) for reply in replies] == [50] * 4
    assert all(len(vector.values) == 32 for reply in replies for vector in reply.embeddings)


async def test_a_full_collection_walks_only_what_came_after_start_up(tiny_model) -> None:
    """The start-up heap (modules, the model, the tokenizer) is frozen before serving, so a
    full collection, which holds the GIL while it walks every object it tracks, walks a few
    thousand objects instead of the whole process's heap; stopping thaws it again."""
    async with serving(tiny_model.model, cache_bytes=0) as served:
        await served.stub.Embed(pb.EmbedRequest(input="a cat"))
        walked, frozen = len(gc.get_objects()), gc.get_freeze_count()
        assert frozen > 10 * walked, (frozen, walked)
    assert gc.get_freeze_count() == 0
