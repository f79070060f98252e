"""Text embedding throughput through a real server process, against in-process ONNX Runtime.

For each model (the embedded all-MiniLM-L6-v2, and a generated BERT-base in fp32 and in
dynamic int8) it measures, in one run and on one machine:

- in-process baselines, no server: the model called directly at batch sizes 1, 8, 32 and 64
  (length-sorted batches). The best is the *in-process limit*; batch 1, one call at a time,
  is the *original policy* (what the Rust server did);
- the server (`python -m nomic_serve`, a separate process) over gRPC: `Embed` at several
  concurrencies, `EmbedList` of 32 texts, one `EmbedBatch` stream, and a long run of varied
  lengths that checks the server's memory stays flat.

It prints texts/s, p50/p99 latency, the server's peak RSS, both processes' CPU use, and the
ratios server / limit and server / original policy next to the issue's targets. It asserts
nothing: the exit code is 1 only when a server could not be started or died, since then
nothing was measured.

    .venv/bin/python -m tests.bench.throughput [--budget small|full] [--models minilm ...]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from pathlib import Path

import grpc
import onnxruntime as ort
from grpc_health.v1 import health_pb2, health_pb2_grpc

from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from . import ceiling
from .throughput_load import (
    BenchServer,
    CpuMeter,
    Outcome,
    Progress,
    RssSampler,
    ServerFailed,
    client_cpus,
    cpu_list,
    embed_call,
    embed_list_call,
    p99,
    run_stream,
    run_unary,
)
from .throughput_models import (
    DEFAULT_CACHE,
    IDLE_PAUSE_S,
    LENGTH_NOTES,
    MODEL_KEYS,
    BatchRun,
    BenchModel,
    InProcess,
    TextMaker,
    prepare,
)

# Above this much CPU used by other processes (or stolen by the hypervisor) during a
# workload, its figures say more about the neighbours than about the server.
NOISY_OTHER_PERCENT = 20
# Below this many texts the arena is still growing to new shapes, so "flat" is not yet judged.
RSS_MEANINGFUL = 5000


@dataclass(frozen=True)
class Budget:
    """How much each part of the bench runs; every timed part also stops at a count."""

    note: str
    models: tuple[str, ...]
    kinds: tuple[str, ...]  # text lengths of the Embed and EmbedList workloads
    concurrency: tuple[int, ...]  # Embed loops
    seconds: float  # per Embed / EmbedList workload (requests in flight then finish)
    list_size: int
    list_concurrency: int
    stream_count: int
    stream_seconds: float
    rss_count: int
    rss_seconds: float
    rss_concurrency: int
    batches: tuple[int, ...]  # in-process batch sizes
    baseline_seconds: float  # per batch size, after one warm-up batch
    ready_timeout: float
    ceiling_seconds: float  # per scenario of the serving-path ceiling (ceiling.py)


BUDGETS = {
    "small": Budget(
        note="CI: about 2 minutes; short texts, concurrency 1 and 32, two models",
        models=("minilm", "base-int8"),
        kinds=("short",),
        concurrency=(1, 32),
        seconds=4,
        list_size=32,
        list_concurrency=2,
        stream_count=500,
        stream_seconds=6,
        rss_count=2000,
        rss_seconds=8,
        rss_concurrency=32,
        batches=(1, 8, 32, 64),
        baseline_seconds=1.5,
        ready_timeout=120,
        ceiling_seconds=5,
    ),
    "standard": Budget(
        note="about 30 minutes on 2 cores: every model, short and mixed texts, c1 and c32, "
        "the 10,000-text stream and the RSS run capped at 2 minutes each",
        models=MODEL_KEYS,
        kinds=("short", "mixed"),
        concurrency=(1, 32),
        seconds=10,
        list_size=32,
        list_concurrency=4,
        stream_count=10_000,
        stream_seconds=120,
        rss_count=100_000,
        rss_seconds=120,
        rss_concurrency=32,
        batches=(1, 8, 32, 64),
        baseline_seconds=4,
        ready_timeout=300,
        ceiling_seconds=10,
    ),
    "full": Budget(
        note="make bench: about an hour on 2 cores",
        models=MODEL_KEYS,
        kinds=("short", "medium", "mixed"),
        concurrency=(1, 8, 32, 128),
        seconds=20,
        list_size=32,
        list_concurrency=4,
        stream_count=10_000,
        stream_seconds=300,
        rss_count=100_000,
        rss_seconds=300,
        rss_concurrency=32,
        batches=(1, 8, 32, 64),
        baseline_seconds=8,
        ready_timeout=300,
        ceiling_seconds=20,
    ),
}


@dataclass
class Row:
    """One workload's figures, with the baselines it is compared to."""

    workload: str
    kind: str
    outcome: Outcome
    peak_rss_mb: float
    cpu: tuple[float, float, float]  # server, load generator, others: % of one core
    target: str = ""

    @property
    def texts_per_s(self) -> float:
        return self.outcome.texts / self.outcome.elapsed if self.outcome.elapsed else 0.0


@dataclass
class ModelReport:
    """Everything measured for one model, kept for the summary at the end."""

    model: BenchModel
    baselines: dict[str, dict[int, BatchRun]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)
    served: str = ""
    failure: str = ""
    floor_ms: float = math.nan  # an empty gRPC round trip after an inference's idle (see below)

    def limit(self, kind: str) -> BatchRun:
        return max(self.baselines[kind].values(), key=lambda run: run.texts_per_s)

    def original(self, kind: str) -> BatchRun:
        return self.baselines[kind][1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget", choices=sorted(BUDGETS), default="small")
    parser.add_argument(
        "--models", nargs="+", choices=MODEL_KEYS, help="default: the budget's models"
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=DEFAULT_CACHE,
        help=f"generated models and the embedded conversion (default {DEFAULT_CACHE})",
    )
    parser.add_argument(
        "--kinds",
        nargs="+",
        choices=("short", "medium", "mixed"),
        help="text lengths of the Embed/EmbedList workloads (default: the budget's)",
    )
    parser.add_argument("--server-cpus", type=_cpu_set, help="pin the server, e.g. 0,1")
    parser.add_argument("--client-cpus", type=_cpu_set, help="pin this process, e.g. 1")
    args = parser.parse_args()
    budget = BUDGETS[args.budget]
    if args.kinds:
        budget = replace(budget, kinds=tuple(args.kinds))
    if args.client_cpus:
        os.sched_setaffinity(0, args.client_cpus)
    _ignore_cache(args.cache)
    started = time.monotonic()
    _print_header(args.budget, budget, args.server_cpus)
    reports = []
    for key in args.models or budget.models:
        report = _bench_model(key, budget, args.cache, args.server_cpus)
        reports.append(report)
    ceiling = _run_ceiling(budget, args.cache)
    _print_summary(reports, time.monotonic() - started)
    print(f"\n{ceiling}", flush=True)
    sys.exit(1 if any(report.failure for report in reports) else 0)


def _run_ceiling(budget: Budget, cache: Path) -> str:
    """The serving path's ceiling (ceiling.py): its table, printed now and with the summary."""
    rates = ceiling.in_process_rates(budget.ceiling_seconds / 2, cache)
    table = ceiling.report(ceiling.run(budget.ceiling_seconds, cache), rates)
    print(table, flush=True)
    return table


def _ignore_cache(cache: Path) -> None:
    """Generated models are 550 MB: like .pytest_cache, the folder ignores itself in git."""
    cache.mkdir(parents=True, exist_ok=True)
    marker = cache / ".gitignore"
    if not marker.is_file():
        marker.write_text("# created by tests/bench/throughput.py\n*\n")


def _cpu_set(text: str) -> set[int]:
    return {int(cpu) for cpu in text.split(",")}


def _print_header(name: str, budget: Budget, server_cpus: set[int] | None) -> None:
    cores = os.cpu_count()
    server_cores = cpu_list(server_cpus) if server_cpus else f"{client_cpus()} (inherited)"
    shared = "SHARES cores with the server" if not server_cpus else "is pinned as shown"
    print(
        f"# nomic-serve throughput, budget {name!r} ({budget.note})\n"
        f"{datetime.datetime.now().isoformat(timespec='seconds')}, {platform.machine()}, "
        f"{cores} cores, load average {os.getloadavg()[0]:.2f} at start, "
        f"onnxruntime {ort.__version__}, grpcio {grpc.__version__}\n"
        "- server: its own process (`python -m nomic_serve`), default settings (no "
        f"INTRA_OP_THREADS, INFERENCE_WORKERS, ...), allowed cores {server_cores}\n"
        f"- load generator: this process (grpc.aio, one channel, N concurrent loops), allowed "
        f"cores {client_cpus()}: it {shared}\n"
        "- CPU columns, in % of one core: the server, this process, and everything else on "
        "the machine (/proc/stat); a large 'other' means the figure was taken under outside "
        "load\n"
        "- in-process baselines: this process, the same ONNX file and session options, run "
        "while no server runs\n"
        "- every text sent is unique (random vocabulary words), so no embedding cache answers\n"
        "- limit = best in-process texts/s over batch sizes "
        f"{', '.join(map(str, budget.batches))}; orig = in-process batch 1, one at a time\n",
        flush=True,
    )


def _bench_model(
    key: str, budget: Budget, cache: Path, server_cpus: set[int] | None
) -> ModelReport:
    try:
        model = prepare(key, cache)
    except Exception as exc:  # a missing package or a failed generation: say so, go on
        print(f"!! {key}: could not prepare the model: {type(exc).__name__}: {exc}\n")
        failed = BenchModel(
            key=key,
            label=key,
            onnx=Path(),
            tokenizer=Path(),
            max_tokens=0,
            isolated=False,
            server_env={},
        )
        return ModelReport(model=failed, failure=f"model not prepared: {exc}")
    report = ModelReport(model=model)
    print(f"## {model.label} [{key}], load average {os.getloadavg()[0]:.2f}\n", flush=True)
    _run_baselines(report, budget)
    with tempfile.TemporaryDirectory(prefix="nomic-bench-") as folder:
        log = cache / "logs" / f"server-{key}.log"
        server = BenchServer(model.server_env, cache, Path(folder), log, server_cpus)
        try:
            ready_s = server.wait_ready(budget.ready_timeout)
            report.served = server.describe()
            print(
                f"server pid {server.pid} on cores {server.cpus()} ready in {ready_s:.1f} s, "
                f"RSS {server.rss_mb():.0f} MB; "
                f"serves: {report.served}\n",
                flush=True,
            )
            asyncio.run(_serve_workloads(report, server, budget))
        except ServerFailed as exc:
            report.failure = str(exc)
            print(f"\n!! {key}: SERVER FAILED, nothing more measured for this model:\n{exc}\n")
        finally:
            server.stop()
    print(flush=True)
    return report


def _run_baselines(report: ModelReport, budget: Budget) -> None:
    kinds = dict.fromkeys(("short", *budget.kinds))
    print(
        "| in-process | batch | texts | texts/s | call p50 ms | session.run p50 ms "
        "| CPU own/other % |\n|---|---:|---:|---:|---:|---:|---:|"
    )
    engine = InProcess(report.model)
    maker = TextMaker(report.model.tokenizer, seed=1)
    try:
        for kind in kinds:
            runs = {}
            for batch in budget.batches:
                meter = CpuMeter()
                run = engine.measure(maker.stream(kind), batch, budget.baseline_seconds)
                _, own, others = meter.percent()
                runs[batch] = run
                print(
                    f"| {kind} ({LENGTH_NOTES[kind]}) | {batch} | {run.texts} | "
                    f"{run.texts_per_s:.1f} | {run.call_p50_ms:.2f} | {run.run_p50_ms:.2f} | "
                    f"{own:.0f}/{others:.0f} |",
                    flush=True,
                )
            report.baselines[kind] = runs
    finally:
        engine.close()
    for kind in kinds:
        best = report.limit(kind)
        print(
            f"- {kind}: limit {best.texts_per_s:.1f} texts/s at batch {best.batch}; "
            f"orig {report.original(kind).texts_per_s:.1f} texts/s"
        )
    if report.model.isolated:
        print(
            "- dynamic int8 is not exact in a batch, so the server runs each input alone: "
            "its target is orig (batch 1), the limit is shown for reference"
        )
    print(flush=True)


ROW_HEADER = (
    "| workload | texts | err | texts/s | p50 ms | p99 ms | peak RSS MB | CPU srv/cli/other % "
    "| x limit | x orig | target |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"
)


async def _serve_workloads(report: ModelReport, server: BenchServer, budget: Budget) -> None:
    maker = TextMaker(report.model.tokenizer, seed=2)
    # A reply of 2048 vectors is 8-17 MB: past gRPC's default 4 MB receive limit.
    options = [("grpc.max_receive_message_length", 64 * 1024 * 1024)]
    async with grpc.aio.insecure_channel(server.address, options=options) as channel:
        stub = rpc.EmbeddingServiceStub(channel)
        warm = await run_unary(
            embed_call(stub, maker.stream("mixed")),
            concurrency=4,
            count=8,
            seconds=60,
            alive=server.alive,
        )
        _check(server, warm, "warm-up")
        report.floor_ms = await _empty_round_trip_ms(channel, report.original("short").run_p50_ms)
        print(ROW_HEADER, flush=True)
        for kind in budget.kinds:
            for concurrency in budget.concurrency:
                call = embed_call(stub, maker.stream(kind))
                await _measure(
                    report,
                    server,
                    f"Embed {kind} c{concurrency}",
                    kind,
                    run_unary(
                        call,
                        concurrency=concurrency,
                        count=1_000_000,
                        seconds=budget.seconds,
                        alive=server.alive,
                    ),
                )
            call = embed_list_call(stub, maker.stream(kind), budget.list_size)
            await _measure(
                report,
                server,
                f"EmbedList x{budget.list_size} {kind} c{budget.list_concurrency}",
                kind,
                run_unary(
                    call,
                    concurrency=budget.list_concurrency,
                    count=1_000_000,
                    seconds=budget.seconds,
                    alive=server.alive,
                ),
            )
        await _measure(
            report,
            server,
            f"EmbedBatch stream of {budget.stream_count} short",
            "short",
            run_stream(
                stub,
                maker.stream("short"),
                count=budget.stream_count,
                seconds=budget.stream_seconds,
            ),
        )
        await _lone_during_bulk(report, server, stub, maker, budget)
        await _rss_run(report, server, stub, maker, budget)


async def _empty_round_trip_ms(channel: grpc.aio.Channel, pause_ms: float) -> float:
    """p50 of the standard health `Check` (no work at all) with the client pausing `pause_ms`
    before each call: what gRPC alone costs a sequential caller whose server was idle for as
    long as one batch-1 inference, the floor under the c1 row. The pause matters: on our
    VMs a round trip after a few idle milliseconds costs 1-1.5 ms more than back to back,
    as each of gRPC's thread hand-offs wakes a sleeping thread."""
    health = health_pb2_grpc.HealthStub(channel)
    request = health_pb2.HealthCheckRequest(service="text")
    samples = []
    for _ in range(200):
        await asyncio.sleep(pause_ms / 1000)
        started = time.perf_counter()
        await health.Check(request)
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


BULK_LIST = 2048  # MAX_LIST_INPUTS: the largest list a bulk job may send


async def _lone_during_bulk(
    report: ModelReport,
    server: BenchServer,
    stub: rpc.EmbeddingServiceStub,
    maker: TextMaker,
    budget: Budget,
) -> None:
    """One Embed at a time while lists of 2048 short texts run back to back: what a lone
    caller waits for during a bulk job. The scheduler orders texts fairly between requests,
    so its p99 should stay near a couple of batches, not the bulk job's length."""
    bulk = asyncio.ensure_future(
        run_unary(
            embed_list_call(stub, maker.stream("short"), BULK_LIST),
            concurrency=1,
            count=1_000_000,
            seconds=budget.seconds,
            alive=server.alive,
        )
    )
    await _measure(
        report,
        server,
        f"lone Embed short during EmbedList x{BULK_LIST}",
        "short",
        run_unary(
            embed_call(stub, maker.stream("short")),
            concurrency=1,
            count=1_000_000,
            seconds=budget.seconds,
            alive=server.alive,
        ),
    )
    lists = await bulk
    _check(server, lists, "bulk lists")
    seconds = statistics.median(lists.latencies_ms) / 1000 if lists.latencies_ms else math.nan
    print(
        f"  beside it: {lists.texts} bulk texts in {lists.elapsed:.1f} s, "
        f"one list of {BULK_LIST} takes {seconds:.1f} s (p50)",
        flush=True,
    )


async def _measure(
    report: ModelReport, server: BenchServer, name: str, kind: str, work: Awaitable[Outcome]
) -> Row:
    meter = CpuMeter(server.cpu_s)
    with RssSampler(server.pid) as rss:
        outcome = await work
    row = Row(workload=name, kind=kind, outcome=outcome, peak_rss_mb=rss.peak, cpu=meter.percent())
    row.target = _target(report, row)
    report.rows.append(row)
    print(_format_row(report, row), flush=True)
    _check(server, outcome, name)
    return row


async def _rss_run(
    report: ModelReport,
    server: BenchServer,
    stub: rpc.EmbeddingServiceStub,
    maker: TextMaker,
    budget: Budget,
) -> None:
    """Many requests of varied lengths; memory after the first 10% against the end."""
    progress = Progress()
    before = server.rss_mb()
    meter = CpuMeter(server.cpu_s)
    with RssSampler(server.pid, progress) as sampler:
        outcome = await run_unary(
            embed_call(stub, maker.stream("varied")),
            concurrency=budget.rss_concurrency,
            count=budget.rss_count,
            seconds=budget.rss_seconds,
            alive=server.alive,
            progress=progress,
        )
    end = server.rss_mb()
    tenth = max(outcome.texts // 10, 1)
    warm = next((rss for done, rss in sampler.series if done >= tenth), end)
    growth = end / warm - 1
    # A fall is the idle trimmer handing warm-up memory back, not a leak.
    verdict = "ok" if growth <= 0.10 else "MISS"
    if outcome.texts < RSS_MEANINGFUL:
        verdict += f" (under {RSS_MEANINGFUL} texts: warm-up growth dominates, indicative only)"
    row = Row(
        workload=f"RSS run: Embed varied c{budget.rss_concurrency}, {budget.rss_count} asked",
        kind="varied",
        outcome=outcome,
        peak_rss_mb=sampler.peak,
        cpu=meter.percent(),
        target=f"RSS {warm:.0f} -> {end:.0f} MB ({growth:+.1%}), within 10%: {verdict}",
    )
    report.rows.append(row)
    print(_format_row(report, row))
    print(
        f"\nRSS run ({LENGTH_NOTES['varied']}): {outcome.texts} texts in {outcome.elapsed:.0f} s; "
        f"RSS before {before:.0f} MB, after the first 10% {warm:.0f} MB, end {end:.0f} MB, "
        f"peak {sampler.peak:.0f} MB: end vs after 10% {growth:+.1%} (target: within 10%)",
        flush=True,
    )
    _check(server, outcome, "RSS run")


def _check(server: BenchServer, outcome: Outcome, name: str) -> None:
    """A dead server, or a workload where nothing succeeded, ends this model's run."""
    if not server.alive():
        raise ServerFailed(
            f"server died during {name} (exit code {server.proc.returncode}, first error: "
            f"{outcome.first_error or 'none'}, log {server.log_path}):\n{server.log_tail()}"
        )
    if outcome.errors and not outcome.texts:
        raise ServerFailed(f"every request of {name} failed: {outcome.first_error}")


def _target(report: ModelReport, row: Row) -> str:
    """The issue's target for this row, with whether it was met (figures only, no assert)."""
    key, kind, name = report.model.key, row.kind, row.workload
    limit, orig = _ratios(report, row)
    checks: list[tuple[str, bool]] = []
    if key == "tiny":  # its targets are the ceiling's (ceiling.py), not the model's
        return ""
    if name == "Embed short c1" and row.outcome.latencies_ms:
        original = report.original("short")
        bare, idle = original.run_p50_ms, original.idle_run_p50_ms
        gap = statistics.median(row.outcome.latencies_ms) - bare
        checks.append(
            (
                f"idle p50 {gap:+.2f} ms vs bare b1 ({bare:.2f}; {idle:.2f} with "
                f"{IDLE_PAUSE_S * 1000:.0f} ms idle between runs), <= +1.5",
                gap <= 1.5,
            )
        )
        checks.append((f"gRPC's empty round trip after as long idle {report.floor_ms:.2f} ms "
                       "(not a target: the floor)", True))  # fmt: skip
    if name == "Embed short c32" and key == "base-fp32":
        checks.append((">= 0.90x limit", limit >= 0.90))
    if name == "Embed short c32" and key == "minilm":
        checks.append((">= 0.85x limit", limit >= 0.85))
    if name == "Embed short c32" and report.model.isolated:
        checks.append((">= 1.0x orig (in-process b1)", orig >= 1.0))
    if name.startswith("EmbedBatch stream"):
        if report.model.isolated:
            checks.append((">= 0.9x orig", orig >= 0.9))
        else:
            checks.append((">= 0.9x limit", limit >= 0.9))
    if kind == "mixed" and not name.endswith(" c1"):  # the target is at c32
        checks.append((">= 1.0x orig", orig >= 1.0))
    if name.startswith("lone Embed") and row.outcome.latencies_ms:
        idle = next((r for r in report.rows if r.workload == "Embed short c1"), None)
        if idle is not None and idle.outcome.latencies_ms:
            slowest, idle_p50 = (
                p99(row.outcome.latencies_ms),
                statistics.median(idle.outcome.latencies_ms),
            )
            checks.append((f"p99 {slowest / idle_p50:.1f}x the idle p50 (not a target)", True))
    verdict = "; ".join(f"{text}: {'ok' if met else 'MISS'}" for text, met in checks)
    if row.cpu[2] > NOISY_OTHER_PERCENT:
        verdict += f" [machine busy: {row.cpu[2]:.0f}% of a core used by others; rerun]"
    return verdict


def _ratios(report: ModelReport, row: Row) -> tuple[float, float]:
    if row.kind not in report.baselines:
        return math.nan, math.nan
    limit = report.limit(row.kind).texts_per_s
    orig = report.original(row.kind).texts_per_s
    return row.texts_per_s / limit, row.texts_per_s / orig


def _format_row(report: ModelReport, row: Row) -> str:
    latencies = row.outcome.latencies_ms
    p50 = statistics.median(latencies) if latencies else math.nan
    slowest = p99(latencies)
    limit, orig = _ratios(report, row)
    errors = sum(row.outcome.errors.values())
    error_note = f" ({row.outcome.first_error[:80]})" if errors else ""
    return (
        f"| {row.workload}{error_note} | {row.outcome.texts} | {errors} | {row.texts_per_s:.1f} | "
        f"{p50:.1f} | {slowest:.1f} | {row.peak_rss_mb:.0f} | "
        f"{_cpu(row)} | {limit:.2f} | {orig:.2f} | {row.target} |"
    )


def _cpu(row: Row) -> str:
    return "/".join(f"{value:.0f}" for value in row.cpu)


def _print_summary(reports: list[ModelReport], elapsed: float) -> None:
    """All rows again in one table, so one copy holds the whole run."""
    print(
        f"# Summary (whole run {elapsed:.0f} s, load average {os.getloadavg()[0]:.2f} at the end)\n"
    )
    print(
        "| model | workload | texts/s | p50 ms | p99 ms | peak RSS MB | CPU srv/cli/other % "
        "| x limit | x orig | target |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---|"
    )
    for report in reports:
        for row in report.rows:
            latencies = row.outcome.latencies_ms
            limit, orig = _ratios(report, row)
            print(
                f"| {report.model.key} | {row.workload} | {row.texts_per_s:.1f} | "
                f"{statistics.median(latencies) if latencies else math.nan:.1f} | "
                f"{p99(latencies):.1f} | {row.peak_rss_mb:.0f} | {_cpu(row)} | {limit:.2f} | "
                f"{orig:.2f} | {row.target} |"
            )
    for report in reports:
        targets = [row.target for row in report.rows if row.target]
        missed = sum(target.count("MISS") for target in targets)
        met = sum(target.count(": ok") for target in targets)
        failure = report.failure.splitlines()[0].rstrip(":") if report.failure else ""
        state = f"FAILED: {failure}; " if failure else ""
        print(f"- {report.model.key}: {state}targets met {met}, missed {missed}")


if __name__ == "__main__":
    main()
