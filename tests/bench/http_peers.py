"""MiniLM over HTTP against infinity-emb, and REST against gRPC, in one run.

The same ONNX file (the embedded all-MiniLM-L6-v2, converted once) is served by:

- nomic-serve over gRPC (`Embed`, one grpc.aio channel), the in-process limit next to it;
- nomic-serve's REST route `POST /v1/embeddings` through the real Envoy sidecar;
- infinity-emb (its ONNX Runtime engine, `--engine optimum`) `POST /embeddings`, when it is
  installed in INFINITY_VENV (`make bench-peers` installs it there once: it brings torch).

Every request carries one new text (16 tokens, random vocabulary words), so no cache
answers; the HTTP load comes from one aiohttp session in this process with as many
keep-alive connections as requests in flight. Prints figures, asserts nothing.

    .venv/bin/python -m tests.bench.http_peers [--seconds S] [--concurrency 1 32]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import EnvoyProcess, ServerProcess, free_port
from .throughput_load import (
    CpuMeter,
    Outcome,
    RssSampler,
    embed_call,
    p99,
    process_cpu_s,
    rss_mb,
    run_unary,
)
from .throughput_models import DEFAULT_CACHE, SERVER_CACHE, InProcess, TextMaker, prepare

INFINITY_VENV = DEFAULT_CACHE / "infinity-venv"
INFINITY_VERSION = "0.0.78"
# The targets, printed next to the figures.
REST_VS_GRPC = 0.85
VS_INFINITY = 1.5
VS_LIMIT = 0.85


@dataclass(frozen=True)
class PeerRow:
    name: str
    concurrency: int
    outcome: Outcome
    cpu: tuple[float, float, float]
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.outcome.texts / self.outcome.elapsed if self.outcome.elapsed else 0.0

    @property
    def p50(self) -> float:
        return statistics.median(self.outcome.latencies_ms or [float("nan")])


def _http_call(
    session: aiohttp.ClientSession, url: str, model: str, texts: Iterator[str]
) -> Callable[[], Awaitable[int]]:
    async def call() -> int:
        async with session.post(url, json={"model": model, "input": next(texts)}) as response:
            body = await response.json()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {str(body)[:200]}")
            return len(body["data"])

    return call


async def _warm_then_measure(
    call: Callable[[], Awaitable[int]], concurrency: int, seconds: float
) -> Outcome:
    """A few requests per loop first (connections opened, pools started), then the load."""
    await run_unary(call, concurrency=concurrency, count=concurrency * 4, seconds=60,
                    alive=lambda: True)  # fmt: skip
    return await run_unary(
        call, concurrency=concurrency, count=10**9, seconds=seconds, alive=lambda: True
    )


async def _http_load(
    url: str, model: str, texts: Iterator[str], concurrency: int, seconds: float
) -> Outcome:
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        return await _warm_then_measure(
            _http_call(session, url, model, texts), concurrency, seconds
        )


async def _grpc_load(
    address: str, texts: Iterator[str], concurrency: int, seconds: float
) -> Outcome:
    async with grpc.aio.insecure_channel(address) as channel:
        call = embed_call(rpc.EmbeddingServiceStub(channel), texts)
        return await _warm_then_measure(call, concurrency, seconds)


def _measure(
    name: str, concurrency: int, pids: Callable[[], list[int]], load: Awaitable[Outcome]
) -> PeerRow:
    def cpu_s() -> float:
        return sum(process_cpu_s(pid) for pid in pids())

    meter = CpuMeter(cpu_s)
    with RssSampler(pids()[0]) as rss:
        outcome = asyncio.run(load)
    peak = max(rss.peak, sum(rss_mb(pid) for pid in pids()))
    row = PeerRow(name, concurrency, outcome, meter.percent(), peak)
    if outcome.errors:
        print(f"  !! {name} c{concurrency}: {sum(outcome.errors.values())} errors, first: "
              f"{outcome.first_error[:200]}")  # fmt: skip
    print(f"  {name} c{concurrency}: {row.rate:.1f} texts/s, p50 {row.p50:.2f} ms", flush=True)
    return row


def _ours(folder: Path, maker: TextMaker, levels: list[int], seconds: float) -> list[PeerRow]:
    env = {"CACHE_DIR": str(DEFAULT_CACHE / SERVER_CACHE), "CACHE_MB": "0",
           "LOG_LEVEL": "warning", "IMG_MODEL": "none"}  # fmt: skip
    server = ServerProcess([sys.executable, "-m", "nomic_serve"], folder, env)
    envoy = EnvoyProcess(server, folder, env)
    rows = []
    try:
        url = f"{envoy.url}/v1/embeddings"
        for concurrency in levels:
            rows.append(
                _measure("nomic-serve gRPC Embed", concurrency, lambda: [server.proc.pid],
                         _grpc_load(server.address, maker.stream("short"), concurrency, seconds))
            )  # fmt: skip
            rows.append(
                _measure("nomic-serve REST /v1/embeddings (Envoy)", concurrency,
                         lambda: [server.proc.pid, envoy.proc.pid],
                         _http_load(url, "nomic-serve", maker.stream("short"), concurrency,
                                    seconds))
            )  # fmt: skip
    finally:
        envoy.stop()
        server.stop()
    return rows


def _infinity(
    model_dir: Path, folder: Path, maker: TextMaker, levels: list[int], seconds: float
) -> tuple[list[PeerRow], str]:
    binary = INFINITY_VENV / "bin" / "infinity_emb"
    if not binary.exists():
        return [], f"infinity-emb is not installed in {INFINITY_VENV} (make bench-peers does it)"
    # infinity's ONNX engine reads a Hugging Face folder; it finds the file only when given the
    # folder as "." (it compares a path relative to the model id with the file's bare name).
    served = folder / "minilm"
    shutil.copytree(model_dir, served, copy_function=os.symlink)
    port = free_port()
    log = (DEFAULT_CACHE / "logs" / "infinity.log").open("w")
    proc = subprocess.Popen(
        [str(binary), "v2", "--model-id", ".", "--served-model-name", "minilm",
         "--engine", "optimum", "--device", "cpu", "--port", str(port), "--host", "127.0.0.1",
         "--no-model-warmup"],
        stdout=log, stderr=subprocess.STDOUT, cwd=served,  # its file lookup wants "."
        env={**os.environ, "HF_HUB_OFFLINE": "1", "INFINITY_ANONYMOUS_USAGE_STATS": "0"},
    )  # fmt: skip
    rows: list[PeerRow] = []
    try:
        if not _wait_http(f"http://127.0.0.1:{port}/health", proc, 300):
            return [], f"infinity-emb did not start (log {log.name})"
        url = f"http://127.0.0.1:{port}/embeddings"
        for concurrency in levels:
            rows.append(
                _measure(f"infinity-emb {INFINITY_VERSION} /embeddings (optimum ORT)",
                         concurrency, lambda: [proc.pid],
                         _http_load(url, "minilm", maker.stream("short"), concurrency, seconds))
            )  # fmt: skip
    finally:
        proc.send_signal(signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=30)
        if proc.poll() is None:
            proc.kill()
        log.close()
    return rows, ""


def _wait_http(url: str, proc: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return True
        except OSError:
            time.sleep(0.5)
    return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()
    model = prepare("minilm", DEFAULT_CACHE)
    maker = TextMaker(model.tokenizer, seed=9)
    engine = InProcess(model)
    try:
        limit = max(
            (engine.measure(maker.stream("short"), b, args.seconds / 3) for b in (1, 8, 32, 64)),
            key=lambda run: run.texts_per_s,
        )
        bare = engine.measure(maker.stream("short"), 1, args.seconds / 3)
    finally:
        engine.close()
    print(f"# MiniLM over HTTP: nomic-serve vs infinity-emb, {os.cpu_count()} cores\n")
    print(f"- in-process limit {limit.texts_per_s:.1f} texts/s (batch {limit.batch}); bare "
          f"batch-1 session.run p50 {bare.run_p50_ms:.2f} ms", flush=True)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="nomic-peers-") as folder:
        rows = _ours(Path(folder), maker, args.concurrency, args.seconds)
        theirs, missing = _infinity(model.onnx.parent, Path(folder), maker, args.concurrency,
                                    args.seconds)  # fmt: skip
    print(report(rows + theirs, limit.texts_per_s, missing))


def report(rows: list[PeerRow], limit: float, missing: str) -> str:
    lines = [
        "",
        "| server | c | texts/s | p50 ms | p99 ms | CPU srv/cli/other % | peak RSS MB "
        "| x limit | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    by = {(row.name.split()[0] + (" REST" if "REST" in row.name else ""), row.concurrency): row
          for row in rows}  # fmt: skip
    for row in rows:
        checks = []
        grpc_row = by.get(("nomic-serve", row.concurrency))
        infinity = by.get(("infinity-emb", row.concurrency))
        if row.concurrency > 1 and "gRPC" in row.name:
            checks.append((f">= {VS_LIMIT}x limit", row.rate / limit >= VS_LIMIT))
        if row.concurrency > 1 and "REST" in row.name and grpc_row:
            ratio = row.rate / grpc_row.rate
            checks.append((f"{ratio:.2f}x gRPC, >= {REST_VS_GRPC}", ratio >= REST_VS_GRPC))
            if infinity:
                ratio = row.rate / infinity.rate
                checks.append((f"{ratio:.2f}x infinity, >= {VS_INFINITY}", ratio >= VS_INFINITY))
        verdict = "; ".join(f"{text}: {'ok' if met else 'MISS'}" for text, met in checks)
        lines.append(
            f"| {row.name} | {row.concurrency} | {row.rate:.1f} | {row.p50:.2f} | "
            f"{p99(row.outcome.latencies_ms):.2f} | "
            f"{'/'.join(f'{v:.0f}' for v in row.cpu)} | {row.peak_rss_mb:.0f} | "
            f"{row.rate / limit:.2f} | {verdict} |"
        )
    if missing:
        lines.append(f"\n- not compared: {missing}")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
