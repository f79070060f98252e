"""A local HTTP server for the fetcher's tests: routes for images, redirects, slow, endless
and hostile bodies, and gates that hold requests until a test releases them. It listens on
127.0.0.1 only, and `loopback_tripwire` fails a test that opens a socket anywhere else."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address, ip_network
from urllib.parse import parse_qs, urlsplit

import httpcore
import pytest

from nomic_serve.fetch import AddressPolicy

IMAGE = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 16
MAX_BYTES = 64 * 1024  # the fetchers under test accept this much
ONLY_127_0_0_1 = AddressPolicy((ip_network("127.0.0.1/32"),))


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


# /body serves a registered body with registered headers; /gate holds every request until the
# test opens the gate, counting how many wait at once; /raw writes registered bytes as the
# whole response, HTTP or not.


@dataclass
class Body:
    data: bytes
    headers: dict[str, str] = field(default_factory=dict)
    length: bool = True  # send Content-Length; False: the body ends when the connection closes


@dataclass
class Gate:
    """Requests wait here until `released` is set; `most` is the most that waited at once."""

    released: asyncio.Event = field(default_factory=asyncio.Event)
    arrived: list[str] = field(default_factory=list)
    waiting: int = 0
    most: int = 0


BODIES: dict[str, Body] = {}
GATES: dict[str, Gate] = {}
RAW: dict[str, bytes] = {}


async def body(exchange: Exchange) -> None:
    served = BODIES[exchange.query["name"]]
    headers = dict(served.headers)
    if served.length:
        headers["Content-Length"] = str(len(served.data))
    await exchange.send_head(200, headers)
    exchange.writer.write(served.data)
    await exchange.writer.drain()


async def gate(exchange: Exchange) -> None:
    """Answers IMAGE followed by the request's `i`, so each answer is told apart."""
    waiting = GATES[exchange.query["name"]]
    waiting.arrived.append(exchange.target)
    waiting.waiting += 1
    waiting.most = max(waiting.most, waiting.waiting)
    try:
        await waiting.released.wait()
    finally:
        waiting.waiting -= 1  # before answering: `most` never counts a request already done
    await exchange.send(200, IMAGE + exchange.query.get("i", "").encode())


async def raw(exchange: Exchange) -> None:
    exchange.writer.write(RAW[exchange.query["name"]])
    await exchange.writer.drain()


def serve_body(name: str, data: bytes, *, length: bool = True, **headers: str) -> str:
    """The path that serves `data` with `headers`."""
    BODIES[name] = Body(data, headers, length)
    return f"/body?name={name}"


@contextlib.contextmanager
def open_gate(name: str) -> Iterator[Gate]:
    """A fresh gate, released (so no handler stays blocked) however the test ends."""
    GATES[name] = waiting = Gate()
    try:
        yield waiting
    finally:
        waiting.released.set()


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
    "/body": body,
    "/gate": gate,
    "/raw": raw,
}


@contextlib.asynccontextmanager
async def serve_images() -> AsyncIterator[ImageServer]:
    state = ImageServer()
    listener = await asyncio.start_server(state.handle, "127.0.0.1", 0)
    state.port = listener.sockets[0].getsockname()[1]
    async with listener:
        yield state


def loopback_tripwire(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every address a socket is opened to from now on; anything but a loopback IP fails."""
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
