"""SERVER_PROCESSES > 1: several server processes on one port, each with its own GIL.

One Python process serves at most about one request per event-loop pass, however many cores
the machine has: the gRPC machinery and the request handling run on its one event-loop
thread. Several processes bind the same GRPC_PORT (gRPC sets SO_REUSEPORT), and the kernel
spreads new connections among them; one connection (one client channel) stays with one
process, so the gain comes with several channels, several clients or the gateway.

This module is the supervisor they run under. It starts the children, pins each to its own
share of the cores (so each sizes its thread pools by that share), forwards SIGTERM, SIGINT,
SIGUSR1 and SIGHUP to all of them (each drains, stops or reloads its API keys as a single
server would), and replaces a
child that crashes while the others keep serving. A child that exits with a configuration or
model error (exit code 1) stops the whole server: the next would fail the same way.
"""

from __future__ import annotations

import ctypes
import dataclasses
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from types import FrameType

from .config import Settings
from .core.policy import available_cores
from .errors import ConfigError

__all__ = ["ProcessSlot", "core_share", "supervise"]

log = logging.getLogger("nomic_serve")

FORWARDED = (signal.SIGTERM, signal.SIGINT, signal.SIGUSR1, signal.SIGHUP)
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
CONFIG_EXIT = 1  # __main__'s exit code for a configuration or model error
# 1: the kernel hands the connections queued on a closing listener to another one of its
# SO_REUSEPORT group, instead of resetting them (Linux 5.14+, one value per network namespace).
MIGRATE_REQ = "/proc/sys/net/ipv4/tcp_migrate_req"
# A child crashing more often than this within RESTART_WINDOW_S stops the server.
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0


@dataclass(frozen=True)
class ProcessSlot:
    """Which child a process is: `index` of `count`, started by supervisor `parent` (the
    hidden `--process i/N/PID` option)."""

    index: int
    count: int
    parent: int

    @classmethod
    def parse(cls, value: str) -> ProcessSlot:
        index, count, parent = value.split("/")
        slot = cls(int(index), int(count), int(parent))
        if not 0 <= slot.index < slot.count:
            raise ValueError(value)
        return slot

    @property
    def option(self) -> str:
        return f"{self.index}/{self.count}/{self.parent}"

    def own_settings(self, settings: Settings) -> Settings:
        """The child's settings: every child serves its own metrics (the supervisor has
        none), on METRICS_PORT + its index, so one port never has two owners."""
        if not settings.metrics_port:
            return settings
        return dataclasses.replace(settings, metrics_port=settings.metrics_port + self.index)

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def core_share(slot: ProcessSlot, cores: list[int], usable: int) -> list[int]:
    """The cores of child `slot`: an equal, disjoint slice of `usable` cores (the affinity
    capped by the CPU quota) taken from `cores`, one core each when there are more children
    than cores."""
    share = max(1, usable // slot.count)
    start = (slot.index * share) % len(cores)
    return [cores[(start + i) % len(cores)] for i in range(share)]


def follow_parent(parent: int) -> None:
    """Asks the kernel for SIGTERM when the supervisor dies (SIGKILL, the OOM killer), so no
    child is left serving alone; exits at once if it is already gone. Linux only."""
    if sys.platform == "linux":
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:
        raise SystemExit(0)


def pin_to_share(slot: ProcessSlot) -> list[int]:
    """Pins this process (before it starts any thread: they inherit it) to its share."""
    chosen = core_share(slot, sorted(os.sched_getaffinity(0)), available_cores())
    os.sched_setaffinity(0, chosen)
    return chosen


@dataclass
class _Children:
    running: dict[int, tuple[subprocess.Popen[bytes], ProcessSlot]] = field(default_factory=dict)
    stopping: bool = False
    crashes: list[float] = field(default_factory=list)

    def start(self, slot: ProcessSlot) -> None:
        command = [sys.executable, "-m", "nomic_serve", "--process", slot.option]
        child = subprocess.Popen(command)  # same environment, stdout and stderr
        self.running[child.pid] = (child, slot)
        log.info("server process started", extra={"server_process": str(slot), "pid": child.pid})

    def forward(self, signum: int, _frame: FrameType | None = None) -> None:
        if signum not in (signal.SIGUSR1, signal.SIGHUP):  # drain and reload keep serving
            self.stopping = True
        for child, _ in self.running.values():
            child.send_signal(signum)

    def reap(self) -> int:
        """Waits for children until all are gone; the supervisor's exit code."""
        code = 0
        while self.running:
            pid, status = os.wait()  # PEP 475: retried after a forwarded signal's handler
            if pid not in self.running:
                continue
            _, slot = self.running.pop(pid)
            exit_code = os.waitstatus_to_exitcode(status)
            if self.stopping:
                code = code or (exit_code if exit_code > 0 else 0)
                continue
            if exit_code == CONFIG_EXIT:
                log.error(
                    "a server process could not start: stopping",
                    extra={"server_process": str(slot)},
                )
                self.forward(signal.SIGTERM)
                code = CONFIG_EXIT
                continue
            code = self._replace(slot, exit_code) or code
        return code

    def _replace(self, slot: ProcessSlot, exit_code: int) -> int:
        """Starts a crashed child again; 1 (and every child stopped) when it crashes too
        often for that to help."""
        now = time.monotonic()
        self.crashes = [t for t in self.crashes if now - t < RESTART_WINDOW_S] + [now]
        log.error(
            "server process exited: replacing it",
            extra={
                "server_process": str(slot),
                "exit_code": exit_code,
                "crashes": len(self.crashes),
            },
        )
        if len(self.crashes) > MAX_RESTARTS:
            log.error("server processes keep crashing: stopping")
            self.forward(signal.SIGTERM)
            return 1
        self.start(slot)
        return 0


def supervise(settings: Settings) -> int:
    """Runs SERVER_PROCESSES children until they stop; the exit code for `nomic-serve`."""
    if settings.grpc_port == 0:
        raise ConfigError("SERVER_PROCESSES > 1 needs a fixed GRPC_PORT (0 picks one per process)")
    children = _Children()
    _hint_migrate_req()
    for signum in FORWARDED:
        signal.signal(signum, children.forward)
    for index in range(settings.server_processes):
        children.start(ProcessSlot(index, settings.server_processes, os.getpid()))
    code = children.reap()
    log.info("stopped", extra={"server_processes": settings.server_processes})
    return code


def _hint_migrate_req() -> None:
    """Says once when a crashed child would take its queued connections down with it."""
    try:
        with open(MIGRATE_REQ) as file:
            migrates = file.read().strip() != "0"
    except OSError:  # not Linux, or a kernel without it
        return
    if not migrates:
        log.info(
            "net.ipv4.tcp_migrate_req is 0: connections queued on a crashed process's socket "
            "are reset; set it to 1 to hand them to the other processes"
        )
