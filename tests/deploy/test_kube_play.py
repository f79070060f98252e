"""The Kubernetes Deployment (deploy/k8s/base) started with `podman kube play` on the image
built from this checkout: the init container renders the sidecar's config, both containers
come up as their non-root users, every probe's gRPC service answers SERVING, the original
REST call works through the sidecar, and the preStop hook drains the server."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import yaml

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.containers import ORIGINAL_EXAMPLES, Image, curl, health_status, podman
from ..support.processes import free_port
from ..support.reference import REPO_ROOT
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e

BASE = REPO_ROOT / "deploy" / "k8s" / "base"
POD = "nomic-serve-pod-0"  # podman's name for the Deployment's first pod


def _manifests() -> dict[str, dict[str, Any]]:
    return {
        name: yaml.safe_load((BASE / f"{name}.yaml").read_text())
        for name in ("configmap", "pvc", "deployment")
    }


@pytest.fixture(scope="module")
def pod(image: Image, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The manifests as shipped, adapted where podman 4.3 on our machines differs from a
    cluster: the host's network (free loopback ports instead of 50051/8080, no port mappings,
    which podman refuses there), and restartPolicy OnFailure (with Always, podman restarts the
    finished init container and then fails to remove it)."""
    subprocess.run(["bash", "deploy/podman/stand-ins.sh", "envoy"], cwd=REPO_ROOT, check=True)
    docs = _manifests()
    config = docs["configmap"]["data"]
    config.update(
        GRPC_PORT=str(free_port()),
        PORT=str(free_port()),
        ENVOY_ADMIN_PORT=str(free_port()),
        METRICS_PORT=str(free_port()),
        GRPC_HOST="127.0.0.1",
        REST_HOST="127.0.0.1",
        METRICS_HOST="127.0.0.1",
    )
    spec = docs["deployment"]["spec"]["template"]["spec"]
    spec["restartPolicy"] = "OnFailure"
    for container in spec["containers"]:
        container.pop("ports", None)
    path = tmp_path_factory.mktemp("kube") / "nomic-serve.yaml"
    path.write_text(yaml.safe_dump_all(docs.values()))
    claim = docs["pvc"]["metadata"]["name"]
    podman("kube", "down", str(path), check=False)
    podman("volume", "rm", "-f", claim, check=False)
    podman("kube", "play", "--network", "host", str(path), timeout=300)
    try:
        eventually_sync(lambda: _health(config["GRPC_PORT"], "text") == "SERVING", timeout=120)
        yield config
    finally:
        for name in ("server", "envoy"):
            logs = podman("logs", f"{POD}-{name}", check=False)
            print(f"--- {name}\n{logs.stdout[-1500:]}{logs.stderr[-1500:]}")
        podman("kube", "down", str(path), check=False, timeout=120)
        podman("volume", "rm", "-f", claim, check=False)


def test_both_containers_run_as_their_non_root_users_on_a_read_only_root(pod) -> None:
    users = {}
    for name in ("server", "envoy"):
        container = f"{POD}-{name}"
        state = podman("inspect", "--format", "{{.State.Status}}", container).stdout.strip()
        assert state == "running", name
        users[name] = podman("exec", container, "id", "-u").stdout.strip()
        refused = podman("exec", container, "touch", "/x", check=False)
        assert "Read-only file system" in refused.stderr, name
    containers = _manifests()["deployment"]["spec"]["template"]["spec"]["containers"]
    expected = {c["name"]: str(c["securityContext"]["runAsUser"]) for c in containers}
    assert users == expected == {"server": "10001", "envoy": "101"}


def test_every_probe_service_answers_serving(pod) -> None:
    """podman runs no gRPC probes: each probe's port and service, as the manifest names
    them, are checked with the standard health client."""
    (server,) = [
        c
        for c in _manifests()["deployment"]["spec"]["template"]["spec"]["containers"]
        if c["name"] == "server"
    ]
    probes = [server[kind]["grpc"] for kind in ("startupProbe", "readinessProbe", "livenessProbe")]
    assert {str(p["port"]) for p in probes} == {"50051"}  # the ConfigMap's, moved here
    for probe in probes:
        assert _health(pod["GRPC_PORT"], probe.get("service", "")) == "SERVING", probe


def test_the_original_rest_calls_work_through_the_sidecar(pod) -> None:
    for body, width in ORIGINAL_EXAMPLES:
        status, reply = curl(int(pod["PORT"]), "/embed", body)
        assert status == 200, reply
        assert len(json.loads(reply)["embedding"]) == width
    status, metrics = curl(int(pod["METRICS_PORT"]), "/metrics")
    embeds = 'nomic_serve_requests_total{code="OK",method="/nomic.serve.v1.EmbeddingService/Embed"}'
    assert status == 200 and embeds in metrics, metrics[-2000:]


def test_the_prestop_hook_drains_the_server_before_sigterm(pod) -> None:
    """The hook's own command, run in the server container (podman runs no hooks): health
    turns NOT_SERVING while requests are still served. Last in this module: it drains."""
    (server,) = [
        c
        for c in _manifests()["deployment"]["spec"]["template"]["spec"]["containers"]
        if c["name"] == "server"
    ]
    hook = server["lifecycle"]["preStop"]["exec"]["command"]
    podman("exec", "-d", f"{POD}-server", *hook)
    eventually_sync(lambda: _health(pod["GRPC_PORT"], "text") == "NOT_SERVING", timeout=10)
    with grpc.insecure_channel(f"127.0.0.1:{pod['GRPC_PORT']}") as channel:
        reply = rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input="x"), timeout=30)
    assert len(reply.embedding) == 384
    podman("stop", "--time", "30", f"{POD}-server")
    code = podman("inspect", "--format", "{{.State.ExitCode}}", f"{POD}-server").stdout.strip()
    assert code == "0"


def _health(port: str, service: str) -> str:
    return health_status(f"127.0.0.1:{port}", service)
