"""ORT sessions: graph-based batching decision, bad files, providers."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from nomic_serve.core.inference import (
    TextSession,
    Threads,
    batching_mode,
    optimized_graph_cache,
    read_batching_mode,
)
from nomic_serve.errors import ConfigError

ONE_THREAD = Threads(intra_op=1, spinning=False)


def _session(path, threads: Threads = ONE_THREAD, **options) -> TextSession:
    options.setdefault("use_gpu", False)
    return TextSession(path, mode=read_batching_mode(path), threads=threads, **options)


def test_fp32_graph_batches(tiny_model) -> None:
    mode = batching_mode(onnx.load(str(tiny_model.model)))
    assert mode.batched and mode.name == "batched"


def test_dynamically_quantized_graph_runs_isolated(quantized_model) -> None:
    mode = batching_mode(onnx.load(str(quantized_model.model)))
    assert not mode.batched and mode.name == "isolated"
    assert "DynamicQuantizeLinear" in mode.reason


def test_quantized_model_really_interferes_across_a_batch(quantized_model, tiny_model) -> None:
    """The original server's finding, reproduced: batching changes an int8 embedding."""
    from nomic_serve.core.tokenization import TextTokenizer, pad_batch

    session = _session(quantized_model.model)
    tokenizer = TextTokenizer(tiny_model.tokenizer, 64)
    a, b = tokenizer.encode(["hello world the cat", "sky sea sun moon"], [True, True])
    alone = session.run(*pad_batch([a], 0))[0]
    together = session.run(*pad_batch([a, b], 0))[0]
    assert np.abs(alone - together).max() > 1e-4


def test_session_reports_real_providers_and_dimension(tiny_model) -> None:
    session = _session(tiny_model.model, use_gpu=True)
    assert session.providers[-1] == "CPUExecutionProvider"  # CPU fallback always present
    assert session.output_dimension in (None, 32)


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all", b"\x08\x07" * 50])
def test_corrupt_model_is_a_config_error_naming_the_path(tmp_path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=str(path)):
        _session(path)


def test_the_optimized_graph_is_cached_and_gives_the_same_result(tiny_model, tmp_path) -> None:
    from nomic_serve.core.tokenization import TextTokenizer, pad_batch

    tokenizer = TextTokenizer(tiny_model.tokenizer, 64)
    batch = pad_batch(tokenizer.encode(["the cat and the dog"], [True]), 0)
    plain = _session(tiny_model.model).run(*batch)
    cache = optimized_graph_cache(tmp_path)
    folder = tmp_path / "optimized"
    assert cache.folder == folder
    first = _session(tiny_model.model, optimized_cache=cache)
    (cached,) = folder.glob("model-*.onnx")
    assert not list(folder.glob("*.tmp"))
    again = _session(tiny_model.model, optimized_cache=cache)
    np.testing.assert_allclose(first.run(*batch), plain, atol=1e-6)
    np.testing.assert_allclose(again.run(*batch), plain, atol=1e-6)
    cached.write_bytes(b"damaged")
    repaired = _session(tiny_model.model, optimized_cache=cache)
    np.testing.assert_allclose(repaired.run(*batch), plain, atol=1e-6)
    assert cached.stat().st_size > 100  # rebuilt


def test_an_unwritable_cache_dir_warns_once_and_runs_without_the_cache(
    tiny_model, tmp_path, caplog
) -> None:
    """The optimized-graph cache only saves start-up time: a read-only CACHE_DIR (here a
    file where the folder should be) must not stop the server."""
    blocked = tmp_path / "cache"
    blocked.write_text("a file, not a folder")
    cache = optimized_graph_cache(blocked)
    assert cache.folder is None
    assert [r.levelname for r in caplog.records] == ["WARNING"]
    assert "optimized graphs are not saved" in caplog.records[0].getMessage()
    session = _session(tiny_model.model, optimized_cache=cache)
    assert session.providers == ["CPUExecutionProvider"]


def test_a_read_only_seed_is_used_and_never_written(tiny_model, tmp_path, monkeypatch) -> None:
    """CACHE_SEED_DIR, baked into an image: its graph is loaded as it is (no optimization
    pass), and a damaged seed entry is rebuilt into CACHE_DIR, never written in the seed."""
    from nomic_serve.core import inference
    from nomic_serve.core.tokenization import TextTokenizer, pad_batch

    tokenizer = TextTokenizer(tiny_model.tokenizer, 64)
    batch = pad_batch(tokenizer.encode(["the cat and the dog"], [True]), 0)
    plain = _session(tiny_model.model).run(*batch)
    _session(tiny_model.model, optimized_cache=optimized_graph_cache(tmp_path / "seed"))
    (baked,) = (tmp_path / "seed" / "optimized").glob("model-*.onnx")
    (tmp_path / "seed").chmod(0o555)
    cache = optimized_graph_cache(tmp_path / "cache", tmp_path / "seed")
    loaded: list[str] = []
    real = inference.ort.InferenceSession
    monkeypatch.setattr(
        inference.ort,
        "InferenceSession",
        lambda path, *a, **k: loaded.append(path) or real(path, *a, **k),
    )
    seeded = _session(tiny_model.model, optimized_cache=cache)
    assert loaded == [str(baked)]
    np.testing.assert_allclose(seeded.run(*batch), plain, atol=1e-6)
    assert not list((tmp_path / "cache" / "optimized").iterdir())
    (tmp_path / "seed").chmod(0o755)
    baked.write_bytes(b"damaged")
    repaired = _session(tiny_model.model, optimized_cache=cache)
    np.testing.assert_allclose(repaired.run(*batch), plain, atol=1e-6)
    assert baked.read_bytes() == b"damaged"
    assert len(list((tmp_path / "cache" / "optimized").glob("model-*.onnx"))) == 1


def test_thread_settings_do_not_change_an_isolated_embedding(quantized_model, tiny_model) -> None:
    """The solo session (every core, spinning) and the one-thread session of an isolated
    model give bit-identical results, so it never matters which one served a text."""
    from nomic_serve.core.tokenization import TextTokenizer, pad_batch

    narrow = _session(quantized_model.model)
    solo = _session(quantized_model.model, Threads(0, spinning=True, stop_spinning_after_run=True))
    tokenizer = TextTokenizer(tiny_model.tokenizer, 64)
    texts = ["hello", "the cat sat on the mat with the dog " * 4, "sky sea sun moon"]
    for encoded in tokenizer.encode(texts, [True] * len(texts)):
        batch = pad_batch([encoded], 0)
        np.testing.assert_array_equal(narrow.run(*batch), solo.run(*batch))


def test_every_session_uses_the_one_shared_cpu_arena(tiny_model) -> None:
    """A per-session arena keeps its largest batch's memory for good; the process registers
    one arena that grows by what is asked, and every session (the solo one too) uses it."""
    sessions = [_session(tiny_model.model), _session(tiny_model.model, Threads(2, True))]
    for session in sessions:
        options = session._session.get_session_options()
        assert options.get_session_config_entry("session.use_env_allocators") == "1"
