"""Scale-out under faults: replicas behind the gateway Envoy, a closed-loop load, and faults.

Three servers on loopback ports behind the gateway config that `nomic-serve-envoy-config
--gateway` renders. A closed loop of single-text Embed calls (gRPC workers, and a few REST
workers through the gateway's transcoding) runs while replicas are killed, terminated and
restarted on their ports, as Kubernetes restarts a pod. Every answer is compared with the
vector a replica gave for that text directly. The scenarios are written once, here: the
e2e test asserts on their `Report`, `make scale-demo` prints it.
"""

from __future__ import annotations

import asyncio
import signal
import statistics
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
import numpy as np

from nomic_serve.gateway.envoy_config import DRAIN_DETECTION_S
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .processes import GatewayProcess, ServerProcess
from .waiting import eventually_sync

__all__ = [
    "GRPC_WORKERS",
    "REST_WORKERS",
    "Cluster",
    "Load",
    "Report",
    "kill_and_terminate",
    "replica_env",
    "rolling_restart",
]

TEXTS = tuple(
    f"{subject} number {n} is {quality}"
    for n, (subject, quality) in enumerate(
        (s, q)
        for s in ("the cat", "a search query", "this document", "the long road")
        for q in ("short", "blue", "about embeddings", "on the sea")
    )
)
GRPC_WORKERS = 32
REST_WORKERS = 4
CALL_TIMEOUT_S = 10.0
ATOL = 1e-4  # batches of other sizes and padding move float32 sums by ~1e-6
# What Kubernetes does after a crash: the replacement starts a few seconds later.
RESTART_AFTER_S = 3.0
STAT_NAMES = (
    "upstream_rq_total",
    "upstream_rq_retry",
    "upstream_rq_retry_success",
    "upstream_rq_retry_overflow",
    "upstream_cx_connect_fail",
    "health_check.failure",
    "outlier_detection.ejections_enforced_total",
    "membership_healthy",
)


def replica_env(cache_dir: Path | None) -> dict[str, str]:
    """The embedded MiniLM, no vision model, every request inferred (no embedding cache), one
    ONNX thread (three replicas share the machine), no per-request log lines, and the
    shutdown delay the gateway needs to see a draining replica before it stops accepting."""
    env = {
        "IMG_MODEL": "none",
        "CACHE_MB": "0",
        "INTRA_OP_THREADS": "1",
        "LOG_LEVEL": "WARNING",
        "SHUTDOWN_DELAY_S": f"{DRAIN_DETECTION_S + 1:g}",
    }
    if cache_dir is not None:
        env["CACHE_DIR"] = str(cache_dir)
    return env


class Cluster:
    """`count` replicas and the gateway over them; a replica restarts on its own port."""

    def __init__(self, folder: Path, env: dict[str, str], command: list[str], count: int = 3):
        self.folder, self.env, self.command = folder, env, command
        with ThreadPoolExecutor(count) as pool:
            starting = [pool.submit(self._start, None) for _ in range(count)]
        self.replicas = [f.result() for f in starting if f.exception() is None]
        try:
            for future in starting:
                future.result()  # raises what stopped a replica from starting, if any
            self.gateway = GatewayProcess([r.address for r in self.replicas], folder)
        except BaseException:
            self._stop_replicas()
            raise
        try:
            self.wait_all_healthy()
        except BaseException:
            self.close()
            raise

    def _start(self, port: int | None) -> ServerProcess:
        return ServerProcess(self.command, self.folder, self.env, port=port)

    def wait_all_healthy(self, timeout: float = 30) -> None:
        eventually_sync(lambda: self.gateway.health_count() == len(self.replicas), timeout)

    def heal(self) -> None:
        """Every replica running and in the balancing (after a scenario that failed midway)."""
        for index, replica in enumerate(self.replicas):
            if replica.proc.poll() is not None:
                self.restart(index)
        self.wait_all_healthy()

    def kill(self, index: int) -> None:
        self.replicas[index].kill()

    def terminate(self, index: int) -> int:
        """SIGTERM; returns the exit code once the replica has drained and stopped."""
        code, _ = self.replicas[index].stop()
        return code

    def restart(self, index: int) -> None:
        """A new process on the same port, back in the gateway's balancing once it is healthy."""
        old = self.replicas[index]
        self.replicas[index] = self._start(old.port)
        eventually_sync(lambda: self.gateway.healthy(old.address), timeout=30)

    def direct_vectors(self) -> dict[str, np.ndarray]:
        """Each text's vector, asked from the first replica directly (not through Envoy)."""
        with grpc.insecure_channel(self.replicas[0].address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            return {
                text: np.array(stub.Embed(pb.EmbedRequest(input=text), timeout=30).embedding)
                for text in TEXTS
            }

    def close(self) -> None:
        self.gateway.stop()
        self._stop_replicas()

    def _stop_replicas(self) -> None:
        """Every replica at once (SIGINT: no shutdown delay to sit out)."""
        running = [r for r in self.replicas if r.proc.poll() is None]
        for replica in running:
            replica.proc.send_signal(signal.SIGINT)
        for replica in self.replicas:
            replica.wait()


@dataclass(frozen=True)
class Call:
    """One request: when it started, how long it took, and what went wrong (None: a right
    answer)."""

    kind: str  # "grpc" or "rest"
    started: float  # time.monotonic()
    latency_s: float
    error: str | None


class Load:
    """A closed loop through the gateway: each worker sends its next call when the last one
    has been answered and checked. Runs on its own thread and event loop."""

    def __init__(self, gateway: GatewayProcess, expected: dict[str, np.ndarray]) -> None:
        self.gateway, self.expected = gateway, expected
        self.calls: list[Call] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=asyncio.run, args=(self._run(),), daemon=True)

    def __enter__(self) -> Load:
        self._thread.start()
        eventually_sync(lambda: len(self.calls) >= GRPC_WORKERS, timeout=30)
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=CALL_TIMEOUT_S + 30)

    async def _run(self) -> None:
        async with (
            grpc.aio.insecure_channel(self.gateway.grpc_address) as channel,
            httpx.AsyncClient(base_url=self.gateway.url, timeout=CALL_TIMEOUT_S) as client,
        ):
            stub = rpc.EmbeddingServiceStub(channel)
            workers = [self._worker("grpc", n, self._grpc(stub)) for n in range(GRPC_WORKERS)]
            workers += [self._worker("rest", n, self._rest(client)) for n in range(REST_WORKERS)]
            await asyncio.gather(*workers)

    async def _worker(self, kind: str, offset: int, call: Callable) -> None:
        n = offset
        while not self._stopping.is_set():
            text = TEXTS[n % len(TEXTS)]
            n += 1
            started = time.monotonic()
            try:
                vector = await call(text)
                error = None if self._right(text, vector) else "wrong vector"
            except grpc.aio.AioRpcError as exc:
                error = f"{exc.code().name}: {exc.details()}"
            except (httpx.HTTPError, ValueError, KeyError) as exc:
                error = f"{type(exc).__name__}: {exc}"
            self.calls.append(Call(kind, started, time.monotonic() - started, error))

    def _grpc(self, stub: rpc.EmbeddingServiceStub) -> Callable:
        async def call(text: str) -> list[float]:
            reply = await stub.Embed(pb.EmbedRequest(input=text), timeout=CALL_TIMEOUT_S)
            return list(reply.embedding)

        return call

    def _rest(self, client: httpx.AsyncClient) -> Callable:
        async def call(text: str) -> list[float]:
            response = await client.post("/embed", json={"input": text})
            if response.status_code != 200:
                raise ValueError(f"HTTP {response.status_code}: {response.text[:200]}")
            return response.json()["embedding"]

        return call

    def _right(self, text: str, vector: list[float]) -> bool:
        expected = self.expected[text]
        return len(vector) == len(expected) and np.allclose(vector, expected, atol=ATOL)


@dataclass(frozen=True)
class Fault:
    """A fault and its span: from the signal until the gateway again balances over every
    replica (the replacement healthy)."""

    name: str
    started: float
    ended: float
    exit_code: int | None = None  # SIGTERM: the replica's exit code


@dataclass
class Report:
    """What a scenario measured: every call, the faults, and the gateway's counters."""

    scenario: str
    calls: list[Call]
    faults: list[Fault]
    stats: dict[str, int]  # counter increases over the run; gauges as at the end
    duration_s: float
    errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[Call]:
        return [c for c in self.calls if c.error is not None]

    def during(self, fault: Fault) -> list[Call]:
        return [c for c in self.calls if fault.started <= c.started <= fault.ended]

    def rows(self) -> list[tuple[str, str]]:
        """(what, value) lines for a table."""
        rows = [
            ("requests sent (gRPC + REST)", _count(self.calls)),
            ("failed", str(len(self.failed))),
            ("throughput", f"{len(self.calls) / self.duration_s:.0f} req/s"),
            ("latency p50 / p99, overall", _percentiles(self.calls)),
        ]
        for fault in self.faults:
            calls = self.during(fault)
            span = f"{fault.name} ({fault.ended - fault.started:.1f} s, {len(calls)} req)"
            rows.append((f"latency p50 / p99, {span}", _percentiles(calls)))
        rows += [
            ("retries (succeeded)", f"{self.retries} ({self.stats['upstream_rq_retry_success']})"),
            ("retry overflows", str(self.stats["upstream_rq_retry_overflow"])),
            ("outlier ejections", str(self.ejections)),
            ("health-check failures", str(self.health_check_failures)),
            ("replicas healthy at the end", str(self.stats["membership_healthy"])),
        ]
        return rows

    @property
    def retries(self) -> int:
        return self.stats["upstream_rq_retry"]

    @property
    def ejections(self) -> int:
        return self.stats["outlier_detection.ejections_enforced_total"]

    @property
    def health_check_failures(self) -> int:
        return self.stats["health_check.failure"]

    def table(self) -> str:
        width = max(len(what) for what, _ in self.rows())
        lines = [self.scenario, *(f"  {what:<{width}}  {value}" for what, value in self.rows())]
        lines += [f"  first errors: {e}" for e in self.errors[:5]]
        return "\n".join(lines)


def kill_and_terminate(cluster: Cluster, load_s: float = 30.0) -> Report:
    """SIGKILL one replica and restart it a few seconds later; then SIGTERM another and
    restart it; under load for `load_s` seconds in all."""

    def faults() -> list[Fault]:
        killed = time.monotonic()
        cluster.kill(0)
        time.sleep(RESTART_AFTER_S)  # the replica stays dead this long: part of the fault
        cluster.restart(0)
        done = [Fault("SIGKILL + restart", killed, time.monotonic())]
        time.sleep(3.0)  # load between the faults
        terminated = time.monotonic()
        code = cluster.terminate(1)
        cluster.restart(1)
        done.append(Fault("SIGTERM + restart", terminated, time.monotonic(), code))
        return done

    return _under_load(cluster, "replica killed, then another terminated", faults, load_s)


def rolling_restart(cluster: Cluster) -> Report:
    """Every replica in turn: SIGTERM, wait until it exits, restart, wait until the gateway
    balances over it again, then the next."""

    def faults() -> list[Fault]:
        done = []
        for index in range(len(cluster.replicas)):
            started = time.monotonic()
            code = cluster.terminate(index)
            cluster.restart(index)
            done.append(Fault(f"restart of replica {index}", started, time.monotonic(), code))
        return done

    return _under_load(cluster, "rolling restart of every replica", faults, 0.0)


def _under_load(
    cluster: Cluster, scenario: str, faults: Callable[[], list[Fault]], load_s: float
) -> Report:
    expected = cluster.direct_vectors()
    before = cluster.gateway.stats()
    started = time.monotonic()
    with Load(cluster.gateway, expected) as load:
        time.sleep(2.0)  # steady load before the first fault
        done = faults()
        time.sleep(max(2.0, started + load_s - time.monotonic()))  # and after the last
    duration = time.monotonic() - started
    after = cluster.gateway.stats()
    stats = {name: after.get(name, 0) - before.get(name, 0) for name in STAT_NAMES}
    stats["membership_healthy"] = after.get("membership_healthy", 0)
    calls = sorted(load.calls, key=lambda c: c.started)
    errors = [f"{c.kind} at +{c.started - started:.2f} s: {c.error}" for c in calls if c.error]
    return Report(scenario, calls, done, stats, duration, errors)


def _count(calls: list[Call]) -> str:
    rest = sum(1 for c in calls if c.kind == "rest")
    return f"{len(calls)} ({len(calls) - rest} + {rest})"


def _percentiles(calls: list[Call]) -> str:
    if len(calls) < 2:
        return "-"
    cuts = statistics.quantiles([c.latency_s * 1000 for c in calls], n=100, method="inclusive")
    return f"{cuts[49]:.1f} / {cuts[98]:.1f} ms"
