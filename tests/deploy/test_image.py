"""The CPU image, built from this checkout and run as an operator runs it: read-only root
filesystem, non-root, models mounted at /models, stopped with SIGTERM."""

from __future__ import annotations

import json
import sys
import time

import grpc
import numpy as np
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.containers import (
    ORIGINAL_EXAMPLES,
    Image,
    build_image,
    container,
    curl,
    health_status,
    podman,
)
from ..support.figures import record
from ..support.processes import ServerProcess, free_port
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e

TEXT = "an embedding served from a container"
MAX_IMAGE_MB = 450  # the budget, without nomic weights


def test_image_size_and_metadata(image: Image) -> None:
    record(f"{image.name}: {image.size_mb:.0f} MB (budget {MAX_IMAGE_MB} MB)")
    assert image.size_mb <= MAX_IMAGE_MB
    config = image.inspect["Config"]
    assert config["User"] == "10001:10001"
    assert config["Entrypoint"] == ["tini", "--"] and config["Cmd"] == ["nomic-serve"]
    assert {"50051/tcp", "9000/tcp"} <= set(config["ExposedPorts"])
    env = dict(item.split("=", 1) for item in config["Env"])
    assert env["CACHE_DIR"] == "/var/cache/nomic-serve"
    assert env["CACHE_SEED_DIR"] == "/opt/nomic-serve/cache"
    assert image.inspect["Healthcheck"]["Test"][:2] == ["CMD", "nomic-serve-health"]


def test_serves_offline_read_only_and_non_root_then_stops_cleanly_on_sigterm(
    image: Image, tmp_path, embedded_cache
) -> None:
    port, metrics_port = free_port(), free_port()
    started = time.monotonic()
    with container(
        "nomic-serve-test-ro",
        image.name,
        "--read-only",
        "--env=GRPC_HOST=127.0.0.1",
        f"--env=GRPC_PORT={port}",
        "--env=METRICS_HOST=127.0.0.1",
        f"--env=METRICS_PORT={metrics_port}",
        "--env=SHUTDOWN_DELAY_S=1",
        # CACHE_DIR on a writable volume; everything else read-only.
        "--volume=nomic-serve-test-cache:/var/cache/nomic-serve",
    ) as name:
        address = f"127.0.0.1:{port}"
        eventually_sync(lambda: _serving(address, "text"), timeout=60)
        cold_start = time.monotonic() - started
        record(f"{image.name}: cold start to SERVING {cold_start:.2f} s (read-only root)")
        status, metrics = curl(metrics_port, "/metrics")
        assert status == 200 and 'nomic_serve_model_info{batching="batched"' in metrics

        top = podman("top", name, "user", "pid", "comm").stdout.split("\n")[1:]
        processes = {fields[1]: (fields[0], fields[2]) for line in top if (fields := line.split())}
        assert processes["1"] == ("nomic", "tini"), top
        assert {user for user, _ in processes.values()} == {"nomic"}, top
        refused = podman("exec", name, "touch", "/opt/nomic-serve/x", check=False)
        assert refused.returncode != 0 and "Read-only file system" in refused.stderr
        assert podman("exec", name, "id", "-u").stdout.strip() == "10001"
        assert podman("healthcheck", "run", name).returncode == 0  # the image's HEALTHCHECK

        with grpc.insecure_channel(address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            served = np.array(stub.Embed(pb.EmbedRequest(input=TEXT), timeout=30).embedding)
            info = stub.Info(pb.InfoRequest(), timeout=10)
        assert "MiniLM" in info.text.name and info.text.providers == ["CPUExecutionProvider"]
        np.testing.assert_allclose(served, _from_the_host(tmp_path, embedded_cache), atol=1e-5)

        podman("stop", "--time", "30", name)  # SIGTERM, through tini
        state = podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        log = podman("logs", name).stderr + podman("logs", name).stdout
    assert state == "0", log
    assert '"msg": "stopped"' in log and "Traceback" not in log


def test_the_server_sizes_its_threads_by_the_containers_cpu_limit(image: Image) -> None:
    """`--cpus 1` (a Kubernetes CPU limit of 1) on a machine with more cores: one core."""
    probe = "from nomic_serve.core.policy import available_cores; print(available_cores())"
    done = podman("run", "--rm", "--cpus", "1", "--entrypoint", "python3", image.name, "-c", probe)
    assert done.stdout.strip() == "1"


def test_models_mounted_at_models_replace_the_embedded_one(image: Image, tiny_model) -> None:
    """The original's TXT_MODEL/TOKENIZER defaults (models/txt/...) find files under /models."""
    port = free_port()
    with container(
        "nomic-serve-test-models",
        image.name,
        "--read-only",
        "--env=GRPC_HOST=127.0.0.1",
        f"--env=GRPC_PORT={port}",
        f"--env=METRICS_PORT={free_port()}",
        f"--volume={tiny_model.model}:/models/txt/model_quantized.onnx:ro",
        f"--volume={tiny_model.tokenizer}:/models/txt/tokenizer.json:ro",
    ):
        address = f"127.0.0.1:{port}"
        eventually_sync(lambda: _serving(address, "text"), timeout=60)
        with grpc.insecure_channel(address) as channel:
            reply = rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input=TEXT), timeout=30)
    assert len(reply.embedding) == 32  # the tiny model's width, not MiniLM's 384


def _serving(address: str, service: str) -> bool:
    return health_status(address, service, timeout=1) == "SERVING"


def _from_the_host(tmp_path, embedded_cache) -> np.ndarray:
    """The same text from the server run from this checkout."""
    server = ServerProcess(
        [sys.executable, "-m", "nomic_serve"], cwd=tmp_path, env={"CACHE_DIR": str(embedded_cache)}
    )
    try:
        with grpc.insecure_channel(server.address) as channel:
            reply = rpc.EmbeddingServiceStub(channel).Embed(pb.EmbedRequest(input=TEXT), timeout=30)
    finally:
        server.stop()
    return np.array(reply.embedding)


def test_the_rest_image_serves_the_original_api_on_8080_like_the_original(image: Image) -> None:
    """`make image-rest`: the server image plus Envoy, one container, REST and gRPC; read-only
    root, SIGTERM stops both and exits 0."""
    rest = build_image("cpu-rest")
    record(f"{rest.name}: {rest.size_mb:.0f} MB")
    assert rest.inspect["Config"]["Cmd"] == ["nomic-serve-stack"]
    port, grpc_port = free_port(), free_port()
    with container(
        "nomic-serve-test-rest",
        rest.name,
        "--read-only",
        "--env=GRPC_HOST=127.0.0.1",
        "--env=REST_HOST=127.0.0.1",
        f"--env=PORT={port}",
        f"--env=GRPC_PORT={grpc_port}",
        f"--env=ENVOY_ADMIN_PORT={free_port()}",
        f"--env=METRICS_PORT={free_port()}",
    ) as name:
        eventually_sync(lambda: curl(port, "/health", check=False)[0] == 200, timeout=60)
        for body, width in ORIGINAL_EXAMPLES:
            status, reply = curl(port, "/embed", body)
            assert status == 200, reply
            assert len(json.loads(reply)["embedding"]) == width
        assert _serving(f"127.0.0.1:{grpc_port}", "text")
        podman("stop", "--time", "30", name)
        state = podman("inspect", "--format", "{{.State.ExitCode}}", name).stdout.strip()
        log = podman("logs", name).stderr + podman("logs", name).stdout
    assert state == "0", log
