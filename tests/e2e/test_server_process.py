"""The real `nomic-serve` process: grpcurl through reflection, SIGTERM, fatal configuration."""

from __future__ import annotations

import base64
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from PIL import Image

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import BIN, ServerProcess, free_port
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def server(tmp_path_factory, embedded_cache, vision_model) -> Iterator[ServerProcess]:
    process = ServerProcess(
        [str(BIN / "nomic-serve")],
        cwd=tmp_path_factory.mktemp("run"),
        env={"CACHE_DIR": str(embedded_cache), "IMG_MODEL": str(vision_model.model)},
    )
    yield process
    process.stop()


def test_reflection_lists_and_describes_the_service(server: ServerProcess) -> None:
    listed = server.grpcurl("list")
    assert listed.returncode == 0, listed.stderr
    assert set(listed.stdout.split()) == {
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "nomic.serve.v1.EmbeddingService",
    }
    described = server.grpcurl("describe", "nomic.serve.v1.EmbeddingService")
    assert "rpc EmbedBatch ( stream .nomic.serve.v1.EmbedBatchRequest )" in described.stdout


def test_grpcurl_embeds_the_original_bodies(server: ServerProcess) -> None:
    single = server.grpcurl(
        "nomic.serve.v1.EmbeddingService/Embed", data={"input": "Hello world", "dim": 128}
    )
    assert single.returncode == 0, single.stderr
    reply = json.loads(single.stdout)
    assert len(reply["embedding"]) == 128 and reply["tokens"] == 4 and reply["time_ms"] > 0
    listed = server.grpcurl(
        "nomic.serve.v1.EmbeddingService/EmbedList",
        data={"inputs": ["Hello world", "Goodbye world"], "dim": 8},
    )
    reply = json.loads(listed.stdout)
    assert [len(e) for e in reply["embeddings"]] == [8, 8] and reply["tokens"] == [4, 4]


def test_grpcurl_health_check_per_model(server: ServerProcess) -> None:
    for service, status in (("", "SERVING"), ("text", "SERVING"), ("vision", "SERVING")):
        checked = server.grpcurl("grpc.health.v1.Health/Check", data={"service": service})
        assert json.loads(checked.stdout)["status"] == status


def test_grpcurl_shows_clear_errors(server: ServerProcess) -> None:
    failed = server.grpcurl(
        "nomic.serve.v1.EmbeddingService/Embed", data={"input": "x", "dim": 0, "prefix": "bogus"}
    )
    assert failed.returncode != 0
    assert "Code: InvalidArgument" in failed.stderr and "prefix must be one of" in failed.stderr


def test_sigterm_drains_in_flight_work_then_exits_0(tmp_path, embedded_cache) -> None:
    """SIGTERM once a stream's first answer has arrived, so the stream is surely in flight:
    health turns NOT_SERVING at once, a new call is still served during SHUTDOWN_DELAY_S and
    refused after it, the stream gets every answer, and the process exits 0."""
    process = ServerProcess(
        [sys.executable, "-m", "nomic_serve"],
        cwd=tmp_path,
        env={
            "CACHE_DIR": str(embedded_cache),
            "SHUTDOWN_GRACE_S": "30",
            "SHUTDOWN_DELAY_S": "3",
            "CACHE_MB": "0",
        },
    )
    count, answers, signalled = 400, [], threading.Event()

    def stream() -> None:
        with grpc.insecure_channel(process.address) as channel:
            requests = (
                pb.EmbedBatchRequest(input=f"sentence {i} about cats") for i in range(count)
            )
            for reply in rpc.EmbeddingServiceStub(channel).EmbedBatch(requests, timeout=60):
                answers.append(reply)
                if not signalled.is_set():
                    process.proc.send_signal(signal.SIGTERM)
                    signalled.set()

    worker = threading.Thread(target=stream)
    worker.start()
    try:
        assert signalled.wait(30)
        _wait_until_not_serving(process.address)  # the signal is handled, not just sent
        with grpc.insecure_channel(process.address) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            served = stub.Embed(pb.EmbedRequest(input="during the delay"), timeout=5)
            assert len(served.embedding) > 0  # a balancer that has not noticed loses nothing
            codes: list[grpc.StatusCode | None] = [None]
            eventually_sync(lambda: codes.append(_refused(stub)) or codes[-1], timeout=20)
            refused = codes[-1]
        # gRPC core refuses it before any handler runs: CANCELLED while the server is
        # stopping, UNAVAILABLE once its listener is closed.
        assert refused in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)
        worker.join(timeout=60)
        code, log = process.wait()  # no second signal: wait for the exit the first one causes
    finally:
        if process.proc.poll() is None:
            process.stop()
    assert code == 0, log
    assert [a.index for a in answers] == list(range(count))
    assert not any(a.HasField("error") for a in answers)
    events = [json.loads(line)["msg"] for line in log.splitlines() if line.startswith("{")]
    assert events.index("shutting down") < events.index("stopped")


def test_sigusr1_drains_without_stopping_and_sigterm_then_skips_the_spent_delay(
    tmp_path, embedded_cache
) -> None:
    """The preStop hook's SIGUSR1: every health entry NOT_SERVING, RPCs still served. The
    SIGTERM that follows finds the delay already spent (counted from the drain) and exits 0
    without waiting it again."""
    process = ServerProcess(
        [sys.executable, "-m", "nomic_serve"],
        cwd=tmp_path,
        env={"CACHE_DIR": str(embedded_cache), "SHUTDOWN_DELAY_S": "2"},
    )
    try:
        process.proc.send_signal(signal.SIGUSR1)
        _wait_until_not_serving(process.address)
        with grpc.insecure_channel(process.address) as channel:
            health = health_pb2_grpc.HealthStub(channel)
            for name in ("", "text", "nomic.serve.v1.EmbeddingService"):
                reply = health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
                assert reply.status == health_pb2.HealthCheckResponse.NOT_SERVING, name
            stub = rpc.EmbeddingServiceStub(channel)
            # Still served well past the delay: only SIGTERM stops a drained server.
            deadline = time.monotonic() + 3
            while time.monotonic() < deadline:
                assert stub.Embed(pb.EmbedRequest(input="drained"), timeout=5).embedding
            assert stub.Health(pb.HealthRequest(), timeout=5).status == "SHUTTING_DOWN"
        signalled = time.monotonic()
        code, log = process.stop()
        assert time.monotonic() - signalled < 2, "the spent delay was waited again"
    finally:
        if process.proc.poll() is None:
            process.proc.kill()
    assert code == 0, log
    events = [json.loads(line)["msg"] for line in log.splitlines() if line.startswith("{")]
    assert events.index("draining: health is NOT_SERVING, requests are still served") < (
        events.index("shutting down")
    )
    assert "serving while the load balancers notice" not in events


def _refused(stub: rpc.EmbeddingServiceStub) -> grpc.StatusCode | None:
    """The code a new call gets, None while it is still served."""
    try:
        stub.Embed(pb.EmbedRequest(input="late"), timeout=5)
    except grpc.RpcError as exc:
        return exc.code()
    return None


def _wait_until_not_serving(address: str, timeout: float = 10) -> None:
    """Polls the standard health check until the server stops answering SERVING."""
    deadline = time.monotonic() + timeout
    with grpc.insecure_channel(address) as channel:
        stub = health_pb2_grpc.HealthStub(channel)
        while time.monotonic() < deadline:
            try:
                reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1)
            except grpc.RpcError:
                return
            if reply.status != health_pb2.HealthCheckResponse.SERVING:
                return
            time.sleep(0.01)
    raise AssertionError("the server kept serving after SIGTERM")


def _png_data_url() -> str:
    buffer = io.BytesIO()
    Image.new("RGBA", (40, 30), (250, 120, 10, 255)).save(buffer, "PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_grpcurl_images_with_the_original_bodies(server: ServerProcess) -> None:
    image = _png_data_url()
    for body in ({"content": image, "dim": 16}, {"input": image, "dim": 16}):
        embedded = server.grpcurl("nomic.serve.v1.EmbeddingService/ImageEmbed", data=body)
        assert embedded.returncode == 0, embedded.stderr
        assert len(json.loads(embedded.stdout)["embedding"]) == 16
    listed = server.grpcurl(
        "nomic.serve.v1.EmbeddingService/ImageEmbedList", data={"contents": [image, image]}
    )
    assert [len(e) for e in json.loads(listed.stdout)["embeddings"]] == [32, 32]
    stats = server.grpcurl(
        "nomic.serve.v1.EmbeddingService/ImageStats",
        data={"content": image, "averaging_method": "geometric"},
    )
    reply = json.loads(stats.stdout)
    average = reply["color_data"]["avg_color"]
    assert average["hex"] == "#fa780a" and average["method"] == "geometric"
    assert reply["exif_data"] == {}


# OS thread names (prefixes) of the pools whose work mostly releases the GIL, and of ONNX
# Runtime's own threads, which inherit the name of the thread that built their session.
LOWERED = ("decode", "vision", "inference", "ort-")


def test_worker_threads_run_below_the_event_loop(server: ServerProcess) -> None:
    """Image decoding and inference (ONNX Runtime's threads included) at WORKER_NICE (10)
    below the event loop, which keeps the priority the process was started with."""
    with grpc.insecure_channel(server.address) as channel:
        stub = rpc.EmbeddingServiceStub(channel)
        stub.Embed(pb.EmbedRequest(input="wake the inference threads"), timeout=30)
        stub.ImageEmbed(pb.ImageEmbedRequest(content=_png_data_url()), timeout=30)
    pid = server.proc.pid
    threads = []  # (OS name, nice)
    for task in Path(f"/proc/{pid}/task").iterdir():
        stat = (task / "stat").read_text().rsplit(")", 1)[1].split()
        threads.append(((task / "comm").read_text().strip(), int(stat[16])))
    loop = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[16])
    assert loop == os.getpriority(os.PRIO_PROCESS, 0)  # as this process started it
    lowered = [(name, nice) for name, nice in threads if name.startswith(LOWERED)]
    assert {name.rstrip("_0123456789") for name, _ in lowered} >= {"decode", "vision", "inference"}
    assert {nice for _, nice in lowered} == {min(loop + 10, 19)}, lowered


def test_grpcurl_refuses_private_urls(server: ServerProcess) -> None:
    refused = server.grpcurl(
        "nomic.serve.v1.EmbeddingService/ImageEmbed",
        data={"content": "http://169.254.169.254/latest/meta-data/"},
    )
    assert "Code: PermissionDenied" in refused.stderr


def _start_failing(tmp_path: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(BIN / "nomic-serve")],
        cwd=tmp_path,
        env={**os.environ, **env, "GRPC_PORT": str(free_port())},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_missing_txt_model_exits_1_with_one_line(tmp_path: Path) -> None:
    result = _start_failing(tmp_path, {"TXT_MODEL": str(tmp_path / "missing.onnx")})
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"nomic-serve: TXT_MODEL {tmp_path / 'missing.onnx'}: no such file"
    ]


def test_corrupt_txt_model_exits_1_with_one_line_naming_it(tmp_path: Path, tiny_model) -> None:
    corrupt = tmp_path / "model.onnx"
    corrupt.write_bytes(b"\x00garbage" * 100)
    (tmp_path / "tokenizer.json").write_bytes(tiny_model.tokenizer.read_bytes())
    result = _start_failing(tmp_path, {"TXT_MODEL": str(corrupt)})
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"nomic-serve: {corrupt}: ")


def test_missing_img_model_exits_1_with_one_line(tmp_path: Path, embedded_cache) -> None:
    result = _start_failing(
        tmp_path, {"IMG_MODEL": str(tmp_path / "img.onnx"), "CACHE_DIR": str(embedded_cache)}
    )
    assert result.returncode == 1
    assert result.stderr.strip() == f"nomic-serve: IMG_MODEL {tmp_path / 'img.onnx'}: no such file"


def test_bad_setting_exits_1_naming_the_variable(tmp_path: Path) -> None:
    result = _start_failing(tmp_path, {"USE_GPU": "perhaps"})
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "nomic-serve: USE_GPU='perhaps' is invalid: expected 1/true or 0/false"
    )
