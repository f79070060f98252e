"""Large allocations go straight back to the operating system when they are freed.

glibc serves big allocations with mmap, but after the first one is freed it raises that
threshold (up to 32 MB) and serves later ones from its heaps, which it keeps: after a 10 MB
text, a 27 MB base64 image or a 50-megapixel decode the server's resident memory would stay
hundreds of MB above idle for good. Fixing the threshold at MMAP_THRESHOLD_BYTES keeps every
allocation of that size or more in its own mapping, returned the moment it is freed (the
page faults of a fresh mapping cost about 2 ms per 25 MB, less than 1% of the inference that
allocates that much). Trimming the heaps instead (`malloc_trim`) holds every arena's lock
while it walks them, which stalled the event loop for a quarter of a second, so it is not
used. Where the C library has no `mallopt` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["MMAP_THRESHOLD_BYTES", "return_large_allocations"]

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 4 * 1024 * 1024
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h


def return_large_allocations() -> bool:
    """Sets glibc's mmap threshold for this process; False where that is not possible."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("mallopt is not available: freed memory may stay with the process")
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES))
