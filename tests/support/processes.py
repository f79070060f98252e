"""Real processes for end-to-end tests and benchmarks: the server, and Envoy in front of it."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nomic_serve.config import Settings
from nomic_serve.gateway.envoy_config import GATEWAY_CLUSTER, render
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

BIN = Path(sys.executable).parent
GRPCURL = str(BIN / "grpcurl")


def child_pids(pid: int) -> list[int]:
    """The processes `pid` started and has not reaped (none once it is gone)."""
    try:
        listed = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(child) for child in listed.split()]


def listening_children(pid: int, port: int) -> set[int]:
    """Children of `pid` with a socket listening on `port` (a SERVER_PROCESSES child binds it
    once its models are loaded; the supervisor binds nothing). Read with iproute2's `ss`."""
    found = set()
    out = subprocess.run(["ss", "-Hltnp"], capture_output=True, text=True, check=True).stdout
    children = child_pids(pid)
    for line in out.splitlines():
        if f":{port} " in line:
            found |= {child for child in children if f"pid={child}," in line}
    return found


def text_server(folder: Path, model: Path, env: dict[str, str]) -> ServerProcess:
    """`python -m nomic_serve` in `folder` serving the text model `model` alone, with `env`."""
    settings = {"TXT_MODEL": str(model), "IMG_MODEL": "none", **env}
    return ServerProcess([sys.executable, "-m", "nomic_serve"], folder, settings)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A server started as users start it, from an empty folder (so: the embedded model)."""

    def __init__(
        self, command: list[str], cwd: Path, env: dict[str, str], port: int | None = None
    ) -> None:
        """Started and ready; `port` (default: a free one) restarts a replica where it was."""
        self.port = port or free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = env  # what the caller configured, beside the inherited environment
        # No SHUTDOWN_DELAY_S unless a test asks: it only makes a stop wait. No metrics port
        # either: servers run side by side, and 9000 may be taken.
        defaults = {"SHUTDOWN_DELAY_S": "0", "METRICS_PORT": "0"}
        env = {
            **os.environ,
            **defaults,
            **env,
            "GRPC_PORT": str(self.port),
            "GRPC_HOST": "127.0.0.1",
        }
        # A file, not a pipe: nobody reads a pipe while tests run, and a full one (64 KiB of
        # request logs) would block the server.
        # Appended to: a replica restarted on its port keeps the log of its earlier lives.
        self.log_path = cwd / f"server-{self.port}.log"
        self._log = self.log_path.open("a")
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        try:
            self._wait_ready()
        except AssertionError:
            self.proc.kill()
            self.wait()
            raise

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        if "HEALTH_PORT" in self.env:  # a TLS server: its plaintext health port says
            with grpc.insecure_channel(f"127.0.0.1:{self.env['HEALTH_PORT']}") as channel:
                check = health_pb2_grpc.HealthStub(channel).Check
                request = health_pb2.HealthCheckRequest(service="text")
                while time.monotonic() < deadline:
                    if self.proc.poll() is not None:
                        raise AssertionError(f"server exited: {self.log}")
                    try:
                        if (
                            check(request, timeout=1).status
                            == health_pb2.HealthCheckResponse.SERVING
                        ):
                            return
                    except grpc.RpcError:
                        time.sleep(0.1)
            raise AssertionError("server not ready in time")
        with grpc.insecure_channel(self.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise AssertionError(f"server exited: {self.log}")
                try:
                    if stub.Health(pb.HealthRequest(), timeout=1).text_model:
                        return
                except grpc.RpcError:
                    time.sleep(0.1)
        raise AssertionError("server not ready in time")

    def grpcurl(self, *args: str, data: dict | None = None) -> subprocess.CompletedProcess:
        command = [GRPCURL, "-plaintext"]
        if data is not None:
            command += ["-d", json.dumps(data)]
        return subprocess.run(
            [*command, self.address, *args], capture_output=True, text=True, timeout=30
        )

    def stop(self) -> tuple[int, str]:
        """SIGTERM (unless it already exited), then the exit code and the log."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait()

    def kill(self) -> None:
        """SIGKILL: the process dies mid-request, as a crashed or OOM-killed replica does."""
        self.proc.kill()
        self.wait()

    def wait(self, timeout: float = 30) -> tuple[int, str]:
        self.proc.wait(timeout=timeout)
        self._log.close()
        return self.proc.returncode, self.log


class _Envoy:
    """An Envoy process on a rendered config, and HTTP requests to its REST listener."""

    url: str
    config: Path
    proc: subprocess.Popen

    def _start(self, config: Path, ready: Callable[[], bool], timeout: float = 30) -> None:
        self.config = config
        self.proc = subprocess.Popen(
            [
                str(BIN / "envoy"),
                "-c",
                str(config),
                "--log-level",
                "error",
                "--use-dynamic-base-id",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"envoy exited: {self.proc.stderr.read()}")
            try:
                if ready():
                    return
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(0.05)
        raise AssertionError("envoy not ready in time")

    tls: ssl.SSLContext | None = None  # how to reach a TLS listener (None: plaintext)

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body) of one HTTP request, errors included."""
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=60, context=self.tls) as response:
                status, raw_headers, payload = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, raw_headers, payload = error.code, error.headers, error.read()
        return status, {k.lower(): v for k, v in raw_headers.items()}, payload

    def post_json(self, path: str, raw: str) -> tuple[int, object]:
        status, _, payload = self.request(
            "POST", path, raw.encode(), {"content-type": "application/json"}
        )
        return status, json.loads(payload)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.communicate(timeout=30)


class EnvoyProcess(_Envoy):
    """Envoy with the config `make run` renders, in front of a running server."""

    def __init__(
        self,
        server: ServerProcess,
        folder: Path,
        env: dict[str, str],
        tls: ssl.SSLContext | None = None,
    ) -> None:
        """`tls`: the client side of a TLS listener (env sets TLS_CERT...), for readiness and
        `request`."""
        self.port = free_port()
        self.tls = tls
        # A TLS listener is reached by the name in its certificate.
        self.url = f"https://localhost:{self.port}" if tls else f"http://127.0.0.1:{self.port}"
        settings = Settings.from_env(
            {
                **env,
                "PORT": str(self.port),
                "GRPC_PORT": str(server.port),
                "REST_HOST": "127.0.0.1",
                "ENVOY_ADMIN_PORT": str(free_port()),
            }
        )
        config = folder / f"envoy-{self.port}.yaml"
        config.write_text(render(settings))
        self._start(config, self._answers)

    def _answers(self) -> bool:
        urllib.request.urlopen(f"{self.url}/health", timeout=1, context=self.tls).read()
        return True


class GatewayProcess(_Envoy):
    """The gateway Envoy on the config `nomic-serve-envoy-config --gateway` prints (run for
    real), over `upstreams`: gRPC on `grpc_address`, REST on `url`, admin on `admin_url`."""

    CLUSTER = GATEWAY_CLUSTER

    def __init__(self, upstreams: list[str], folder: Path, env: dict[str, str] | None = None):
        self.grpc_address = f"127.0.0.1:{free_port()}"
        rest_port, admin_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{rest_port}"
        self.admin_url = f"http://127.0.0.1:{admin_port}"
        command = [str(BIN / "nomic-serve-envoy-config"), "--gateway"]
        for upstream in upstreams:
            command += ["--upstream", upstream]
        command += ["--listen-grpc", self.grpc_address, "--listen-rest", f"127.0.0.1:{rest_port}"]
        rendered = subprocess.run(
            command,
            env={**os.environ, **(env or {}), "ENVOY_ADMIN_PORT": str(admin_port)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert rendered.returncode == 0, rendered.stderr
        config = folder / f"gateway-{admin_port}.yaml"
        config.write_text(rendered.stdout)
        self._start(config, lambda: self.admin("/ready") == "LIVE\n")

    def admin(self, path: str) -> str:
        with urllib.request.urlopen(f"{self.admin_url}{path}", timeout=5) as response:
            return response.read().decode()

    def stats(self) -> dict[str, int]:
        """The replicas cluster's counters and gauges, named without `cluster.replicas.`."""
        prefix = f"cluster.{self.CLUSTER}."
        found = {}
        for line in self.admin(f"/stats?filter=^cluster\\.{self.CLUSTER}\\.").splitlines():
            name, _, value = line.partition(": ")
            if name.startswith(prefix) and value.strip().isdigit():
                found[name[len(prefix) :]] = int(value)
        return found

    def health(self) -> dict[str, str]:
        """HOST:PORT of each replica Envoy knows -> its health flags ("healthy" when in)."""
        flags = {}
        for line in self.admin("/clusters").splitlines():
            parts = line.split("::")
            if len(parts) == 4 and parts[0] == self.CLUSTER and parts[2] == "health_flags":
                flags[parts[1]] = parts[3]
        return flags

    def healthy(self, address: str) -> bool:
        return self.health().get(address) == "healthy"

    def health_count(self) -> int:
        return sum(flags == "healthy" for flags in self.health().values())
