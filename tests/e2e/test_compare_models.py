"""`nomic-serve-compare` (`make test-models`) on generated variants of one model: fp32, int8
(dynamic quantization, as upstream's model_quantized.onnx, with a byte-identical
model_int8.onnx beside it as upstream has), fp16 all through (outputs included) and 4-bit
weights (MatMulNBits). Each must be served correctly, the table must show the expected
relationships, and no server may outlive the tool, however it ends."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from nomic_serve.models.compare import cosines, find_variants, top_k, top_k_overlap

from ..support.models import build_model_variants

pytestmark = pytest.mark.e2e

COMPARE = [sys.executable, "-m", "nomic_serve.models.compare"]


@pytest.fixture(scope="module")
def variants(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("variants")
    build_model_variants(folder)
    shutil.copyfile(folder / "model_quantized.onnx", folder / "model_int8.onnx")
    return folder


@pytest.fixture(scope="module")
def report(variants: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, str]:
    out = tmp_path_factory.mktemp("compare") / "figures.json"
    extra = out.with_name("texts.txt")
    extra.write_text("one more text to compare\n\nand a second one\n")
    options = ["--models-dir", str(variants), "--repeat", "2", "--json", str(out)]
    result = subprocess.run(
        [*COMPARE, *options, "--texts", str(extra)],
        capture_output=True,
        text=True,
        timeout=280,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return json.loads(out.read_text()), result.stdout


def rows(report: dict) -> dict[str, dict]:
    return {row["file"]: row for row in report["variants"]}


def test_every_variant_is_served_and_compared(report: tuple[dict, str]) -> None:
    figures, table = report
    by_file = rows(figures)
    assert list(by_file) == [
        "model.onnx",
        "model_fp16.onnx",
        "model_quantized.onnx",
        "model_int8.onnx",
        "model_q4.onnx",
    ]
    assert figures["texts"] == 14  # the 12 built-in texts and the file's 2 non-empty lines
    for name, row in by_file.items():
        assert "error" not in row, name
        assert row["dimension"] == 64 and row["norm_error_max"] < 1e-5, name  # unit vectors
        assert row["latency_ms"]["calls"] == 2 * 14 and row["throughput_texts_per_s"] > 0
        assert f"| {name}" in table
    baseline = by_file["model.onnx"]
    assert baseline["cosine"]["min"] == pytest.approx(1.0, abs=1e-12)
    assert baseline["abs_diff"]["max"] == 0.0 and baseline["top_k_overlap"] == 1.0


def test_the_expected_relationships(report: tuple[dict, str]) -> None:
    by_file = rows(report[0])
    fp16, int8, q4 = (
        by_file["model_fp16.onnx"],
        by_file["model_quantized.onnx"],
        by_file["model_q4.onnx"],
    )
    # fp16 is all but exact; int8 (activations quantized too) is further off; 4-bit weights
    # stay close on this small model. None is the baseline itself.
    assert fp16["cosine"]["min"] > 0.99999
    assert 0.999 < int8["cosine"]["mean"] < fp16["cosine"]["mean"]
    assert int8["abs_diff"]["max"] > fp16["abs_diff"]["max"] > 0
    assert 0.999 < q4["cosine"]["min"] < 1.0
    assert min(row["top_k_overlap"] for row in by_file.values()) >= 2 / 3
    # Dynamic int8 quantizes activations per batch: batching would change a text's vector
    # with its batch mates, so the server isolates it. fp16 and 4-bit weights batch exactly.
    assert int8["batching"] == "isolated"
    assert fp16["batching"] == q4["batching"] == by_file["model.onnx"]["batching"] == "batched"
    # The upstream int8 file is the quantized one: marked, measured once.
    copy = by_file["model_int8.onnx"]
    assert copy["same_as"] == "model_quantized.onnx"
    assert copy["cosine"] == int8["cosine"] and copy["size_bytes"] == int8["size_bytes"]
    assert by_file["model_fp16.onnx"]["size_bytes"] < by_file["model.onnx"]["size_bytes"]


def test_no_baseline_is_a_clear_error(variants: Path, tmp_path: Path) -> None:
    shutil.copyfile(variants / "model_fp16.onnx", tmp_path / "model_fp16.onnx")
    result = subprocess.run(
        [*COMPARE, "--models-dir", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 2
    assert "model.onnx not found" in result.stderr and "make models-all" in result.stderr
    assert "Traceback" not in result.stderr


def serving_pid(process: subprocess.Popen[str]) -> int:
    """The pid of the first server, from the tool's progress line."""
    assert process.stderr is not None
    for line in process.stderr:
        if ": serving, pid " in line:
            return int(line.split(": serving, pid ")[1].split()[0])
    raise AssertionError(f"no server started; exit {process.wait()}")


def gone(pid: int) -> bool:
    """True once `pid` is no process at all, or a zombie nobody reaped yet."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state == "Z"


def wait_gone(pid: int, timeout: float = 20) -> bool:
    """Polls (the server is not our child: nothing to wait on) until `pid` is gone."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.05)
    return gone(pid)


@pytest.mark.parametrize(
    ("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGKILL, -9)]
)
def test_the_servers_stop_with_the_tool(variants: Path, sig: int, code: int) -> None:
    """Ctrl-C and SIGTERM unwind and stop the server; SIGKILL leaves it to the kernel
    (the server asked for SIGTERM when its parent dies)."""
    process = subprocess.Popen(
        [*COMPARE, "--models-dir", str(variants), "--repeat", "50"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        pid = serving_pid(process)
        assert not gone(pid)
        os.kill(process.pid, sig)
        assert process.wait(timeout=30) == code
        assert wait_gone(pid), f"server {pid} outlived the tool"
    finally:
        process.kill()
        process.wait()
        assert process.stderr is not None
        process.stderr.close()


def test_the_measures() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0]])
    np.testing.assert_allclose(cosines(a, np.array([[2.0, 0.0], [1.0, 1.0]])), [1, 2**-0.5])
    queries, documents = np.array([[1.0, 0.1]]), np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    assert top_k(queries, documents, 2) == [[1, 2]]
    assert top_k_overlap([[1, 2]], [[2, 0]]) == 0.5
    assert top_k_overlap([[1, 2]], [[2, 1]]) == 1.0


def test_identical_files_are_marked(tmp_path: Path) -> None:
    for name, data in [("model.onnx", b"a"), ("model_x.onnx", b"b"), ("model_int8.onnx", b"b")]:
        (tmp_path / name).write_bytes(data)
    found = [(v.name, v.same_as) for v in find_variants(tmp_path)]
    assert found == [
        ("model.onnx", None),
        ("model_int8.onnx", None),
        ("model_x.onnx", "model_int8.onnx"),
    ]
