"""Real processes for end-to-end tests and benchmarks: the server, and Envoy in front of it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import grpc

from nomic_serve.config import Settings
from nomic_serve.gateway.envoy_config import render
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

BIN = Path(sys.executable).parent
GRPCURL = str(BIN / "grpcurl")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """A server started as users start it, from an empty folder (so: the embedded model)."""

    def __init__(self, command: list[str], cwd: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.env = env  # what the caller configured, beside the inherited environment
        # No SHUTDOWN_DELAY_S unless a test asks: it only makes a stop wait.
        defaults = {"SHUTDOWN_DELAY_S": "0"}
        env = {
            **os.environ,
            **defaults,
            **env,
            "GRPC_PORT": str(self.port),
            "GRPC_HOST": "127.0.0.1",
        }
        # A file, not a pipe: nobody reads a pipe while tests run, and a full one (64 KiB of
        # request logs) would block the server.
        self.log_path = cwd / f"server-{self.port}.log"
        self._log = self.log_path.open("w")
        self.proc = subprocess.Popen(
            command, cwd=cwd, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self._wait_ready()

    @property
    def log(self) -> str:
        return self.log_path.read_text()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
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

    def wait(self, timeout: float = 30) -> tuple[int, str]:
        self.proc.wait(timeout=timeout)
        self._log.close()
        return self.proc.returncode, self.log


class EnvoyProcess:
    """Envoy with the config `make run` renders, in front of a running server."""

    def __init__(self, server: ServerProcess, folder: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = Settings.from_env(
            {
                **env,
                "PORT": str(self.port),
                "GRPC_PORT": str(server.port),
                "REST_HOST": "127.0.0.1",
                "ENVOY_ADMIN_PORT": str(free_port()),
            }
        )
        self.config = folder / f"envoy-{self.port}.yaml"
        self.config.write_text(render(settings))
        self.proc = subprocess.Popen(
            [
                str(BIN / "envoy"),
                "-c",
                str(self.config),
                "--log-level",
                "error",
                "--use-dynamic-base-id",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._wait_ready()

    def _wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"envoy exited: {self.proc.stderr.read()}")
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1).read()
                return
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.05)
        raise AssertionError("envoy not ready in time")

    def request(
        self, method: str, path: str, body: bytes | None = None, headers: dict | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, lower-cased headers, body) of one HTTP request, errors included."""
        request = urllib.request.Request(
            f"{self.url}{path}", data=body, method=method, headers=headers or {}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
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
