"""The attacked stack: the server as users start it, Envoy in front, the evil host beside.

Measurements come with it: the liveness prober (a separate process) and the server's peak
resident memory (VmHWM, reset before each case through /proc/PID/clear_refs).
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import EnvoyProcess, ServerProcess
from ..support.waiting import eventually_sync
from .evil_host import EvilHost
from .liveness import Liveness, Window

__all__ = ["HTTP_TO_GRPC", "Measured", "Reply", "Stack"]

SERVICE = "/nomic.serve.v1.EmbeddingService/"
# google/rpc/code.proto's HTTP mapping, as Envoy's transcoder applies it.
HTTP_TO_GRPC = {
    200: "OK",
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    413: "RESOURCE_EXHAUSTED",  # Envoy's body limit: the request, not the server, is too big
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
MAX_MESSAGE_CHARS = 512
# What a reply must never show: Python internals, or where the server's files are.
_EXCEPTION_TEXT = re.compile(r"Traceback|File \"|<class |\b\w+(Error|Exception)\b:|Error parsing")
_ABSOLUTE_PATH = re.compile(r"(?<![\w:/.])/(home|root|tmp|usr|opt|var|etc|work|proc|srv)/")
GRPC_MB = 64 * 1024 * 1024
ATTACKER_NICE = 10
MIN_WINDOW_S = 2.5  # 160-250 Health samples (66-100 a second): the p99 is not just the max
QUIET_PERIOD_S = 0.25
QUIET_MARGIN = 0.3  # cores over the idle rate that still count as quiet
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Reply:
    """One answer, by gRPC status name whether it came over gRPC or REST."""

    route: str  # "grpc" or "rest"
    label: str
    code: str
    message: str
    size: int = 0  # bytes of the reply body
    body: object = None  # the parsed reply (a message, or JSON) when it succeeded

    def problems(self) -> list[str]:
        """Why this reply would be a fault whatever the case expects."""
        found = []
        if len(self.message) > MAX_MESSAGE_CHARS:
            found.append(f"{self.label}: message of {len(self.message)} chars")
        if _EXCEPTION_TEXT.search(self.message):
            found.append(f"{self.label}: exception text in {self.message[:200]!r}")
        if _ABSOLUTE_PATH.search(self.message):
            found.append(f"{self.label}: absolute path in {self.message[:200]!r}")
        if self.code in ("UNKNOWN", "INTERNAL"):
            found.append(f"{self.label}: server fault {self.code} ({self.message[:200]!r})")
        return found


@dataclass
class Measured:
    """What one case cost the others: liveness, and the server's peak memory over idle."""

    liveness: Window
    peak_rss_mb: float
    idle_rss_mb: float
    seconds: float
    replies: list[Reply] = field(default_factory=list)
    start_rss_mb: float = 0.0  # when the case began: what earlier cases left behind

    @property
    def rss_over_idle_mb(self) -> float:
        return self.peak_rss_mb - self.idle_rss_mb


class Stack:
    """Starts everything; `measure(name)` wraps one case."""

    def __init__(self, folder: Path, *, cache: Path, vision_model: Path) -> None:
        self.host = EvilHost()
        self.server = ServerProcess(
            [sys.executable, "-m", "nomic_serve"],
            cwd=folder,
            env={
                "CACHE_DIR": str(cache),
                "IMG_MODEL": str(vision_model),
                "FETCH_ALLOW_NETWORKS": "127.0.0.0/8",
                "FETCH_TIMEOUT_S": "6",
                "LOG_LEVEL": "warning",
            },
        )
        self.envoy = EnvoyProcess(self.server, folder, {})
        options = [("grpc.max_receive_message_length", GRPC_MB)]
        options.append(("grpc.max_send_message_length", GRPC_MB))
        self.channel = grpc.insecure_channel(self.server.address, options=options)
        self.stub = rpc.EmbeddingServiceStub(self.channel)
        self._warm_up()
        self.idle_rss_mb = _status_kb(self.server.proc.pid, "VmRSS") / 1024
        self.liveness = Liveness(self.server.address, folder)
        self._wait_for_probes()
        self.idle_cpu_share = self._cpu_share(1.0)

    def close(self) -> None:
        self.liveness.close()
        self.channel.close()
        self.envoy.stop()
        self.server.stop()
        self.host.close()

    def run_measured(
        self, run: Callable[[Stack], list[Reply]], min_seconds: float = MIN_WINDOW_S
    ) -> tuple[list[Reply], Measured]:
        """Runs a case again and again (fresh inputs each time) until `min_seconds` have
        passed, at least once: a p99 of fewer than 100 samples is their worst one."""
        with self.measure() as measured, _attacker_yields():
            started = time.monotonic()
            replies = run(self)
            while time.monotonic() - started < min_seconds:
                replies += run(self)
        return replies, measured

    @contextmanager
    def measure(self) -> Iterator[Measured]:
        pid = self.server.proc.pid
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # VmHWM := VmRSS
        started = time.monotonic()
        measured = Measured(Window([], [], []), 0.0, self.idle_rss_mb, 0.0)
        measured.start_rss_mb = _status_kb(pid, "VmRSS") / 1024
        yield measured
        ended = time.monotonic()
        self.liveness.wait_past(ended)
        measured.liveness = self.liveness.window(started, ended)
        measured.peak_rss_mb = _status_kb(pid, "VmHWM") / 1024
        measured.seconds = ended - started

    def server_cpu_s(self) -> float:
        """CPU time the server process has used so far (user + system, all threads)."""
        fields = Path(f"/proc/{self.server.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / _TICKS

    def wait_busy(self, cpu_s: float = 0.05, timeout: float = 10.0) -> None:
        """Returns once the server has used `cpu_s` more CPU time: work just sent is underway."""
        start = self.server_cpu_s()
        eventually_sync(lambda: self.server_cpu_s() - start >= cpu_s, timeout)

    def wait_quiet(self, timeout: float = 60.0) -> None:
        """Returns once the server's CPU use over QUIET_PERIOD_S is back near its idle rate
        with the probes running (which is high: each probe Embed leaves the batched model's
        threads spin-waiting for a while, at WORKER_NICE): what the last case started has
        drained."""
        deadline = time.monotonic() + timeout
        while self._cpu_share(QUIET_PERIOD_S) > self.idle_cpu_share + QUIET_MARGIN:
            if time.monotonic() > deadline:
                raise AssertionError(f"the server stayed busy for {timeout:g} s")

    def _cpu_share(self, seconds: float) -> float:
        """Cores the server used on average over the next `seconds`."""
        before = self.server_cpu_s()
        time.sleep(seconds)  # the length of the measurement, not a wait for an event
        return (self.server_cpu_s() - before) / seconds

    # --- calls ------------------------------------------------------------------------

    def grpc(self, label: str, call: Callable[[], object]) -> Reply:
        try:
            body = call()
        except grpc.RpcError as error:
            return Reply("grpc", label, error.code().name, error.details() or "")
        size = body.ByteSize() if hasattr(body, "ByteSize") else 0
        return Reply("grpc", label, "OK", "", size, body)

    def raw(self, label: str, method: str, payload: bytes, timeout: float = 60) -> Reply:
        """Request bytes as sent, whatever they are: the server must parse them itself."""
        call = self.channel.unary_unary(SERVICE + method)
        try:
            body = call(payload, timeout=timeout)
        except grpc.RpcError as error:
            return Reply("grpc", label, error.code().name, error.details() or "")
        return Reply("grpc", label, "OK", "", len(body), body)

    def rest(self, label: str, method: str, path: str, body: bytes | None = None) -> Reply:
        headers = {"content-type": "application/json"} if body is not None else {}
        status, _, payload = self.envoy.request(method, path, body, headers)
        code = HTTP_TO_GRPC.get(status, f"HTTP {status}")
        try:
            parsed = json.loads(payload)
        except ValueError:
            return Reply("rest", label, code, payload[:2000].decode(errors="replace"), len(payload))
        message = parsed.get("message", "") if isinstance(parsed, dict) and status != 200 else ""
        return Reply("rest", label, code, str(message), len(payload), parsed)

    def post(self, label: str, path: str, document: object) -> Reply:
        return self.rest(label, "POST", path, json.dumps(document).encode())

    # --- start-up ---------------------------------------------------------------------

    def _warm_up(self) -> None:
        """One of each kind of request, so lazily built state counts as idle memory."""
        self.stub.Embed(pb.EmbedRequest(input="warm up"))
        self.stub.EmbedList(pb.EmbedListRequest(inputs=[f"warm up {i}" for i in range(64)]))
        image = self.host.url("/png/0")
        self.stub.ImageEmbed(pb.ImageEmbedRequest(content=image))
        self.stub.ImageStats(pb.ImageStatsRequest(content=image))
        self.post("warm", "/embed", {"input": "warm up"})

    def _wait_for_probes(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.liveness.window(0, time.monotonic()).embed_ms:
                return
            time.sleep(0.05)
        raise AssertionError("the liveness prober never answered")


@contextmanager
def _attacker_yields() -> Iterator[None]:
    """Every thread of this process (the attacker's senders, its gRPC threads, the evil
    host) at ATTACKER_NICE while a case is measured: a real attacker has its own machine,
    and on two shared cores its CPU would be charged to the server's Health latency (image
    flood, measured: Health p99 33-46 ms with the attacker at 0, 26-32 ms at 10). The
    server, Envoy and the prober keep their priority. Linux nice values are per thread."""
    own = os.getpriority(os.PRIO_PROCESS, 0)
    _renice(own + ATTACKER_NICE)
    try:
        yield
    finally:
        _renice(own)  # threads started meanwhile included


def _renice(value: int) -> None:
    for tid in os.listdir("/proc/self/task"):
        try:
            os.setpriority(os.PRIO_PROCESS, int(tid), value)
        except ProcessLookupError:  # a thread that ended meanwhile
            continue
        except PermissionError:  # back up without CAP_SYS_NICE: what this process starts
            return  # later inherits the same value, so relative priorities stay as they were


def _status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)
