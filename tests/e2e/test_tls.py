"""TLS end to end: a real server process with mTLS, the real Envoy with the same files in
front of it, and clients over gRPC, REST (HTTP/1.1 and HTTP/2 by ALPN) and the openai
client. Probes use the plaintext health-only port."""

from __future__ import annotations

import json
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import grpc
import httpx
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.certs import Authority, Issued
from ..support.models import TextModelDir
from ..support.processes import (
    BIN,
    EnvoyProcess,
    GatewayProcess,
    ServerProcess,
    free_port,
    text_server,
)
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e


@pytest.fixture
def secured(
    tmp_path: Path, tiny_model: TextModelDir
) -> Iterator[tuple[ServerProcess, Authority, Issued]]:
    """A server requiring client certificates of `authority`, which also issued its own."""
    authority = Authority(tmp_path / "ca")
    leaf = authority.issue("server", server=True)
    tls = {"TLS_CERT": str(leaf.cert), "TLS_KEY": str(leaf.key), "TLS_CLIENT_CA": str(authority.ca)}
    server = text_server(tmp_path, tiny_model.model, {"HEALTH_PORT": str(free_port()), **tls})
    yield server, authority, authority.issue("client", server=False)
    server.stop()


def _grpc(port: int, ca: Path, client: Issued | None) -> grpc.StatusCode:
    pem = client.pem() if client else (None, None)
    credentials = grpc.ssl_channel_credentials(ca.read_bytes(), pem[1], pem[0])
    with grpc.secure_channel(f"localhost:{port}", credentials) as channel:
        try:
            rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input="hi"), timeout=10)
        except grpc.RpcError as error:
            return error.code()  # type: ignore[attr-defined,no-any-return]
    return grpc.StatusCode.OK


def _curl(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code} %{http_version}", *args, url],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_grpc_rest_and_openai_over_mtls(secured, tmp_path: Path) -> None:
    server, authority, client = secured
    stranger = Authority(tmp_path / "stranger")
    assert _grpc(server.port, authority.ca, client) == grpc.StatusCode.OK
    assert _grpc(server.port, authority.ca, None) == grpc.StatusCode.UNAVAILABLE
    assert _grpc(server.port, stranger.ca, client) == grpc.StatusCode.UNAVAILABLE
    forged = stranger.issue("client", server=False)
    assert _grpc(server.port, authority.ca, forged) == grpc.StatusCode.UNAVAILABLE

    # Envoy with the server's own files: TLS on REST, TLS (with a client certificate) to it.
    context = ssl.create_default_context(cafile=str(authority.ca))
    context.load_cert_chain(client.cert, client.key)
    envoy = EnvoyProcess(server, tmp_path, server.env, tls=context)
    try:
        body = json.dumps({"input": "Hello world"})
        mine = ["--cacert", str(authority.ca), "--cert", str(client.cert), "--key", str(client.key)]
        for version, expected in (("--http1.1", "1.1"), ("--http2", "2")):
            done = _curl(
                f"{envoy.url}/embed",
                version,
                *mine,
                "-H",
                "content-type: application/json",
                "-d",
                body,
            )
            reply, _, status = done.stdout.rpartition("\n")
            assert status == f"200 {expected}", (done.stdout, done.stderr)
            assert len(json.loads(reply)["embedding"]) == 32
        no_cert = _curl(f"{envoy.url}/health", "--cacert", str(authority.ca))
        assert no_cert.returncode != 0, no_cert.stdout  # the handshake is refused
        plain = _curl(f"http://127.0.0.1:{envoy.port}/health")
        assert not plain.stdout.endswith("200 1.1"), plain.stdout

        from openai import OpenAI

        with httpx.Client(verify=context) as http:
            openai = OpenAI(
                base_url=f"{envoy.url}/v1", api_key="x", max_retries=0, http_client=http
            )
            assert len(openai.embeddings.create(model="m", input=["a", "b"]).data) == 2
    finally:
        envoy.stop()


def test_probes_use_the_plaintext_health_port(secured) -> None:
    server, _, _ = secured
    health = BIN / "nomic-serve-health"
    done = subprocess.run(
        [str(health), "--target", f"127.0.0.1:{server.env['HEALTH_PORT']}", "--service", "text"],
        capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip
    assert done.returncode == 0 and "SERVING" in done.stdout, done.stderr
    on_tls_port = subprocess.run(
        [str(health), "--target", server.address], capture_output=True, text=True, timeout=30,
        check=False,
    )  # fmt: skip
    assert on_tls_port.returncode == 1  # a plaintext probe cannot talk to the TLS port


def test_the_gateway_speaks_tls_both_ways(secured, tmp_path: Path) -> None:
    """The gateway's gRPC listener serves TLS with client certificates required, and it
    reaches the TLS replica (health checks included) over TLS, verifying its chain."""
    server, authority, client = secured
    leaf = authority.folder / "server.pem", authority.folder / "server-key.pem"
    env = {
        "TLS_CERT": str(leaf[0]),
        "TLS_KEY": str(leaf[1]),
        "TLS_CLIENT_CA": str(authority.ca),
        "TLS_UPSTREAM_CA": str(authority.ca),
    }
    gateway = GatewayProcess([server.address], tmp_path, env)
    try:
        port = int(gateway.grpc_address.rsplit(":", 1)[1])
        # Routed once the first health check (over TLS) has found the replica.
        eventually_sync(lambda: _grpc(port, authority.ca, client) == grpc.StatusCode.OK, 30)
        assert _grpc(port, authority.ca, None) == grpc.StatusCode.UNAVAILABLE
        with grpc.insecure_channel(gateway.grpc_address) as channel:
            with pytest.raises(grpc.RpcError) as caught:
                rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input="hi"), timeout=10)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE  # type: ignore[attr-defined]
    finally:
        gateway.stop()
