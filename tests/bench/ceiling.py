"""The serving path's ceiling: single-text `Embed` on a trivial model, 1 and 2 server processes.

The model (BERT, 2 layers x 64, random weights) costs almost nothing to run, so what is
measured is the price of serving a request: gRPC, the event loop, tokenizing, scheduling,
the hop to an inference thread and back. Three runs, each against a fresh server:

- one process, one channel, 32 requests in flight (how the issue measured ~1,000/s);
- one process, CHANNELS channels (separate connections), 64 in flight;
- SERVER_PROCESSES=2 on the same port, the same CHANNELS channels: the kernel spreads the
  connections over the processes (SO_REUSEPORT), each with its own GIL and event loop.

The load generator is this process (grpc.aio), on the same cores. Prints figures, asserts
nothing.

    .venv/bin/python -m tests.bench.ceiling [--seconds S]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import itertools
import os
import statistics
import tempfile
from dataclasses import dataclass
from pathlib import Path

import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .throughput_load import (
    BenchServer,
    CpuMeter,
    Outcome,
    embed_call,
    p99,
    process_cpu_s,
    run_unary,
)
from .throughput_models import DEFAULT_CACHE, InProcess, TextMaker, prepare

CHANNELS = 8
# What the issue measured when it was filed (2026-12-01, its own client, one channel): the
# target is twice that.
FILED_RATE = 1000.0
TARGET_RATE = 2 * FILED_RATE


@dataclass(frozen=True)
class Scenario:
    name: str
    processes: int
    channels: int
    concurrency: int


SCENARIOS = (
    Scenario("1 process, 1 channel, c32", 1, 1, 32),
    Scenario(f"1 process, {CHANNELS} channels, c64", 1, CHANNELS, 64),
    Scenario(f"2 processes, {CHANNELS} channels, c64", 2, CHANNELS, 64),
)


@dataclass(frozen=True)
class CeilingRow:
    scenario: Scenario
    outcome: Outcome
    cpu: tuple[float, float, float]
    per_process: list[float]  # % of a core each serving process used: shows a skewed spread

    @property
    def rate(self) -> float:
        return self.outcome.texts / self.outcome.elapsed if self.outcome.elapsed else 0.0


async def _load(
    server: BenchServer, maker: TextMaker, scenario: Scenario, seconds: float
) -> Outcome:
    """`scenario.concurrency` loops over `scenario.channels` channels, each its own
    connection (a local subchannel pool: channels to one target would otherwise share one)."""
    options = [("grpc.use_local_subchannel_pool", 1)]
    channels = [
        grpc.aio.insecure_channel(server.address, options=options) for _ in range(scenario.channels)
    ]
    try:
        stubs = itertools.cycle([rpc.EmbeddingServiceStub(channel) for channel in channels])
        texts = maker.stream("short")
        calls = [embed_call(next(stubs), texts) for _ in range(scenario.channels)]
        per_call = scenario.concurrency // scenario.channels
        outcomes = await asyncio.gather(
            *(
                run_unary(call, concurrency=per_call, count=10**9, seconds=seconds,
                          alive=server.alive)
                for call in calls
            )
        )  # fmt: skip
    finally:
        for channel in channels:
            await channel.close()
    total = Outcome()
    for outcome in outcomes:
        total.texts += outcome.texts
        total.latencies_ms += outcome.latencies_ms
        total.errors.update(outcome.errors)
        total.first_error = total.first_error or outcome.first_error
        total.elapsed = max(total.elapsed, outcome.elapsed)
    return total


def run(seconds: float, cache: Path = DEFAULT_CACHE) -> list[CeilingRow]:
    model = prepare("tiny", cache)
    maker = TextMaker(model.tokenizer, seed=5)
    rows = []
    for scenario in SCENARIOS:
        env = {**model.server_env, "CACHE_MB": "0", "SERVER_PROCESSES": str(scenario.processes)}
        with tempfile.TemporaryDirectory(prefix="nomic-ceiling-") as folder:
            log = cache / "logs" / f"ceiling-{scenario.processes}.log"
            server = BenchServer(env, cache, Path(folder), log)
            try:
                server.wait_ready(120)
                asyncio.run(_load(server, maker, scenario, 1.0))  # warm: pools, connections
                serving = server.pids()[1:] or [server.pid]  # the children, or the server
                meters = [CpuMeter(functools.partial(process_cpu_s, pid)) for pid in serving]
                meter = CpuMeter(server.cpu_s)
                outcome = asyncio.run(_load(server, maker, scenario, seconds))
                split = [one.percent()[0] for one in meters]
                rows.append(CeilingRow(scenario, outcome, meter.percent(), split))
            finally:
                server.stop()
    return rows


def report(rows: list[CeilingRow], in_process: tuple[float, float]) -> str:
    batch1, batch32 = in_process
    first = rows[0].rate if rows else float("nan")
    lines = [
        "## Serving-path ceiling: single-text Embed, BERT 2 layers x 64 (the model costs "
        "almost nothing)",
        "",
        f"- in-process (tokenize + session.run + pooling): batch 1 {batch1:.0f} texts/s, "
        f"batch 32 {batch32:.0f} texts/s",
        f"- target: >= {TARGET_RATE:,.0f} requests/s, 2x the ~{FILED_RATE:,.0f} measured when "
        "the issue was filed",
        "",
        "| scenario | requests | err | requests/s | p50 ms | p99 ms | CPU srv/cli/other % "
        "| CPU per process % | x 1 process | target |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for row in rows:
        latencies = row.outcome.latencies_ms or [float("nan")]
        met = "ok" if row.rate >= TARGET_RATE else "MISS"
        lines.append(
            f"| {row.scenario.name} | {row.outcome.texts} | {sum(row.outcome.errors.values())} "
            f"| {row.rate:.0f} | {statistics.median(latencies):.2f} | {p99(latencies):.2f} | "
            f"{'/'.join(f'{v:.0f}' for v in row.cpu)} | "
            f"{' + '.join(f'{v:.0f}' for v in row.per_process)} | {row.rate / first:.2f} | "
            f">= {TARGET_RATE:,.0f}/s: {met} |"
        )
    return "\n".join(lines)


def in_process_rates(seconds: float, cache: Path = DEFAULT_CACHE) -> tuple[float, float]:
    model = prepare("tiny", cache)
    engine = InProcess(model)
    maker = TextMaker(model.tokenizer, seed=6)
    try:
        return tuple(  # type: ignore[return-value]
            engine.measure(maker.stream("short"), batch, seconds).texts_per_s for batch in (1, 32)
        )
    finally:
        engine.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="per scenario (default 10)")
    args = parser.parse_args()
    print(f"# nomic-serve serving-path ceiling, {os.cpu_count()} cores\n", flush=True)
    rates = in_process_rates(args.seconds / 2)
    print(report(run(args.seconds), rates), flush=True)


if __name__ == "__main__":
    main()
