"""Shared fixtures: tiny generated text models (never downloaded) and a clean environment.

`tiny_model` is nomic-shaped: a config.json with model_type nomic_bert, so the nomic profile
(prefixes, Matryoshka layer norm) applies, with a small vocabulary, 32 hidden units and a
64-token limit that makes truncation cheap to reach. `wide_model` has the real hidden size
(768) so every Matryoshka dimension of the model card can be checked. `quantized_model` is
`tiny_model` after onnxruntime's dynamic quantization, the kind of graph that interferes
across a batch.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from onnxruntime.quantization import QuantType, quantize_dynamic

from nomic_serve.config import ENVIRONMENT

from .support.figures import FIGURES
from .support.models import TextModelDir, build_text_model, build_vision_model
from .support.reference import reference_file


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    """Configuration comes from the environment: no test sees the developer's variables."""
    for name in ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> TextModelDir:
    folder = tmp_path_factory.mktemp("tiny")
    return build_text_model(folder, hidden=32, heads=4, layers=2, seed=7)


@pytest.fixture(scope="session")
def wide_model(tmp_path_factory: pytest.TempPathFactory) -> TextModelDir:
    folder = tmp_path_factory.mktemp("wide")
    return build_text_model(folder, hidden=768, heads=12, layers=1, seed=11)


@pytest.fixture(scope="session")
def quantized_model(
    tiny_model: TextModelDir, tmp_path_factory: pytest.TempPathFactory
) -> TextModelDir:
    folder = tmp_path_factory.mktemp("tiny-int8")
    for name in ("tokenizer.json", "config.json"):
        shutil.copy(tiny_model.folder / name, folder / name)
    model = folder / "model_quantized.onnx"
    quantize_dynamic(str(tiny_model.model), str(model), weight_type=QuantType.QInt8)
    return TextModelDir(folder=folder, model=model, tokenizer=folder / "tokenizer.json", hidden=32)


@pytest.fixture(scope="session")
def vision_model(tmp_path_factory: pytest.TempPathFactory) -> TextModelDir:
    """The tiny ViT: 224 px input, 32 px patches, 32 hidden units."""
    folder = tmp_path_factory.mktemp("vision")
    model = build_vision_model(folder)
    return TextModelDir(folder=folder, model=model, tokenizer=folder / "none", hidden=32)


@pytest.fixture(scope="session")
def embedded_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One conversion of the embedded model for the whole session (about 2 s);
    NOMIC_SERVE_TEST_CACHE keeps it across runs."""
    kept = os.environ.get("NOMIC_SERVE_TEST_CACHE")
    return Path(kept) if kept else tmp_path_factory.mktemp("embedded-cache")


@pytest.fixture(scope="session")
def oracle() -> dict:
    return json.loads(reference_file("text_oracle_minilm.json").read_text())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """The figures tests recorded (tests/support/figures.py), after the results."""
    if FIGURES:
        terminalreporter.section("figures measured by the tests")
        for text in FIGURES:
            terminalreporter.write_line(text)
