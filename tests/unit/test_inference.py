"""ORT sessions: graph-based batching decision, bad files, providers."""

from __future__ import annotations

import numpy as np
import onnx
import pytest

from nomic_serve.core.inference import TextSession, batching_mode
from nomic_serve.errors import ConfigError


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

    session = TextSession(quantized_model.model, use_gpu=False, intra_op_threads=1)
    tokenizer = TextTokenizer(tiny_model.tokenizer, 64)
    a, b = tokenizer.encode(["hello world the cat", "sky sea sun moon"], [True, True])
    alone = session.run(*pad_batch([a], 0))[0]
    together = session.run(*pad_batch([a, b], 0))[0]
    assert np.abs(alone - together).max() > 1e-4


def test_session_reports_real_providers_and_dimension(tiny_model) -> None:
    session = TextSession(tiny_model.model, use_gpu=True, intra_op_threads=1)
    assert session.providers[-1] == "CPUExecutionProvider"  # CPU fallback always present
    assert session.output_dimension in (None, 32)


@pytest.mark.parametrize("content", [b"", b"not an onnx model at all", b"\x08\x07" * 50])
def test_corrupt_model_is_a_config_error_naming_the_path(tmp_path, content: bytes) -> None:
    path = tmp_path / "model.onnx"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=str(path)):
        TextSession(path, use_gpu=False, intra_op_threads=1)


def test_the_optimized_graph_is_cached_and_gives_the_same_result(tiny_model, tmp_path) -> None:
    from nomic_serve.core.tokenization import TextTokenizer, pad_batch

    tokenizer = TextTokenizer(tiny_model.tokenizer, 64)
    batch = pad_batch(tokenizer.encode(["the cat and the dog"], [True]), 0)
    plain = TextSession(tiny_model.model, use_gpu=False, intra_op_threads=1).run(*batch)
    first = TextSession(
        tiny_model.model, use_gpu=False, intra_op_threads=1, optimized_cache=tmp_path
    )
    (cached,) = (tmp_path / "optimized").glob("model-*.onnx")
    assert not list((tmp_path / "optimized").glob("*.tmp"))
    again = TextSession(
        tiny_model.model, use_gpu=False, intra_op_threads=1, optimized_cache=tmp_path
    )
    np.testing.assert_allclose(first.run(*batch), plain, atol=1e-6)
    np.testing.assert_allclose(again.run(*batch), plain, atol=1e-6)
    cached.write_bytes(b"damaged")
    repaired = TextSession(
        tiny_model.model, use_gpu=False, intra_op_threads=1, optimized_cache=tmp_path
    )
    np.testing.assert_allclose(repaired.run(*batch), plain, atol=1e-6)
    assert cached.stat().st_size > 100  # rebuilt
