"""How a model uses the machine: inference workers, ONNX Runtime threads, the batch budget.

Chosen per batching mode and provider at start-up, from measurements on 2 cores; every
choice can be overridden by its environment variable (see the README's table).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from ..config import Settings
from .inference import CUDA, BatchingMode, Threads

__all__ = [
    "CHARS_PER_TOKEN",
    "CPU_BATCH_TOKENS",
    "GPU_BATCH_TOKENS",
    "available_cores",
    "batch_tokens",
    "inference_workers",
    "max_input_chars",
    "solo_threads",
    "text_threads",
    "vision_threads",
]

# Padded tokens per batch when MAX_BATCH_TOKENS is 0 (see batch_tokens).
CPU_BATCH_TOKENS = 256
GPU_BATCH_TOKENS = 16384
# MAX_INPUT_CHARS when 0: characters allowed per token the model takes. English averages
# 4-5 characters a token and code or CJK fewer, so a text this long fills the model many
# times over: cutting it here never changes what the model sees of natural text.
CHARS_PER_TOKEN = 32
CGROUP_ROOT = Path("/sys/fs/cgroup")


def available_cores(cgroup_root: Path = CGROUP_ROOT) -> int:
    """Cores this process may use: its CPU affinity (a container's cpuset), capped by its
    cgroup's CPU quota (a Kubernetes CPU limit, `docker run --cpus`), rounded up. Without the
    cap a pod limited to 2 cores on a 64-core node would start 64 threads per session and be
    throttled into long stalls."""
    cores = len(os.sched_getaffinity(0)) or 1
    quota = _cgroup_cpu_quota(cgroup_root)
    return max(1, min(cores, math.ceil(quota))) if quota else cores


def _cgroup_cpu_quota(root: Path) -> float | None:
    """CPUs the cgroup's quota allows (cgroup v2 `cpu.max`, else v1 `cpu.cfs_quota_us`), None
    when there is no quota or no cgroup file to read."""
    own = _own_cgroup(root)
    for folder in (own, root) if own else (root,):
        try:
            limit, every = (folder / "cpu.max").read_text().split()
            return None if limit == "max" else int(limit) / int(every)
        except (OSError, ValueError, ZeroDivisionError):
            continue
    for folder in (root / "cpu", root / "cpu,cpuacct"):
        try:
            quota = int((folder / "cpu.cfs_quota_us").read_text())
            period = int((folder / "cpu.cfs_period_us").read_text())
        except (OSError, ValueError):
            continue
        return quota / period if quota > 0 and period > 0 else None
    return None


def _own_cgroup(root: Path) -> Path | None:
    """This process's cgroup v2 folder ("0::/path" in /proc/self/cgroup) under `root`."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError:
        return None
    paths = [line[3:] for line in lines if line.startswith("0::")]
    return root / paths[0].lstrip("/") if paths and paths[0] != "/" else None


def inference_workers(batched: bool, settings: Settings) -> int:
    """INFERENCE_WORKERS, or one inference per core on CPU (a batch or an isolated input),
    one batch at a time on a GPU."""
    gpu_batches = batched and settings.use_gpu
    return settings.inference_workers or (1 if gpu_batches else available_cores())


def text_threads(mode: BatchingMode, workers: int, settings: Settings) -> Threads:
    """A text session's threads. On CPU, `workers` inferences at once, each on its share of
    the cores and never spinning, batched or not: one inference spinning on every core burns
    the core the event loop and gRPC need between its parallel sections (measured on 2
    cores, short texts at c32: MiniLM 0.73x of its in-process limit with one 2-thread
    worker, 0.89x with two 1-thread ones; BERT-base fp32 0.89x and 0.96x; BERT-base int8
    isolated: 2 x 1 thread 99-108 texts/s, 2 x 2 threads without spinning 87, one at a time
    with 2 spinning threads 77-96). A lone input gets the solo session instead. Batches on a
    GPU: one at a time, the CPU threads spinning for the short CPU parts."""
    if mode.batched and settings.use_gpu:
        return Threads(settings.intra_op_threads, spinning=True)
    share = max(1, available_cores() // workers)
    return Threads(settings.intra_op_threads or share, spinning=False)


def solo_threads() -> Threads:
    """The solo session: an input (or batch) that runs alone gets every core, spinning
    threads included, as a bare batch-1 run would; they park as soon as the run returns, so
    they never spin against the one-thread inferences that follow under load."""
    return Threads(intra_op=available_cores(), spinning=True, stop_spinning_after_run=True)


def vision_threads(mode: BatchingMode, settings: Settings) -> Threads:
    """Every core per image, never spinning: a ViT's parallel sections are long, so threads
    woken without spinning cost little, while spinning ones take the core the event loop
    needs (hostile image flood on 2 cores, Health p99 over 50 ms in 3 of 6 runs with
    spinning, 0 of 6 without; images/s within noise)."""
    return Threads(settings.intra_op_threads, spinning=False)


def batch_tokens(providers: list[str], settings: Settings) -> int:
    """MAX_BATCH_TOKENS, or by provider. On CPU a batch gains only while it is small: once
    it holds a few hundred tokens the matrix products are already efficient, and bigger
    batches only add padding and cache misses (measured on 2 cores, texts of 8-256 tokens
    at 32 requests in flight, against one text at a time: BERT-base fp32 1.10x with 256,
    0.88x with 512, 0.84x with 2048; MiniLM 1.02x, 0.99x, 0.79x; 16-token texts lose 4%
    with 256). A GPU wants large batches."""
    if settings.max_batch_tokens:
        return settings.max_batch_tokens
    return GPU_BATCH_TOKENS if CUDA in providers else CPU_BATCH_TOKENS


def max_input_chars(max_tokens: int, settings: Settings) -> int:
    """MAX_INPUT_CHARS, or CHARS_PER_TOKEN characters per token of the model's limit."""
    return settings.max_input_chars or CHARS_PER_TOKEN * max_tokens
