"""How SERVER_PROCESSES children split the cores, and how they are named."""

from __future__ import annotations

import pytest

from nomic_serve.config import Settings
from nomic_serve.processes import ProcessSlot, core_share


@pytest.mark.parametrize(
    ("count", "cores", "usable", "expected"),
    [
        (2, [0, 1], 2, [[0], [1]]),
        (2, [0, 1, 2, 3], 4, [[0, 1], [2, 3]]),
        (3, [0, 1], 2, [[0], [1], [0]]),  # more children than cores: one core each, in turn
        (2, [4, 5, 6, 7, 8, 9, 10, 11], 4, [[4, 5], [6, 7]]),  # a CPU quota of 4 on 8 cores
    ],
)
def test_each_child_gets_an_equal_disjoint_share(
    count: int, cores: list[int], usable: int, expected: list[list[int]]
) -> None:
    slots = [ProcessSlot(i, count, parent=1) for i in range(count)]
    assert [core_share(slot, cores, usable) for slot in slots] == expected


@pytest.mark.parametrize("value", ["2/2/7", "-1/2/7", "x/2/7", "1/2", "1"])
def test_a_bad_slot_is_refused(value: str) -> None:
    with pytest.raises(ValueError):
        ProcessSlot.parse(value)


def test_a_slot_reads_back_as_written() -> None:
    slot = ProcessSlot.parse("1/3/4242")
    assert (slot.option, str(slot), slot.parent) == ("1/3/4242", "1/3", 4242)


def test_each_child_serves_metrics_on_its_own_port() -> None:
    settings = Settings(metrics_port=9000)
    ports = [ProcessSlot(i, 3, parent=1).own_settings(settings).metrics_port for i in range(3)]
    assert ports == [9000, 9001, 9002]
    off = Settings(metrics_port=0)
    assert ProcessSlot(2, 3, parent=1).own_settings(off).metrics_port == 0
