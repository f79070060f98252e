"""The int8/uint8 calibration of a text model: its built-in corpus embedded once per model
and cached, or an operator's file (QUANT_RANGES).

The corpus (calibration-v1.txt: 2,008 sentences of news, science, cooking, sports, law,
finance, health and travel, questions and code, written for this project from templates and
dedicated to the public domain, see calibration-v1.LICENSE) is embedded at the native
dimension, half of it as documents and half as queries where the model has task prefixes,
straight on the session: before serving, outside the scheduler, the cache and the metrics,
which count requests only. The vectors are saved in CACHE_DIR/calibration under a hash of
the model's and tokenizer's bytes, the ONNX Runtime version and the providers (those change
the vectors), so a later start reads them instead (a seed in CACHE_SEED_DIR first). Each
file's digest is remembered too, so a restart reads no model byte to find its vectors.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import IO

import numpy as np
import onnxruntime as ort

from .engine import TextEngine
from .inference import file_version
from .postprocessing import matryoshka
from .prompts import prompt_for
from .quantization import Calibration
from .types import TextItem

__all__ = ["CORPUS", "calibrate", "corpus"]

log = logging.getLogger(__name__)

CORPUS = "calibration-v1"
_PREFIXES = ("search_document", "search_query")
_BATCH = 32
_SHA256 = re.compile("[0-9a-f]{64}")


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
    folders = (seed_dir, cache_dir)
    name = f"{_identity(model, tokenizer, engine.session.providers, folders)}.npy"
    for folder in folders:
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
    _save(cache_dir / "calibration", name, lambda file: np.save(file, vectors))
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


def _identity(
    model: Path, tokenizer: Path, providers: list[str], folders: tuple[Path | None, Path]
) -> str:
    digest = hashlib.sha256()
    for path in (model, tokenizer):
        digest.update(_content_sha256(path, folders).encode())
    digest.update(f"|{CORPUS}|{ort.__version__}|{providers}".encode())
    return digest.hexdigest()[:32]


def _content_sha256(path: Path, folders: tuple[Path | None, Path]) -> str:
    """The file's sha256, remembered in calibration/digests under its path, size and mtime
    (`file_version`, as the optimized-graph cache): a restart then reads no model byte for
    this (hashing a 550 MB model took about 0.5 s at every start). A remembered digest is
    looked up in the seed folder, then the cache folder; a new one is saved in the cache
    folder."""
    memo = hashlib.sha256(file_version(path).encode()).hexdigest()[:32]
    for place in folders:
        if place is not None:
            with contextlib.suppress(OSError, UnicodeDecodeError):
                remembered = (place / "calibration" / "digests" / memo).read_text("ascii")
                if _SHA256.fullmatch(remembered):
                    return remembered
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            digest.update(chunk)
    content = digest.hexdigest()
    folder = folders[1] / "calibration" / "digests"
    _save(folder, memo, lambda file: file.write(content.encode()), warn=False)
    return content


def _save(
    folder: Path, name: str, write: Callable[[IO[bytes]], object], *, warn: bool = True
) -> None:
    """Atomically (a reader never sees half a file); a CACHE_DIR that cannot be written only
    costs the next start the same work (said once, for the vectors, not for each digest)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, suffix=".tmp", delete=False) as file:
            write(file)
        os.replace(file.name, folder / name)
    except OSError as exc:
        level = logging.WARNING if warn else logging.DEBUG
        log.log(level, "calibration not cached in %s: %s", folder, exc.strerror or exc)
