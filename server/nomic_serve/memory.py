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
own, and a decoding thread's arena kept what it freed (80-100 MB left behind after a few
large images, 10-30 MB with two arenas).

The price of reuse is that resident memory follows the heaps' high-water mark (a few 18 MB
images leave 100 MB or more), so the heaps are trimmed (`malloc_trim`, a few milliseconds)
whenever no large request has been in flight for IDLE_TRIM_S (`IdleTrimmer`), and once after
start-up, before serving: converting and loading the models leaves 330 MB of scratch memory
scattered in the heaps after a first start. Where the C library has no `mallopt` (musl,
macOS) this does nothing.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
import functools
import gc
import logging

__all__ = [
    "ARENAS",
    "MMAP_THRESHOLD_BYTES",
    "TOP_PAD_BYTES",
    "TRIM_BYTES",
    "IdleTrimmer",
    "freeze_startup_heap",
    "release_free_memory",
    "thaw_startup_heap",
    "tune_allocator",
]

log = logging.getLogger(__name__)

MMAP_THRESHOLD_BYTES = 33 * 1024 * 1024  # GRPC_MAX_MESSAGE_MB's default, plus its framing
TRIM_BYTES = 128 * 1024 * 1024
TOP_PAD_BYTES = 64 * 1024 * 1024
ARENAS = 2
IDLE_TRIM_S = 0.5  # no large request for this long: trim
_M_TRIM_THRESHOLD = -1  # glibc's malloc.h
_M_TOP_PAD = -2
_M_MMAP_THRESHOLD = -3
_M_ARENA_MAX = -8


@functools.cache
def _libc() -> ctypes.CDLL | None:
    """The C library, looked up once: `find_library` runs ldconfig, which the event loop
    must not wait for at every idle trim."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None
    return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None


def tune_allocator() -> bool:
    """Sets glibc's mmap and trim thresholds, top pad and arena count for this process (call
    it before threads start allocating); False where that is not possible."""
    libc = _libc()
    if libc is None:
        log.debug("mallopt is not available: freed memory may stay with the process")
        return False
    mallopt = libc.mallopt
    settings = (
        (_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
        (_M_TRIM_THRESHOLD, TRIM_BYTES),
        (_M_TOP_PAD, TOP_PAD_BYTES),
        (_M_ARENA_MAX, ARENAS),
    )
    return all([bool(mallopt(option, value)) for option, value in settings])


def release_free_memory() -> None:
    """Returns every free page of every heap to the system (it holds each heap's lock while
    it walks it: a few milliseconds for hundreds of MB)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def freeze_startup_heap() -> None:
    """Moves everything built at start-up (modules, models, tokenizers: about 60,000 objects)
    out of the cyclic garbage collector's reach. A full collection walks every tracked
    object while holding the GIL: 30 ms on 2 cores with the embedded model, and every call
    waits that long (a Health p99 of 150 ms on a slow CI runner, from one collection). What
    requests create is still collected. `thaw_startup_heap` undoes it when the app stops."""
    gc.collect()
    gc.freeze()


def thaw_startup_heap() -> None:
    """Lets the collector see the frozen objects again, so an app stopped within a process
    that lives on (the tests) leaves no cycles behind for good."""
    gc.unfreeze()


class IdleTrimmer:
    """Trims the heaps once no large request (over 1 MB: what leaves the high-water mark) has
    been in flight for `idle_s`: never during a burst of them, whose copies reuse each other's
    pages, and once after each. Small calls neither raise the mark nor delay the trim. Used on
    the event loop only (codec.PendingRequests reports each large request's begin and end)."""

    def __init__(self, idle_s: float = IDLE_TRIM_S) -> None:
        self.idle_s = idle_s
        self.in_flight = 0
        self.trims = 0
        self._timer: asyncio.TimerHandle | None = None

    def begin(self) -> None:
        self.in_flight += 1
        self.close()  # a trim pending from the last burst waits for this one to end

    def end(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self._timer = asyncio.get_running_loop().call_later(self.idle_s, self._trim)

    def close(self) -> None:
        """Calls off a pending trim."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _trim(self) -> None:
        self._timer = None
        self.trims += 1
        release_free_memory()
