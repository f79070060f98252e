"""The hand-built BERT graph against an independent numpy forward pass."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from nomic_serve.models.bert_graph import BertConfig, build_bert_model

from ..support.weights import random_bert_weights

TINY = BertConfig(
    vocab_size=64,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
    max_position_embeddings=40,
    type_vocab_size=2,
    layer_norm_eps=1e-12,
)
TOL = 1e-5
_erf = np.vectorize(math.erf)


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return random_bert_weights(TINY, seed=1234)


@pytest.fixture(scope="module")
def session(weights: dict[str, np.ndarray]) -> ort.InferenceSession:
    model = build_bert_model(weights, TINY)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _run(sess: ort.InferenceSession, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
    return sess.run(["last_hidden_state"], feeds)[0]


def _numpy_bert(
    w: dict[str, np.ndarray], cfg: BertConfig, ids: np.ndarray, mask: np.ndarray, types: np.ndarray
) -> np.ndarray:
    """Reference BERT forward in float64, written from the paper/HF code, not from the graph."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    seq = ids.shape[1]
    nh, hd = cfg.num_attention_heads, cfg.head_dim

    def dense(t: np.ndarray, name: str) -> np.ndarray:
        return t @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    def norm(t: np.ndarray, name: str) -> np.ndarray:
        mean = t.mean(-1, keepdims=True)
        var = ((t - mean) ** 2).mean(-1, keepdims=True)
        return (t - mean) / np.sqrt(var + cfg.layer_norm_eps) * w[f"{name}.weight"] + w[
            f"{name}.bias"
        ]

    def heads(t: np.ndarray) -> np.ndarray:
        return t.reshape(t.shape[0], seq, nh, hd).transpose(0, 2, 1, 3)

    x = (
        w["embeddings.word_embeddings.weight"][ids]
        + w["embeddings.position_embeddings.weight"][np.arange(seq)][None]
        + w["embeddings.token_type_embeddings.weight"][types]
    )
    x = norm(x, "embeddings.LayerNorm")
    bias = np.where(mask[:, None, None, :] == 1, 0.0, -np.inf)
    for n in range(cfg.num_hidden_layers):
        p = f"encoder.layer.{n}"
        q, k, v = (heads(dense(x, f"{p}.attention.self.{m}")) for m in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd) + bias
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(x.shape)
        x = norm(dense(ctx, f"{p}.attention.output.dense") + x, f"{p}.attention.output.LayerNorm")
        h = dense(x, f"{p}.intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
        x = norm(dense(h, f"{p}.output.dense") + x, f"{p}.output.LayerNorm")
    return x


def test_matches_numpy_reference(weights: dict[str, np.ndarray]) -> None:
    rng = np.random.default_rng(0)
    ids = rng.integers(0, TINY.vocab_size, size=(3, 11), dtype=np.int64)
    types = rng.integers(0, TINY.type_vocab_size, size=ids.shape, dtype=np.int64)
    mask = np.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 2:] = 0
    model = build_bert_model(weights, TINY)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {"input_ids": ids, "attention_mask": mask, "token_type_ids": types}
    got = sess.run(None, feeds)[0]
    expected = _numpy_bert(weights, TINY, ids, mask, types)
    assert np.abs(got - expected).max() <= TOL


def test_signature_is_dynamic_int64_in_float_out(session: ort.InferenceSession) -> None:
    inputs = {i.name: i for i in session.get_inputs()}
    assert list(inputs) == ["input_ids", "attention_mask", "token_type_ids"]
    for i in inputs.values():
        assert i.type == "tensor(int64)"
        assert i.shape == ["batch", "sequence"]
    (out,) = session.get_outputs()
    assert (out.name, out.type, out.shape) == (
        "last_hidden_state",
        "tensor(float)",
        ["batch", "sequence", TINY.hidden_size],
    )
    for batch, seq in [(1, 1), (2, 5), (5, TINY.max_position_embeddings)]:
        ids = np.ones((batch, seq), dtype=np.int64)
        got = _run(session, ids, np.ones_like(ids))
        assert got.shape == (batch, seq, TINY.hidden_size)
        assert got.dtype == np.float32


def test_padded_batch_equals_items_alone(session: ort.InferenceSession) -> None:
    rng = np.random.default_rng(7)
    lengths = [13, 4]
    items = [rng.integers(1, TINY.vocab_size, size=(1, n), dtype=np.int64) for n in lengths]
    ids = np.zeros((2, max(lengths)), dtype=np.int64)
    mask = np.zeros_like(ids)
    for row, (item, n) in enumerate(zip(items, lengths, strict=True)):
        ids[row, :n] = item[0]
        mask[row, :n] = 1
    batched = _run(session, ids, mask)
    for row, (item, n) in enumerate(zip(items, lengths, strict=True)):
        alone = _run(session, item, np.ones_like(item))
        assert np.abs(batched[row, :n] - alone[0]).max() <= TOL


def test_accepts_bert_prefix_and_ignores_pooler(weights: dict[str, np.ndarray]) -> None:
    prefixed = {f"bert.{k}": v for k, v in weights.items()}
    prefixed["bert.pooler.dense.weight"] = np.zeros((32, 32), dtype=np.float32)
    prefixed["bert.embeddings.position_ids"] = np.arange(40, dtype=np.int64)[None]
    plain = build_bert_model(weights, TINY)
    assert build_bert_model(prefixed, TINY).graph == plain.graph


def test_rejects_missing_or_misshaped_weights(weights: dict[str, np.ndarray]) -> None:
    missing = {k: v for k, v in weights.items() if "layer.1.output.dense" not in k}
    with pytest.raises(KeyError, match="missing 2 BERT weights"):
        build_bert_model(missing, TINY)
    wrong = dict(weights)
    wrong["embeddings.word_embeddings.weight"] = np.zeros((10, 32), dtype=np.float32)
    with pytest.raises(ValueError, match="word_embeddings"):
        build_bert_model(wrong, TINY)


def test_model_passes_onnx_checker(weights: dict[str, np.ndarray]) -> None:
    model = build_bert_model(weights, TINY)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17


HF_CONFIG = {
    "vocab_size": 64,
    "hidden_size": 32,
    "num_hidden_layers": 2,
    "num_attention_heads": 4,
    "intermediate_size": 64,
    "max_position_embeddings": 40,
    "type_vocab_size": 2,
    "layer_norm_eps": 1e-12,
    "hidden_act": "gelu",
    "model_type": "bert",
}


def test_config_from_hf_dict() -> None:
    assert BertConfig.from_hf_config(HF_CONFIG) == TINY


@pytest.mark.parametrize(
    "override",
    [
        {"hidden_act": "gelu_new"},
        {"hidden_act": "relu"},
        {"position_embedding_type": "relative_key"},
        {"num_attention_heads": 5},
    ],
)
def test_config_refuses_unsupported_variants(override: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        BertConfig.from_hf_config({**HF_CONFIG, **override})
