"""Compares the text model variants of one folder (`make test-models`, `nomic-serve-compare`).

Each variant present (`model.onnx`, the fp32 baseline, then `model_fp16.onnx`,
`model_quantized.onnx`, `model_int8.onnx`, `model_q4.onnx`, `model_q4f16.onnx`, ... and any
other `*.onnx`) is served by a real `python -m nomic_serve` process on a free port, with the
folder's tokenizer.json and config.json, and asked the same things through the generated
stubs: embeddings of a fixed text set (plus `--texts FILE`), compared with the baseline's;
the top-k documents of a small query/document set, compared with the baseline's ranking;
sequential `Embed` latency, `EmbedList` throughput, and what `Info` says about batching.

Servers run one after another, never side by side: on a small machine two servers would
share the cores and each one's latency would depend on what the other was doing. Every
server is stopped in a `finally` (Ctrl-C exits 130, SIGTERM 143) and, on Linux, is also told
by the kernel to stop should this tool die without cleaning up (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import Any

import grpc
import numpy as np
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .download import file_sha256

__all__ = [
    "cosines",
    "find_variants",
    "l2_distances",
    "main",
    "top_k",
    "top_k_overlap",
]

BASELINE = "model.onnx"
# Known variants in the order they are shown; any other *.onnx follows, by name.
KNOWN_ORDER = (
    BASELINE,
    "model_fp16.onnx",
    "model_quantized.onnx",
    "model_int8.onnx",
    "model_uint8.onnx",
    "model_q4.onnx",
    "model_q4f16.onnx",
    "model_bnb4.onnx",
)
DEFAULT_JSON = "comparison.json"  # in the models folder

TEXTS = (
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "Embeddings map text to vectors so that similar meanings lie close together.",
    "What is the capital of France?",
    "Paris is the capital and largest city of France, on the Seine.",
    "ONNX Runtime runs machine learning models on CPUs and GPUs.",
    "Quantization stores weights in fewer bits: int8 uses one byte per weight, int4 half "
    "of one, at the price of some precision in every matrix product.",
    "A cat sat on the mat and watched the birds in the tree outside the window.",
    "Stock markets fell sharply on Monday after the central bank raised interest rates.",
    "Photosynthesis converts light, water and carbon dioxide into glucose and oxygen.",
    "def add(a, b):\n    return a + b",
    "The 2024 Summer Olympics were held in Paris from 26 July to 11 August, with 32 sports "
    "and 329 events; the opening ceremony took place on the Seine rather than in a stadium, "
    "a first in the history of the modern Games.",
)
# Each query has its relevant documents among DOCUMENTS, next to near misses on other topics.
QUERIES = (
    "how do plants make food from sunlight",
    "best way to cook pasta",
    "symptoms of the flu",
    "how does a rocket reach orbit",
    "what is a neural network",
    "history of the roman empire",
)
DOCUMENTS = (
    "Photosynthesis lets plants turn sunlight, water and carbon dioxide into sugar.",
    "Chlorophyll in the leaves absorbs red and blue light and reflects green.",
    "Plants need nitrogen, phosphorus and potassium from the soil to grow.",
    "Boil pasta in plenty of salted water and drain it a minute before it is soft.",
    "A good tomato sauce needs olive oil, garlic, ripe tomatoes and time.",
    "Risotto is made by stirring rice while adding hot stock a ladle at a time.",
    "Influenza causes fever, cough, sore throat, muscle aches and tiredness.",
    "A common cold brings a runny nose and sneezing but rarely a high fever.",
    "Vaccines train the immune system to recognise a virus before an infection.",
    "A rocket reaches orbit by accelerating sideways to about 7.8 kilometres per second.",
    "Multi-stage rockets drop empty tanks so the remaining stages carry less mass.",
    "Satellites in geostationary orbit circle the Earth once a day above the equator.",
    "A neural network is layers of weighted sums followed by non-linear functions.",
    "Backpropagation computes the gradient of the loss with respect to every weight.",
    "Transformers use attention to let every token look at every other token.",
    "The Roman Empire grew from a city state to rule the whole Mediterranean.",
    "Augustus became the first Roman emperor in 27 BC after the civil wars.",
    "The Western Roman Empire fell in 476 when Odoacer deposed Romulus Augustulus.",
)


# --- metrics: rows of one matrix against the same rows of another -------------------------


def cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of each row of `a` with the same row of `b`."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.asarray((a * b).sum(axis=1) / np.maximum(norms, 1e-12))


def l2_distances(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Euclidean distance of each row of `a` from the same row of `b`."""
    diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
    return np.asarray(np.linalg.norm(diff, axis=1))


def top_k(queries: np.ndarray, documents: np.ndarray, k: int) -> list[list[int]]:
    """For each query row, the indices of the `k` documents of highest cosine, best first
    (ties by index, so the ranking is deterministic)."""
    q = np.asarray(queries, dtype=np.float64)
    d = np.asarray(documents, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=1, keepdims=True), 1e-12)
    d = d / np.maximum(np.linalg.norm(d, axis=1, keepdims=True), 1e-12)
    scores = q @ d.T
    return [[int(i) for i in np.lexsort((np.arange(len(row)), -row))[:k]] for row in scores]


def top_k_overlap(reference: Sequence[Sequence[int]], other: Sequence[Sequence[int]]) -> float:
    """Mean share of each reference top-k list found in the other's (1.0: the same documents,
    in any order; 0.0: none in common)."""
    if not reference:
        return 1.0
    shares = [
        len(set(ref) & set(got)) / len(ref) if ref else 1.0
        for ref, got in zip(reference, other, strict=True)
    ]
    return float(np.mean(shares))


def _percentile(values: Sequence[float], q: float) -> float:
    return float(np.percentile(np.asarray(values, dtype=np.float64), q)) if values else 0.0


# --- variants ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One ONNX file of the folder; `same_as` names an earlier file with the same bytes."""

    path: Path
    size: int
    same_as: str | None = None

    @property
    def name(self) -> str:
        return self.path.name


def find_variants(folder: Path) -> list[Variant]:
    """The folder's *.onnx files, baseline first; byte-identical files (upstream
    model_int8.onnx is model_quantized.onnx) are marked rather than served twice."""
    files = sorted(folder.glob("*.onnx"))
    rank = {name: index for index, name in enumerate(KNOWN_ORDER)}
    files.sort(key=lambda p: (rank.get(p.name, len(rank)), p.name))
    seen: dict[tuple[int, str], str] = {}
    variants = []
    for path in files:
        size = path.stat().st_size
        key = (size, file_sha256(path))
        variants.append(Variant(path, size, seen.get(key)))
        seen.setdefault(key, path.name)
    return variants


# --- one server --------------------------------------------------------------------------

# Runs in the child before it becomes `python -m nomic_serve`: the kernel sends it SIGTERM
# when this tool dies, however it dies (PR_SET_PDEATHSIG survives exec).
_LAUNCHER = """\
import ctypes, os, signal, sys
if sys.platform == "linux":
    ctypes.CDLL(None).prctl(1, signal.SIGTERM)
    if os.getppid() != int(sys.argv[1]):
        sys.exit(1)
os.execv(sys.executable, [sys.executable, "-m", "nomic_serve"])
"""


class ServerFailed(Exception):
    """A variant's server did not start or answer; the message ends with its log."""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Server:
    """`python -m nomic_serve` serving one variant alone, on a free port of 127.0.0.1."""

    def __init__(self, model: Path, tokenizer: Path | None, log_dir: Path) -> None:
        self.model = model
        self.env = {
            **os.environ,
            "TXT_MODEL": str(model),
            "IMG_MODEL": "none",
            "GRPC_HOST": "127.0.0.1",
            "METRICS_PORT": "0",
            "CACHE_MB": "0",  # every repeated call is computed, never answered from the cache
            "SHUTDOWN_DELAY_S": "0",
        }
        if tokenizer is not None:
            self.env["TOKENIZER"] = str(tokenizer)
        self.log_path = log_dir / f"{model.stem}.log"
        self.proc: subprocess.Popen[bytes] | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, timeout: float) -> float:
        """Starts it and waits for the standard health check of `text`; the seconds taken.
        A port taken in the meantime is retried once on another."""
        for attempt in range(2):
            self.port = _free_port()
            began = time.monotonic()
            with self.log_path.open("wb") as log:
                self.proc = subprocess.Popen(
                    [sys.executable, "-c", _LAUNCHER, str(os.getpid())],
                    env={**self.env, "GRPC_PORT": str(self.port)},
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # a terminal's Ctrl-C reaches this tool only
                )
            try:
                self._wait_serving(timeout)
            except ServerFailed:
                self.stop()
                if attempt == 0 and "Failed to bind" in self.log():
                    continue
                raise
            return time.monotonic() - began
        raise AssertionError("unreachable")

    def _wait_serving(self, timeout: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        request = health_pb2.HealthCheckRequest(service="text")
        with grpc.insecure_channel(self.address) as channel:
            check = health_pb2_grpc.HealthStub(channel).Check
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    raise ServerFailed(f"exited with {self.proc.returncode}:\n{self.log(20)}")
                try:
                    if check(request, timeout=1).status == health_pb2.HealthCheckResponse.SERVING:
                        return
                except grpc.RpcError:
                    pass
                time.sleep(0.1)
        raise ServerFailed(f"not serving after {timeout:.0f} s:\n{self.log(20)}")

    def log(self, lines: int | None = None) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:]) if lines else text

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after 15 s (or at a second Ctrl-C); always reaped."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        try:
            if proc.poll() is None:
                proc.terminate()
            proc.wait(timeout=15)
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            proc.kill()
            proc.wait()


# --- what is measured --------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    texts: list[str]
    queries: list[str]
    documents: list[str]
    repeat: int
    batch_size: int
    top_k: int


@dataclass
class Measured:
    """What one server answered."""

    texts: np.ndarray
    queries: np.ndarray
    documents: np.ndarray
    latencies_ms: list[float]
    throughput: float
    info: dict[str, Any] = field(default_factory=dict)


_CHANNEL_OPTIONS = [("grpc.max_receive_message_length", 256 * 1024 * 1024)]
_CALL_TIMEOUT = 300.0


def _embed_list(stub: rpc.EmbeddingServiceStub, texts: list[str], prefix: str) -> np.ndarray:
    rows: list[list[float]] = []
    for start in range(0, len(texts), 64):
        reply = stub.EmbedList(
            pb.EmbedListRequest(inputs=texts[start : start + 64], prefix=prefix),
            timeout=_CALL_TIMEOUT,
        )
        rows.extend([value.number_value for value in row.values] for row in reply.embeddings)
    return np.asarray(rows, dtype=np.float64)


def measure(address: str, work: Workload) -> Measured:
    """Info, the embeddings (texts as documents, queries and documents with their task
    prefixes), then `repeat` rounds of sequential Embed calls and of one EmbedList."""
    with grpc.insecure_channel(address, options=_CHANNEL_OPTIONS) as channel:
        stub = rpc.EmbeddingServiceStub(channel)
        text = stub.Info(pb.InfoRequest(), timeout=_CALL_TIMEOUT).text
        info = {
            "name": text.name,
            "dimension": text.dimension,
            "max_tokens": text.max_tokens,
            "providers": list(text.providers),
            "batching": text.batching,
            "batching_reason": text.batching_reason,
        }
        texts = _embed_list(stub, work.texts, "search_document")
        queries = _embed_list(stub, work.queries, "search_query")
        documents = _embed_list(stub, work.documents, "search_document")
        latencies = []
        for _ in range(work.repeat):
            for item in work.texts:
                began = time.perf_counter()
                stub.Embed(pb.EmbedRequest(input=item, prefix="search_document"), timeout=60)
                latencies.append((time.perf_counter() - began) * 1000)
        batch = (work.texts * (work.batch_size // len(work.texts) + 1))[: work.batch_size]
        began = time.perf_counter()
        for _ in range(work.repeat):
            stub.EmbedList(
                pb.EmbedListRequest(inputs=batch, prefix="search_document"),
                timeout=_CALL_TIMEOUT,
            )
        throughput = work.repeat * len(batch) / (time.perf_counter() - began)
    return Measured(texts, queries, documents, latencies, throughput, info)


def compare(base: Measured, other: Measured, k: int) -> dict[str, Any]:
    """The figures of `other` against the baseline's."""
    cos = cosines(base.texts, other.texts)
    l2 = l2_distances(base.texts, other.texts)
    diff = np.abs(base.texts - other.texts)
    norms = np.linalg.norm(np.concatenate([other.texts, other.queries, other.documents]), axis=1)
    base_top = top_k(base.queries, base.documents, k)
    other_top = top_k(other.queries, other.documents, k)
    p50 = _percentile(other.latencies_ms, 50)
    base_p50 = _percentile(base.latencies_ms, 50)
    return {
        "cosine": {"min": float(cos.min()), "mean": float(cos.mean())},
        "l2": {"mean": float(l2.mean()), "max": float(l2.max())},
        "abs_diff": {"max": float(diff.max()), "mean": float(diff.mean())},
        "norm_error_max": float(np.abs(norms - 1).max()),
        "top_k_overlap": top_k_overlap(base_top, other_top),
        "top1_agreement": float(
            np.mean([a[0] == b[0] for a, b in zip(base_top, other_top, strict=True)])
        ),
        "latency_ms": {
            "p50": p50,
            "p90": _percentile(other.latencies_ms, 90),
            "calls": len(other.latencies_ms),
        },
        "throughput_texts_per_s": other.throughput,
        "speedup": {
            "latency": base_p50 / p50 if p50 else 0.0,
            "throughput": other.throughput / base.throughput if base.throughput else 0.0,
        },
    }


# --- output ------------------------------------------------------------------------------

_COLUMNS = (
    "variant",
    "size MB",
    "batching",
    "cos min",
    "cos mean",
    "L2 mean",
    "max abs",
    "mean abs",
    "top-k",
    "p50 ms",
    "texts/s",
)


def render_table(rows: list[dict[str, Any]], k: int) -> str:
    """The markdown table, one row per variant, and what its columns mean."""
    lines = ["| " + " | ".join(_COLUMNS) + " |", "|" + "---|" * len(_COLUMNS)]
    for row in rows:
        size = f"{row['size_bytes'] / 1e6:.1f}"
        if row.get("error"):
            cells = [row["file"], size, "failed", *["-"] * (len(_COLUMNS) - 3)]
        else:
            speed = row["speedup"]
            cells = [
                row["file"] + (f" (= {row['same_as']})" if row.get("same_as") else ""),
                size,
                row["batching"],
                f"{row['cosine']['min']:.5f}",
                f"{row['cosine']['mean']:.5f}",
                f"{row['l2']['mean']:.4f}",
                f"{row['abs_diff']['max']:.4f}",
                f"{row['abs_diff']['mean']:.5f}",
                f"{row['top_k_overlap']:.2f}",
                f"{row['latency_ms']['p50']:.2f} ({speed['latency']:.2f}x)",
                f"{row['throughput_texts_per_s']:.1f} ({speed['throughput']:.2f}x)",
            ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(
        f"Against {BASELINE}. top-k: share of each query's top {k} documents that the "
        "baseline ranks there too. p50: median Embed round trip, sequential; texts/s: "
        "EmbedList; (Nx): speed relative to the baseline, above 1 is faster."
    )
    for row in rows:
        if row.get("error"):
            lines.append(f"{row['file']}: {row['error'].splitlines()[0]}")
    return "\n".join(lines)


# --- the command -------------------------------------------------------------------------


class _Terminated(KeyboardInterrupt):
    """SIGTERM arrived: unwind through every `finally` as Ctrl-C does, then exit 143."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


@contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    previous = signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _read_texts(path: Path) -> list[str]:
    """The non-empty lines of `path`; OSError or UnicodeDecodeError when it can't be read."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _serve_and_measure(
    variant: Variant, tokenizer: Path | None, work: Workload, log_dir: Path, timeout: float
) -> tuple[Measured, float]:
    server = Server(variant.path, tokenizer, log_dir)
    try:
        _progress(f"{variant.name}: starting")
        startup = server.start(timeout)
        assert server.proc is not None
        _progress(f"{variant.name}: serving, pid {server.proc.pid} on {server.address}")
        try:
            measured = measure(server.address, work)
        except grpc.RpcError as exc:
            raise ServerFailed(f"{exc.code().name}: {exc.details()}\n{server.log(20)}") from None
        return measured, startup
    finally:
        server.stop()


def run(args: argparse.Namespace) -> int:
    folder: Path = args.models_dir
    variants = find_variants(folder) if folder.is_dir() else []
    if not any(v.name == BASELINE for v in variants):
        _progress(
            f"no baseline: {folder / BASELINE} not found. `make models-all` (or "
            "`nomic-serve-download --set all`) downloads it with the other variants; "
            "--models-dir points elsewhere."
        )
        return 2
    tokenizer = folder / "tokenizer.json" if (folder / "tokenizer.json").is_file() else None
    try:
        extra = _read_texts(args.texts) if args.texts else []
    except (OSError, UnicodeDecodeError) as exc:
        _progress(f"cannot read --texts {args.texts}: {exc}")
        return 2
    texts = list(TEXTS) + extra
    work = Workload(texts, list(QUERIES), list(DOCUMENTS), args.repeat, args.batch_size, args.top_k)
    json_path: Path = args.json or folder / DEFAULT_JSON
    rows: list[dict[str, Any]] = []
    measured: dict[str, tuple[Measured, float]] = {}
    failed = False
    with tempfile.TemporaryDirectory(prefix="nomic-serve-compare-") as logs:
        for variant in variants:
            row: dict[str, Any] = {
                "file": variant.name,
                "size_bytes": variant.size,
                "same_as": variant.same_as,
            }
            try:
                if variant.same_as is None:
                    measured[variant.name] = _serve_and_measure(
                        variant, tokenizer, work, Path(logs), args.start_timeout
                    )
                result, startup = measured[variant.same_as or variant.name]
            except ServerFailed as exc:
                if variant.name == BASELINE:
                    _progress(f"{BASELINE} (the baseline) failed: {exc}")
                    return 1
                _progress(f"{variant.name} failed: {exc}")
                rows.append({**row, "error": str(exc)})
                failed = True
                continue
            base = measured[BASELINE][0]
            rows.append(
                {**row, **result.info, "startup_s": startup, **compare(base, result, args.top_k)}
            )
    report = {
        "models_dir": str(folder),
        "baseline": BASELINE,
        "sequential": True,
        "cpus": os.cpu_count(),
        "texts": len(work.texts),
        "queries": len(work.queries),
        "documents": len(work.documents),
        "top_k": work.top_k,
        "repeat": work.repeat,
        "batch_size": work.batch_size,
        "variants": rows,
    }
    print(render_table(rows, work.top_k), flush=True)
    try:
        json_path.write_text(json.dumps(report, indent=2) + "\n")
    except OSError as exc:
        _progress(f"could not write {json_path}: {exc.strerror or exc}")
        return 1
    _progress(f"figures written to {json_path}")
    return 1 if failed else 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="nomic-serve-compare",
        description="Serves each text model variant of a folder in turn and compares it "
        "with the fp32 baseline (model.onnx): embeddings, retrieval, speed, batching.",
    )
    parser.add_argument("--models-dir", type=Path, default=Path("models/txt"))
    parser.add_argument("--texts", type=Path, help="more texts to compare, one per line")
    parser.add_argument(
        "--json", type=Path, help=f"where the figures go (default: MODELS_DIR/{DEFAULT_JSON})"
    )
    parser.add_argument(
        "--repeat", type=_positive, default=5, help="rounds of the speed measurements"
    )
    parser.add_argument("--batch-size", type=_positive, default=64, help="texts per EmbedList")
    parser.add_argument("--top-k", type=_positive, default=3, help="documents per query")
    parser.add_argument("--start-timeout", type=float, default=600.0, help="seconds per server")
    return parser


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value}: must be at least 1")
    return number


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        with _sigterm_unwinds():
            return run(args)
    except _Terminated:
        _progress("terminated: servers stopped")
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        _progress("interrupted: servers stopped")
        return 130


if __name__ == "__main__":
    sys.exit(main())
