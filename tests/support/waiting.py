"""Waiting for a condition with a deadline, instead of sleeping a fixed time and hoping."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

__all__ = ["eventually", "eventually_sync"]


async def eventually(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """Returns as soon as `condition()` is true; fails the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g} s")
        await asyncio.sleep(0.001)


def eventually_sync(condition: Callable[[], object], timeout: float = 10.0) -> None:
    """`eventually` for threads and processes outside an event loop."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout:g} s")
        time.sleep(0.005)
