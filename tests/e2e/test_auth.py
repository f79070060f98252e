"""API keys end to end: a real server process behind the real Envoy. REST answers 401 with
`WWW-Authenticate`, the openai client's `Authorization: Bearer` works, a rotated keys file
takes effect on SIGHUP, and no key ever appears in the log."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.models import TextModelDir
from ..support.processes import EnvoyProcess, ServerProcess, text_server
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e

INLINE = "sk-inline-7f3a9c"
FILED = "sk-filed-51d0e2"
ROTATED = "sk-rotated-c0ffee"


@pytest.fixture
def keyed(tmp_path: Path, tiny_model: TextModelDir) -> Iterator[tuple[ServerProcess, Path]]:
    keys = tmp_path / "keys"
    keys.write_text(f"# keys of the test\n{FILED}\n")
    server = text_server(
        tmp_path,
        tiny_model.model,
        {
            "API_KEYS": INLINE,
            "API_KEYS_FILE": str(keys),
            "LOG_LEVEL": "debug",  # every line the server can write, so the scan sees them
        },
    )
    yield server, keys
    server.stop()


def _embed(server: ServerProcess, key: str | None) -> grpc.StatusCode:
    metadata = (("authorization", f"Bearer {key}"),) if key else ()
    with grpc.insecure_channel(server.address) as channel:
        try:
            rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input="hi"), metadata=metadata)
        except grpc.RpcError as error:
            return error.code()  # type: ignore[attr-defined,no-any-return]
    return grpc.StatusCode.OK


def test_rest_and_openai_clients_use_the_same_keys(keyed, tmp_path: Path) -> None:
    server, _ = keyed
    envoy = EnvoyProcess(server, tmp_path, {})
    try:
        body = json.dumps({"input": "Hello world"}).encode()
        json_type = {"content-type": "application/json"}
        status, headers, payload = envoy.request("POST", "/embed", body, json_type)
        assert status == 401, payload
        assert headers["www-authenticate"] == 'Bearer realm="nomic-serve"'
        assert "valid API key is required" in payload.decode()
        for key_header in ({"authorization": f"Bearer {INLINE}"}, {"x-api-key": FILED}):
            status, _, payload = envoy.request("POST", "/embed", body, json_type | key_header)
            assert status == 200, payload
        status, _, _ = envoy.request("GET", "/health")
        assert status == 200  # load balancers' health check needs no key

        from openai import AuthenticationError, OpenAI

        with OpenAI(base_url=f"{envoy.url}/v1", api_key=INLINE, max_retries=0) as client:
            reply = client.embeddings.create(model="m", input=["a", "b"])
            assert len(reply.data) == 2
        with (
            OpenAI(base_url=f"{envoy.url}/v1", api_key="sk-wrong", max_retries=0) as wrong,
            pytest.raises(AuthenticationError),
        ):
            wrong.embeddings.create(model="m", input="a")
    finally:
        envoy.stop()


def test_sighup_reloads_the_keys_file_and_no_key_is_ever_logged(keyed) -> None:
    server, keys = keyed
    assert _embed(server, INLINE) == grpc.StatusCode.OK
    assert _embed(server, FILED) == grpc.StatusCode.OK
    assert _embed(server, ROTATED) == grpc.StatusCode.UNAUTHENTICATED
    assert _embed(server, None) == grpc.StatusCode.UNAUTHENTICATED
    keys.write_text(f"{ROTATED}\n")
    server.proc.send_signal(signal.SIGHUP)
    eventually_sync(lambda: "API keys reloaded" in server.log, timeout=10)
    assert _embed(server, ROTATED) == grpc.StatusCode.OK
    assert _embed(server, FILED) == grpc.StatusCode.UNAUTHENTICATED
    assert _embed(server, INLINE) == grpc.StatusCode.OK  # API_KEYS stays
    assert server.proc.poll() is None  # SIGHUP reloads, it does not stop
    log = server.log
    assert "UNAUTHENTICATED" in log  # the refusals were logged...
    for key in (INLINE, FILED, ROTATED, "sk-"):
        assert key not in log  # ...and no key, nor a piece of one
