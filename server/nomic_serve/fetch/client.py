"""Downloads image URLs under the byte limit and one deadline, every hop guarded.

Redirects are followed here, not by httpx, so each new URL is checked like the first and its
connection goes through the guarded backend. Downloads are bounded three ways: FETCH_CONNECTIONS
at once server-wide, half of those for one host (one slow host cannot hold every
connection), and a request's own share (see intake.py); FETCH_TIMEOUT_S starts once a
download has its connection, so waiting for one never eats into it. Bodies are read raw:
identity, or one gzip/deflate layer inflated chunk by chunk under the byte limit; any other
Content-Encoding (a stacked "gzip, gzip" bomb included) is refused, never decoded. Every
failure of a fetch ends as FetchError, FetchBlocked or ImageTooLarge, the one place httpx and
httpcore errors surface.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpcore
import httpx

from .. import __version__
from ..config import Settings
from ..errors import FetchError, InvalidImage, ServeError, quoted
from .backend import GuardedBackend, Resolver, resolve_host
from .guard import AddressPolicy
from .sources import http_url, too_large
from .transport import GuardedTransport

__all__ = ["ImageFetcher"]

log = logging.getLogger(__name__)

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_HEADERS = {
    "User-Agent": f"nomic-serve/{__version__}",
    "Accept": "image/*",
    # Images are compressed already; asking for identity keeps byte counts honest.
    "Accept-Encoding": "identity",
}
_CORE_ERRORS = (
    httpcore.TimeoutException,
    httpcore.NetworkError,
    httpcore.ProtocolError,
)
# One Content-Encoding layer a server may still send although we asked for identity.
_INFLATE = {"gzip": 31, "x-gzip": 31, "deflate": 15}  # zlib window bits of each format

Charge = Callable[[int], None]


class ImageFetcher:
    """One pooled HTTP client; share it for the server's lifetime, close it with `aclose`."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_s: float,
        max_redirects: int,
        policy: AddressPolicy,
        connections: int = 64,
        resolver: Resolver = resolve_host,
    ) -> None:
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._max_redirects = max_redirects
        self._slots = asyncio.Semaphore(connections)
        self._per_host = max(1, connections // 2)
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}  # host: (slots, users)
        # trust_env=False: a proxy from the environment would connect around the guard.
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(GuardedBackend(policy, resolver), connections),
            headers=_HEADERS,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
            # httpx parses every redirect's Location even when it does not follow it, and
            # fails on some (`mailto:x`) with its own error; ours is raised first, by name.
            event_hooks={"response": [_check_redirect]},
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageFetcher:
        """The server's fetcher: IMAGE_MAX_MB, FETCH_TIMEOUT_S, FETCH_MAX_REDIRECTS,
        FETCH_CONNECTIONS and the FETCH_ALLOW_NETWORKS allow-list."""
        return cls(
            max_bytes=settings.image_max_bytes,
            timeout_s=settings.fetch_timeout_s,
            max_redirects=settings.fetch_max_redirects,
            policy=AddressPolicy(settings.fetch_allow_networks),
            connections=settings.fetch_connections,
        )

    async def fetch(self, url: str, charge: Charge | None = None) -> bytes:
        """The body of `url`; FetchError, FetchBlocked or ImageTooLarge say why not.
        `charge(n)` is called for every `n` bytes received (it may refuse by raising)."""
        target = http_url(url)
        async with self._slot(target.host):
            try:
                return await asyncio.wait_for(self._follow(target, charge), self._timeout_s)
            except (asyncio.TimeoutError, httpcore.TimeoutException):
                raise FetchError(
                    f"fetching the image took longer than {self._timeout_s:g} s (FETCH_TIMEOUT_S)"
                ) from None
            except ServeError:
                raise
            except (httpx.HTTPError, *_CORE_ERRORS) as exc:
                raise FetchError(_describe(exc)) from exc
            except Exception as exc:  # anything else a hostile server provokes in httpx/h11
                log.warning("image fetch failed unexpectedly: %s", type(exc).__name__)
                raise FetchError("image URL could not be fetched (invalid response)") from exc

    async def aclose(self) -> None:
        await self._client.aclose()

    @asynccontextmanager
    async def _slot(self, host: str) -> AsyncIterator[None]:
        """A connection of the host's share and of the server's; the host's entry goes away
        with its last user, so the table never outgrows the hosts being fetched now."""
        semaphore, users = self._hosts.get(host) or (asyncio.Semaphore(self._per_host), 0)
        self._hosts[host] = (semaphore, users + 1)
        try:
            async with semaphore, self._slots:
                yield
        finally:
            semaphore, users = self._hosts[host]
            if users == 1:
                del self._hosts[host]
            else:
                self._hosts[host] = (semaphore, users - 1)

    async def _follow(self, url: httpx.URL, charge: Charge | None) -> bytes:
        for _ in range(self._max_redirects + 1):
            async with self._client.stream("GET", url) as response:
                if response.status_code in _REDIRECTS:
                    url = _redirect_target(response)
                    continue
                if not response.is_success:
                    raise FetchError(f"image URL answered HTTP {response.status_code}")
                return await self._read_body(response, charge)
        raise FetchError(
            f"image URL redirected more than {self._max_redirects} times (FETCH_MAX_REDIRECTS)"
        )

    async def _read_body(self, response: httpx.Response, charge: Charge | None) -> bytes:
        """Stops at the limit: an endless, lying or inflating body costs at most one chunk
        past it (a compressed chunk is inflated only up to the room left)."""
        declared = response.headers.get("Content-Length", "")
        inflater = _Inflater.of(response.headers.get("Content-Encoding", ""))
        if inflater is None and declared.isdigit() and int(declared) > self._max_bytes:
            raise too_large(self._max_bytes)
        chunks: list[bytes] = []
        size = 0
        async for raw in response.aiter_raw():
            chunk = inflater.feed(raw, self._max_bytes - size) if inflater else raw
            size += len(chunk)
            if size > self._max_bytes:
                raise too_large(self._max_bytes)
            if charge is not None:
                charge(len(chunk))
            chunks.append(chunk)
        if inflater is not None:
            inflater.finish()
        return b"".join(chunks)


class _Inflater:
    """One gzip or deflate layer, inflated under a byte limit, every gzip member included
    (RFC 1952 lets a body hold several), refused when the stream stops short."""

    def __init__(self, wbits: int) -> None:
        self._wbits = wbits
        self._stream = zlib.decompressobj(wbits)

    @classmethod
    def of(cls, encoding: str) -> _Inflater | None:
        """None for identity; one gzip or deflate layer; FetchError for anything else."""
        name = encoding.strip().lower()
        if name in ("", "identity"):
            return None
        if name in _INFLATE:
            return cls(_INFLATE[name])
        raise FetchError(
            f"image URL sent Content-Encoding {quoted(encoding)}; only identity or one gzip "
            "or deflate layer is accepted"
        )

    def feed(self, raw: bytes, room: int) -> bytes:
        """The body bytes in `raw`, inflating at most `room` + 1 of them: a bomb stops there."""
        out = bytearray()
        try:
            while raw:
                out += self._stream.decompress(raw, room + 1 - len(out))
                if len(out) > room or not self._stream.eof:
                    break  # over the limit (the caller refuses), or all of `raw` was taken
                raw = self._stream.unused_data  # the next gzip member, if any
                if raw:
                    self._stream = zlib.decompressobj(self._wbits)
        except zlib.error:
            raise FetchError("image URL sent a compressed body that could not be decoded") from None
        return bytes(out)

    def finish(self) -> None:
        if not self._stream.eof:
            raise FetchError("image URL sent a compressed body that ends too soon")


async def _check_redirect(response: httpx.Response) -> None:
    if response.status_code in _REDIRECTS:
        _redirect_target(response)


def _redirect_target(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("Location")
    if not location:
        raise FetchError(f"image URL answered HTTP {response.status_code} without a Location")
    try:
        target = response.url.join(location)
    except (httpx.InvalidURL, ValueError):
        raise FetchError("image URL redirected to an unusable URL") from None
    if target.scheme not in ("http", "https"):
        raise FetchError(f"image URL redirected to an unsupported scheme {quoted(target.scheme)}")
    try:
        return http_url(str(target))
    except InvalidImage as exc:
        raise FetchError(f"image URL redirected to an unusable URL: {exc}") from None


def _describe(exc: Exception) -> str:
    """What went wrong, in the caller's terms; the exception chain stays in the log."""
    if isinstance(exc, httpcore.ConnectError):
        if _caused_by(exc, ssl.SSLError):
            return "could not connect to the image URL's host (TLS handshake failed)"
        if _caused_by(exc, ConnectionRefusedError):
            return "could not connect to the image URL's host (connection refused)"
        return "could not connect to the image URL's host"
    if isinstance(exc, httpx.DecodingError):
        return "image URL sent a body that could not be decoded"
    return "image URL's server broke off the response or sent invalid HTTP"


def _caused_by(exc: BaseException, kind: type[BaseException]) -> bool:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, kind):
            return True
        cause = cause.__cause__ or cause.__context__
    return False
