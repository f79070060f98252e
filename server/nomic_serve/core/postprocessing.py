"""Pooling and Matryoshka truncation: hidden states in, unit vectors out."""

from __future__ import annotations

import numpy as np

__all__ = ["LAYER_NORM_EPS", "matryoshka", "pool"]

LAYER_NORM_EPS = 1e-5  # nomic's model card: F.layer_norm(x, normalized_shape=(H,)), default eps


def pool(hidden: np.ndarray, mask: np.ndarray, method: str) -> np.ndarray:
    """Pools [B, T, H] hidden states to [B, H]: mean over the attention mask, or the CLS token."""
    if method == "cls":
        return hidden[:, 0, :].astype(np.float32)
    weights = mask.astype(np.float32)[:, :, None]
    summed = (hidden * weights).sum(axis=1)
    counts = np.clip(weights.sum(axis=1), 1e-9, None)
    return (summed / counts).astype(np.float32)


def matryoshka(pooled: np.ndarray, dim: int, layer_norm: bool) -> np.ndarray:
    """[N, H] -> [N, dim]: layer norm per row (optional, no affine) -> keep the first `dim`
    values -> L2 normalize.

    Every reduction runs along a row, so a vector comes out bit for bit the same whether it is
    alone or one of 2048 (one vectorized pass keeps a full list off the event loop's back).
    Normalizing after the cut is what makes every returned vector unit length; the original
    server normalized first and cut afterwards, so its short vectors were not.
    """
    vectors = np.asarray(pooled, dtype=np.float32).reshape(-1, pooled.shape[-1])
    if layer_norm:
        centered = vectors - vectors.mean(axis=1, keepdims=True)
        variance = (centered * centered).mean(axis=1, keepdims=True)
        vectors = centered / np.sqrt(variance + LAYER_NORM_EPS)
    vectors = vectors[:, :dim]
    norms = np.sqrt((vectors * vectors).sum(axis=1, keepdims=True))
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)
