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
    """Layer norm (optional, no affine) -> keep the first `dim` values -> L2 normalize.

    Normalizing after the cut is what makes every returned vector unit length; the
    original server normalized first and cut afterwards, so its short vectors were not.
    """
    vector = pooled.astype(np.float32)
    if layer_norm:
        centered = vector - vector.mean()
        vector = centered / np.sqrt((centered * centered).mean() + LAYER_NORM_EPS)
    vector = vector[:dim]
    norm = float(np.linalg.norm(vector))
    return (vector / max(norm, 1e-12)).astype(np.float32)
