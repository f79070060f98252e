"""How the C allocator is tuned: request-sized memory is reused, bigger memory is returned.

grpc assembles every received message on the event loop, copying it three times. Into pages
the process already holds, a 10 MB request takes about 1 ms; into fresh mappings, whose pages
fault in one at a time, about 13 ms (measured on 2 cores), and every other call waits that
long. So allocations up to MMAP_THRESHOLD_BYTES, just over the largest gRPC message by
default, come from glibc's heaps, where the next request reuses their pages: once more than
TRIM_BYTES are free at the top of a heap glibc returns them, but keeps TOP_PAD_BYTES (room
for the two copies grpc makes of a 30 MB request) resident. Without that pad, a request that
freed more than the threshold left the next one nothing but fresh pages. Anything larger (a
50-megapixel decode, a message over 33 MB where GRPC_MAX_MESSAGE_MB was raised) gets a
mapping of its own, returned the moment it is freed. Fixing the threshold also stops glibc
from raising it on its own.
Small allocations are kept to two arenas: glibc gives every busy thread an arena of its
own, and a decoding thread's arena kept what it freed (80-100 MB left behind after a few large
images, 10-30 MB with two arenas). Trimming the heaps explicitly (`malloc_trim`) holds every
arena's lock while it walks them, which stalled the event loop for a quarter of a second, so
it is not used. Where the C library has no `mallopt` (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

__all__ = ["ARENAS", "MMAP_THRESHOLD_BYTES", "TOP_PAD_BYTES", "TRIM_BYTES", "tune_allocator"]

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 33 * 1024 * 1024  # GRPC_MAX_MESSAGE_MB's default, plus its framing
TRIM_BYTES = 128 * 1024 * 1024
TOP_PAD_BYTES = 64 * 1024 * 1024
ARENAS = 2
_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


def tune_allocator() -> bool:
    """Sets glibc's mmap and trim thresholds, top pad and arena count for this process (call
    it before threads start allocating); False where that is not possible."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        log.debug("mallopt is not available: freed memory may stay with the process")
        return False
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        (_M_TRIM_THRESHOLD, TRIM_BYTES),
        (_M_TOP_PAD, TOP_PAD_BYTES),
        (_M_ARENA_MAX, ARENAS),
    )
    return all([bool(mallopt(option, value)) for option, value in settings])
