"""Models, texts and the in-process baseline of the throughput bench.

The BERT-base models are generated once with random weights (real sizes, so the compute is
real; the numbers they produce are meaningless) and cached under a folder keyed by their
config. The in-process baseline uses only `tokenizers`, ONNX Runtime and numpy, never the
server's engine, so it stays a fixed yardstick while the server's scheduling changes.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import os
import shutil
import statistics
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
from onnxruntime.quantization import QuantType, quantize_dynamic
from tokenizers import Tokenizer

from nomic_serve.models.bert_graph import BertConfig, build_bert_model
from nomic_serve.models.embedded import ensure_embedded_model, model_zip_path

from ..support.weights import random_bert_weights

# Generated models and the embedded conversion, ignored by git (see throughput.py).
DEFAULT_CACHE = Path(__file__).resolve().parents[2] / ".bench-cache"
# BERT-base as published (bert-base-uncased), with the embedded model's 30522-entry vocabulary.
BASE_CONFIG = BertConfig(
    vocab_size=30522,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)
# A trivial model (2 layers, hidden 64): inference costs almost nothing, so its throughput is
# the ceiling of the serving path itself.
TINY_CONFIG = BertConfig(
    vocab_size=30522,
    hidden_size=64,
    num_hidden_layers=2,
    num_attention_heads=2,
    intermediate_size=256,
    max_position_embeddings=512,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)
BASE_SEED = 0
BASE_MAX_TOKENS = 512
# Bump when the generated folder's layout changes, so old caches are not reused.
_LAYOUT_VERSION = 1
MODEL_KEYS = ("minilm", "base-fp32", "base-int8", "tiny")
# The servers' CACHE_DIR: the embedded model's conversion, and whatever else the server caches.
SERVER_CACHE = "server-cache"


@dataclass(frozen=True)
class BenchModel:
    """One model as the bench serves it and runs it in-process."""

    key: str
    label: str
    onnx: Path  # the file both the server and the in-process baseline load
    tokenizer: Path
    max_tokens: int
    isolated: bool  # dynamic int8: batching is inexact, so the server runs inputs alone
    server_env: dict[str, str]  # TXT_MODEL etc.; empty for the embedded model


def prepare(key: str, cache: Path) -> BenchModel:
    """The model named `key`, generating or converting it into `cache` on first use."""
    if key == "minilm":
        folder = ensure_embedded_model(cache / SERVER_CACHE)
        st_config = json.loads((folder / "sentence_bert_config.json").read_text())
        # The server finds this same conversion through CACHE_DIR, without TXT_MODEL.
        return BenchModel(
            key=key,
            label="all-MiniLM-L6-v2 (embedded, fp32)",
            onnx=folder / "model.onnx",
            tokenizer=folder / "tokenizer.json",
            max_tokens=int(st_config["max_seq_length"]),
            isolated=False,
            server_env={},
        )
    if key not in MODEL_KEYS:
        raise ValueError(f"unknown model {key!r}; choose from {', '.join(MODEL_KEYS)}")
    if key == "tiny":
        folder = _generated_folder(cache, "bert-tiny", TINY_CONFIG, quantize=False)
        return BenchModel(
            key=key,
            label="BERT 2 layers x 64 random weights (fp32): the serving path's ceiling",
            onnx=folder / "model.onnx",
            tokenizer=folder / "tokenizer.json",
            max_tokens=BASE_MAX_TOKENS,
            isolated=False,
            server_env={"TXT_MODEL": str(folder / "model.onnx")},
        )
    folder = _generated_folder(cache, "bert-base", BASE_CONFIG, quantize=True)
    quantized = key == "base-int8"
    onnx_file = folder / ("model_quantized.onnx" if quantized else "model.onnx")
    return BenchModel(
        key=key,
        label=f"BERT-base random weights ({'dynamic int8' if quantized else 'fp32'})",
        onnx=onnx_file,
        tokenizer=folder / "tokenizer.json",
        max_tokens=BASE_MAX_TOKENS,
        isolated=quantized,
        server_env={"TXT_MODEL": str(onnx_file)},
    )


def _generated_folder(cache: Path, name: str, config: BertConfig, *, quantize: bool) -> Path:
    """Generates the fp32 model (+ dynamic int8 when asked) once (BERT-base: about 15 s);
    the folder's name is keyed by the config."""
    key = json.dumps(
        {"config": asdict(config), "seed": BASE_SEED, "layout": _LAYOUT_VERSION},
        sort_keys=True,
    )
    target = cache / f"{name}-{hashlib.sha256(key.encode()).hexdigest()[:12]}"
    if (target / "1_Pooling").is_dir():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache))
    try:
        print(f"generating {name} into {target} (once) ...", flush=True)
        with zipfile.ZipFile(model_zip_path()) as zf:
            (staging / "tokenizer.json").write_bytes(zf.read("tokenizer.json"))
        weights = random_bert_weights(config, seed=BASE_SEED)
        onnx.save(build_bert_model(weights, config), str(staging / "model.onnx"))
        del weights
        if quantize:
            quantize_dynamic(
                str(staging / "model.onnx"),
                str(staging / "model_quantized.onnx"),
                weight_type=QuantType.QInt8,
            )
        # What the server's profile reads: a plain BERT (mean pooling, no prefixes, 512 max).
        hf_config = {
            "_name_or_path": f"bench/{name}-random",
            "model_type": "bert",
            "hidden_size": config.hidden_size,
            "max_position_embeddings": config.max_position_embeddings,
            "vocab_size": config.vocab_size,
        }
        (staging / "config.json").write_text(json.dumps(hf_config))
        (staging / "sentence_bert_config.json").write_text(
            json.dumps({"max_seq_length": BASE_MAX_TOKENS, "do_lower_case": False})
        )
        (staging / "1_Pooling").mkdir()
        (staging / "1_Pooling" / "config.json").write_text(
            json.dumps(
                {"word_embedding_dimension": config.hidden_size, "pooling_mode_mean_tokens": True}
            )
        )
        staging.chmod(0o755)
        os.rename(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


# --- texts -------------------------------------------------------------------------------

# Token counts (special tokens included) of each workload's texts.
LENGTHS: dict[str, Callable[[np.random.Generator], int]] = {
    "short": lambda rng: 16,
    "medium": lambda rng: 128,
    "mixed": lambda rng: int(rng.integers(8, 257)),
    # Many sizes, mostly short, so a long stability run still covers the whole range.
    "varied": lambda rng: round(math.exp(rng.uniform(math.log(8), math.log(256)))),
}
LENGTH_NOTES = {
    "short": "16 tokens",
    "medium": "128 tokens",
    "mixed": "uniform 8-256 tokens",
    "varied": "log-uniform 8-256 tokens",
}


class TextMaker:
    """Unique texts of an exact token count, from words that are single vocabulary entries.

    Every text is new (random words), so an embedding cache in the server never answers
    for the model.
    """

    def __init__(self, tokenizer: Path, seed: int) -> None:
        vocab = Tokenizer.from_file(str(tokenizer)).get_vocab()
        words = sorted(w for w in vocab if w.isascii() and w.isalpha() and len(w) >= 3)
        self._words = np.array(words)
        self._rng = np.random.default_rng(seed)

    def text(self, tokens: int) -> str:
        """A text of `tokens` tokens with [CLS] and [SEP] counted."""
        return " ".join(self._rng.choice(self._words, size=max(tokens - 2, 1)))

    def stream(self, kind: str) -> Iterator[str]:
        length = LENGTHS[kind]
        while True:
            yield self.text(length(self._rng))


# --- in-process baseline ------------------------------------------------------------------


# Pause between the runs of the idle baseline: about a gRPC round trip on this machine.
IDLE_PAUSE_S = 0.002


@dataclass(frozen=True)
class BatchRun:
    """Texts/s and per-call latency of the in-process pipeline at one batch size."""

    batch: int
    texts: int
    texts_per_s: float
    call_p50_ms: float  # tokenize + session.run + pool, one batch
    run_p50_ms: float  # session.run alone, back to back
    idle_run_p50_ms: float = math.nan  # session.run after an idle pause (batch 1 only)


class InProcess:
    """The model run directly: tokenize, pad, session.run, mean pool, normalize.

    Same ORT options as the server (all graph optimizations, default intra-op threads,
    CPU), so the only differences left are the server's own costs and policies.
    """

    def __init__(self, model: BenchModel) -> None:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        options.log_severity_level = 3
        self._session = ort.InferenceSession(
            str(model.onnx), options, providers=["CPUExecutionProvider"]
        )
        self._feeds = {i.name for i in self._session.get_inputs()}
        self._tokenizer = Tokenizer.from_file(str(model.tokenizer))
        self._tokenizer.no_padding()
        self._tokenizer.enable_truncation(max_length=model.max_tokens)

    def embed(self, texts: list[str]) -> tuple[np.ndarray, float]:
        """Unit vectors for `texts` and the seconds session.run took."""
        encodings = self._tokenizer.encode_batch(texts)
        length = max(len(e.ids) for e in encodings)
        ids = np.zeros((len(texts), length), dtype=np.int64)
        mask = np.zeros_like(ids)
        for row, encoding in enumerate(encodings):
            ids[row, : len(encoding.ids)] = encoding.ids
            mask[row, : len(encoding.ids)] = 1
        feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        started = time.perf_counter()
        (hidden,) = self._session.run(None, {k: v for k, v in feeds.items() if k in self._feeds})
        run_s = time.perf_counter() - started
        weights = mask[..., None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / weights.sum(axis=1)
        return pooled / np.linalg.norm(pooled, axis=1, keepdims=True), run_s

    def measure(self, texts: Iterator[str], batch: int, seconds: float) -> BatchRun:
        """Length-sorted batches of `batch` texts for about `seconds`, after one warm-up."""
        self.embed([next(texts) for _ in range(batch)])
        calls, runs, done = [], [], 0
        started = time.perf_counter()
        deadline = started + seconds
        while not calls or time.perf_counter() < deadline:
            pool = sorted((next(texts) for _ in range(batch * 4)), key=_word_count)
            for at in range(0, len(pool), batch):
                call_started = time.perf_counter()
                _, run_s = self.embed(pool[at : at + batch])
                calls.append(time.perf_counter() - call_started)
                runs.append(run_s)
                done += batch
                if time.perf_counter() >= deadline:
                    break
        elapsed = time.perf_counter() - started
        return BatchRun(
            batch=batch,
            texts=done,
            texts_per_s=done / elapsed,
            call_p50_ms=statistics.median(calls) * 1000,
            run_p50_ms=statistics.median(runs) * 1000,
            idle_run_p50_ms=self._idle_run_p50_ms(texts, seconds / 2) if batch == 1 else math.nan,
        )

    def _idle_run_p50_ms(self, texts: Iterator[str], seconds: float) -> float:
        """One text at a time with IDLE_PAUSE_S between runs, as a server sees sequential
        requests: ORT's threads have gone quiet by the next run, so it is slower than back
        to back. Shown next to the back-to-back figure, which stays the target's baseline."""
        runs: list[float] = []
        deadline = time.perf_counter() + seconds
        while len(runs) < 20 or time.perf_counter() < deadline:
            time.sleep(IDLE_PAUSE_S)
            runs.append(self.embed([next(texts)])[1])
        return statistics.median(runs) * 1000

    def close(self) -> None:
        """Frees the session (and its threads and arena) before the server runs."""
        del self._session
        gc.collect()


def _word_count(text: str) -> int:
    return text.count(" ")
