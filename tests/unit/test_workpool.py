"""WorkPool: bounded admission, timeouts that say whether the job ever ran, and per-thread nice.

Jobs block on threading.Event, never on sleeps; every wait a job makes is bounded, so a
failing test ends instead of leaving a pool thread (which interpreter exit would join) stuck.
"""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from collections.abc import AsyncIterator, Callable

import pytest

from nomic_serve.core.workpool import JobTimedOut, WorkPool, lower_priority
from nomic_serve.errors import Overloaded

from ..support.waiting import eventually

BOUND = 10.0  # the longest any job or test step waits for an event


class Gate:
    """A job that says when it started, then waits until it is let go."""

    def __init__(self, result: object = None) -> None:
        self.started = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.result = result

    def __call__(self) -> object:
        self.started.set()
        if not self.release.wait(BOUND):
            raise AssertionError("the gate was never opened")
        self.finished.set()
        return self.result

    async def wait_started(self) -> None:
        await eventually(self.started.is_set, BOUND)


class Flag:
    """A job that records that it ran."""

    def __init__(self) -> None:
        self.ran = threading.Event()

    def __call__(self) -> str:
        self.ran.set()
        return "ran"


@pytest.fixture
async def pools() -> AsyncIterator[Callable[..., WorkPool]]:
    """Makes pools and shuts them down after the test."""
    made: list[WorkPool] = []

    def make(workers: int, max_waiting: int, nice: int = 0) -> WorkPool:
        made.append(WorkPool("test", workers, max_waiting, nice))
        return made[-1]

    yield make
    for pool in made:
        pool.shutdown()


async def test_run_returns_the_result_from_a_pool_thread(pools: Callable[..., WorkPool]) -> None:
    pool = pools(2, 0)
    name = await pool.run(lambda: threading.current_thread().name)
    assert name.startswith("test")
    assert name != threading.current_thread().name
    assert pool.in_flight == 0


@pytest.mark.skipif(sys.platform != "linux", reason="OS thread names are read from /proc")
async def test_pool_threads_carry_their_name_at_the_os_level(pools) -> None:
    """`top -H`, py-spy and `make profile` tell the pools apart by the OS thread name."""

    def names() -> tuple[str, str]:
        comm = f"/proc/self/task/{threading.get_native_id()}/comm"
        with open(comm) as file:
            return threading.current_thread().name, file.read().strip()

    python_name, os_name = await pools(1, 0).run(names)
    assert os_name == python_name == "test_0"


async def test_an_exception_in_a_job_reaches_the_caller_and_frees_the_slot(
    pools: Callable[..., WorkPool],
) -> None:
    pool = pools(1, 0)

    def fails() -> None:
        raise ValueError("broken input")

    with pytest.raises(ValueError, match="broken input"):
        await pool.run(fails)
    await eventually(lambda: pool.in_flight == 0, BOUND)
    assert await pool.run(lambda: 7) == 7


async def test_overloaded_once_workers_plus_waiting_are_in_flight(
    pools: Callable[..., WorkPool],
) -> None:
    pool = pools(2, 1)
    gates = [Gate(result=index) for index in range(3)]
    tasks = [asyncio.create_task(pool.run(gate)) for gate in gates]
    refused = Flag()
    try:
        await gates[0].wait_started()
        await gates[1].wait_started()
        await eventually(lambda: pool.in_flight == 3, BOUND)
        assert not gates[2].started.is_set()  # two threads, both busy: the third job waits
        with pytest.raises(Overloaded) as caught:
            await pool.run(refused)
        assert 0.05 <= caught.value.retry_after_s <= 10.0
        assert "test jobs are waiting" in str(caught.value)
        assert pool.in_flight == 3  # a refusal takes no slot
    finally:
        for gate in gates:
            gate.release.set()
    assert await asyncio.gather(*tasks) == [0, 1, 2]
    await eventually(lambda: pool.in_flight == 0, BOUND)
    assert await pool.run(Flag()) == "ran"  # room again
    assert not refused.ran.is_set()


async def test_the_retry_hint_stays_within_its_bounds(pools: Callable[..., WorkPool]) -> None:
    """However long the jobs have taken on average, the hint is 0.05 s to 10 s."""
    pool = pools(1, 0)
    gate = Gate()
    task = asyncio.create_task(pool.run(gate))
    try:
        await gate.wait_started()
        hints = []
        for seconds in (0.0, 0.01, 1.0, 1e6):
            pool._job_seconds = seconds  # the moving average the hint is made from
            with pytest.raises(Overloaded) as caught:
                await pool.run(Flag())
            hints.append(caught.value.retry_after_s)
    finally:
        gate.release.set()
    await task
    assert hints[0] == 0.05 and hints[-1] == 10.0
    assert all(0.05 <= hint <= 10.0 for hint in hints)
    assert hints == sorted(hints)


async def test_a_job_that_never_got_a_thread_times_out_unstarted_and_never_runs(
    pools: Callable[..., WorkPool],
) -> None:
    pool = pools(1, 1)
    busy = Gate()
    running = asyncio.create_task(pool.run(busy))
    dropped = Flag()
    try:
        await busy.wait_started()
        with pytest.raises(JobTimedOut) as caught:
            await pool.run(dropped, timeout=0.05)
        assert caught.value.started is False
        assert caught.value.ran_s == 0
        assert caught.value.waited_s > 0
        # The dropped job gave back its slot at once; the running one still holds its own.
        await eventually(lambda: pool.in_flight == 1, BOUND)
    finally:
        busy.release.set()
    await running
    # One thread, first in first out: once a job queued after the dropped one has run, the
    # thread has passed the dropped one, and it must not have run it.
    assert await pool.run(Flag()) == "ran"
    assert not dropped.ran.is_set()
    await eventually(lambda: pool.in_flight == 0, BOUND)


async def test_a_job_that_ran_too_long_times_out_started_and_holds_its_slot(
    pools: Callable[..., WorkPool],
) -> None:
    pool = pools(1, 0)
    assert await pool.run(lambda: 1) == 1  # the thread exists before the timed job
    slow = Gate(result="late")
    try:
        with pytest.raises(JobTimedOut) as caught:
            await pool.run(slow, timeout=0.5)
        assert caught.value.started is True
        assert caught.value.ran_s > 0
        assert slow.started.is_set() and not slow.finished.is_set()
        # The caller stopped waiting, but the thread is still busy: the job still counts.
        assert pool.in_flight == 1
        with pytest.raises(Overloaded):
            await pool.run(Flag())
    finally:
        slow.release.set()
    await eventually(slow.finished.is_set, BOUND)
    await eventually(lambda: pool.in_flight == 0, BOUND)
    assert await pool.run(Flag()) == "ran"


async def test_a_timeout_that_does_not_fire_changes_nothing(pools: Callable[..., WorkPool]) -> None:
    pool = pools(1, 0)
    assert await pool.run(lambda: "quick", timeout=BOUND) == "quick"
    await eventually(lambda: pool.in_flight == 0, BOUND)


# --- CPU priority ---------------------------------------------------------------------------

linux_only = pytest.mark.skipif(sys.platform != "linux", reason="per-thread nice is Linux's")


def thread_nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


@linux_only
async def test_a_pool_with_nice_runs_its_jobs_at_a_lower_priority(
    pools: Callable[..., WorkPool],
) -> None:
    base = thread_nice()
    if base + 5 > 19:
        pytest.skip(f"this process already runs at nice {base}")
    plain = await pools(1, 0, nice=0).run(thread_nice)
    lowered = await pools(1, 0, nice=5).run(thread_nice)
    assert plain == base
    assert lowered == base + 5
    assert thread_nice() == base  # the event loop's thread is untouched


@linux_only
def test_lower_priority_changes_only_the_calling_thread() -> None:
    base = thread_nice()
    if base + 3 > 19:
        pytest.skip(f"this process already runs at nice {base}")
    seen: dict[str, int] = {}

    def lowered() -> None:
        lower_priority(0)
        seen["after 0"] = thread_nice()
        lower_priority(3)
        seen["after 3"] = thread_nice()

    thread = threading.Thread(target=lowered)
    thread.start()
    thread.join(BOUND)
    assert not thread.is_alive()
    assert seen == {"after 0": base, "after 3": base + 3}
    assert thread_nice() == base
