"""Both Dockerfiles and the deploy scripts, linted with the real tools; the GPU Dockerfile,
which cannot be built here (no nvidia/cuda base image), kept the CPU one's twin."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ..support.reference import REPO_ROOT

DOCKER = REPO_ROOT / "deploy" / "docker"
BIN = Path(sys.executable).parent


def test_hadolint_passes_on_every_dockerfile() -> None:
    done = subprocess.run(
        [BIN / "hadolint", "--config", DOCKER / ".hadolint.yaml", "--failure-threshold", "info",
         DOCKER / "Dockerfile", DOCKER / "Dockerfile.gpu", DOCKER / "Dockerfile.rest"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def test_shellcheck_passes_on_the_deploy_scripts() -> None:
    scripts = sorted((REPO_ROOT / "deploy").glob("*/*.sh"))
    assert {p.name for p in scripts} >= {"build.sh", "install.sh", "engine.sh", "stand-ins.sh"}
    done = subprocess.run(
        [BIN / "shellcheck", "-x", *scripts], cwd=REPO_ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_gpu_dockerfile_differs_only_in_base_flavour_and_use_gpu() -> None:
    cpu, gpu = (_instructions(DOCKER / name) for name in ("Dockerfile", "Dockerfile.gpu"))
    assert "USE_GPU=1" in gpu and "USE_GPU" not in cpu
    assert cpu.count("install.sh cpu") == 1 and gpu.count("install.sh gpu") == 1
    assert re.findall(r"^FROM (\S+)", cpu, re.M) == ["docker.io/library/debian:bookworm-slim"] * 2
    assert (
        re.findall(r"^FROM (\S+)", gpu, re.M)
        == ["docker.io/nvidia/cuda:13.0.1-cudnn-runtime-ubuntu24.04"] * 2
    )

    def neutral(text: str) -> str:
        text = re.sub(r"^FROM \S+", "FROM BASE", text, flags=re.M)
        text = re.sub(r"install\.sh (cpu|gpu)", "install.sh FLAVOUR", text)
        return text.replace(" \\\n    USE_GPU=1", "")

    assert neutral(cpu) == neutral(gpu)


def _instructions(path: Path) -> str:
    """The file without its comments."""
    return "".join(line for line in path.read_text().splitlines(True) if not line.startswith("#"))
