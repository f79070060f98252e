"""Liveness while a case runs: a separate process calls Health and Embed in a loop.

The prober is its own process, so the measurement shares nothing with the attacker's
interpreter. It appends one line per call (`kind start_monotonic latency_ms code`) to a file;
the harness reads the lines whose start falls inside a case's window. CLOCK_MONOTONIC is
shared by all processes on Linux, so the two processes' times compare directly.
"""

from __future__ import annotations

import argparse
import math
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.waiting import eventually_sync

__all__ = ["Liveness", "Window"]

HEALTH_INTERVAL_S = 0.01
EMBED_INTERVAL_S = 0.05


@dataclass(frozen=True)
class Window:
    """The probes answered while one case ran."""

    health_ms: list[float]
    embed_ms: list[float]
    failures: list[str]

    @property
    def health_p99(self) -> float:
        return _percentile(self.health_ms, 0.99)

    @property
    def health_max(self) -> float:
        return max(self.health_ms, default=math.nan)

    @property
    def embed_p99(self) -> float:
        return _percentile(self.embed_ms, 0.99)


def _percentile(samples: list[float], q: float) -> float:
    if not samples:
        return math.nan
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


class Liveness:
    """Starts the prober against `address`; `window(start, end)` reads what it measured."""

    def __init__(self, address: str, folder: Path) -> None:
        self.path = folder / "liveness.log"
        self.path.write_text("")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.hostile.liveness", address, str(self.path)],
            stdin=subprocess.PIPE,
        )

    def window(self, start: float, end: float) -> Window:
        health, embed, failures = [], [], []
        for line in self.path.read_text().splitlines():
            parts = line.split(" ", 3)
            if len(parts) != 4:
                continue  # a line being written
            kind, started, latency, code = parts[0], float(parts[1]), float(parts[2]), parts[3]
            if not start <= started <= end:
                continue
            if code != "OK":
                failures.append(f"{kind}: {code}")
            (health if kind == "health" else embed).append(latency)
        return Window(health, embed, failures)

    def wait_past(self, moment: float, timeout: float = 45.0) -> None:
        """Returns once each probe loop has logged a call started after `moment`: the loops
        are sequential, so every call started before it has been answered and logged (a
        stalled one included, which a window read too early would miss)."""

        def past() -> bool:
            latest: dict[str, float] = {}
            for line in self.path.read_text().splitlines()[-400:]:
                parts = line.split(" ", 3)
                if len(parts) == 4:
                    latest[parts[0]] = float(parts[1])
            return all(latest.get(kind, 0.0) > moment for kind in ("health", "embed"))

        eventually_sync(past, timeout)

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()  # the prober stops when its stdin closes
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _probe(address: str, out: Path, stop: threading.Event) -> None:
    lock = threading.Lock()
    with grpc.insecure_channel(address) as channel, out.open("a") as log:
        stub = rpc.EmbeddingServiceStub(channel)

        def loop(kind: str, interval: float) -> None:
            count = 0
            while not stop.is_set():
                count += 1
                started = time.monotonic()
                try:
                    if kind == "health":
                        stub.Health(pb.HealthRequest(), timeout=10)
                    else:
                        stub.Embed(pb.EmbedRequest(input=f"liveness probe {count}"), timeout=30)
                    code = "OK"
                except grpc.RpcError as error:
                    code = error.code().name
                latency = (time.monotonic() - started) * 1000
                with lock:
                    log.write(f"{kind} {started:.6f} {latency:.3f} {code}\n")
                    log.flush()
                stop.wait(interval)

        threads = [
            threading.Thread(target=loop, args=("health", HEALTH_INTERVAL_S), daemon=True),
            threading.Thread(target=loop, args=("embed", EMBED_INTERVAL_S), daemon=True),
        ]
        for thread in threads:
            thread.start()
        sys.stdin.read()  # until the harness closes our stdin
        stop.set()
        for thread in threads:
            thread.join(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("address")
    parser.add_argument("out", type=Path)
    args = parser.parse_args()
    _probe(args.address, args.out, threading.Event())


if __name__ == "__main__":
    main()
