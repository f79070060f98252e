"""`nomic-embed embed-file` against the server's own EmbedBatch figure, and the CLI's memory.

Starts `nomic-serve` from an empty folder (the embedded model, cache off), then, alternating
so the machine's drift hits both alike: (a) one raw EmbedBatch stream of the N texts from a
separate process through the generated stubs, the server's figure, and (b) the CLI job on a
JSONL file of the same N texts to Parquet. Prints texts/s of each, their ratio, and the CLI's
peak RSS at N and at N/4 (flat: the corpus is never loaded whole). Asserts nothing.

    .venv/bin/python -m tests.bench.cli_job [--texts 20000] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ..support.processes import BIN, ServerProcess

RAW_STREAM = """
import sys, time, grpc
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb, embedding_service_pb2_grpc as rpc
texts = open(sys.argv[2]).read().splitlines()
with grpc.insecure_channel(sys.argv[1]) as channel:
    stub = rpc.EmbeddingServiceStub(channel)
    started = time.perf_counter()
    requests = (pb.EmbedBatchRequest(input=t, prefix="search_document") for t in texts)
    answered = sum(1 for _ in stub.EmbedBatch(requests))
    print(answered / (time.perf_counter() - started))
"""


def _texts(n: int) -> list[str]:
    words = "the quick brown fox jumps over a lazy dog while seven wizards quietly hex"
    words = words.split()  # type: ignore[assignment]
    return [
        " ".join(words[(i * k + j) % len(words)] for j in range(6 + i % 20)) + f" #{i}"
        for i, k in ((i, 3 + i % 5) for i in range(n))
    ]


def _cli(address: str, source: Path, out: Path) -> float:
    """Texts/s of one embed-file job, start-up included."""
    started = time.perf_counter()
    command = [sys.executable, "-m", "nomic_serve_client._cli", "--target", address]
    subprocess.run(
        [*command, "embed-file", str(source), "--out", str(out), "--quiet"],
        capture_output=True,
        check=True,
    )
    seconds = time.perf_counter() - started
    rows = sum(1 for _ in source.open())
    out.unlink()
    return rows / seconds


def _child_rss(address: str, source: Path, out: Path) -> float:
    """Peak RSS (MB) of one job, measured by a fresh `time -v`-like wrapper process."""
    wrapper = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True, "
        "capture_output=True); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    command = [sys.executable, "-m", "nomic_serve_client._cli", "--target", address]
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            wrapper,
            *command,
            "embed-file",
            str(source),
            "--out",
            str(out),
            "--quiet",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    out.unlink()
    return int(done.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="nomic-cli-bench-") as scratch:
        folder = Path(scratch)
        texts = _texts(args.texts)
        plain = folder / "texts.txt"
        plain.write_text("\n".join(texts) + "\n")
        source = folder / "corpus.jsonl"
        source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
        small = folder / "small.jsonl"
        small.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts[: args.texts // 4]))
        server = ServerProcess([str(BIN / "nomic-serve")], folder, {"CACHE_MB": "0"})
        try:
            out = folder / "out.parquet"
            raw_rates, cli_rates = [], []
            for _ in range(args.rounds):
                raw = subprocess.run(
                    [sys.executable, "-c", RAW_STREAM, server.address, str(plain)],
                    capture_output=True,
                    text=True,
                    check=True,
                )
                raw_rates.append(float(raw.stdout))
                cli_rates.append(_cli(server.address, source, out))
            rss_full = _child_rss(server.address, source, out)
            rss_quarter = _child_rss(server.address, small, out)
        finally:
            server.stop()
    print(f"{args.texts} texts, embedded model, cache off, {args.rounds} alternating rounds")
    print(f"{'':34} {'texts/s':>10}")
    for i, (raw, cli) in enumerate(zip(raw_rates, cli_rates, strict=True), 1):
        print(f"round {i}: raw EmbedBatch stream        {raw:10.0f}")
        print(f"round {i}: nomic-embed embed-file      {cli:10.0f}   {cli / raw:.2f}x")
    print(
        f"CLI peak RSS: {rss_full:.0f} MB at {args.texts} rows, "
        f"{rss_quarter:.0f} MB at {args.texts // 4}"
    )


if __name__ == "__main__":
    main()
