"""sentence-transformers' `quantize_embeddings`, transcribed from
sentence_transformers/quantization.py (release 3.x) with numpy only: the reference the
server's encodings are checked against, written apart from the server's code."""

from __future__ import annotations

import numpy as np

__all__ = ["st_quantize"]


def st_quantize(
    embeddings: np.ndarray, precision: str, ranges: np.ndarray, *, saturate: bool = False
) -> np.ndarray:
    """sentence-transformers' formulas, as written there: `ranges` is [2, dim] (min, max).
    `saturate` clips int8/uint8 values to the type before the cast, as the server does for
    values outside the calibration ranges (where numpy's cast would wrap them around)."""
    if precision in ("int8", "uint8"):
        starts = ranges[0, :]
        steps = (ranges[1, :] - ranges[0, :]) / 255
        if precision == "uint8":
            scaled = (embeddings - starts) / steps
            return (np.clip(scaled, 0, 255) if saturate else scaled).astype(np.uint8)
        scaled = (embeddings - starts) / steps - 128
        return (np.clip(scaled, -128, 127) if saturate else scaled).astype(np.int8)
    if precision == "binary":
        packed = np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1)
        return (packed - 128).astype(np.int8)
    if precision == "ubinary":
        return np.packbits(embeddings > 0).reshape(embeddings.shape[0], -1)
    raise AssertionError(precision)
