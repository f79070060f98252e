"""The allocator tuning, in a fresh interpreter: request-sized buffers reuse their pages (grpc
copies every received message on the event loop, and fresh pages fault in one at a time), and
a buffer over the mmap threshold goes back to the system the moment it is freed."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from nomic_serve import memory
from nomic_serve.memory import MMAP_THRESHOLD_BYTES, IdleTrimmer

from ..support.waiting import eventually

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator")

PROBE = """
import json, resource, sys
from nomic_serve.memory import release_free_memory, tune_allocator

def rss_mb():
    with open("/proc/self/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024

def copy_faults(source):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    copy = bytes(bytearray(source))  # two copies, as grpc makes of a message
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before
    del copy
    return faults

tuned = tune_allocator()
source = b"x" * (10 << 20)
faults = [copy_faults(source) for _ in range(4)]
burst = [bytearray(source) for _ in range(16)]  # 160 MB of requests, freed oldest first: the
for _ in range(16):  # last one joins them all to the heap's top at once, and glibc trims it
    burst.pop(0)
after_burst = copy_faults(source)
idle = rss_mb()
big = bytearray(%d)
big[:] = b"y" * len(big)
held = rss_mb() - idle
del big
left = rss_mb() - idle
scattered = [(bytearray(source[: 5 << 20]), bytearray(4096)) for _ in range(20)]
keep = [small for _, small in scattered]  # each pins the heap above a freed 5 MB hole
del scattered
holes = rss_mb()
release_free_memory()
released = holes - rss_mb()
print(json.dumps(dict(
    tuned=tuned, faults=faults, after_burst=after_burst, held=held, left=left, released=released
)))
"""


def probe() -> dict:
    big = MMAP_THRESHOLD_BYTES * 3
    out = subprocess.run(
        [sys.executable, "-c", PROBE % big], capture_output=True, text=True, check=True, timeout=60
    ).stdout
    return json.loads(out)


def test_request_sized_buffers_reuse_their_pages_and_big_ones_are_returned() -> None:
    """The 1 MB threshold this replaced faulted every copy in afresh; without the top pad,
    the copy after a trimmed burst did."""
    found = probe()
    assert found["tuned"]
    first, *again = found["faults"]
    assert first >= 2 * (10 << 20) // 4096 * 0.9  # the first copies fault their pages in
    assert max(again) < first / 10, found  # later ones reuse them
    assert found["after_burst"] < first / 10, found  # also once a burst was trimmed away
    assert found["held"] > 90, found  # ~100 MB were resident while the big buffer lived
    assert found["left"] < 10, found  # and returned at once when it was freed


def test_start_up_scratch_memory_is_released_before_serving() -> None:
    """Memory freed in the middle of a heap stays resident until it is trimmed explicitly:
    100 MB of holes between live blocks, as converting and loading the models leave."""
    found = probe()
    assert found["released"] > 50, found


async def test_the_heaps_are_trimmed_once_after_each_burst_and_never_during_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    trims: list[int] = []
    monkeypatch.setattr(memory, "release_free_memory", lambda: trims.append(trimmer.in_flight))
    trimmer = IdleTrimmer(idle_s=0.05)
    trimmer.begin()
    trimmer.begin()
    trimmer.end()  # one call still runs: no trim is even scheduled
    assert trimmer._timer is None
    trimmer.end()
    trimmer.begin()  # a call within idle_s of the last: the pending trim is called off
    assert trimmer._timer is None
    trimmer.end()
    await eventually(lambda: trimmer.trims == 1)
    assert trims == [0]
    assert trimmer._timer is None  # nothing ran since: no second trim
    trimmer.close()
