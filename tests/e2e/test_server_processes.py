"""SERVER_PROCESSES=2: two real server processes on one port under the supervisor."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from nomic_serve.core.policy import available_cores
from nomic_serve.processes import MIGRATE_REQ
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.models import TextModelDir
from ..support.processes import (
    ServerProcess,
    child_pids,
    free_port,
    listening_children,
    text_server,
)
from ..support.waiting import eventually_sync

pytestmark = pytest.mark.e2e


@pytest.fixture
def supervised(tmp_path: Path, tiny_model: TextModelDir) -> Iterator[ServerProcess]:
    process = text_server(
        tmp_path, tiny_model.model, {"SERVER_PROCESSES": "2", "IMG_MODEL": "none"}
    )
    eventually_sync(lambda: len(_listeners(process)) == 2, timeout=60)
    yield process
    if process.proc.poll() is None:
        process.stop()


def _children(process: ServerProcess) -> list[int]:
    return child_pids(process.proc.pid)


def _listeners(process: ServerProcess) -> set[int]:
    return listening_children(process.proc.pid, process.port)


def _request_lines(process: ServerProcess) -> list[dict]:
    lines = [json.loads(line) for line in process.log.splitlines() if line.startswith("{")]
    return [line for line in lines if line.get("method", "").endswith("/Embed")]


def _embed_on_many_connections(process: ServerProcess, connections: int) -> None:
    for i in range(connections):
        options = [("grpc.use_local_subchannel_pool", 1)]  # a connection of its own
        with grpc.insecure_channel(process.address, options=options) as channel:
            reply = rpc.EmbeddingServiceStub(channel).Embed(
                pb.EmbedRequest(input=f"text {i}"), timeout=30
            )
            assert len(reply.embedding) == 32


def test_two_processes_share_the_port_and_both_serve(supervised: ServerProcess) -> None:
    assert len(_listeners(supervised)) == 2
    _embed_on_many_connections(supervised, 24)
    served_by = {line["server_process"] for line in _request_lines(supervised)}
    # The kernel spreads connections by a hash of their ports: 24 on one process alone
    # would happen once in 8 million runs.
    assert served_by == {"0/2", "1/2"}
    cores = [json.loads(line) for line in supervised.log.splitlines() if '"cores"' in line]
    assert {len(line["cores"]) for line in cores} == {max(1, available_cores() // 2)}
    migrate_req = Path(MIGRATE_REQ)
    resets = migrate_req.exists() and migrate_req.read_text().strip() == "0"
    assert ("tcp_migrate_req is 0" in supervised.log) == resets


def test_a_crashed_process_is_replaced_while_the_other_serves(
    supervised: ServerProcess,
) -> None:
    victim, survivor = sorted(_listeners(supervised))
    os.kill(victim, signal.SIGKILL)
    # Until its socket is closed the kernel may still queue a connection there (and reset it,
    # unless net.ipv4.tcp_migrate_req=1). `ss` stops naming the victim as soon as its main
    # thread has closed its files, while its other threads can still hold the socket open:
    # only once the supervisor has reaped the whole process is the socket surely gone.
    eventually_sync(lambda: "server process exited: replacing it" in supervised.log, timeout=30)
    assert victim not in _listeners(supervised)
    _embed_on_many_connections(supervised, 4)  # answered meanwhile by the survivor
    eventually_sync(lambda: len(_listeners(supervised)) == 2, timeout=60)
    now = _listeners(supervised)
    assert survivor in now and victim not in now


def test_sigterm_stops_every_process_and_exits_zero(supervised: ServerProcess) -> None:
    children = _children(supervised)
    code, log = supervised.stop()
    assert code == 0
    assert all(not Path(f"/proc/{pid}").exists() for pid in children)
    stopped = [json.loads(line) for line in log.splitlines() if '"msg": "stopped"' in line]
    assert {line.get("server_process") for line in stopped} == {"0/2", "1/2", None}


def test_children_stop_when_the_supervisor_is_killed(supervised: ServerProcess) -> None:
    """SIGKILL (or the OOM killer) gives the supervisor no chance to forward anything: the
    kernel sends the children SIGTERM (PR_SET_PDEATHSIG) and they drain and stop."""
    children = _children(supervised)
    assert len(children) == 2
    supervised.kill()
    eventually_sync(lambda: not any(Path(f"/proc/{pid}").exists() for pid in children), 60)


def test_a_process_that_cannot_load_its_model_stops_the_server(
    tmp_path: Path, tiny_model: TextModelDir
) -> None:
    broken = tmp_path / "model.onnx"
    broken.write_bytes(b"not an onnx model")
    shutil.copy(tiny_model.tokenizer, tmp_path / "tokenizer.json")
    result = subprocess.run(
        [sys.executable, "-m", "nomic_serve"],
        cwd=tmp_path,
        env={
            **os.environ,
            "SERVER_PROCESSES": "2",
            "GRPC_PORT": str(free_port()),
            "TXT_MODEL": str(broken),
            "IMG_MODEL": "none",
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "not a readable ONNX model" in result.stderr
    assert "a server process could not start: stopping" in result.stderr


def test_a_port_chosen_per_process_is_refused(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nomic_serve"],
        cwd=tmp_path,
        env={**os.environ, "SERVER_PROCESSES": "2", "GRPC_PORT": "0"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "SERVER_PROCESSES > 1 needs a fixed GRPC_PORT" in result.stderr
