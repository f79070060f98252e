"""The longest documents this machine processes: time and the server's peak memory.

Starts `nomic-serve` on the embedded MiniLM (256-token context, cache off) with
MAX_INPUT_CHARS raised to the longest document, then sends documents of growing length
(thousands to about 100,000 tokens of varied English) with `long_input` `chunk` and
`late_chunk` (128-token chunks, 16 tokens of overlap), one at a time, and
prints per document: tokens, chunks, seconds, and the server's RSS before and at its peak
(VmHWM, reset before each run). Asserts nothing.

    .venv/bin/python -m tests.bench.long_document [--max-tokens 100000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

import grpc

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.processes import ServerProcess

WORDS = [
    "the",
    "a",
    "river",
    "city",
    "model",
    "server",
    "night",
    "market",
    "data",
    "paper",
    "storm",
    "engine",
    "garden",
    "letter",
    "quickly",
    "slowly",
    "built",
    "carried",
    "measured",
    "wrote",
    "opened",
    "under",
    "over",
    "between",
    "after",
    "before",
    "because",
    "while",
    "although",
    "bright",
    "cold",
    "old",
    "new",
    "small",
    "large",
    "green",
    "quiet",
    "loud",
]


def document(tokens: int, seed: int = 5) -> str:
    """About `tokens` MiniLM tokens of sentences (a word is about 1.1 tokens)."""
    rng = random.Random(seed)
    sentences, count = [], 0
    while count < tokens:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 18))]
        sentences.append(" ".join(words).capitalize() + rng.choice([".", ".", "!", "?"]))
        count += len(words) + 1
    return " ".join(sentences)


def status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise KeyError(field)


def reset_peak(pid: int) -> None:
    """Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0+)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--max-tokens", type=int, default=100_000)
    args = parser.parse_args()
    sizes = [n for n in (2_000, 10_000, 20_000, 50_000, 100_000) if n <= args.max_tokens]
    texts = {n: document(n) for n in sizes}
    env = {
        "CACHE_MB": "0",
        "IMG_MODEL": "none",
        "MAX_INPUT_CHARS": str(max(len(t) for t in texts.values())),
    }
    folder = Path(tempfile.mkdtemp(prefix="bench-long-document-"))
    server = ServerProcess([sys.executable, "-m", "nomic_serve"], folder, env)
    pid = server.proc.pid
    print("| mode | tokens | chunks | seconds | RSS before MB | peak RSS MB |")
    print("|---|---:|---:|---:|---:|---:|")
    try:
        with grpc.insecure_channel(
            server.address, [("grpc.max_receive_message_length", -1)]
        ) as channel:
            stub = rpc.EmbeddingServiceStub(channel)
            for size in sizes:
                for mode in ("chunk", "late_chunk"):
                    reset_peak(pid)
                    before = status_kb(pid, "VmRSS") / 1024
                    started = time.perf_counter()
                    reply = stub.Embed(
                        pb.EmbedRequest(
                            input=texts[size],
                            long_input=mode,
                            chunk_tokens=128,
                            chunk_overlap=16,
                            prefix="search_document",
                        ),
                        timeout=1800,
                    )
                    seconds = time.perf_counter() - started
                    peak = status_kb(pid, "VmHWM") / 1024
                    print(
                        f"| {mode} | {reply.tokens:,} | {len(reply.chunks.chunks):,} | "
                        f"{seconds:.1f} | {before:.0f} | {peak:.0f} |",
                        flush=True,
                    )
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
