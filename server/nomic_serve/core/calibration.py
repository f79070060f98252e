"""The int8/uint8 calibration of a text model: its built-in corpus embedded once per model
and cached, or an operator's file (QUANT_RANGES).

The corpus (calibration-v1.txt: 2,008 sentences of news, science, cooking, sports, law,
finance, health and travel, questions and code, written for this project from templates and
dedicated to the public domain, see calibration-v1.LICENSE) is embedded at the native
dimension, half of it as documents and half as queries where the model has task prefixes,
straight on the session: before serving, outside the scheduler, the cache and the metrics,
which count requests only. The vectors are saved in CACHE_DIR/calibration under a hash of
the model's and tokenizer's bytes, the ONNX Runtime version and the providers (those change
the vectors), so a later start reads them instead (a seed in CACHE_SEED_DIR first).
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import time
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .engine import TextEngine
from .postprocessing import matryoshka
from .prompts import prompt_for
from .quantization import Calibration
from .types import TextItem

__all__ = ["CORPUS", "calibrate", "corpus"]

log = logging.getLogger(__name__)

CORPUS = "calibration-v1"
_PREFIXES = ("search_document", "search_query")
_BATCH = 32


def corpus() -> list[str]:
    return resources.files(__package__).joinpath(f"{CORPUS}.txt").read_text("utf-8").splitlines()


def calibrate(
    engine: TextEngine,
    model: Path,
    tokenizer: Path,
    cache_dir: Path,
    seed_dir: Path | None = None,
    ranges_file: Path | None = None,
) -> Calibration:
    """The model's calibration (blocking: run it on a thread before serving)."""
    native = engine.profile.dimension
    if ranges_file is not None:
        return Calibration.from_file(ranges_file, native)
    texts = corpus()
    detail = f"{CORPUS} ({len(texts)} sentences)"
    name = f"{_identity(model, tokenizer, engine.session.providers)}.npy"
    for folder in (seed_dir, cache_dir):
        if folder is not None and (folder / "calibration" / name).is_file():
            vectors = np.load(folder / "calibration" / name)
            if vectors.shape == (len(texts), native):
                return Calibration.from_vectors(vectors, detail)
    started = time.perf_counter()
    vectors = _embed(engine, texts)
    log.info(
        "calibrated int8 ranges",
        extra={"sentences": len(texts), "seconds": round(time.perf_counter() - started, 2)},
    )
    _save(cache_dir / "calibration", name, vectors)
    return Calibration.from_vectors(vectors, detail)


def _embed(engine: TextEngine, texts: list[str]) -> np.ndarray:
    """Native-dimension unit vectors of the corpus, as Embed would return them. A model that
    batching changes (isolated) runs one text at a time, as it is served."""
    profile, native = engine.profile, engine.profile.dimension
    items = [
        TextItem(text, _PREFIXES[i % 2], native, truncate=True) for i, text in enumerate(texts)
    ]
    prompts = [prompt_for(item, profile) for item in items]
    batch = 1 if engine.session.mode.name == "isolated" else _BATCH
    rows: list[np.ndarray] = []
    for start in range(0, len(prompts), batch):
        chunk = prompts[start : start + batch]
        encoded = engine.tokenizer.encode(chunk, [True] * len(chunk))
        rows += engine.infer(encoded, alone=True)  # nothing else runs yet: every core
    return matryoshka(np.stack(rows), native, profile.layer_norm)


def _identity(model: Path, tokenizer: Path, providers: list[str]) -> str:
    digest = hashlib.sha256()
    for path in (model, tokenizer):
        with path.open("rb") as file:
            while chunk := file.read(1 << 20):
                digest.update(chunk)
    digest.update(f"|{CORPUS}|{ort.__version__}|{providers}".encode())
    return digest.hexdigest()[:32]


def _save(folder: Path, name: str, vectors: np.ndarray) -> None:
    """Atomically (a reader never sees half a file); a CACHE_DIR that cannot be written only
    costs the next start the same work."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as file:
            np.save(file, vectors)
        os.replace(file.name, folder / name)
    except OSError as exc:
        log.warning("calibration not cached in %s: %s", folder, exc.strerror or exc)
