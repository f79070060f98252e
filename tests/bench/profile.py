"""`make profile`: where a served text's core-milliseconds go, per kind of thread.

The server runs as users run it (its own process, one grpc.aio channel from this one, cache
off, distinct short texts); for each concurrency, the CPU time and context switches of every
server thread are read from /proc before and after the load and divided by the texts served.
Threads are told apart by their OS names (the server names its pools; ONNX Runtime's threads
inherit `ort-text` from the thread that built the session). Next to it: the same texts run
in-process (tokenize + batch `session.run` + pooling) at the best batch and at batch 1.
With `--py-spy`, a native flame graph of each load is written beside the models
(speedscope JSON: open at https://www.speedscope.app or with `py-spy`'s own viewer).
Prints figures, asserts nothing; about a minute per model with the defaults.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .throughput import DEFAULT_CACHE
from .throughput_load import BenchServer, embed_call, run_unary
from .throughput_models import MODEL_KEYS, InProcess, TextMaker, prepare

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
# OS thread name (prefix) -> what the thread does, in the order the table lists them.
GROUPS = (
    ("main", "event loop (main thread: handlers, scheduler, codec, responses)"),
    ("event_engine", "gRPC core (event engine: sockets, HTTP/2)"),
    ("grpc_global_tim", "gRPC core (timers)"),
    ("inference", "inference workers (call session.run, take part in it)"),
    ("ort-text", "ONNX Runtime intra-op threads (text)"),
    ("tokenize", "tokenize pool (long texts)"),
    ("parse", "parse pool (large requests)"),
    ("", "other threads (gRPC's Python poller among them)"),
)


@dataclass(frozen=True)
class ThreadSample:
    name: str
    cpu_s: float
    voluntary: int
    involuntary: int


def threads(pid: int) -> dict[int, ThreadSample]:
    """Every thread of `pid` now: OS name, CPU time, context switches."""
    found = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            status = (task / "status").read_text().splitlines()
        except OSError:  # the thread ended meanwhile
            continue
        switches = {k: int(v) for k, v in (line.split(":") for line in status if "ctxt" in line)}
        found[int(task.name)] = ThreadSample(
            "main" if int(task.name) == pid else name,
            (int(fields[11]) + int(fields[12])) / CLOCK_TICKS,
            switches["voluntary_ctxt_switches"],
            switches["nonvoluntary_ctxt_switches"],
        )
    return found


def group_of(name: str) -> str:
    return next(prefix for prefix, _ in GROUPS if name.startswith(prefix))


@dataclass
class Phase:
    concurrency: int
    texts: int
    seconds: float
    client_cpu_s: float
    by_group: dict[str, list[float]]  # group -> [cpu_s, voluntary, involuntary, threads]

    @property
    def server_cpu_s(self) -> float:
        return sum(values[0] for values in self.by_group.values())


async def _load(address: str, maker: TextMaker, concurrency: int, seconds: float) -> int:
    async with grpc.aio.insecure_channel(address) as channel:
        call = embed_call(rpc.EmbeddingServiceStub(channel), maker.stream("short"))
        outcome = await run_unary(
            call, concurrency=concurrency, count=10**9, seconds=seconds, alive=lambda: True
        )
    if outcome.errors:
        raise SystemExit(f"the load failed: {outcome.first_error}")
    return outcome.texts


def measure(pid: int, address: str, concurrency: int, seconds: float, spy: Path | None) -> Phase:
    maker = TextMaker(_tokenizer, seed=concurrency)
    asyncio.run(_load(address, maker, concurrency, 1.0))  # warm: pools started, pages touched
    recorder = None
    if spy is not None:
        recorder = subprocess.Popen(
            ["py-spy", "record", "--native", "--threads", "--pid", str(pid), "--duration",
             str(int(seconds)), "--format", "speedscope", "--output", str(spy), "--nonblocking"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
    before, client_before = threads(pid), resource.getrusage(resource.RUSAGE_SELF)
    started = time.perf_counter()
    texts = asyncio.run(_load(address, maker, concurrency, seconds))
    elapsed = time.perf_counter() - started
    after, client_after = threads(pid), resource.getrusage(resource.RUSAGE_SELF)
    if recorder is not None:
        recorder.wait()
    by_group: dict[str, list[float]] = defaultdict(lambda: [0.0, 0, 0, 0])
    for tid, now in after.items():
        then = before.get(tid, ThreadSample(now.name, 0.0, 0, 0))
        values = by_group[group_of(now.name)]
        values[0] += now.cpu_s - then.cpu_s
        values[1] += now.voluntary - then.voluntary
        values[2] += now.involuntary - then.involuntary
        values[3] += 1
    client = (client_after.ru_utime + client_after.ru_stime) - (
        client_before.ru_utime + client_before.ru_stime
    )
    return Phase(concurrency, texts, elapsed, client, dict(by_group))


def in_process(model, seconds: float) -> list[tuple[int, float, float]]:
    """(batch, texts/s, core-ms per text) for batch 32 and batch 1, in this process."""
    engine = InProcess(model)
    maker = TextMaker(model.tokenizer, seed=1)
    rows = []
    try:
        for batch in (32, 1):
            before = resource.getrusage(resource.RUSAGE_SELF)
            run = engine.measure(maker.stream("short"), batch, seconds)
            after = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
            rows.append((batch, run.texts_per_s, cpu * 1000 / max(run.texts, 1)))
    finally:
        engine.close()
    return rows


def report(model_label: str, phases: list[Phase], baseline: list[tuple[int, float, float]]) -> str:
    heads = " | ".join(
        f"c{p.concurrency} core-ms/text | c{p.concurrency} ctx vol/invol" for p in phases
    )
    lines = [
        f"## {model_label}",
        "",
        f"| thread kind | threads | {heads} |",
        "|---|---:|" + "---:|---:|" * len(phases),
    ]
    for prefix, label in GROUPS:
        if not any(prefix in p.by_group for p in phases):
            continue
        count = max(int(p.by_group.get(prefix, [0, 0, 0, 0])[3]) for p in phases)
        cells = []
        for p in phases:
            cpu, vol, invol, _ = p.by_group.get(prefix, [0.0, 0, 0, 0])
            cells.append(
                f"{cpu * 1000 / p.texts:.3f} | {vol / p.texts:.2f} / {invol / p.texts:.2f}"
            )
        lines.append(f"| {label} | {count} | {' | '.join(cells)} |")
    totals = " | ".join(f"**{p.server_cpu_s * 1000 / p.texts:.3f}** | " for p in phases)
    lines.append(f"| **server, all threads** | | {totals}")
    client = " | ".join(f"{p.client_cpu_s * 1000 / p.texts:.3f} | " for p in phases)
    lines.append(f"| load generator (this process) | | {client}")
    lines.append("")
    for p in phases:
        lines.append(
            f"- c{p.concurrency}: {p.texts} texts in {p.seconds:.1f} s = "
            f"{p.texts / p.seconds:.1f} texts/s; server {p.server_cpu_s / p.seconds * 100:.0f}% "
            f"of a core, client {p.client_cpu_s / p.seconds * 100:.0f}%"
        )
    for batch, rate, core_ms in baseline:
        lines.append(
            f"- in-process, batch {batch}: {rate:.1f} texts/s, {core_ms:.3f} core-ms per text "
            "(tokenize + session.run + pooling)"
        )
    return "\n".join(lines)


_tokenizer: Path


def main() -> None:
    global _tokenizer
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--models", nargs="+", choices=MODEL_KEYS, default=["minilm"])
    parser.add_argument("--concurrency", nargs="+", type=int, default=[1, 32])
    parser.add_argument("--seconds", type=float, default=15.0, help="per load (default 15)")
    parser.add_argument("--py-spy", action="store_true", help="also record flame graphs")
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument(
        "--env", nargs="*", default=[], metavar="NAME=VALUE", help="server settings to try"
    )
    args = parser.parse_args()
    overrides = dict(item.split("=", 1) for item in args.env)
    if args.py_spy and shutil.which("py-spy") is None:
        raise SystemExit("--py-spy: py-spy is not installed (pip install py-spy)")
    for key in args.models:
        model = prepare(key, args.cache)
        _tokenizer = model.tokenizer
        baseline = in_process(model, args.seconds / 2)
        with tempfile.TemporaryDirectory(prefix="nomic-profile-") as folder:
            log = args.cache / "logs" / f"profile-{key}.log"
            server = BenchServer(
                {**model.server_env, "CACHE_MB": "0", **overrides}, args.cache, Path(folder), log
            )
            try:
                server.wait_ready(600)
                phases = []
                for concurrency in args.concurrency:
                    spy = args.cache / f"profile-{key}-c{concurrency}.speedscope.json"
                    phases.append(
                        measure(server.pid, server.address, concurrency, args.seconds,
                                spy if args.py_spy else None)
                    )  # fmt: skip
                    if args.py_spy:
                        print(f"flame graph: {spy}", file=sys.stderr)
            finally:
                server.stop()
        label = " ".join([model.label, *args.env])
        print(report(label, phases, baseline), flush=True)
        print()


if __name__ == "__main__":
    main()
