"""Which text model is served: TXT_MODEL, the default files, or the embedded model."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from nomic_serve.config import Settings
from nomic_serve.core import policy
from nomic_serve.core.workpool import WorkPool
from nomic_serve.errors import ConfigError, EmbeddedModelUnavailable, ModelMissing
from nomic_serve.models import loader
from nomic_serve.models.loader import load_text_model, resolve_text_files


def test_explicit_model_that_is_missing_is_fatal(tmp_path: Path) -> None:
    settings = Settings.from_env({"TXT_MODEL": str(tmp_path / "nope.onnx")})
    with pytest.raises(ConfigError, match=f"TXT_MODEL {tmp_path / 'nope.onnx'}: no such file"):
        resolve_text_files(settings)


def test_explicit_model_finds_its_tokenizer_beside_it(tiny_model) -> None:
    files = resolve_text_files(Settings.from_env({"TXT_MODEL": str(tiny_model.model)}))
    assert files.tokenizer == tiny_model.tokenizer and files.source == "file"


def test_default_files_are_used_when_present(tmp_path: Path, tiny_model, monkeypatch) -> None:
    shutil.copytree(tiny_model.folder, tmp_path / "models" / "txt")
    (tmp_path / "models/txt/model.onnx").rename(tmp_path / "models/txt/model_quantized.onnx")
    monkeypatch.chdir(tmp_path)
    files = resolve_text_files(Settings.from_env({}))
    assert files.model == Path("models/txt/model_quantized.onnx") and files.source == "file"


def test_embedded_model_when_nothing_else(tmp_path: Path, monkeypatch, embedded_cache) -> None:
    monkeypatch.chdir(tmp_path)
    files = resolve_text_files(Settings(cache_dir=embedded_cache))
    assert files.source == "embedded" and files.model.is_file() and files.tokenizer.is_file()


def test_no_model_at_all_is_model_missing(tmp_path: Path, monkeypatch) -> None:
    def unavailable(cache_dir: Path, seed_dir: Path | None) -> Path:
        raise EmbeddedModelUnavailable("all_minilm_l6_v2 is not installed")

    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(loader, "ensure_embedded_model", unavailable)
    with pytest.raises(ModelMissing, match=r"run `make models`.*not installed"):
        resolve_text_files(Settings(cache_dir=tmp_path))


def test_missing_tokenizer_is_fatal_and_named(tiny_model, tmp_path: Path) -> None:
    files = loader.TextModelFiles(tiny_model.model, tmp_path / "tokenizer.json", "file")
    with pytest.raises(ConfigError, match=r"TOKENIZER .*no such"):
        load_text_model(files, Settings(), WorkPool("tokenize", 1, 1), None)


def test_the_batch_token_budget_follows_the_provider_unless_set() -> None:
    cpu, cuda = ["CPUExecutionProvider"], ["CUDAExecutionProvider", "CPUExecutionProvider"]
    assert policy.batch_tokens(cpu, Settings()) == policy.CPU_BATCH_TOKENS == 256
    assert policy.batch_tokens(cuda, Settings()) == policy.GPU_BATCH_TOKENS
    assert policy.batch_tokens(cpu, Settings(max_batch_tokens=1000)) == 1000


def test_isolated_models_get_one_thread_per_worker_and_a_solo_session(quantized_model) -> None:
    settings = Settings()
    files = loader.TextModelFiles(quantized_model.model, quantized_model.tokenizer, "file")
    pool = WorkPool("tokenize", 1, 1)
    engine = load_text_model(files, settings, pool, None).engine
    workers = engine.scheduler.limits.workers
    assert workers == policy.available_cores()
    assert engine.session.threads.intra_op == max(1, policy.available_cores() // workers)
    assert not engine.session.threads.spinning
    assert engine.solo_session is not None and engine.solo_session.threads.spinning
    off = load_text_model(files, replace(settings, solo_session=False), pool, None).engine
    assert off.solo_session is None
