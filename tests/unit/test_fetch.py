"""The image fetcher against a real HTTP server on 127.0.0.1, and the SSRF address policy.

Network etiquette: the only sockets opened are to the server these tests start. A tripwire on
httpcore's socket backend fails any test that tries to connect anywhere else, so every SSRF
refusal is proven to happen before a connection, and nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import ssl
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from ipaddress import IPv4Address, ip_address, ip_network
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import httpcore
import pytest

from nomic_serve.config import Settings
from nomic_serve.errors import FetchBlocked, FetchError, ImageTooLarge, InvalidImage
from nomic_serve.fetch import AddressPolicy, ImageFetcher, Resolver, resolve_host
from nomic_serve.fetch.guard import IPAddress

from ..support.reference import unavailable

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
MAX_BYTES = 64 * 1024
ONLY_127_0_0_1 = AddressPolicy((ip_network("127.0.0.1/32"),))


# --- the local server -------------------------------------------------------------------------

Handler = Callable[["Exchange"], Awaitable[None]]


@dataclass
class Exchange:
    """One request to the test server and the stream to answer it on."""

    server: ImageServer
    target: str
    headers: dict[str, str]
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter

    @property
    def query(self) -> dict[str, str]:
        return {key: values[0] for key, values in parse_qs(urlsplit(self.target).query).items()}

    async def send_head(self, status: int, headers: dict[str, str] | None = None) -> None:
        lines = [f"HTTP/1.1 {status} X", "Connection: close"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
        await self.writer.drain()

    async def send(self, status: int, body: bytes = b"", **headers: str) -> None:
        await self.send_head(status, {"Content-Length": str(len(body)), **headers})
        self.writer.write(body)
        await self.writer.drain()


@dataclass
class ImageServer:
    """Answers by path; counts what it was asked and how much of the endless body it wrote."""

    port: int = 0
    requests: list[str] = field(default_factory=list)
    endless_sent: int = 0
    endless_done: asyncio.Event = field(default_factory=asyncio.Event)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode()
            headers: dict[str, str] = {}
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode().partition(":")
                headers[name.strip().lower()] = value.strip()
            target = request_line.split(" ")[1]
            self.requests.append(target)
            exchange = Exchange(self, target, headers, reader, writer)
            await ROUTES.get(urlsplit(target).path, not_found)(exchange)
        except ConnectionError:
            pass  # the fetcher hung up, as it should for endless or oversized bodies
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()


async def image(exchange: Exchange) -> None:
    await exchange.send(200, IMAGE, **{"Content-Type": "image/png"})


async def echo_headers(exchange: Exchange) -> None:
    lines = [f"{name}: {value}" for name, value in exchange.headers.items()]
    await exchange.send(200, "\n".join(lines).encode())


async def chain(exchange: Exchange) -> None:
    """/chain?n=3 -> relative Location to n=2 ... n=1 -> absolute Location to /image."""
    left = int(exchange.query["n"])
    host = exchange.headers["host"]
    location = f"/chain?n={left - 1}" if left > 1 else f"http://{host}/image"
    await exchange.send(302 if left % 2 else 307, Location=location)


async def redirect(exchange: Exchange) -> None:
    await exchange.send(int(exchange.query.get("status", "302")), Location=exchange.query["to"])


async def loop(exchange: Exchange) -> None:
    await exchange.send(301, Location="/loop")


async def no_location(exchange: Exchange) -> None:
    await exchange.send(302)


async def drip(exchange: Exchange) -> None:
    await exchange.send_head(200, {"Content-Length": "100"})
    for _ in range(100):
        exchange.writer.write(b"x")
        await exchange.writer.drain()
        await asyncio.sleep(0.2)


async def endless(exchange: Exchange) -> None:
    server = exchange.server
    await exchange.send_head(200, {"Content-Type": "image/png"})  # no length: until close
    chunk = bytes(16 * 1024)
    try:
        while True:
            exchange.writer.write(chunk)
            server.endless_sent += len(chunk)
            await exchange.writer.drain()
    finally:
        server.endless_done.set()


async def huge_length(exchange: Exchange) -> None:
    await exchange.send_head(200, {"Content-Length": str(10**12)})
    await exchange.reader.read()  # wait, sending nothing, until the fetcher hangs up


async def not_found(exchange: Exchange) -> None:
    await exchange.send(404, b"no such image")


ROUTES: dict[str, Handler] = {
    "/image": image,
    "/echo": echo_headers,
    "/chain": chain,
    "/redirect": redirect,
    "/loop": loop,
    "/no-location": no_location,
    "/drip": drip,
    "/endless": endless,
    "/huge-length": huge_length,
}


@pytest.fixture(scope="session")
async def server() -> AsyncIterator[ImageServer]:
    state = ImageServer()
    listener = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield state


@pytest.fixture(autouse=True)
def connections(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a socket was opened to; anything but a loopback IP fails the test."""
    opened: list[str] = []
    real_connect = httpcore.AnyIOBackend.connect_tcp

    async def tripwire(
        self: httpcore.AnyIOBackend, host: str, port: int, **kwargs: object
    ) -> httpcore.AsyncNetworkStream:
        assert ip_address(host).is_loopback, f"a test tried to connect to {host}"
        opened.append(host)
        return await real_connect(self, host, port, **kwargs)

    monkeypatch.setattr(httpcore.AnyIOBackend, "connect_tcp", tripwire)
    return opened


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
        started = time.monotonic()
        with pytest.raises(FetchBlocked, match=message):
            await fetcher.fetch(server.url("/image", host))
        assert time.monotonic() - started < 0.5
    assert connections == []
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
