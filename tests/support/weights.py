"""Seeded random weights for the generated test and benchmark encoders."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from nomic_serve.models.bert_graph import BertConfig, expected_weight_shapes

from .vit_graph import VitConfig
from .vit_graph import expected_weight_shapes as vit_weight_shapes

__all__ = ["random_bert_weights", "random_vit_weights", "random_weights"]


def random_weights(
    shapes: Mapping[str, tuple[int, ...]], seed: int, is_norm_scale: Callable[[str], bool]
) -> dict[str, np.ndarray]:
    """Seeded weights of the given shapes (std 0.02; layer-norm scales near 1, small biases),
    so tests and benchmarks build realistic encoders without any download."""
    rng = np.random.default_rng(seed)
    weights: dict[str, np.ndarray] = {}
    for name, shape in shapes.items():
        if is_norm_scale(name):
            values = 1.0 + 0.02 * rng.standard_normal(shape)
        elif name.endswith("bias"):
            values = 0.01 * rng.standard_normal(shape)
        else:
            values = 0.02 * rng.standard_normal(shape)
        weights[name] = values.astype(np.float32)
    return weights


def random_bert_weights(config: BertConfig, seed: int) -> dict[str, np.ndarray]:
    """Seeded BERT-like weights so tests and benchmarks can build models without downloads."""
    return random_weights(
        expected_weight_shapes(config), seed, lambda name: name.endswith("LayerNorm.weight")
    )


def random_vit_weights(config: VitConfig, seed: int) -> dict[str, np.ndarray]:
    """Seeded ViT-like weights so tests and benchmarks can build models without downloads."""
    return random_weights(
        vit_weight_shapes(config),
        seed,
        lambda name: "layernorm" in name and name.endswith("weight"),
    )
