"""The one-off benchmark scripts the README lists run to the end and print their tables.

`make bench` runs in CI, but these scripts only when someone types them: without this
test they break unnoticed when an API they use changes (single_latency once did).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]


def _run(module: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_single_latency_prints_every_path() -> None:
    out = _run("tests.bench.single_latency", "--requests", "10")
    for row in ("Embed over gRPC", "health Check over gRPC", "engine.embed", "bare session.run"):
        assert f"| {row}" in out, out
    assert "Embed minus the empty round trip" in out, out


def test_rest_latency_prints_both_paths() -> None:
    out = _run("tests.bench.rest_latency", "--requests", "10")
    assert "| POST /embed through Envoy |" in out, out
    assert "| Embed over gRPC |" in out, out
