"""Image intake: the bytes of each image a request names, whatever form it came in.

A request carries an http(s) URL, a data URL or raw base64 (the original API), or raw
bytes (gRPC). Every image's bytes are charged to the request's admission ticket as they
arrive, so the server's compressed bytes in flight stay bounded. URLs are fetched
concurrently through the SSRF-guarded fetcher, at most FETCH_CONNECTIONS_PER_REQUEST at once
for one request, so two lists of slow URLs leave connections for everyone else; each item
succeeds or fails on its own, so one bad URL does not sink its neighbours.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Sequence

from .core.admission import ImageTicket
from .core.workpool import WorkPool
from .errors import ImageTooLarge, InvalidImage, InvalidInput, ServeError
from .fetch import ImageFetcher, parse_image_content

__all__ = ["ImageIntake"]

# Inline images (base64, data URLs) longer than this are decoded on the decoding pool: a
# 27 MB base64 string takes tens of milliseconds to clean and decode.
INLINE_PARSE_CHARS = 256 * 1024


class ImageIntake:
    """Resolves request contents to image bytes under the byte, count and fetch limits."""

    def __init__(
        self,
        fetcher: ImageFetcher,
        *,
        max_bytes: int,
        max_per_request: int,
        fetches_per_request: int,
        pool: WorkPool,
    ) -> None:
        self._fetcher = fetcher
        self._pool = pool
        self._max_bytes = max_bytes
        self._max_per_request = max_per_request
        self._fetches_per_request = fetches_per_request

    def check_count(self, count: int) -> None:
        """Refuses a list request with no image or too many, before it is admitted."""
        if count == 0:
            raise InvalidInput("no images given: set contents (or inputs) or data")
        if count > self._max_per_request:
            raise InvalidInput(
                f"{count} images in one request, more than the limit of "
                f"{self._max_per_request} (IMAGE_MAX_PER_REQUEST)"
            )

    async def one(self, source: str | bytes | None, ticket: ImageTicket) -> bytes:
        """One image: a content string (URL, data URL, base64), raw bytes, or None if unset."""
        if isinstance(source, bytes):
            return self._charged(self._checked(source), ticket)
        if source is None or not source.strip():
            raise InvalidImage("no image given: set content (a URL, data URL or base64) or data")
        parse = functools.partial(parse_image_content, source, max_bytes=self._max_bytes)
        parsed = await self._pool.run(parse) if len(source) > INLINE_PARSE_CHARS else parse()
        if isinstance(parsed, bytes):
            return self._charged(parsed, ticket)
        return self._checked(await self._fetcher.fetch(parsed, ticket.charge))

    async def many(
        self, sources: Sequence[str | bytes], ticket: ImageTicket
    ) -> tuple[list[bytes | ServeError], float]:
        """Every image of a list request, in order, with the time spent getting them."""
        started = time.perf_counter()
        turns = asyncio.Semaphore(self._fetches_per_request)

        async def get(source: str | bytes) -> bytes:
            async with turns:
                return await self.one(source, ticket)

        results = await asyncio.gather(*(get(source) for source in sources), return_exceptions=True)
        loaded: list[bytes | ServeError] = []
        for result in results:
            if not isinstance(result, (bytes, ServeError)):
                raise result
            loaded.append(result)
        return loaded, (time.perf_counter() - started) * 1000

    def _checked(self, data: bytes) -> bytes:
        if len(data) > self._max_bytes:
            raise ImageTooLarge(
                f"image is {len(data) / 1048576:.1f} MB, larger than the "
                f"{self._max_bytes / 1048576:g} MB limit (IMAGE_MAX_MB)"
            )
        return data

    @staticmethod
    def _charged(data: bytes, ticket: ImageTicket) -> bytes:
        ticket.charge(len(data))
        return data
