"""Health (ours and the standard one), Info, and the graceful stop."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

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


async def test_graceful_stop_finishes_in_flight_work_and_refuses_new(tiny_model) -> None:
    async with serving(tiny_model.model, inference_workers=1) as served:
        in_flight = [
            asyncio.ensure_future(served.stub.EmbedList(pb.EmbedListRequest(inputs=["cat"] * 200)))
            for _ in range(4)
        ]
        await asyncio.sleep(0.05)
        stopping = asyncio.ensure_future(served.running.stop(grace=30))
        await asyncio.sleep(0.05)
        health = await _status_or_error(served)
        replies = await asyncio.gather(*in_flight)
        await stopping
        assert all(len(r.embeddings) == 200 for r in replies)
        assert health in (NOT_SERVING, grpc.StatusCode.UNAVAILABLE)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="cat"))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def _status_or_error(served: Served) -> object:
    try:
        return await _status(served, "text")
    except grpc.aio.AioRpcError as error:
        return error.code()
