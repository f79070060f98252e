"""API keys on a running server: every RPC of the service is refused without a valid key,
before its request is read; health and reflection stay open unless API_KEYS_OPEN=none."""

from __future__ import annotations

import grpc
import pytest
from grpc_health.v1 import health_pb2
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from nomic_serve.api.server import SERVICE
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from .conftest import ONE_SESSION, Served, serving

KEY = "sk-test-0123456789"


async def _code(call: object) -> grpc.StatusCode:
    try:
        await call  # type: ignore[misc]
    except grpc.aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


def _raw(served: Served, method: str, streaming: bool):  # type: ignore[no-untyped-def]
    path = f"/{SERVICE.full_name}/{method}"
    if streaming:
        return served.channel.stream_stream(path)
    return served.channel.unary_unary(path)


async def test_every_method_is_refused_without_a_valid_key(tiny_model, vision_model) -> None:
    async with serving(
        tiny_model.model, vision=vision_model.model, api_keys=(KEY,), **ONE_SESSION
    ) as served:
        for method in SERVICE.methods:
            streaming = method.server_streaming
            call = _raw(served, method.name, streaming)
            for metadata in ((), (("authorization", "Bearer wrong"),), (("x-api-key", "x"),)):
                if streaming:
                    stream = call(iter([b""]), metadata=metadata)
                    code = await _code(stream.read())
                else:
                    # A request body the server would refuse as garbage: it is never read.
                    code = await _code(call(b"\xff" * 64, metadata=metadata))
                if method.name == "Health":  # the original's /health: open, like probes
                    # Open, so its garbage body is read and refused: the others never read it.
                    assert code == grpc.StatusCode.INVALID_ARGUMENT, method.name
                else:
                    assert code == grpc.StatusCode.UNAUTHENTICATED, (method.name, metadata)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="hi"))
        assert caught.value.details() == (
            "a valid API key is required: send `authorization: Bearer KEY` or `x-api-key: KEY`"
        )
        trailers = dict(caught.value.trailing_metadata() or ())
        assert trailers["www-authenticate"] == 'Bearer realm="nomic-serve"'
        # With the key, as a bearer token or as x-api-key, the calls work.
        for metadata in ((("authorization", f"Bearer {KEY}"),), (("x-api-key", KEY),)):
            reply = await served.stub.Embed(pb.EmbedRequest(input="hi"), metadata=metadata)
            assert len(reply.embedding) == 32
        # Probes and grpcurl need no key.
        check = await served.health.Check(health_pb2.HealthCheckRequest(service="text"))
        assert check.status == health_pb2.HealthCheckResponse.SERVING
        reflection = reflection_pb2_grpc.ServerReflectionStub(served.channel)
        listed = reflection.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
        async for answer in listed:
            names = {s.name for s in answer.list_services_response.service}
            assert SERVICE.full_name in names
            break


async def test_api_keys_open_none_closes_health_too(tiny_model) -> None:
    async with serving(tiny_model.model, api_keys=(KEY,), api_keys_open=()) as served:
        code = await _code(served.health.Check(health_pb2.HealthCheckRequest(service="text")))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        code = await _code(served.stub.Health(pb.HealthRequest()))
        assert code == grpc.StatusCode.UNAUTHENTICATED
        metadata = (("x-api-key", KEY),)
        reply = await served.health.Check(
            health_pb2.HealthCheckRequest(service="text"), metadata=metadata
        )
        assert reply.status == health_pb2.HealthCheckResponse.SERVING


async def test_refusals_are_counted_and_no_keys_means_open(tiny_model) -> None:
    async with serving(tiny_model.model, api_keys=(KEY,)) as served:
        for _ in range(3):
            await _code(served.stub.Embed(pb.EmbedRequest(input="hi")))
        registry = served.app.metrics.registry
        refused = registry.get_sample_value(
            "nomic_serve_requests_total",
            {"method": f"/{SERVICE.full_name}/Embed", "code": "UNAUTHENTICATED"},
        )
        assert refused == 3
    async with serving(tiny_model.model) as open_server:
        reply = await open_server.stub.Embed(pb.EmbedRequest(input="hi"))
        assert len(reply.embedding) == 32


async def test_each_key_has_its_own_rate_limit(tiny_model) -> None:
    """A key over API_KEY_RATE_LIMIT_RPS gets RESOURCE_EXHAUSTED with a retry hint, and
    counted under its limit; another key is unaffected. The rate is tiny (one call every
    1000 s), so no token comes back while the test runs."""
    other = "sk-test-other"
    async with serving(
        tiny_model.model,
        api_keys=(KEY, other),
        api_key_rate_limit_rps=0.001,
        api_key_rate_limit_burst=2,
    ) as served:
        mine = (("x-api-key", KEY),)
        codes = [await _code(served.stub.Embed(pb.EmbedRequest(input="hi"), metadata=mine))
                 for _ in range(4)]  # fmt: skip
        assert codes == [grpc.StatusCode.OK] * 2 + [grpc.StatusCode.RESOURCE_EXHAUSTED] * 2
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="hi"), metadata=mine)
        assert "API_KEY_RATE_LIMIT_RPS" in caught.value.details()
        trailers = dict(caught.value.trailing_metadata() or ())
        assert int(trailers["grpc-retry-pushback-ms"]) == 1_000_000
        theirs = (("authorization", f"Bearer {other}"),)
        reply = await served.stub.Embed(pb.EmbedRequest(input="hi"), metadata=theirs)
        assert len(reply.embedding) == 32
        wrong = await _code(served.stub.Embed(pb.EmbedRequest(input="hi")))
        assert wrong == grpc.StatusCode.UNAUTHENTICATED  # no key: still refused as such
        overloaded = served.app.metrics.registry.get_sample_value(
            "nomic_serve_overload_refusals_total", {"limit": "API_KEY_RATE_LIMIT_RPS"}
        )
        assert overloaded == 3
