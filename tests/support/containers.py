"""Podman for the deployment tests, driven through the repository's own scripts.

`make image`'s script builds the image, deploy/podman/stand-ins.sh makes the base images no
registry can give us here, and every podman call goes through deploy/podman/engine.sh, so the
tests run podman exactly as those scripts do (same settings file on hosts with low limits).
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .reference import REPO_ROOT, unavailable

__all__ = ["IMAGE", "Image", "build_image", "container", "podman", "require_podman"]

IMAGE = "localhost/nomic-serve:cpu"
_ENGINE = REPO_ROOT / "deploy" / "podman" / "engine.sh"


def require_podman() -> None:
    for tool in ("podman", "runc", "debootstrap"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (`make system-deps` installs it)")


def podman(*args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
    """`podman ARGS` with the settings engine.sh picks; fails with podman's output."""
    done = subprocess.run(
        ["bash", "-c", f'source "{_ENGINE}" && exec podman "$@"', "podman", *args],
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


def build_image() -> Image:
    """The base stand-in when needed, then `make image` (podman's layer cache keeps a rebuild
    of an unchanged checkout to seconds)."""
    require_podman()
    for script in (["deploy/podman/stand-ins.sh", "base"], ["deploy/docker/build.sh", "cpu"]):
        done = subprocess.run(
            ["bash", *script], cwd=REPO_ROOT, capture_output=True, text=True, timeout=1200
        )
        if done.returncode != 0:
            raise AssertionError(f"{' '.join(script)} failed:\n{done.stdout}\n{done.stderr}")
    (inspected,) = json.loads(podman("image", "inspect", IMAGE).stdout)
    return Image(IMAGE, inspected["Size"] / 1e6, inspected)
