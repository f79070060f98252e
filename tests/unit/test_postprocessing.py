"""Pooling and the Matryoshka recipe, against plain numpy written from the model card."""

from __future__ import annotations

import numpy as np
import pytest

from nomic_serve.core.postprocessing import matryoshka, pool


def test_mean_pool_ignores_padding() -> None:
    hidden = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    mask = np.array([[1, 1, 0], [1, 1, 1]])
    pooled = pool(hidden, mask, "mean")
    np.testing.assert_allclose(pooled[0], hidden[0, :2].mean(axis=0))
    np.testing.assert_allclose(pooled[1], hidden[1].mean(axis=0))
    np.testing.assert_array_equal(pool(hidden, mask, "cls"), hidden[:, 0])


@pytest.mark.parametrize("dim", [1, 2, 64, 128, 256, 512, 768])
def test_matryoshka_is_layer_norm_then_cut_then_normalize(dim: int) -> None:
    pooled = np.random.default_rng(dim).normal(3.0, 2.0, 768).astype(np.float32)
    x = pooled.astype(np.float64)
    normed = (x - x.mean()) / np.sqrt(x.var() + 1e-5)
    expected = normed[:dim] / np.linalg.norm(normed[:dim])
    (got,) = matryoshka(pooled[None], dim, layer_norm=True)
    assert got.dtype == np.float32 and got.shape == (dim,)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    assert abs(np.linalg.norm(got) - 1.0) < 1e-6


def test_without_layer_norm_every_dim_is_still_unit_length() -> None:
    pooled = np.random.default_rng(0).normal(size=384).astype(np.float32)
    for dim in (1, 7, 128, 384):
        (got,) = matryoshka(pooled[None], dim, layer_norm=False)
        np.testing.assert_allclose(got, pooled[:dim] / np.linalg.norm(pooled[:dim]), atol=1e-6)


@pytest.mark.parametrize("layer_norm", [True, False])
def test_a_row_is_bit_identical_alone_or_in_a_large_batch(layer_norm: bool) -> None:
    """One vectorized pass over a whole list must give each vector exactly what it gets alone
    (the engine relies on it: a text's bytes never depend on its neighbours)."""
    pooled = np.random.default_rng(5).normal(1.0, 3.0, (513, 768)).astype(np.float32)
    together = matryoshka(pooled, 256, layer_norm)
    for row in (0, 1, 255, 512):
        np.testing.assert_array_equal(
            together[row], matryoshka(pooled[row : row + 1], 256, layer_norm)[0]
        )
