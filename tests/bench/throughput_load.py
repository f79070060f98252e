"""The server process and the gRPC load generator of the throughput bench.

The server runs as its own process (`python -m nomic_serve`), as users run it; this
process drives it over one grpc.aio channel with N concurrent loops, and samples the
server's resident memory and CPU time from /proc while it works.
"""

from __future__ import annotations

import asyncio
import math
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import grpc
from google.protobuf.json_format import MessageToDict

from nomic_serve.config import ENVIRONMENT
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import child_pids, listening_children
from .throughput_models import SERVER_CACHE

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class ServerFailed(Exception):
    """The server did not start, did not become ready, or died: nothing to measure."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class BenchServer:
    """`python -m nomic_serve` from an empty folder, with only the bench's variables.

    The developer's own nomic-serve variables are dropped, so a TXT_MODEL left in the shell
    cannot silently change what is measured.
    """

    def __init__(
        self,
        env: dict[str, str],
        cache: Path,
        folder: Path,
        log_path: Path,
        cpus: set[int] | None = None,
    ) -> None:
        self.port = _free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.processes = int(env.get("SERVER_PROCESSES", "1"))
        clean = {k: v for k, v in os.environ.items() if k not in ENVIRONMENT}
        clean.update(
            env,
            GRPC_PORT=str(self.port),
            GRPC_HOST="127.0.0.1",
            CACHE_DIR=str(cache / SERVER_CACHE),
            LOG_LEVEL=env.get("LOG_LEVEL", "warning"),
            # Metrics on, as shipped (their cost is part of the figures), on a free port.
            METRICS_PORT=env.get("METRICS_PORT", str(_free_port())),
            METRICS_HOST="127.0.0.1",
        )
        self.log_path = log_path
        log_path.parent.mkdir(parents=True, exist_ok=True)
        # A file, not a pipe: nobody reads a pipe during the run, and a full one blocks.
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nomic_serve"],
            cwd=folder,
            env=clean,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )
        self.pid = self.proc.pid
        if cpus:
            # Before the interpreter has started any thread: every later one inherits it.
            os.sched_setaffinity(self.pid, cpus)

    def log_tail(self, lines: int = 15) -> str:
        text = self.log_path.read_text(errors="replace").strip()
        return "\n".join("    " + line for line in text.splitlines()[-lines:]) or "    (empty)"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_ready(self, timeout: float) -> float:
        """Seconds until Health says the text model serves, in every process when there are
        several (one answering first would otherwise take every connection of the run);
        ServerFailed (with the log) when the process exits or the deadline passes."""
        started = time.monotonic()
        last = "no answer yet"
        with grpc.insecure_channel(self.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            while time.monotonic() - started < timeout:
                if not self.alive():
                    raise ServerFailed(
                        f"server exited with code {self.proc.returncode} before it was ready "
                        f"(log {self.log_path}):\n{self.log_tail()}"
                    )
                try:
                    health = stub.Health(pb.HealthRequest(), timeout=2)
                    listening = self._listening()
                    if health.text_model and listening == self.processes:
                        return time.monotonic() - started
                    last = f"Health answered text_model={health.text_model} (status "
                    last += f"{health.status!r}), {listening} of {self.processes} listening"
                except grpc.RpcError as exc:
                    last = f"{exc.code().name}: {exc.details()}"
                time.sleep(0.1)
        raise ServerFailed(
            f"server not ready after {timeout:.0f} s, last: {last} (log {self.log_path}):\n"
            f"{self.log_tail()}"
        )

    def _listening(self) -> int:
        """Processes serving on the port: the supervisor's children, or the server itself."""
        if self.processes == 1:
            return 1
        return len(listening_children(self.pid, self.port))

    def describe(self) -> str:
        """The served model as Info reports it (name, batching and why, scheduler)."""
        with grpc.insecure_channel(self.address) as channel:
            try:
                info = rpc.EmbeddingServiceStub(channel).Info(pb.InfoRequest(), timeout=10)
            except grpc.RpcError as exc:
                return f"(Info failed: {exc.code().name}: {exc.details()})"
        text = MessageToDict(info.text)
        parts = [
            f"{key}={text[key]}"
            for key in ("name", "maxTokens", "batching", "batchingReason")
            if key in text
        ]
        if "scheduler" in text:
            parts.append(f"scheduler={text['scheduler']}")
        return ", ".join(parts)

    def pids(self) -> list[int]:
        """The server and its children (SERVER_PROCESSES > 1 runs a supervisor and them)."""
        return [self.pid, *child_pids(self.pid)]

    def rss_mb(self) -> float:
        return sum(rss_mb(pid) for pid in self.pids())

    def cpu_s(self) -> float:
        """User + system CPU seconds of the server (all its threads and processes) so far."""
        return sum(process_cpu_s(pid) for pid in self.pids())

    def cpus(self) -> str:
        try:
            return cpu_list(os.sched_getaffinity(self.pid))
        except OSError:
            return "?"

    def stop(self) -> None:
        """SIGTERM and a graceful wait; SIGKILL if it hangs (a bench must not hang)."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def machine_busy_s() -> float:
    """CPU seconds all cores spent busy since boot (/proc/stat): minus what the server and
    this process used, it is the noise from everything else on the machine."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return (sum(fields[:8]) - idle) / CLOCK_TICKS


class CpuMeter:
    """Server, this process and everything else: CPU used during one workload, in % of a
    core, so a figure taken while something else ran on the machine shows it."""

    def __init__(self, server_cpu_s: Callable[[], float] = lambda: 0.0) -> None:
        self._server = server_cpu_s
        self._start = self._read()

    def _read(self) -> tuple[float, float, float, float]:
        return time.monotonic(), self._server(), time.process_time(), machine_busy_s()

    def percent(self) -> tuple[float, float, float]:
        """(server, this process, others) since the meter was made."""
        end = self._read()
        wall, server, client, busy = (b - a for a, b in zip(self._start, end, strict=True))
        if wall <= 0:
            return math.nan, math.nan, math.nan
        others = max(busy - server - client, 0.0)
        return 100 * server / wall, 100 * client / wall, 100 * others / wall


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of one process (all its threads) so far; NaN once it is
    gone, so a figure taken across its death reads as unknown, not as zero."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def p99(samples: list[float]) -> float:
    """The 99th percentile (the one sample when there is one, NaN when there is none)."""
    if len(samples) < 2:
        return samples[0] if samples else math.nan
    return statistics.quantiles(samples, n=100, method="inclusive")[98]


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def cpu_list(cpus: set[int]) -> str:
    return "{" + ",".join(str(c) for c in sorted(cpus)) + "}"


def client_cpus() -> str:
    return cpu_list(os.sched_getaffinity(0))


class RssSampler:
    """Samples the server's VmRSS every 10 ms (peak) and keeps a coarse series.

    The series (every 0.25 s, with how many texts were done) lets the stability run read
    the memory after warm-up and at the end of the same run.
    """

    def __init__(self, pid: int, progress: Progress | None = None) -> None:
        self.pid, self.peak, self.progress = pid, 0.0, progress
        self.series: list[tuple[int, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        next_point = 0.0
        while not self._stop.wait(0.01):
            value = rss_mb(self.pid)
            if value == value:  # not NaN: the process still exists
                self.peak = max(self.peak, value)
            now = time.monotonic()
            if now >= next_point:
                done = self.progress.done if self.progress else 0
                self.series.append((done, value))
                next_point = now + 0.25

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


@dataclass
class Progress:
    """Texts answered so far, shared by the loops of one workload."""

    done: int = 0


@dataclass
class Outcome:
    """What one workload did: answered texts, wall time, latencies, failures."""

    texts: int = 0
    elapsed: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    first_error: str = ""

    def fail(self, error: str, detail: str) -> None:
        self.errors[error] += 1
        self.first_error = self.first_error or f"{error}: {detail}"


# One request: builds its message, awaits the answer, returns how many texts it embedded.
Call = Callable[[], Awaitable[int]]


def embed_call(stub: rpc.EmbeddingServiceStub, texts: Iterator[str]) -> Call:
    async def call() -> int:
        answer = await stub.Embed(pb.EmbedRequest(input=next(texts)), timeout=600)
        return 1 if answer.embedding else 0

    return call


def embed_list_call(stub: rpc.EmbeddingServiceStub, texts: Iterator[str], size: int) -> Call:
    async def call() -> int:
        inputs = [next(texts) for _ in range(size)]
        answer = await stub.EmbedList(pb.EmbedListRequest(inputs=inputs), timeout=600)
        return len(answer.embeddings)

    return call


async def run_unary(
    call: Call,
    *,
    concurrency: int,
    count: int,
    seconds: float,
    alive: Callable[[], bool],
    progress: Progress | None = None,
) -> Outcome:
    """`concurrency` loops issue requests back to back until `count` requests were issued or
    `seconds` passed; requests in flight at the deadline are waited for and counted."""
    outcome, progress = Outcome(), progress or Progress()
    issued = 0
    started = time.perf_counter()
    deadline = started + seconds

    async def loop() -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            issued += 1
            sent = time.perf_counter()
            try:
                texts = await call()
            except grpc.aio.AioRpcError as exc:
                outcome.fail(exc.code().name, exc.details() or "")
                if not alive():
                    return
                continue
            outcome.latencies_ms.append((time.perf_counter() - sent) * 1000)
            outcome.texts += texts
            progress.done += texts

    await asyncio.gather(*(loop() for _ in range(concurrency)))
    outcome.elapsed = time.perf_counter() - started
    return outcome


async def run_stream(
    stub: rpc.EmbeddingServiceStub, texts: Iterator[str], *, count: int, seconds: float
) -> Outcome:
    """One EmbedBatch stream of `count` texts (fewer if `seconds` pass first: the stream is
    then closed and the answers still due are read). Latency is per item, from the moment
    gRPC takes the request to its answer, so it includes the server's read-ahead queue."""
    outcome = Outcome()
    sent: list[float] = []
    started = time.perf_counter()
    deadline = started + seconds

    async def requests() -> AsyncIterator[pb.EmbedBatchRequest]:
        for _ in range(count):
            if time.perf_counter() >= deadline:
                return
            request = pb.EmbedBatchRequest(input=next(texts))
            sent.append(time.perf_counter())
            yield request

    try:
        async for answer in stub.EmbedBatch(requests(), timeout=seconds + 600):
            if answer.HasField("error"):
                outcome.fail(f"item {answer.error.code}", answer.error.message)
                continue
            outcome.latencies_ms.append((time.perf_counter() - sent[answer.index]) * 1000)
            outcome.texts += 1
    except grpc.aio.AioRpcError as exc:
        outcome.fail(exc.code().name, exc.details() or "")
    outcome.elapsed = time.perf_counter() - started
    return outcome
