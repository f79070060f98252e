"""Image intake: the bytes of each image a request names, whatever form it came in.

A request carries an http(s) URL, a data URL or raw base64 (the original API), or raw
bytes (gRPC). URLs are fetched concurrently through the SSRF-guarded fetcher; each item
succeeds or fails on its own, so one bad URL does not sink its neighbours.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence

from .errors import ImageTooLarge, InvalidImage, InvalidInput, ServeError
from .fetch import ImageFetcher, parse_image_content

__all__ = ["ImageIntake"]


class ImageIntake:
    """Resolves request contents to image bytes under the byte and count limits."""

    def __init__(self, fetcher: ImageFetcher, *, max_bytes: int, max_per_request: int) -> None:
        self._fetcher = fetcher
        self._max_bytes = max_bytes
        self._max_per_request = max_per_request

    async def one(self, source: str | bytes | None) -> bytes:
        """One image: a content string (URL, data URL, base64), raw bytes, or None if unset."""
        if isinstance(source, bytes):
            return self._checked(source)
        if source is None or not source.strip():
            raise InvalidImage("no image given: set content (a URL, data URL or base64) or data")
        parsed = parse_image_content(source, max_bytes=self._max_bytes)
        if isinstance(parsed, bytes):
            return parsed
        return self._checked(await self._fetcher.fetch(parsed))

    async def many(
        self, contents: Sequence[str], data: Sequence[bytes]
    ) -> tuple[list[bytes | ServeError], float]:
        """Every image of a list request, `contents` first, with the time spent fetching."""
        count = len(contents) + len(data)
        if count == 0:
            raise InvalidInput("no images given: set contents (or inputs) or data")
        if count > self._max_per_request:
            raise InvalidInput(
                f"{count} images in one request, more than the limit of "
                f"{self._max_per_request} (IMAGE_MAX_PER_REQUEST)"
            )
        started = time.perf_counter()
        jobs = [self.one(source) for source in [*contents, *data]]
        results = await asyncio.gather(*jobs, return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, ServeError):
                raise result
        return list(results), (time.perf_counter() - started) * 1000

    def _checked(self, data: bytes) -> bytes:
        if len(data) > self._max_bytes:
            raise ImageTooLarge(
                f"image is {len(data) / 1048576:.1f} MB, larger than the "
                f"{self._max_bytes / 1048576:g} MB limit (IMAGE_MAX_MB)"
            )
        return data
