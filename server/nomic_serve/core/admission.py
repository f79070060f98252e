"""Admission of image work: how many images, how many of their bytes, how much decoding.

Texts are admitted by the scheduler's queue; images pass here before anything is fetched or
decoded. An image request takes a ticket for its images (refused at once, with a retry hint,
when the server already holds IMAGE_MAX_PENDING images), charges each image's compressed
bytes to it as they arrive (IMAGE_MAX_PENDING_MB), and each decode reserves the memory its
pixels will take (IMAGE_DECODE_MB) before Pillow decodes them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from ..errors import ImageTooLarge, Overloaded

__all__ = ["DecodeBudget", "ImageAdmission", "ImageTicket"]

MB = 1024 * 1024


class ImageAdmission:
    """Images and compressed image bytes in flight, server-wide; used on the event loop."""

    def __init__(self, max_images: int, max_bytes: int) -> None:
        self.max_images = max_images
        self.max_bytes = max_bytes
        self.images = 0
        self.bytes = 0
        self._image_seconds = 0.05  # moving average of an image's time in flight

    def admit(self, count: int) -> ImageTicket:
        """A ticket for `count` images, or Overloaded before any of them is touched."""
        if self.images + count > self.max_images:
            raise self._full()
        self.images += count
        return ImageTicket(self, count, time.monotonic())

    def check_room(self) -> None:
        """Overloaded when not even one more image fits: a call can be refused unread."""
        if self.images >= self.max_images:
            raise self._full()

    def _full(self) -> Overloaded:
        return Overloaded(
            f"server is busy: {self.images} images in flight, limit {self.max_images} "
            "(IMAGE_MAX_PENDING); retry shortly",
            limit="IMAGE_MAX_PENDING",
            retry_after_s=self._retry_after(),
        )

    def _retry_after(self) -> float:
        return min(max(self.images * self._image_seconds / 4, 0.05), 10.0)

    def _closed(self, ticket: ImageTicket) -> None:
        self.images -= ticket.count
        self.bytes -= ticket.charged
        elapsed = time.monotonic() - ticket.opened
        self._image_seconds = 0.8 * self._image_seconds + 0.2 * elapsed / max(ticket.count, 1)


@dataclass(eq=False)
class ImageTicket:
    """One request's share of the admission; close it (or use `with`) when the request ends."""

    admission: ImageAdmission
    count: int
    opened: float
    charged: int = 0
    _closed: bool = field(default=False, repr=False)

    def charge(self, size: int) -> None:
        """Counts `size` more compressed bytes in flight; Overloaded when over the limit."""
        admission = self.admission
        if admission.bytes + size > admission.max_bytes:
            raise Overloaded(
                f"server is busy: {admission.bytes / MB:.0f} MB of images in flight, limit "
                f"{admission.max_bytes / MB:g} MB (IMAGE_MAX_PENDING_MB); retry shortly",
                limit="IMAGE_MAX_PENDING_MB",
                retry_after_s=admission._retry_after(),
            )
        admission.bytes += size
        self.charged += size

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.admission._closed(self)

    def __enter__(self) -> ImageTicket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DecodeBudget:
    """Memory for decoded pixels, shared by the decoding threads (so it takes a lock).

    An image needing more than the whole budget is refused at once (ImageTooLarge); one that
    needs less waits, in its thread, until the images decoding now have given enough back,
    at most until its deadline (then TimeoutError: the caller reports it as a wait).
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._used = 0
        self._changed = threading.Condition()

    @property
    def used(self) -> int:
        return self._used

    @contextmanager
    def hold(self, size: int, deadline: float) -> Iterator[None]:
        """Holds `size` bytes while the block runs; `deadline` is time.monotonic() time."""
        if size > self.max_bytes:
            raise ImageTooLarge(
                f"decoding the image needs {size / MB:.0f} MB, more than the "
                f"{self.max_bytes / MB:g} MB limit (IMAGE_DECODE_MB)"
            )
        with self._changed:
            while self._used + size > self.max_bytes:
                left = deadline - time.monotonic()
                if left <= 0 or not self._changed.wait(left):
                    raise TimeoutError("no decoding memory came free in time")
            self._used += size
        try:
            yield
        finally:
            with self._changed:
                self._used -= size
                self._changed.notify_all()
