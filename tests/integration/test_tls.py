"""TLS and mTLS on the gRPC port, certificate rotation without dropped connections, and the
plaintext health-only port for probes."""

from __future__ import annotations

import socket
import ssl
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nomic_serve.errors import ConfigError
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.certs import Authority, Issued
from ..support.processes import free_port
from .conftest import ONE_SESSION, serving


def _channel(port: int, ca: Path, client: Issued | None = None) -> grpc.aio.Channel:
    key, chain = (client.key.read_bytes(), client.cert.read_bytes()) if client else (None, None)
    credentials = grpc.ssl_channel_credentials(ca.read_bytes(), key, chain)
    return grpc.aio.secure_channel(f"localhost:{port}", credentials)


async def _embed_code(channel: grpc.aio.Channel) -> grpc.StatusCode:
    try:
        await rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input="hi"), timeout=10)
    except grpc.aio.AioRpcError as error:
        return error.code()
    finally:
        await channel.close()
    return grpc.StatusCode.OK


def _served_certificate(port: int, ca: Path) -> bytes:
    """The certificate a new TLS connection is shown (DER), read with the ssl module."""
    context = ssl.create_default_context(cafile=str(ca))
    context.set_alpn_protocols(["h2"])
    with (
        socket.create_connection(("127.0.0.1", port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return der


async def test_tls_serves_the_right_ca_only(tiny_model, tmp_path: Path) -> None:
    authority, stranger = Authority(tmp_path / "ca"), Authority(tmp_path / "other")
    leaf = authority.issue("server", server=True)
    async with serving(tiny_model.model, tls_cert=leaf.cert, tls_key=leaf.key) as served:
        port = served.app.port
        assert await _embed_code(_channel(port, authority.ca)) == grpc.StatusCode.OK
        assert await _embed_code(_channel(port, stranger.ca)) == grpc.StatusCode.UNAVAILABLE
        plain = grpc.aio.insecure_channel(f"127.0.0.1:{port}")
        assert await _embed_code(plain) == grpc.StatusCode.UNAVAILABLE


async def test_mtls_requires_a_client_certificate_of_the_client_ca(
    tiny_model, tmp_path: Path
) -> None:
    servers, clients, stranger = (
        Authority(tmp_path / "servers"),
        Authority(tmp_path / "clients"),
        Authority(tmp_path / "stranger"),
    )
    leaf = servers.issue("server", server=True)
    async with serving(
        tiny_model.model, tls_cert=leaf.cert, tls_key=leaf.key, tls_client_ca=clients.ca
    ) as served:
        port = served.app.port
        good = clients.issue("client", server=False)
        assert await _embed_code(_channel(port, servers.ca, good)) == grpc.StatusCode.OK
        assert await _embed_code(_channel(port, servers.ca)) == grpc.StatusCode.UNAVAILABLE
        forged = stranger.issue("client", server=False)
        assert await _embed_code(_channel(port, servers.ca, forged)) == grpc.StatusCode.UNAVAILABLE


async def test_a_rotated_certificate_is_served_to_new_connections_and_old_ones_go_on(
    tiny_model, tmp_path: Path
) -> None:
    authority = Authority(tmp_path / "ca")
    leaf = authority.issue("server", server=True)
    async with serving(tiny_model.model, tls_cert=leaf.cert, tls_key=leaf.key) as served:
        port = served.app.port
        before = _served_certificate(port, authority.ca)
        kept = _channel(port, authority.ca)
        stub = rpc.EmbeddingServiceStub(kept)
        await stub.Embed(pb.EmbedRequest(input="before"))
        # A half-written rotation (key of another certificate) is refused, the old one kept.
        stray = authority.issue("stray", server=True, into=tmp_path / "stray")
        leaf.key.write_bytes(stray.key.read_bytes())
        assert _served_certificate(port, authority.ca) == before
        authority.issue("server", server=True)  # the rotation completes: same paths
        after = _served_certificate(port, authority.ca)
        assert after != before
        assert after == ssl.PEM_cert_to_DER_cert(leaf.cert.read_text())
        await stub.Embed(pb.EmbedRequest(input="after"))  # the connection opened before
        await kept.close()
        assert await _embed_code(_channel(port, authority.ca)) == grpc.StatusCode.OK


async def test_the_health_port_is_plaintext_and_health_only(tiny_model, tmp_path: Path) -> None:
    authority = Authority(tmp_path / "ca")
    leaf = authority.issue("server", server=True)
    health_port = free_port()
    async with serving(
        tiny_model.model, tls_cert=leaf.cert, tls_key=leaf.key, health_port=health_port,
        **ONE_SESSION,
    ) as served:  # fmt: skip
        assert served.app.server.health_port == health_port
        async with grpc.aio.insecure_channel(f"127.0.0.1:{health_port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service="text")
            )
            assert reply.status == health_pb2.HealthCheckResponse.SERVING
            code = await _embed_code(grpc.aio.insecure_channel(f"127.0.0.1:{health_port}"))
            assert code == grpc.StatusCode.UNIMPLEMENTED


@pytest.mark.parametrize("problem", ["only a cert", "a key of another cert", "not PEM"])
async def test_unusable_tls_files_stop_the_start(tiny_model, tmp_path: Path, problem) -> None:
    authority = Authority(tmp_path / "ca")
    leaf = authority.issue("server", server=True)
    other = authority.issue("other", server=True)
    files = {
        "only a cert": {"tls_cert": leaf.cert},
        "a key of another cert": {"tls_cert": leaf.cert, "tls_key": other.key},
        "not PEM": {"tls_cert": authority.ca.with_name("junk"), "tls_key": leaf.key},
    }[problem]
    authority.ca.with_name("junk").write_text("not a certificate")
    with pytest.raises(ConfigError, match="TLS"):
        async with serving(tiny_model.model, **files):
            pass
