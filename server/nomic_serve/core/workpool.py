"""Threads for one kind of CPU work, with a bounded queue and timeouts that say what happened.

Each kind of work (tokenizing long texts, decoding images, running a model) has its own pool,
so a flood of one kind cannot make another wait behind it. A pool whose threads mostly release
the GIL (inference) may run at a lower CPU priority than the event loop (WORKER_NICE), so when
the cores are saturated the thread that answers health checks and refuses excess work still
gets the CPU first; one whose threads mostly hold the GIL must not, or the loop would wait
for the GIL behind a thread the kernel runs less often. A pool admits at most
`max_waiting` jobs beyond its running ones and refuses the rest at once (Overloaded, with a
retry hint) instead of queuing without bound. A job that times out is reported as having
waited for a thread (the server was busy: retry) or as having run too long (the input is too
expensive), because the two call for different answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from ..errors import Overloaded

__all__ = [
    "GIL_TURN_S",
    "JobTimedOut",
    "WorkPool",
    "lower_priority",
    "name_thread",
    "shorten_gil_turns",
    "start_worker",
]

# How long a thread running Python code keeps the GIL while another thread waits for it.
# CPython's default is 5 ms: with a pool thread decoding a 27 MB upload, the event loop then
# waited up to 5 ms at every one of the several times a health check needs the GIL
# (measured on 2 cores: the second-worst Health of a 24 MB REST upload went from 40-70 ms
# to 10-40 ms with 1 ms).
GIL_TURN_S = 0.001

T = TypeVar("T")


class JobTimedOut(Exception):
    """A job did not finish in time; `started` says whether it ever got a thread."""

    def __init__(self, started: bool, waited_s: float, ran_s: float) -> None:
        super().__init__("job timed out")
        self.started = started
        self.waited_s = waited_s
        self.ran_s = ran_s


class WorkPool:
    """`workers` threads and room for `max_waiting` queued jobs; `run` is the only way in."""

    def __init__(self, name: str, workers: int, max_waiting: int, nice: int = 0) -> None:
        self.name = name
        self.workers = workers
        self.max_waiting = max_waiting
        self._executor = ThreadPoolExecutor(
            workers, thread_name_prefix=name, initializer=start_worker, initargs=(nice,)
        )
        self._in_flight = 0  # submitted and not finished; only touched on the event loop
        self._job_seconds = 0.01  # moving average of a job's run time: the retry hint

    @property
    def in_flight(self) -> int:
        return self._in_flight

    async def run(self, work: Callable[[], T], timeout: float | None = None) -> T:
        """Runs `work` on a pool thread; Overloaded at once when the queue is full,
        JobTimedOut when `timeout` seconds pass first (a job not yet started is dropped;
        one already running finishes in its thread and its result is discarded)."""
        if self._in_flight >= self.workers + self.max_waiting:
            raise Overloaded(
                f"server is busy: {self._in_flight - self.workers} {self.name} jobs are "
                "waiting already; retry shortly",
                limit=f"{self.name}_pool",
                retry_after_s=self._retry_after(),
            )
        queued = time.monotonic()
        started: list[float] = []

        def job() -> T:
            started.append(time.monotonic())
            return work()

        loop = asyncio.get_running_loop()
        submitted = self._executor.submit(job)
        self._in_flight += 1
        # Counted out when the thread is really done (or the job was dropped unstarted), not
        # when the caller stops waiting: a job that timed out still holds its thread.
        submitted.add_done_callback(lambda _: _call_soon(loop, self._finished))
        try:
            result = await asyncio.wait_for(asyncio.wrap_future(submitted), timeout)
        except asyncio.TimeoutError:
            now = time.monotonic()
            begun = started[0] if started else now
            raise JobTimedOut(bool(started), begun - queued, now - begun) from None
        if started:
            elapsed = time.monotonic() - started[0]
            self._job_seconds = 0.8 * self._job_seconds + 0.2 * elapsed
        return result

    def _finished(self) -> None:
        self._in_flight -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    def _retry_after(self) -> float:
        backlog = (self._in_flight - self.workers + 1) * self._job_seconds / self.workers
        return min(max(backlog, 0.05), 10.0)


def shorten_gil_turns() -> None:
    """Sets the interpreter's GIL switch interval to GIL_TURN_S (process-wide)."""
    sys.setswitchinterval(GIL_TURN_S)


def start_worker(nice: int) -> None:
    """Initializer of every worker thread: its OS name becomes its Python name (`top -H`,
    py-spy and /proc then tell the pools apart) and its priority drops by `nice`."""
    name_thread(threading.current_thread().name)
    lower_priority(nice)


def name_thread(name: str) -> None:
    """Sets the calling thread's OS name (15 characters at most). Threads it starts inherit
    it: ONNX Runtime's own threads carry the name of the thread that created the session."""
    if sys.platform == "linux":
        with contextlib.suppress(OSError):
            Path(f"/proc/self/task/{threading.get_native_id()}/comm").write_text(name[:15])


def lower_priority(nice: int) -> None:
    """Lowers the calling thread's CPU priority by `nice` (Linux keeps a nice value per
    thread, and threads it starts inherit it: ONNX Runtime's own threads included)."""
    if nice and sys.platform == "linux":
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + nice)


def _call_soon(loop: asyncio.AbstractEventLoop, callback: Callable[[], object]) -> None:
    """From a pool thread; a loop already closed (the server stopped) has nobody to tell."""
    with contextlib.suppress(RuntimeError):
        loop.call_soon_threadsafe(callback)
