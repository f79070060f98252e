"""The hand-built ViT graph against an independent numpy forward pass."""

from __future__ import annotations

import math

import numpy as np
import onnx
import onnxruntime as ort
import pytest

from ..support.vit_graph import VitConfig, build_vit_model
from ..support.weights import random_vit_weights

TINY = VitConfig(
    image_size=32,
    patch_size=8,
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=64,
)
TOL = 1e-5
_erf = np.vectorize(math.erf)


@pytest.fixture(scope="module")
def weights() -> dict[str, np.ndarray]:
    return random_vit_weights(TINY, seed=4321)


@pytest.fixture(scope="module")
def session(weights: dict[str, np.ndarray]) -> ort.InferenceSession:
    model = build_vit_model(weights, TINY)
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])


def _images(count: int, seed: int) -> np.ndarray:
    """CLIP-normalized-looking pixels: roughly zero mean, unit spread."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((count, 3, TINY.image_size, TINY.image_size)).astype(np.float32)


def _run(sess: ort.InferenceSession, pixels: np.ndarray) -> np.ndarray:
    return sess.run(["last_hidden_state"], {"pixel_values": pixels})[0]


def _numpy_vit(w: dict[str, np.ndarray], cfg: VitConfig, pixels: np.ndarray) -> np.ndarray:
    """Reference ViT forward in float64, written from the paper/HF code, not from the graph:
    patches are cut out with reshapes and projected by a matrix product, not a convolution."""
    w = {k: v.astype(np.float64) for k, v in w.items()}
    n, c, side, _ = pixels.shape
    p, g = cfg.patch_size, side // cfg.patch_size
    nh, hd = cfg.num_attention_heads, cfg.head_dim

    def dense(t: np.ndarray, name: str) -> np.ndarray:
        return t @ w[f"{name}.weight"].T + w[f"{name}.bias"]

    def norm(t: np.ndarray, name: str) -> np.ndarray:
        mean = t.mean(-1, keepdims=True)
        var = ((t - mean) ** 2).mean(-1, keepdims=True)
        scaled = (t - mean) / np.sqrt(var + cfg.layer_norm_eps)
        return scaled * w[f"{name}.weight"] + w[f"{name}.bias"]

    def heads(t: np.ndarray) -> np.ndarray:
        return t.reshape(n, -1, nh, hd).transpose(0, 2, 1, 3)

    patches = pixels.astype(np.float64).reshape(n, c, g, p, g, p).transpose(0, 2, 4, 1, 3, 5)
    projection = w["embeddings.patch_embeddings.projection.weight"].reshape(cfg.hidden_size, -1)
    tokens = patches.reshape(n, g * g, -1) @ projection.T
    tokens += w["embeddings.patch_embeddings.projection.bias"]
    cls = np.broadcast_to(w["embeddings.cls_token"], (n, 1, cfg.hidden_size))
    x = np.concatenate([cls, tokens], axis=1) + w["embeddings.position_embeddings"]
    for layer in range(cfg.num_hidden_layers):
        at = f"encoder.layer.{layer}"
        h = norm(x, f"{at}.layernorm_before")
        q, k, v = (
            heads(dense(h, f"{at}.attention.attention.{m}")) for m in ("query", "key", "value")
        )
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(hd)
        probs = np.exp(scores - scores.max(-1, keepdims=True))
        probs /= probs.sum(-1, keepdims=True)
        ctx = (probs @ v).transpose(0, 2, 1, 3).reshape(x.shape)
        x = x + dense(ctx, f"{at}.attention.output.dense")
        h = dense(norm(x, f"{at}.layernorm_after"), f"{at}.intermediate.dense")
        h = 0.5 * h * (1.0 + _erf(h / math.sqrt(2.0)))
        x = x + dense(h, f"{at}.output.dense")
    return norm(x, "layernorm")


def test_matches_numpy_reference(
    session: ort.InferenceSession, weights: dict[str, np.ndarray]
) -> None:
    pixels = _images(3, seed=0)
    got = _run(session, pixels)
    expected = _numpy_vit(weights, TINY, pixels)
    assert np.abs(got - expected).max() <= TOL


def test_signature_is_dynamic_batch_float_in_float_out(session: ort.InferenceSession) -> None:
    (pixels,) = session.get_inputs()
    assert (pixels.name, pixels.type, pixels.shape) == (
        "pixel_values",
        "tensor(float)",
        ["batch", 3, TINY.image_size, TINY.image_size],
    )
    (out,) = session.get_outputs()
    tokens = 1 + (TINY.image_size // TINY.patch_size) ** 2
    assert (out.name, out.type, out.shape) == (
        "last_hidden_state",
        "tensor(float)",
        ["batch", tokens, TINY.hidden_size],
    )
    for batch in (1, 2, 7):
        got = _run(session, _images(batch, seed=batch))
        assert got.shape == (batch, tokens, TINY.hidden_size)
        assert got.dtype == np.float32


def test_batch_equals_images_alone(session: ort.InferenceSession) -> None:
    pixels = _images(5, seed=9)
    batched = _run(session, pixels)
    for row in range(len(pixels)):
        alone = _run(session, pixels[row : row + 1])
        assert np.abs(batched[row] - alone[0]).max() <= TOL


def test_default_config_is_vit_base_at_224() -> None:
    config = VitConfig()
    assert (config.image_size, config.patch_size, config.sequence_length) == (224, 16, 197)
    assert (config.hidden_size, config.num_hidden_layers, config.head_dim) == (768, 12, 64)


def test_rejects_missing_or_misshaped_weights(weights: dict[str, np.ndarray]) -> None:
    missing = {k: v for k, v in weights.items() if "layer.1.output.dense" not in k}
    with pytest.raises(KeyError, match="missing 2 ViT weights"):
        build_vit_model(missing, TINY)
    wrong = dict(weights)
    wrong["embeddings.position_embeddings"] = np.zeros((1, 10, 32), dtype=np.float32)
    with pytest.raises(ValueError, match="position_embeddings"):
        build_vit_model(wrong, TINY)


@pytest.mark.parametrize(
    "override", [{"image_size": 30}, {"num_attention_heads": 5}], ids=["patch", "heads"]
)
def test_config_refuses_sizes_that_do_not_divide(override: dict[str, int]) -> None:
    fields = {"image_size": 32, "patch_size": 8, "hidden_size": 32, "num_attention_heads": 4}
    with pytest.raises(ValueError, match="not divisible"):
        VitConfig(**{**fields, **override})


def test_model_passes_onnx_checker(weights: dict[str, np.ndarray]) -> None:
    model = build_vit_model(weights, TINY)
    onnx.checker.check_model(model, full_check=True)
    assert model.opset_import[0].version == 17
