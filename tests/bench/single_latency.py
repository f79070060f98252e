"""Single-request latency: `Embed` over gRPC vs the same model called in-process.

Starts `nomic-serve` as a separate process (from an empty folder, so it serves the embedded
model unless TXT_MODEL is set), measures its cold start to ready, then the median and p99 of
N sequential one-text calls over gRPC, against (a) the floor of a gRPC round trip on the same
channel (the standard health `Check`, which does no work), (b) the server's own pipeline
in-process and (c) a bare `session.run` on the same token ids. Prints a table; asserts
nothing.

    .venv/bin/python -m tests.bench.single_latency [--requests 500] [--text "Hello world"]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nomic_serve.config import Settings
from nomic_serve.core.engine import TextEngine
from nomic_serve.core.tokenization import pad_batch
from nomic_serve.core.types import TextItem
from nomic_serve.core.workpool import WorkPool
from nomic_serve.models.loader import load_text_model, resolve_text_files
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import BIN, ServerProcess


def _timed(call: Callable[[], object], repeat: int) -> list[float]:
    for _ in range(max(repeat // 10, 5)):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


async def _engine_latency(engine: TextEngine, item: TextItem, repeat: int) -> list[float]:
    """The server's pipeline in-process: tokenize, schedule, infer, pool, Matryoshka."""
    warmup = max(repeat // 10, 5)
    samples = []
    for index in range(warmup + repeat):
        started = time.perf_counter()
        await engine.embed([item])
        if index >= warmup:
            samples.append((time.perf_counter() - started) * 1000)
    await engine.aclose()
    return samples


def _row(name: str, samples: list[float]) -> str:
    p99 = statistics.quantiles(samples, n=100)[98]
    return f"| {name:<38} | {statistics.median(samples):8.3f} | {p99:8.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--text", default="Hello world")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as cwd:
        # CACHE_MB=0: the same text repeats; measure computing it, not a cache hit.
        env = {"LOG_LEVEL": "warning", "CACHE_MB": "0"}
        started = time.perf_counter()
        server = ServerProcess([str(BIN / "nomic-serve")], Path(cwd), env)
        cold_start = time.perf_counter() - started
        try:
            with grpc.insecure_channel(server.address) as channel:
                stub = rpc.EmbeddingServiceStub(channel)
                request = pb.EmbedRequest(input=args.text)
                over_grpc = _timed(lambda: stub.Embed(request), args.requests)
                health = health_pb2_grpc.HealthStub(channel)
                check = health_pb2.HealthCheckRequest(service="text")
                floor = _timed(lambda: health.Check(check), args.requests)
        finally:
            server.stop()

    settings = replace(Settings.from_env(), cache_bytes=0)  # every call computes
    pool = WorkPool("tokenize", 1, 1)
    loaded = load_text_model(resolve_text_files(settings), settings, pool, None)
    engine = loaded.engine
    item = TextItem(args.text, settings.default_prefix, engine.profile.dimension, True)
    pipeline = asyncio.run(_engine_latency(engine, item, args.requests))
    batch = pad_batch(engine.tokenizer.encode([args.text], [True]), engine.tokenizer.pad_id)
    # The session a lone request runs on (every core), as a bare batch-1 run would use.
    session = engine.solo_session or engine.session
    bare = _timed(lambda: session.run(*batch), args.requests)

    print(
        f"model: {engine.profile.name} ({loaded.files.source}), {os.cpu_count()} cores, "
        f"{args.requests} sequential requests of {args.text!r}"
    )
    print(f"cold start to first healthy answer: {cold_start:.2f} s")
    print("| path                                   | p50 (ms) |  p99 (ms) |")
    print("|----------------------------------------|----------|----------|")
    print(_row("Embed over gRPC (separate process)", over_grpc))
    print(_row("health Check over gRPC (no work)", floor))
    print(_row("engine.embed in-process (scheduler)", pipeline))
    print(_row("bare session.run in-process", bare))
    overhead = statistics.median(over_grpc) - statistics.median(bare)
    print(f"gRPC path minus bare ORT, medians: {overhead:.3f} ms")
    served = statistics.median(over_grpc) - statistics.median(floor)
    print(
        f"Embed minus the empty round trip, medians: {served:.3f} ms (bare ORT in it: "
        f"{statistics.median(bare):.3f})"
    )


if __name__ == "__main__":
    main()
