"""The cores the server sizes its threads by: affinity capped by the cgroup's CPU quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from nomic_serve.core import policy


@pytest.fixture
def eight_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(policy.os, "sched_getaffinity", lambda _pid: set(range(8)))


@pytest.mark.usefixtures("eight_cores")
@pytest.mark.parametrize(
    ("files", "cores"),
    [
        ({"cpu.max": "200000 100000\n"}, 2),  # cgroup v2: a Kubernetes limit of 2
        ({"cpu.max": "150000 100000\n"}, 2),  # 1.5 CPUs: rounded up
        ({"cpu.max": "50000 100000\n"}, 1),  # never below one
        ({"cpu.max": "max 100000\n"}, 8),  # no quota: the affinity
        ({"cpu.max": "1600000 100000\n"}, 8),  # a quota above the cpuset: the cpuset
        ({"cpu/cpu.cfs_quota_us": "300000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 3),  # v1
        ({"cpu,cpuacct/cpu.cfs_quota_us": "-1\n", "cpu,cpuacct/cpu.cfs_period_us": "100000"}, 8),
        ({"cpu.max": "garbage"}, 8),  # unreadable: as if there were none
        ({}, 8),  # no cgroup files at all
    ],
)
def test_the_cpu_quota_caps_the_cores(tmp_path: Path, files: dict[str, str], cores: int) -> None:
    for name, content in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(content)
    assert policy.available_cores(tmp_path) == cores
