"""A local web server that misbehaves on purpose, for the image-URL cases.

It runs its own asyncio loop in a thread, so hundreds of slow connections cost no threads.
Routes:
    /png/<n>                a small PNG (n seeds its pixels)
    /slow/<seconds>/<n>     the PNG of /png/<n>, one byte at a time over `seconds`
    /gzip-bomb              Content-Encoding "gzip, gzip": 512 MB of zeros in about 1 KB
    /gzip-png               the PNG with one honest gzip layer
    /redirect?to=<url>      302 to any Location, data: and mailto: included
    /endless                an image/png body that never ends
"""

from __future__ import annotations

import asyncio
import gzip
import io
import threading
import zlib
from functools import cache
from urllib.parse import parse_qs, urlsplit

import numpy as np
from PIL import Image

__all__ = ["EvilHost", "png"]

BOMB_BYTES = 512 * 1024 * 1024


@cache
def png(seed: int, size: tuple[int, int] = (64, 48)) -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


@cache
def gzip_bomb() -> bytes:
    """gzip(gzip(512 MB of zeros)): each layer shrinks zeros about 1000-fold."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    layer = b"".join(inner.compress(chunk) for _ in range(BOMB_BYTES >> 20)) + inner.flush()
    return gzip.compress(layer, 9)


class EvilHost:
    """Serves the routes on 127.0.0.1; `url(path)` names one of them."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        self._ready.wait(10)
        self.connections = 0  # requests received, for the harness to read

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self) -> None:
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._serve())
        finally:
            self._loop.close()

    async def _serve(self) -> None:
        self._stop = asyncio.Event()
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        async with server:
            await self._stop.wait()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:  # keep-alive: several requests per connection
                request = await reader.readline()
                if not request:
                    return
                while await reader.readline() not in (b"\r\n", b"\n", b""):
                    pass
                self.connections += 1
                target = request.split(b" ")[1].decode()
                await self._route(target, writer)
        except (ConnectionError, asyncio.IncompleteReadError, IndexError):
            pass
        finally:
            writer.close()

    async def _route(self, target: str, writer: asyncio.StreamWriter) -> None:
        url = urlsplit(target)
        parts = url.path.strip("/").split("/")
        if parts[0] == "png":
            await _send(writer, 200, png(int(parts[1])))
        elif parts[0] == "slow":
            await _trickle(writer, float(parts[1]), png(int(parts[2])))
        elif parts[0] == "gzip-bomb":
            await _send(writer, 200, gzip_bomb(), [("Content-Encoding", "gzip, gzip")])
        elif parts[0] == "gzip-png":
            await _send(writer, 200, gzip.compress(png(1)), [("Content-Encoding", "gzip")])
        elif parts[0] == "redirect":
            location = parse_qs(url.query)["to"][0]
            await _send(writer, 302, b"", [("Location", location)])
        elif parts[0] == "endless":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\n\r\n")
            while True:
                writer.write(bytes(1 << 16))
                await writer.drain()
        else:
            await _send(writer, 404, b"not found")


async def _send(
    writer: asyncio.StreamWriter,
    status: int,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> None:
    lines = [f"HTTP/1.1 {status} X", "Content-Type: image/png", f"Content-Length: {len(body)}"]
    lines += [f"{name}: {value}" for name, value in headers or []]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    await writer.drain()


async def _trickle(writer: asyncio.StreamWriter, seconds: float, body: bytes) -> None:
    """Headers at once, then the body in 20 pieces spread over `seconds`."""
    head = f"HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {len(body)}\r\n\r\n"
    writer.write(head.encode())
    step = -(-len(body) // 20)
    for start in range(0, len(body), step):
        await asyncio.sleep(seconds / 20)
        writer.write(body[start : start + step])
        await writer.drain()
