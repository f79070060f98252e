"""How the C allocator is tuned: freed memory goes back to the operating system.

glibc serves big allocations with mmap, but after the first one is freed it raises that
threshold (up to 32 MB) and serves later ones from its heaps, which it keeps: after a 10 MB
text, a 27 MB base64 image or a 50-megapixel decode the server's resident memory would stay
hundreds of MB above idle for good. Fixing the threshold at MMAP_THRESHOLD_BYTES keeps every
allocation of that size or more in its own mapping, returned the moment it is freed (the
page faults of a fresh mapping cost about 2 ms per 25 MB, less than 1% of the inference that
allocates that much). 1 MB catches the steps large inputs are processed in (base64, image
file reads), which the decoding threads would otherwise leave in their own heaps. Trimming
the heaps instead (`malloc_trim`) holds every arena's lock
while it walks them, which stalled the event loop for a quarter of a second, so it is not
used. Smaller allocations are kept to two arenas (glibc gives every busy thread one of its own,
and a decoding thread's arena kept what it freed: 80-100 MB left behind after a few large
images, 10-30 MB with two arenas). Where the C library has no `mallopt` (musl, macOS) this
does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["ARENAS", "MMAP_THRESHOLD_BYTES", "tune_allocator"]

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 1024 * 1024
ARENAS = 2
_M_MMAP_THRESHOLD = -3  # glibc's malloc.h
_M_ARENA_MAX = -8


def tune_allocator() -> bool:
    """Sets glibc's mmap threshold and arena count for this process (call it before threads
    start allocating); False where that is not possible."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("mallopt is not available: freed memory may stay with the process")
        return False
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_ARENA_MAX, ARENAS)
    )
