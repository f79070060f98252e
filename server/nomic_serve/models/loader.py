"""Decides which text model to serve and loads it.

Order: TXT_MODEL (or MODEL) when set, which must load or the server refuses to start;
else the default files from `make models`; else the embedded model that installs from
PyPI. When none of them is there, the server still starts and answers text RPCs with
UNAVAILABLE naming what is missing.
"""

from __future__ import annotations

import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from ..config import Settings
from ..core.cache import EmbeddingCache
from ..core.engine import TextEngine
from ..core.image_engine import ImageEngine
from ..core.inference import (
    CPU,
    CUDA,
    BatchingMode,
    TextSession,
    Threads,
    VisionSession,
    read_batching_mode,
)
from ..core.scheduler import BatchLimits
from ..core.tokenization import TextTokenizer
from ..errors import ConfigError
from .embedded import EmbeddedModelUnavailable, ensure_embedded_model
from .profile import clip_config, text_profile, vision_profile

__all__ = [
    "LoadedTextModel",
    "ModelMissing",
    "TextModelFiles",
    "load_text_model",
    "load_vision_model",
    "resolve_text_files",
    "resolve_vision_file",
]

log = logging.getLogger(__name__)

EMBEDDED_NAME = "sentence-transformers/all-MiniLM-L6-v2"
# Padded tokens per batch when MAX_BATCH_TOKENS is 0 (see batch_tokens).
CPU_BATCH_TOKENS = 256
GPU_BATCH_TOKENS = 16384


class ModelMissing(ConfigError):
    """No model files were configured and none could be found: serve without this model."""


@dataclass(frozen=True)
class TextModelFiles:
    """Where the served text model comes from."""

    model: Path
    tokenizer: Path
    source: str  # "file" or "embedded"
    name: str | None = None  # known name, else the profile decides


@dataclass(frozen=True)
class LoadedTextModel:
    """A ready text engine and the files it was built from."""

    engine: TextEngine
    files: TextModelFiles


def resolve_text_files(settings: Settings) -> TextModelFiles:
    """Picks the model files. Raises ModelMissing when there are none to pick, ConfigError
    when TXT_MODEL names a file that is not there."""
    if settings.txt_model_explicit:
        if not settings.txt_model.is_file():
            raise ConfigError(f"TXT_MODEL {settings.txt_model}: no such file")
        return TextModelFiles(settings.txt_model, _tokenizer_for(settings), "file")
    if settings.txt_model.is_file():
        return TextModelFiles(settings.txt_model, _tokenizer_for(settings), "file")
    try:
        folder = ensure_embedded_model(settings.cache_dir)
    except EmbeddedModelUnavailable as exc:
        raise ModelMissing(
            f"no text model is loaded: {settings.txt_model} not found (run `make models`) and the "
            f"embedded model is unavailable ({exc})"
        ) from None
    log.info("serving the embedded model %s from %s", EMBEDDED_NAME, folder)
    return TextModelFiles(
        folder / "model.onnx", folder / "tokenizer.json", "embedded", EMBEDDED_NAME
    )


def load_text_model(
    files: TextModelFiles, settings: Settings, tokenize_pool: ThreadPoolExecutor
) -> LoadedTextModel:
    """Builds session, profile, tokenizer, scheduler and engine; ConfigError names the bad
    file."""
    if not files.tokenizer.is_file():
        raise ConfigError(f"TOKENIZER {files.tokenizer}: no such file")
    mode = read_batching_mode(files.model)
    workers = inference_workers(mode.batched, settings)
    session = TextSession(
        files.model,
        mode=mode,
        threads=text_threads(mode, workers, settings),
        use_gpu=settings.use_gpu,
        optimized_cache=settings.cache_dir,
    )
    solo = None
    if not mode.batched and settings.solo_session and session.providers == [CPU]:
        solo = TextSession(
            files.model,
            mode=mode,
            threads=solo_threads(),
            use_gpu=False,
            optimized_cache=settings.cache_dir,
        )
    profile = text_profile(
        files.model, settings, output_dimension=session.output_dimension, name=files.name
    )
    tokenizer = TextTokenizer(files.tokenizer, profile.max_tokens)
    engine = TextEngine(
        session=session,
        solo_session=solo,
        tokenizer=tokenizer,
        profile=profile,
        limits=BatchLimits(
            batched=mode.batched,
            workers=workers,
            max_queued=settings.max_pending_items,
            max_batch_size=settings.max_batch_size,
            max_batch_tokens=batch_tokens(session.providers, settings),
            max_padding_ratio=settings.max_padding_ratio,
            batch_wait_s=settings.batch_wait_ms / 1000,
        ),
        tokenize_pool=tokenize_pool,
        cache=EmbeddingCache(settings.cache_bytes),
    )
    return LoadedTextModel(engine=engine, files=files)


def _tokenizer_for(settings: Settings) -> Path:
    """TOKENIZER when set; else a tokenizer.json beside the model (or one folder up, as in
    Hugging Face's onnx/ layout); else the default path."""
    if settings.tokenizer_explicit:
        return settings.tokenizer
    for folder in (settings.txt_model.parent, settings.txt_model.parent.parent):
        if (folder / "tokenizer.json").is_file():
            return folder / "tokenizer.json"
    return settings.tokenizer


def resolve_vision_file(settings: Settings) -> Path:
    """IMG_MODEL; raises ConfigError when it was set and is missing, ModelMissing when the
    default file is absent (no vision model ships with the package)."""
    if settings.img_model.is_file():
        return settings.img_model
    if settings.img_model_explicit:
        raise ConfigError(f"IMG_MODEL {settings.img_model}: no such file")
    raise ModelMissing(
        f"no vision model is loaded: {settings.img_model} not found (run `make models`)"
    )


def load_vision_model(path: Path, settings: Settings) -> ImageEngine:
    """Builds the vision session, profile and preprocessing; ConfigError names the bad file."""
    mode = read_batching_mode(path)
    workers = inference_workers(mode.batched, settings)
    session = VisionSession(
        path,
        mode=mode,
        # Every core per image, as before the text rule: a ViT's parallel sections are long,
        # so threads woken without spinning cost little, and a lone image keeps every core.
        threads=Threads(settings.intra_op_threads, spinning=mode.batched),
        use_gpu=settings.use_gpu,
        optimized_cache=settings.cache_dir,
    )
    return ImageEngine(
        session=session,
        profile=vision_profile(path, output_dimension=session.output_dimension),
        clip=clip_config(path),
        pool=ThreadPoolExecutor(workers, thread_name_prefix="vision"),
    )


def inference_workers(batched: bool, settings: Settings) -> int:
    """INFERENCE_WORKERS, or by mode: one batch at a time using every core, or one isolated
    input per core."""
    return settings.inference_workers or (1 if batched else available_cores())


def text_threads(mode: BatchingMode, workers: int, settings: Settings) -> Threads:
    """A text session's threads. Batched: one batch at a time on every core, threads spinning
    between an inference's parallel sections (the fastest on CPU). Isolated: `workers`
    inferences at once, each on its share of the cores and never spinning, or they would
    burn each other's cores idle (measured on 2 cores, BERT-base int8, 16 tokens: 2 x 1
    thread 99-108 texts/s, 2 x 2 threads without spinning 87, one at a time with 2 spinning
    threads 77-96)."""
    if mode.batched:
        return Threads(settings.intra_op_threads, spinning=True)
    share = max(1, available_cores() // workers)
    return Threads(settings.intra_op_threads or share, spinning=False)


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


def solo_threads() -> Threads:
    """An isolated model's solo session: a text that runs alone gets every core, spinning
    threads included, as a bare batch-1 run would; they park as soon as the run returns, so
    they never spin against the one-thread inferences that follow under load."""
    return Threads(intra_op=available_cores(), spinning=True, stop_spinning_after_run=True)


def available_cores() -> int:
    """Cores this process may run on (its CPU affinity, as a container's cpuset sets it)."""
    return len(os.sched_getaffinity(0)) or 1
