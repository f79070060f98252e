"""OpenTelemetry traces sent by a real server process to a real OTLP receiver, over gRPC
and over HTTP/protobuf: the caller's trace continues, each RPC has its phase spans with the
batch as attributes, and no text reaches an attribute."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.models import TextModelDir
from ..support.otlp import Receiver
from ..support.processes import EnvoyProcess, text_server

pytestmark = pytest.mark.e2e

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"
SECRET_TEXT = "the quick brown fox is a secret"


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    found = Receiver()
    yield found
    found.close()


def _attributes(span) -> dict[str, object]:  # type: ignore[no-untyped-def]
    values = {}
    for attribute in span.attributes:
        value = attribute.value
        values[attribute.key] = getattr(value, value.WhichOneof("value"))
    return values


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_continue_the_callers_trace_with_phases_and_no_content(
    protocol: str, receiver: Receiver, tmp_path: Path, tiny_model: TextModelDir
) -> None:
    endpoint = receiver.grpc_endpoint if protocol == "grpc" else receiver.http_endpoint
    server = text_server(
        tmp_path,
        tiny_model.model,
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_SERVICE_NAME": "nomic-serve-test",
        },
    )
    try:
        traceparent = f"00-{TRACE_ID}-{PARENT_ID}-01"
        with grpc.insecure_channel(server.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            stub.Embed(pb.EmbedRequest(input=SECRET_TEXT), metadata=(("traceparent", traceparent),))
            stub.EmbedList(pb.EmbedListRequest(inputs=["one two", "three"]))  # a trace of its own
            with pytest.raises(grpc.RpcError):
                stub.Embed(pb.EmbedRequest(input=""))
            items = [pb.EmbedBatchRequest(input=f"item {i}") for i in range(3)]
            assert len(list(stub.EmbedBatch(iter(items)))) == 3
    finally:
        server.stop()  # flushes the spans still buffered
    assert "Failed to detach context" not in server.log, server.log[-2000:]
    via = "grpc" if protocol == "grpc" else "http"
    assert receiver.requests[via] > 0 and receiver.service_names == {"nomic-serve-test"}
    spans = receiver.spans
    rpcs = [s for s in spans if s.name == "nomic.serve.v1.EmbeddingService/Embed"]
    assert len(rpcs) == 2
    continued = next(s for s in rpcs if s.trace_id.hex() == TRACE_ID)
    assert continued.parent_span_id.hex() == PARENT_ID
    assert continued.kind == continued.SPAN_KIND_SERVER
    attributes = _attributes(continued)
    assert attributes["rpc.system"] == "grpc" and attributes["rpc.method"] == "Embed"
    assert attributes["rpc.grpc.status_code"] == "OK" and attributes["nomic_serve.items"] == 1
    children = {s.name: s for s in spans if s.parent_span_id == continued.span_id}
    assert set(children) == {"tokenize", "queue", "inference", "postprocess"}
    for child in children.values():
        assert child.trace_id == continued.trace_id
        assert continued.start_time_unix_nano <= child.start_time_unix_nano
        assert child.end_time_unix_nano <= continued.end_time_unix_nano
    batch = _attributes(children["inference"])
    assert batch["nomic_serve.batch_size"] == 1 and batch["nomic_serve.batch_padded_tokens"] > 0
    assert children["queue"].end_time_unix_nano <= children["inference"].start_time_unix_nano + 1
    refused = next(s for s in rpcs if s is not continued)
    assert refused.trace_id.hex() != TRACE_ID  # no traceparent: a new trace
    assert _attributes(refused)["rpc.grpc.status_code"] == "INVALID_ARGUMENT"
    assert refused.status.code == refused.status.STATUS_CODE_ERROR
    listed = [s for s in spans if s.name.endswith("/EmbedList")]
    assert len(listed) == 1 and _attributes(listed[0])["nomic_serve.items"] == 2
    streamed = [s for s in spans if s.name.endswith("/EmbedBatch")]
    assert len(streamed) == 1 and _attributes(streamed[0])["nomic_serve.items"] == 3
    for span in spans:
        for value in _attributes(span).values():
            assert "fox" not in str(value) and "three" not in str(value)


def test_rest_through_envoy_continues_the_http_traceparent(
    receiver: Receiver, tmp_path: Path, tiny_model: TextModelDir
) -> None:
    """Envoy passes the HTTP `traceparent` header on as gRPC metadata."""
    server = text_server(
        tmp_path, tiny_model.model, {"OTEL_EXPORTER_OTLP_ENDPOINT": receiver.http_endpoint}
    )
    try:
        envoy = EnvoyProcess(server, tmp_path, {})
        try:
            headers = {
                "content-type": "application/json",
                "traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01",
            }
            status, _, body = envoy.request("POST", "/embed", b'{"input": "hi"}', headers)
            assert status == 200, body
        finally:
            envoy.stop()
    finally:
        server.stop()
    embeds = [s for s in receiver.spans if s.name == "nomic.serve.v1.EmbeddingService/Embed"]
    continued = [s for s in embeds if s.trace_id.hex() == TRACE_ID]
    assert len(continued) == 1 and continued[0].parent_span_id.hex() == PARENT_ID, embeds
