"""The image fetcher against a real HTTP server on 127.0.0.1, and the SSRF address policy.

Network etiquette: the only sockets opened are to the server these tests start. A tripwire on
httpcore's socket backend fails any test that tries to connect anywhere else, so every SSRF
refusal is proven to happen before a connection, and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import shutil
import socket
import ssl
import subprocess
import time
import tracemalloc
import zlib
from collections.abc import AsyncIterator, Sequence
from ipaddress import IPv4Address, ip_address, ip_network
from pathlib import Path
from urllib.parse import quote

import grpc
import pytest

from nomic_serve.api.status import status_code
from nomic_serve.config import Settings
from nomic_serve.core.admission import ImageAdmission
from nomic_serve.errors import FetchBlocked, FetchError, ImageTooLarge, InvalidImage, Overloaded
from nomic_serve.fetch import AddressPolicy, ImageFetcher, Resolver, resolve_host
from nomic_serve.fetch.guard import IPAddress

from ..support.image_server import (
    IMAGE,
    MAX_BYTES,
    ONLY_127_0_0_1,
    RAW,
    ImageServer,
    loopback_tripwire,
    open_gate,
    serve_body,
    serve_images,
)
from ..support.reference import unavailable
from ..support.waiting import eventually


@pytest.fixture(scope="session")
async def server() -> AsyncIterator[ImageServer]:
    async with serve_images() as state:
        yield state


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    return loopback_tripwire(monkeypatch)


@contextlib.asynccontextmanager
async def make_fetcher(
    policy: AddressPolicy = ONLY_127_0_0_1,
    *,
    timeout_s: float = 2.0,
    max_redirects: int = 3,
    resolver: Resolver = resolve_host,
) -> AsyncIterator[ImageFetcher]:
    fetcher = ImageFetcher(
        max_bytes=MAX_BYTES,
        timeout_s=timeout_s,
        max_redirects=max_redirects,
        policy=policy,
        resolver=resolver,
    )
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


@pytest.fixture
async def fetcher() -> AsyncIterator[ImageFetcher]:
    async with make_fetcher() as fetcher:
        yield fetcher


# --- fetching ---------------------------------------------------------------------------------


async def test_fetches_an_image(fetcher: ImageFetcher, server: ImageServer) -> None:
    assert await fetcher.fetch(server.url("/image")) == IMAGE


async def test_sends_user_agent_and_accept(fetcher: ImageFetcher, server: ImageServer) -> None:
    sent = (await fetcher.fetch(server.url("/echo"))).decode().splitlines()
    assert "user-agent: nomic-serve/0.1.0" in sent
    assert "accept: image/*" in sent
    assert "accept-encoding: identity" in sent
    assert not any(line.startswith("authorization") for line in sent)


async def test_follows_relative_and_absolute_redirects(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    server.requests.clear()
    assert await fetcher.fetch(server.url("/chain?n=3")) == IMAGE
    assert server.requests == ["/chain?n=3", "/chain?n=2", "/chain?n=1", "/image"]


async def test_too_many_redirects(fetcher: ImageFetcher, server: ImageServer) -> None:
    server.requests.clear()
    with pytest.raises(FetchError, match=r"redirected more than 3 times \(FETCH_MAX_REDIRECTS\)"):
        await fetcher.fetch(server.url("/loop"))
    assert len(server.requests) == 4
    with pytest.raises(FetchError, match="more than 3 times"):
        await fetcher.fetch(server.url("/chain?n=4"))


async def test_no_redirects_when_the_limit_is_zero(server: ImageServer) -> None:
    async with make_fetcher(max_redirects=0) as fetcher:
        assert await fetcher.fetch(server.url("/image")) == IMAGE
        with pytest.raises(FetchError, match="redirected more than 0 times"):
            await fetcher.fetch(server.url("/chain?n=1"))


@pytest.mark.parametrize(
    ("location", "message"),
    [
        (
            "http://169.254.169.254/latest/meta-data/",
            r"a cloud metadata address \(169.254.169.254\)",
        ),
        ("http://10.0.0.1/", r"a private address \(10.0.0.1\); set FETCH_ALLOW_NETWORKS"),
        ("http://[::1]:{port}/image", r"a loopback address \(::1\)"),
        ("http://127.0.0.2:{port}/image", r"a loopback address \(127.0.0.2\)"),
        ("http://[::ffff:127.0.0.2]:{port}/image", r"a loopback address \(::ffff:"),
        ("http://0.0.0.0:{port}/image", r"an unspecified address \(0.0.0.0\)"),
    ],
)
async def test_each_redirect_hop_is_checked(
    fetcher: ImageFetcher,
    server: ImageServer,
    connections: list[str],
    location: str,
    message: str,
) -> None:
    target = quote(location.format(port=server.port), safe="")
    with pytest.raises(FetchBlocked, match=message):
        await fetcher.fetch(server.url(f"/redirect?to={target}"))
    assert connections == ["127.0.0.1"]  # the first hop only


@pytest.mark.parametrize(
    ("location", "message"),
    [
        ("file:///etc/passwd", "redirected to an unsupported scheme 'file'"),
        ("gopher://127.0.0.1:6379/_", "redirected to an unsupported scheme 'gopher'"),
        ("http://user:pw@127.0.0.1:{port}/image", "must not contain a user name or password"),
    ],
)
async def test_redirects_stay_on_plain_http(
    fetcher: ImageFetcher, server: ImageServer, location: str, message: str
) -> None:
    target = quote(location.format(port=server.port), safe="")
    with pytest.raises(FetchError, match=message):
        await fetcher.fetch(server.url(f"/redirect?to={target}"))


async def test_redirect_without_location(fetcher: ImageFetcher, server: ImageServer) -> None:
    with pytest.raises(FetchError, match="answered HTTP 302 without a Location"):
        await fetcher.fetch(server.url("/no-location"))


async def test_http_error_status(fetcher: ImageFetcher, server: ImageServer) -> None:
    with pytest.raises(FetchError, match=r"^image URL answered HTTP 404$"):
        await fetcher.fetch(server.url("/missing.png"))


async def test_connection_refused() -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    async with make_fetcher() as fetcher:
        with pytest.raises(FetchError, match=r"could not connect .* \(connection refused\)"):
            await fetcher.fetch(f"http://127.0.0.1:{port}/image")


async def test_slow_drip_body_hits_the_total_deadline(server: ImageServer) -> None:
    async with make_fetcher(timeout_s=0.5) as fetcher:
        started = time.monotonic()
        with pytest.raises(
            FetchError, match=r"^fetching the image took longer than 0.5 s \(FETCH_TIMEOUT_S\)$"
        ):
            await fetcher.fetch(server.url("/drip"))
        assert time.monotonic() - started < 1.5


async def test_endless_body_stops_at_the_limit(fetcher: ImageFetcher, server: ImageServer) -> None:
    started = time.monotonic()
    with pytest.raises(ImageTooLarge, match=r"larger than the 0.0625 MB limit \(IMAGE_MAX_MB\)"):
        await fetcher.fetch(server.url("/endless"))
    assert time.monotonic() - started < 1.0
    await asyncio.wait_for(server.endless_done.wait(), 2.0)  # the connection was closed
    assert server.endless_sent < 32 * 1024 * 1024  # socket buffers at most, not a stream


async def test_oversized_content_length_is_refused_before_reading(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    started = time.monotonic()
    with pytest.raises(ImageTooLarge, match=r"0\.0625 MB limit"):
        await fetcher.fetch(server.url("/huge-length"))
    assert time.monotonic() - started < 1.0


async def test_unsupported_urls_are_refused_without_a_request(fetcher: ImageFetcher) -> None:
    with pytest.raises(InvalidImage, match="unsupported URL scheme 'ftp'"):
        await fetcher.fetch("ftp://127.0.0.1/image")
    with pytest.raises(InvalidImage, match="must not contain a user name or password"):
        await fetcher.fetch("http://admin:admin@127.0.0.1/image")


async def test_from_settings_uses_the_allow_list(server: ImageServer) -> None:
    settings = Settings(fetch_allow_networks=(ip_network("127.0.0.0/8"),), fetch_timeout_s=3.0)
    fetcher = ImageFetcher.from_settings(settings)
    try:
        assert await fetcher.fetch(server.url("/image")) == IMAGE
    finally:
        await fetcher.aclose()


# --- the SSRF guard at connect time -----------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("127.0.0.1", r"a loopback address \(127.0.0.1\)"),
        ("localhost", "a loopback address"),
        ("2130706433", r"a loopback address \(127.0.0.1\)"),  # 127.0.0.1 as one decimal number
        ("10.0.0.1", r"a private address \(10.0.0.1\)"),
        ("169.254.169.254", r"a cloud metadata address \(169.254.169.254\)"),
        ("[::1]", r"a loopback address \(::1\)"),
        ("[::ffff:127.0.0.1]", r"a loopback address \(::ffff:"),
        ("0.0.0.0", r"an unspecified address \(0.0.0.0\)"),
    ],
)
async def test_default_policy_refuses_before_connecting(
    server: ImageServer, connections: list[str], host: str, message: str
) -> None:
    server.requests.clear()
    async with make_fetcher(AddressPolicy()) as fetcher:
        with pytest.raises(FetchBlocked, match=message):
            await fetcher.fetch(server.url("/image", host))
    assert connections == []  # refused before any socket: no timing needed to show it
    assert server.requests == []


class FakeResolver:
    """Answers from a script, one list of addresses per call, like DNS that changes its mind."""

    def __init__(self, *answers: Sequence[str]) -> None:
        self._answers = list(answers)
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[IPAddress]:
        self.calls.append(host)
        return [ip_address(address) for address in self._answers.pop(0)]


async def test_resolved_private_address_is_refused(connections: list[str]) -> None:
    resolver = FakeResolver(["10.0.0.1"])
    async with make_fetcher(resolver=resolver) as fetcher:
        with pytest.raises(FetchBlocked, match=r"a private address \(10.0.0.1\)"):
            await fetcher.fetch("http://images.example/cat.png")
    assert resolver.calls == ["images.example"]
    assert connections == []


async def test_connects_to_the_address_it_checked(
    server: ImageServer, connections: list[str]
) -> None:
    """images.example exists only in the fake resolver, so reaching the server proves the
    socket went to the checked 127.0.0.1 while the request still names the host."""
    resolver = FakeResolver(["127.0.0.1"])
    async with make_fetcher(resolver=resolver) as fetcher:
        sent = await fetcher.fetch(server.url("/echo", "images.example"))
    assert f"host: images.example:{server.port}" in sent.decode().splitlines()
    assert connections == ["127.0.0.1"]


async def test_every_connection_is_checked_again(
    server: ImageServer, connections: list[str]
) -> None:
    """DNS rebinding: the second resolution of the same name lands on a private address."""
    resolver = FakeResolver(["127.0.0.1"], ["10.0.0.1"])
    async with make_fetcher(resolver=resolver) as fetcher:
        assert await fetcher.fetch(server.url("/image", "images.example")) == IMAGE
        with pytest.raises(FetchBlocked, match=r"a private address \(10.0.0.1\)"):
            await fetcher.fetch(server.url("/image", "images.example"))
    assert connections == ["127.0.0.1"]


async def test_only_allowed_addresses_are_tried(
    server: ImageServer, connections: list[str]
) -> None:
    resolver = FakeResolver(["10.0.0.1", "169.254.169.254", "127.0.0.1"])
    async with make_fetcher(resolver=resolver) as fetcher:
        assert await fetcher.fetch(server.url("/image", "images.example")) == IMAGE
    assert connections == ["127.0.0.1"]


@pytest.fixture(scope="session")
async def tls_server(
    server: ImageServer, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[tuple[int, Path]]:
    """The same routes over TLS, with a self-signed certificate for images.example only."""
    if shutil.which("openssl") is None:
        unavailable("needs the openssl command to make a certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    command = "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1"
    command += " -subj /CN=images.example -addext subjectAltName=DNS:images.example"
    subprocess.run(
        [*command.split(), "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    listener = await asyncio.start_server(server.handle, "127.0.0.1", 0, ssl=context)
    async with listener:
        yield listener.sockets[0].getsockname()[1], cert


async def test_tls_verifies_the_host_name_over_the_checked_address(
    tls_server: tuple[int, Path], connections: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The socket goes to 127.0.0.1, yet SNI and the certificate check use images.example."""
    port, cert = tls_server
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    async with make_fetcher(resolver=FakeResolver(["127.0.0.1"])) as fetcher:
        assert await fetcher.fetch(f"https://images.example:{port}/image") == IMAGE
        with pytest.raises(FetchError, match=r"could not connect .* \(TLS handshake failed\)"):
            await fetcher.fetch(f"https://127.0.0.1:{port}/image")  # not the certificate's name
    assert connections == ["127.0.0.1", "127.0.0.1"]


async def test_falls_back_to_the_next_allowed_address(
    server: ImageServer, connections: list[str]
) -> None:
    """Nothing listens on 127.0.0.2 (the server is bound to 127.0.0.1): refused, then next."""
    resolver = FakeResolver(["127.0.0.2", "127.0.0.1"])
    loopback = AddressPolicy((ip_network("127.0.0.0/8"),))
    async with make_fetcher(loopback, resolver=resolver) as fetcher:
        assert await fetcher.fetch(server.url("/image", "images.example")) == IMAGE
    assert connections == ["127.0.0.2", "127.0.0.1"]


async def test_literal_addresses_skip_the_resolver(connections: list[str]) -> None:
    resolver = FakeResolver()
    async with make_fetcher(resolver=resolver) as fetcher:
        with pytest.raises(FetchBlocked, match="a private address"):
            await fetcher.fetch("http://10.0.0.1/cat.png")
    assert resolver.calls == []
    assert connections == []


async def test_resolution_failure_is_a_fetch_error(monkeypatch: pytest.MonkeyPatch) -> None:
    async def no_such_host(*args: object, **kwargs: object) -> list[object]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", no_such_host)
    with pytest.raises(
        FetchError, match=r"^image URL host 'images\.example' could not be resolved$"
    ):
        await resolve_host("images.example", 80)
    async with make_fetcher() as fetcher:
        with pytest.raises(FetchError, match="could not be resolved"):
            await fetcher.fetch("http://images.example/cat.png")


async def test_unencodable_host_is_a_fetch_error() -> None:
    """Python's resolver refuses an empty label before asking DNS anything."""
    with pytest.raises(FetchError, match=r"^image URL host 'a\.\.b' could not be resolved$"):
        await resolve_host("a..b", 80)


async def test_system_resolver_reads_hosts_file() -> None:
    assert IPv4Address("127.0.0.1") in await resolve_host("localhost", 80)


# --- the address policy -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "rule"),
    [
        ("127.0.0.1", "a loopback address"),
        ("127.255.0.9", "a loopback address"),
        ("::1", "a loopback address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("172.31.255.255", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fc00::1", "a private address"),
        ("fd12:3456::1", "a private address"),
        ("fec0::1", "a private address"),
        ("169.254.1.1", "a link-local address"),
        ("fe80::1", "a link-local address"),
        ("169.254.169.254", "a cloud metadata address"),
        ("fd00:ec2::254", "a cloud metadata address"),
        ("224.0.0.1", "a multicast address"),
        ("ff02::1", "a multicast address"),
        ("0.0.0.0", "an unspecified address"),
        ("::", "an unspecified address"),
        ("100.64.0.1", "a shared (carrier-grade NAT) address"),
        ("240.0.0.1", "a reserved address"),
        ("255.255.255.255", "a reserved address"),
        ("192.0.2.1", "a reserved address"),  # documentation
        ("2001:db8::1", "a reserved address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("::ffff:10.0.0.1", "a private address"),
        ("::ffff:169.254.169.254", "a cloud metadata address"),
        ("64:ff9b::a00:1", "a private address"),  # NAT64 of 10.0.0.1
        ("2002:a00:1::", "a private address"),  # 6to4 of 10.0.0.1
        ("2002:7f00:1::", "a loopback address"),  # 6to4 of 127.0.0.1
    ],
)
def test_policy_refuses_non_public_addresses(address: str, rule: str) -> None:
    with pytest.raises(FetchBlocked) as refused:
        AddressPolicy().check(ip_address(address))
    shown = ip_address(address)  # Python < 3.13 prints ::ffff:7f00:1 for ::ffff:127.0.0.1
    assert str(refused.value).startswith(f"image URL resolves to {rule} ({shown})")


def test_refusal_message_names_rule_and_setting() -> None:
    with pytest.raises(FetchBlocked) as refused:
        AddressPolicy().check(ip_address("10.1.2.3"))
    assert str(refused.value) == (
        "image URL resolves to a private address (10.1.2.3); set FETCH_ALLOW_NETWORKS to allow it"
    )


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "8.8.8.8",
        "2606:4700:4700::1111",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8, as DNS64 answers on IPv6-only networks
        "2002:808:808::",
    ],
)
def test_policy_allows_public_addresses(address: str) -> None:
    AddressPolicy().check(ip_address(address))


def test_allow_list_opens_only_its_networks() -> None:
    policy = AddressPolicy((ip_network("10.0.0.0/8"), ip_network("fd00::/8")))
    for allowed in ("10.1.2.3", "::ffff:10.1.2.3", "fd00::5"):
        policy.check(ip_address(allowed))
    for refused in ("192.168.1.1", "127.0.0.1", "fc00::1"):
        with pytest.raises(FetchBlocked):
            policy.check(ip_address(refused))


def test_loopback_allow_list_is_exact() -> None:
    ONLY_127_0_0_1.check(ip_address("127.0.0.1"))
    with pytest.raises(FetchBlocked, match="a loopback address"):
        ONLY_127_0_0_1.check(ip_address("127.0.0.2"))


def test_metadata_is_refused_even_when_allowed() -> None:
    policy = AddressPolicy((ip_network("0.0.0.0/0"), ip_network("169.254.0.0/16")))
    policy.check(ip_address("169.254.1.1"))
    with pytest.raises(FetchBlocked, match="it is never fetched"):
        policy.check(ip_address("169.254.169.254"))


# --- hardening: encodings, connection slots, the download's deadline, charges ------------------


async def loopback_resolver(host: str, port: int) -> list[IPAddress]:
    """Every name is 127.0.0.1: distinct host names for the per-host share, one server."""
    return [ip_address("127.0.0.1")]


@contextlib.asynccontextmanager
async def sized_fetcher(
    *, connections: int = 64, timeout_s: float = 5.0, max_bytes: int = MAX_BYTES
) -> AsyncIterator[ImageFetcher]:
    fetcher = ImageFetcher(
        max_bytes=max_bytes,
        timeout_s=timeout_s,
        max_redirects=3,
        policy=ONLY_127_0_0_1,
        connections=connections,
        resolver=loopback_resolver,
    )
    try:
        yield fetcher
    finally:
        await fetcher.aclose()


def compressed(data: bytes, encoding: str) -> bytes:
    """`data` in one layer of `encoding`: gzip / x-gzip (RFC 1952) or deflate (zlib, RFC 1950)."""
    return zlib.compress(data, wbits=15 if encoding == "deflate" else 31)


@functools.cache
def zero_bomb(encoding: str, megabytes: int = 200) -> bytes:
    """`megabytes` MiB of zeros in one layer of `encoding`: about 200 KB on the wire."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 15 if encoding == "deflate" else 31)
    zeros = bytes(1 << 20)
    return b"".join([*(packer.compress(zeros) for _ in range(megabytes)), packer.flush()])


class InflationLog:
    """Wraps zlib.decompressobj to record how many bytes each inflation produced."""

    def __init__(self) -> None:
        self.made: list[int] = []
        self._real = zlib.decompressobj

    def __call__(self, wbits: int = 15) -> object:
        inner = self._real(wbits)
        made = self.made

        class Recorded:
            def decompress(self, data: bytes, max_length: int = 0) -> bytes:
                out = inner.decompress(data, max_length)
                made.append(len(out))
                return out

        return Recorded()


@pytest.mark.parametrize("encoding", ["gzip", "x-gzip", "deflate", "GZIP", " gzip "])
async def test_one_compression_layer_is_inflated(
    fetcher: ImageFetcher, server: ImageServer, encoding: str
) -> None:
    path = serve_body(
        f"one-layer-{encoding.strip()}",
        compressed(IMAGE, encoding.strip().lower()),
        **{"Content-Encoding": encoding},
    )
    assert await fetcher.fetch(server.url(path)) == IMAGE


async def test_identity_encoding_is_passed_through(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    path = serve_body("identity", IMAGE, **{"Content-Encoding": "identity"})
    assert await fetcher.fetch(server.url(path)) == IMAGE


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_inflated_body_may_fill_the_limit_exactly(
    fetcher: ImageFetcher, server: ImageServer, encoding: str
) -> None:
    exact = bytes(range(256)) * (MAX_BYTES // 256)
    assert len(exact) == MAX_BYTES
    fits = serve_body(
        f"exact-{encoding}", compressed(exact, encoding), **{"Content-Encoding": encoding}
    )
    assert await fetcher.fetch(server.url(fits)) == exact
    over = serve_body(
        f"over-{encoding}", compressed(exact + b"!", encoding), **{"Content-Encoding": encoding}
    )
    with pytest.raises(ImageTooLarge, match=r"0\.0625 MB limit \(IMAGE_MAX_MB\)"):
        await fetcher.fetch(server.url(over))


@pytest.mark.parametrize(
    ("encoding", "data"),
    [
        ("gzip, gzip", compressed(compressed(IMAGE, "gzip"), "gzip")),
        ("gzip,gzip", compressed(compressed(IMAGE, "gzip"), "gzip")),
        ("deflate, gzip", compressed(compressed(IMAGE, "deflate"), "gzip")),
        ("br", IMAGE),
        ("compress", IMAGE),
        ("zstd", IMAGE),
    ],
)
async def test_other_encodings_are_refused_by_name_without_decoding(
    fetcher: ImageFetcher,
    server: ImageServer,
    monkeypatch: pytest.MonkeyPatch,
    encoding: str,
    data: bytes,
) -> None:
    inflations = InflationLog()
    monkeypatch.setattr(zlib, "decompressobj", inflations)
    path = serve_body(f"refused-{encoding}", data, **{"Content-Encoding": encoding})
    with pytest.raises(FetchError) as refused:
        await fetcher.fetch(server.url(path))
    assert type(refused.value) is FetchError
    assert str(refused.value) == (
        f"image URL sent Content-Encoding {encoding!r}; only identity or one gzip or deflate "
        "layer is accepted"
    )
    assert inflations.made == []  # not one byte was inflated


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
async def test_compression_bomb_stops_at_the_limit(
    fetcher: ImageFetcher,
    server: ImageServer,
    monkeypatch: pytest.MonkeyPatch,
    encoding: str,
) -> None:
    """200 MiB of zeros in ~200 KB, sent without a length (only inflating can find the size):
    refused after inflating at most the limit + 1 byte, in a few MB of memory."""
    bomb = zero_bomb(encoding)
    assert len(bomb) < 300 * 1024
    path = serve_body(f"bomb-{encoding}", bomb, length=False, **{"Content-Encoding": encoding})
    inflations = InflationLog()
    monkeypatch.setattr(zlib, "decompressobj", inflations)
    charged: list[int] = []
    tracemalloc.start()
    try:
        with pytest.raises(ImageTooLarge, match=r"0\.0625 MB limit \(IMAGE_MAX_MB\)"):
            await fetcher.fetch(server.url(path), charged.append)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert inflations.made  # the size was found by inflating
    assert sum(inflations.made) <= MAX_BYTES + 1
    assert sum(charged) <= MAX_BYTES  # bytes past the limit are never charged
    assert peak < 4 * 1024 * 1024, f"peak {peak:,} bytes while refusing a bomb"


async def test_undecodable_compressed_body_is_a_fetch_error(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    path = serve_body("not-gzip", b"this is not gzip at all", **{"Content-Encoding": "gzip"})
    with pytest.raises(FetchError, match="sent a compressed body that could not be decoded"):
        await fetcher.fetch(server.url(path))


async def test_truncated_compressed_body_is_refused(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    whole = compressed(IMAGE, "gzip")
    path = serve_body("truncated-gzip", whole[: len(whole) // 2], **{"Content-Encoding": "gzip"})
    with pytest.raises(FetchError):
        await fetcher.fetch(server.url(path))


async def test_multi_member_gzip_is_not_cut_short(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    half = len(IMAGE) // 2
    members = compressed(IMAGE[:half], "gzip") + compressed(IMAGE[half:], "gzip")
    path = serve_body("two-members", members, **{"Content-Encoding": "gzip"})
    try:
        got = await fetcher.fetch(server.url(path))
    except FetchError:
        return  # refusing is also honest
    assert got == IMAGE


NON_HTTP_LOCATIONS = [
    "data:image/png;base64,iVBORw0KGgo=",
    "data:,GIF89a",
    "mailto:x@y",
    "javascript:alert(1)",
    "file:///etc/passwd",
]


@pytest.mark.parametrize("location", NON_HTTP_LOCATIONS)
async def test_redirect_to_a_non_http_scheme_is_an_invalid_argument(
    fetcher: ImageFetcher, server: ImageServer, connections: list[str], location: str
) -> None:
    server.requests.clear()
    with pytest.raises(FetchError) as refused:
        await fetcher.fetch(server.url(f"/redirect?to={quote(location, safe='')}"))
    assert type(refused.value) is FetchError  # nothing else escapes, FetchBlocked included
    assert status_code(refused.value) is grpc.StatusCode.INVALID_ARGUMENT
    assert str(refused.value).startswith("image URL ")
    assert len(server.requests) == 1  # the target was never requested
    assert connections == ["127.0.0.1"]


@pytest.mark.parametrize(
    ("location", "scheme"),
    [
        (NON_HTTP_LOCATIONS[0], "data"),
        (NON_HTTP_LOCATIONS[2], "mailto"),
        ("file:///etc/passwd", "file"),
    ],
)
async def test_redirect_refusal_names_the_scheme(
    fetcher: ImageFetcher, server: ImageServer, location: str, scheme: str
) -> None:
    with pytest.raises(FetchError) as refused:
        await fetcher.fetch(server.url(f"/redirect?to={quote(location, safe='')}"))
    assert str(refused.value) == f"image URL redirected to an unsupported scheme {scheme!r}"


@pytest.mark.parametrize(
    ("response", "message"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", "broke off the response or sent invalid HTTP"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: abc\r\n\r\n", "sent invalid HTTP"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", "broke off the response"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab", "invalid HTTP"),
        (b"HTTP/1.1 302 Found\r\nLocation: http://[::1\r\n\r\n", "image URL"),
        (b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:99999/\r\n\r\n", "unusable URL"),
        (b"", "broke off the response"),
    ],
)
async def test_hostile_responses_end_as_fetch_errors(
    fetcher: ImageFetcher, server: ImageServer, response: bytes, message: str
) -> None:
    name = f"hostile-{len(RAW)}"
    RAW[name] = response
    with pytest.raises(FetchError, match=re.escape(message)) as refused:
        await fetcher.fetch(server.url(f"/raw?name={name}"))
    assert type(refused.value) is FetchError


async def test_one_host_gets_at_most_half_the_connections(server: ImageServer) -> None:
    """connections=4: two downloads from images.example at once, a third waits for them,
    while another host name still gets a connection at once."""
    async with sized_fetcher(connections=4) as fetcher, contextlib.AsyncExitStack() as stack:
        held = stack.enter_context(open_gate("per-host"))
        tasks = [
            asyncio.create_task(
                fetcher.fetch(server.url(f"/gate?name=per-host&i={i}", "images.example"))
            )
            for i in range(3)
        ]
        stack.push_async_callback(asyncio.gather, *tasks, return_exceptions=True)
        stack.callback(held.released.set)  # on the way out, before that gather
        await eventually(lambda: len(held.arrived) == 2, timeout=5)
        for _ in range(2):  # the loop has run both whole exchanges meanwhile
            other = fetcher.fetch(server.url("/image", "other.example"))
            assert await asyncio.wait_for(other, 5) == IMAGE
        assert len(held.arrived) == 2, "a third download from one host started"
        assert not any(task.done() for task in tasks)
        held.released.set()
        results = await asyncio.wait_for(asyncio.gather(*tasks), 5)
    assert results == [IMAGE + str(i).encode() for i in range(3)]
    assert len(held.arrived) == 3
    assert held.most == 2


async def test_all_hosts_share_the_server_wide_connections(server: ImageServer) -> None:
    """connections=4: two hosts holding two each take them all; a third host waits until a
    download ends, and then gets its connection."""
    async with sized_fetcher(connections=4) as fetcher, contextlib.AsyncExitStack() as stack:
        first = stack.enter_context(open_gate("wide-a"))
        second = stack.enter_context(open_gate("wide-b"))
        tasks = [
            asyncio.create_task(fetcher.fetch(server.url(f"/gate?name={name}&i={i}", host)))
            for name, host in (("wide-a", "a.example"), ("wide-b", "b.example"))
            for i in range(2)
        ]
        stack.push_async_callback(asyncio.gather, *tasks, return_exceptions=True)
        await eventually(lambda: len(first.arrived) == len(second.arrived) == 2, timeout=5)
        third = asyncio.create_task(fetcher.fetch(server.url("/image", "c.example")))
        stack.push_async_callback(asyncio.gather, third, return_exceptions=True)
        stack.callback(first.released.set)  # on the way out, before those gathers
        stack.callback(second.released.set)
        async with make_fetcher() as bystander:  # whole exchanges pass meanwhile, elsewhere
            for _ in range(2):
                assert await asyncio.wait_for(bystander.fetch(server.url("/image")), 5) == IMAGE
        assert not third.done(), "a fifth download started with connections=4"
        first.released.set()
        assert await asyncio.wait_for(third, 5) == IMAGE
        assert not any(task.done() for task in tasks[2:])  # b.example's still wait
        second.released.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 5)


@pytest.mark.parametrize(
    ("connections", "holder_hosts"),
    [
        (1, ["a.example"] * 3),  # the one connection, the waiter's host share full
        (2, ["a.example", "b.example", "d.example", "e.example"]),  # server-wide slots full
    ],
    ids=["host-share", "server-wide"],
)
async def test_the_timeout_counts_only_the_download(
    server: ImageServer, connections: int, holder_hosts: list[str]
) -> None:
    """FETCH_TIMEOUT_S 0.5: downloads that never end take every connection the waiter could
    use, in rounds (each cut 0.5 s after it starts); the waiter, started right after them,
    waits two or three times its timeout for a connection and still succeeds."""
    rounds = len(holder_hosts) // connections
    async with sized_fetcher(connections=connections, timeout_s=0.5) as fetcher:
        with open_gate("deadline"):
            server.requests.clear()
            holders = [
                asyncio.create_task(fetcher.fetch(server.url(f"/gate?name=deadline&i={i}", host)))
                for i, host in enumerate(holder_hosts)
            ]
            started = time.monotonic()
            waiter = asyncio.create_task(fetcher.fetch(server.url("/image", "a.example")))
            outcomes = await asyncio.wait_for(asyncio.gather(*holders, return_exceptions=True), 10)
            assert await asyncio.wait_for(waiter, 5) == IMAGE
            waited = time.monotonic() - started
    for outcome in outcomes:
        assert isinstance(outcome, FetchError)
        assert str(outcome) == "fetching the image took longer than 0.5 s (FETCH_TIMEOUT_S)"
    assert waited > 0.9 * rounds * 0.5, f"waited only {waited:.2f} s for {rounds} rounds"
    # Round by round: each round was asked for after the previous one's 0.5 s, the image last.
    asked = server.requests
    assert asked[-1] == "/image" and len(asked) == len(holder_hosts) + 1
    for turn in range(rounds):
        expected = {
            f"/gate?name=deadline&i={i}"
            for i in range(turn * connections, (turn + 1) * connections)
        }
        assert set(asked[turn * connections : (turn + 1) * connections]) == expected


async def test_charge_is_called_for_every_body_byte(server: ImageServer) -> None:
    data = bytes(range(256)) * 4000  # ~1 MB: several reads of the socket
    path = serve_body("charged", data)
    async with sized_fetcher(max_bytes=2 * 1024 * 1024) as fetcher:
        charged: list[int] = []
        assert await fetcher.fetch(server.url(path), charged.append) == data
    assert sum(charged) == len(data)
    assert len(charged) > 1  # charged as the body arrives, not once at the end


async def test_inflated_bytes_are_charged(fetcher: ImageFetcher, server: ImageServer) -> None:
    path = serve_body("charged-gzip", compressed(IMAGE, "gzip"), **{"Content-Encoding": "gzip"})
    charged: list[int] = []
    assert await fetcher.fetch(server.url(path), charged.append) == IMAGE
    assert sum(charged) == len(IMAGE)


async def test_a_refused_charge_ends_the_fetch_unchanged(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    refusal = Overloaded(
        "busy (IMAGE_MAX_PENDING_MB)", limit="IMAGE_MAX_PENDING_MB", retry_after_s=0.5
    )

    def refuse(size: int) -> None:
        raise refusal

    with pytest.raises(Overloaded) as raised:
        await fetcher.fetch(server.url("/image"), refuse)
    assert raised.value is refusal

    admission = ImageAdmission(max_images=4, max_bytes=len(IMAGE) - 1)
    with admission.admit(1) as ticket:
        with pytest.raises(Overloaded, match=r"\(IMAGE_MAX_PENDING_MB\)"):
            await fetcher.fetch(server.url("/image"), ticket.charge)
        assert ticket.charged <= len(IMAGE) - 1
    assert admission.bytes == 0


async def test_an_unexpected_error_in_a_fetch_becomes_a_fetch_error(
    fetcher: ImageFetcher, server: ImageServer
) -> None:
    def broken(size: int) -> None:
        raise RuntimeError("a bug somewhere")

    with pytest.raises(FetchError, match=r"could not be fetched \(invalid response\)") as raised:
        await fetcher.fetch(server.url("/image"), broken)
    assert type(raised.value) is FetchError
    assert isinstance(raised.value.__cause__, RuntimeError)
