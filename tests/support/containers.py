"""Podman for the deployment tests, driven through the repository's own scripts.

`make image`'s script builds the image, deploy/podman/stand-ins.sh makes the base images no
registry can give us here, and every podman call gets the settings deploy/podman/engine.sh
picks, so the tests run podman exactly as those scripts do (the same settings file on hosts
with low limits).
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .reference import REPO_ROOT, unavailable

__all__ = [
    "ORIGINAL_EXAMPLES",
    "Image",
    "build_image",
    "container",
    "curl",
    "engine_env",
    "health_status",
    "podman",
    "require_podman",
]

_ENGINE = REPO_ROOT / "deploy" / "podman" / "engine.sh"


def require_podman() -> None:
    for tool in ("podman", "runc", "debootstrap"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (`make system-deps` installs it)")


@functools.cache
def engine_env() -> dict[str, str]:
    """This environment plus the podman settings file engine.sh picks on this host (asked
    once), for podman and for what calls it (podman-compose)."""
    done = subprocess.run(
        ["bash", "-c", f'source "{_ENGINE}" && echo "${{CONTAINERS_CONF:-}}"'],
        capture_output=True,
        text=True,
        check=True,
    )
    conf = done.stdout.strip()
    return {**os.environ, "CONTAINERS_CONF": conf} if conf else dict(os.environ)


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """`podman ARGS` with the settings engine.sh picks; fails with podman's output."""
    done = subprocess.run(
        ["podman", *args],
        env=engine_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)}: exit {done.returncode}\n{done.stderr}")
    return done


@dataclass(frozen=True)
class Image:
    name: str
    size_mb: float
    inspect: dict[str, Any]  # `podman image inspect`


@contextmanager
def container(
    name: str, image: str, *run_args: str, command: tuple[str, ...] = ()
) -> Iterator[str]:
    """`podman run -d` on the host network (tests talk over loopback); removed afterwards."""
    podman("rm", "-f", "-t", "0", name, check=False)
    podman("run", "-d", "--name", name, "--network", "host", *run_args, image, *command)
    try:
        yield name
    finally:
        podman("rm", "-f", "-t", "0", name, check=False)


def build_image(flavour: str = "cpu") -> Image:
    """`make image` (or `make image-rest`, flavour "cpu-rest"), after the stand-ins it needs;
    podman's layer cache keeps a rebuild of an unchanged checkout to seconds."""
    require_podman()
    steps = [["deploy/podman/stand-ins.sh", "base"]]
    if flavour.endswith("-rest"):
        steps += [["deploy/podman/stand-ins.sh", "envoy"], ["deploy/docker/build.sh", "cpu"]]
    steps.append(["deploy/docker/build.sh", flavour])
    for script in steps:
        done = subprocess.run(
            ["bash", *script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(script)} failed:\n{done.stdout}\n{done.stderr}")
    name = f"localhost/nomic-serve:{flavour}"
    (inspected,) = json.loads(podman("image", "inspect", name).stdout)
    return Image(name, inspected["Size"] / 1e6, inspected)


# The original README's curl bodies, byte for byte, and the width each answer has.
ORIGINAL_EXAMPLES = (
    ('{"input": "Hello world"}', 384),
    ('{"input": "Hello world", "dim": 128}', 128),
)


def curl(port: int, path: str, body: str | None = None, check: bool = True) -> tuple[int, str]:
    """The original README's curl command, as users type it."""
    args = ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", f"localhost:{port}{path}"]
    if body is not None:
        args[1:1] = ["-X", "POST", "-H", "content-type: application/json", "-d", body]
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)
    if done.returncode != 0:
        if check:
            raise AssertionError(done.stderr)
        return 0, done.stderr
    text, _, status = done.stdout.rpartition("\n")
    return int(status), text


def health_status(address: str, service: str, timeout: float = 2) -> str:
    """The standard gRPC health answer for `service` ("SERVING", ...), or the call's error
    code ("UNAVAILABLE", ...) when there is none."""
    with grpc.insecure_channel(address) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout
            )
        except grpc.RpcError as exc:
            return exc.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status)
