"""Downloads image URLs under the byte limit and one total deadline, every hop guarded.

Redirects are followed here, not by httpx, so each new URL is checked like the first and its
connection goes through the guarded backend. httpx and httpcore errors become FetchError in
`fetch`, the one place they surface.
"""

from __future__ import annotations

import asyncio
import ssl

import httpcore
import httpx

from .. import __version__
from ..config import Settings
from ..errors import FetchError, InvalidImage
from .backend import GuardedBackend, Resolver, resolve_host
from .guard import AddressPolicy
from .sources import http_url, too_large
from .transport import GuardedTransport

__all__ = ["ImageFetcher"]

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


class ImageFetcher:
    """One pooled HTTP client; share it for the server's lifetime, close it with `aclose`."""

    def __init__(
        self,
        *,
        max_bytes: int,
        timeout_s: float,
        max_redirects: int,
        policy: AddressPolicy,
        resolver: Resolver = resolve_host,
    ) -> None:
        self._max_bytes = max_bytes
        self._timeout_s = timeout_s
        self._max_redirects = max_redirects
        # trust_env=False: a proxy from the environment would connect around the guard.
        self._client = httpx.AsyncClient(
            transport=GuardedTransport(GuardedBackend(policy, resolver)),
            headers=_HEADERS,
            timeout=httpx.Timeout(timeout_s),
            follow_redirects=False,
            trust_env=False,
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> ImageFetcher:
        """The server's fetcher: IMAGE_MAX_MB, FETCH_TIMEOUT_S, FETCH_MAX_REDIRECTS and the
        FETCH_ALLOW_NETWORKS allow-list."""
        return cls(
            max_bytes=settings.image_max_bytes,
            timeout_s=settings.fetch_timeout_s,
            max_redirects=settings.fetch_max_redirects,
            policy=AddressPolicy(settings.fetch_allow_networks),
        )

    async def fetch(self, url: str) -> bytes:
        """The body of `url`; FetchError, FetchBlocked or ImageTooLarge say why not."""
        target = http_url(url)
        try:
            return await asyncio.wait_for(self._follow(target), self._timeout_s)
        except (asyncio.TimeoutError, httpcore.TimeoutException):
            raise FetchError(
                f"fetching the image took longer than {self._timeout_s:g} s (FETCH_TIMEOUT_S)"
            ) from None
        except (httpx.HTTPError, *_CORE_ERRORS) as exc:
            raise FetchError(_describe(exc)) from exc

    async def aclose(self) -> None:
        await self._client.aclose()

    async def _follow(self, url: httpx.URL) -> bytes:
        for _ in range(self._max_redirects + 1):
            async with self._client.stream("GET", url) as response:
                if response.status_code in _REDIRECTS:
                    url = _redirect_target(response)
                    continue
                if not response.is_success:
                    raise FetchError(f"image URL answered HTTP {response.status_code}")
                return await self._read_body(response)
        raise FetchError(
            f"image URL redirected more than {self._max_redirects} times (FETCH_MAX_REDIRECTS)"
        )

    async def _read_body(self, response: httpx.Response) -> bytes:
        """Stops at the limit: an endless or lying body costs at most one chunk past it."""
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self._max_bytes:
            raise too_large(self._max_bytes)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > self._max_bytes:
                raise too_large(self._max_bytes)
            chunks.append(chunk)
        return b"".join(chunks)


def _redirect_target(response: httpx.Response) -> httpx.URL:
    location = response.headers.get("Location")
    if not location:
        raise FetchError(f"image URL answered HTTP {response.status_code} without a Location")
    try:
        target = response.url.join(location)
        if target.scheme not in ("http", "https"):
            raise FetchError(f"image URL redirected to an unsupported scheme {target.scheme!r}")
        return http_url(str(target))
    except (InvalidImage, httpx.InvalidURL) as exc:
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
