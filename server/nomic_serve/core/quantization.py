"""Compact encodings of unit vectors: float16, int8/uint8 with fixed calibration ranges, and
packed bits. The layouts are sentence-transformers' `quantize_embeddings`, so a vector
encoded here and one encoded there with the same ranges have the same bytes.

The int8 ranges never come from the request's own batch (sentence-transformers' default
when it is given no calibration, which makes a text's bytes depend on its neighbours): they
are per-position minima and maxima of a fixed calibration set, one per Matryoshka dimension
(`Calibration`, built by calibration.py), so a text has the same bytes alone, in a list, in
a stream or in a burst.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError, InvalidInput, quoted

__all__ = [
    "CALIBRATED",
    "ENCODINGS",
    "FLOAT",
    "Calibration",
    "Ranges",
    "encode",
    "resolve_encoding",
]

FLOAT = "float"
ENCODINGS = (FLOAT, "base64", "float16", "int8", "uint8", "binary", "ubinary")
CALIBRATED = frozenset({"int8", "uint8"})
_BITS = frozenset({"binary", "ubinary"})


def resolve_encoding(value: str, dim: int, name: str = "encoding") -> str:
    """The request's encoding (empty: float), refused with the rule it breaks; `name` is
    the field's, for the message."""
    encoding = value or FLOAT
    if encoding not in ENCODINGS:
        raise InvalidInput(f"{name} must be one of {', '.join(ENCODINGS)}, got {quoted(encoding)}")
    if encoding in _BITS and dim % 8:
        raise InvalidInput(
            f"encoding {encoding} packs 8 values per byte: dim must be divisible by 8, got {dim}"
        )
    return encoding


@dataclass(frozen=True)
class Ranges:
    """Per-position calibration minima and maxima at one dimension (float32)."""

    dim: int
    mins: np.ndarray
    maxs: np.ndarray

    @property
    def steps(self) -> np.ndarray:
        """sentence-transformers' `(max - min) / 255`; a position that never varied in
        calibration gets the smallest step instead of a division by zero."""
        steps = (self.maxs - self.mins) / np.float32(255)
        return np.where(steps > 0, steps, np.finfo(np.float32).tiny).astype(np.float32)


def encode(vectors: np.ndarray, encoding: str, ranges: Ranges | None = None) -> np.ndarray:
    """[n, dim] float32 -> [n, bytes] uint8: each row the encoded vector's bytes.

    int8/uint8 are `((v - min) / step) [- 128]` in float32 truncated toward zero, as
    sentence-transformers computes them, then clipped to the type: a value outside the
    calibration range saturates (numpy's cast would wrap it around)."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    count = len(vectors)
    if encoding == "base64":
        rows = vectors.astype("<f4")
    elif encoding == "float16":
        rows = vectors.astype("<f2")
    elif encoding in CALIBRATED:
        if ranges is None or ranges.dim != vectors.shape[1]:
            raise ValueError(f"{encoding} needs the ranges of dim {vectors.shape[1]}")
        scaled = (vectors - ranges.mins) / ranges.steps
        if encoding == "int8":
            scaled = scaled - np.float32(128)
            rows = np.clip(np.trunc(scaled), -128, 127).astype(np.int8)
        else:
            rows = np.clip(np.trunc(scaled), 0, 255).astype(np.uint8)
    elif encoding in _BITS:
        rows = np.packbits(vectors > 0, axis=1)
        if encoding == "binary":
            rows = (rows.astype(np.int16) - 128).astype(np.int8)
    else:
        raise ValueError(f"no byte layout for {encoding}")
    return rows.view(np.uint8).reshape(count, -1)


@dataclass
class Calibration:
    """The int8/uint8 ranges of one text model, at every dimension it serves.

    `builtin`: from `vectors`, the calibration corpus's native-dimension unit vectors; the
    ranges at `dim` are the minima and maxima of those vectors cut to `dim` and normalized
    again, as the Matryoshka recipe does. `file`: ranges an operator gave (QUANT_RANGES),
    for the dimensions it lists only."""

    source: str
    detail: str
    sha256: str
    native: int
    vectors: np.ndarray | None = None
    given: dict[int, Ranges] = field(default_factory=dict)
    _computed: dict[int, Ranges] = field(default_factory=dict, repr=False)

    @classmethod
    def from_vectors(cls, vectors: np.ndarray, detail: str) -> Calibration:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        digest = hashlib.sha256(vectors.tobytes()).hexdigest()
        return cls("builtin", detail, digest, vectors.shape[1], vectors=vectors)

    @classmethod
    def from_file(cls, path: Path, native: int) -> Calibration:
        """QUANT_RANGES: `{"ranges": {"<dim>": {"min": [...], "max": [...]}}}`. A file that
        cannot be used stops the server (ConfigError, one line naming the fault)."""
        where = f"QUANT_RANGES {path}"
        try:
            raw = path.read_bytes()
            document = json.loads(raw)
            entries = document["ranges"]
            given: dict[int, Ranges] = {}
            for key, entry in entries.items():
                dim = int(key)
                mins = np.asarray(entry["min"], dtype=np.float32)
                maxs = np.asarray(entry["max"], dtype=np.float32)
                if not 1 <= dim <= native or mins.shape != (dim,) or maxs.shape != (dim,):
                    raise ValueError(
                        f"dim {dim}: needs {dim} min and max values, 1 <= dim <= {native}"
                    )
                if not (
                    np.isfinite(mins).all() and np.isfinite(maxs).all() and (mins <= maxs).all()
                ):
                    raise ValueError(f"dim {dim}: values must be finite with min <= max")
                given[dim] = Ranges(dim, mins, maxs)
        except OSError as exc:
            raise ConfigError(f"{where} cannot be read: {exc.strerror or exc}") from None
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigError(f"{where} is not valid: {exc}") from None
        if not given:
            raise ConfigError(f"{where} lists no ranges")
        return cls("file", str(path), hashlib.sha256(raw).hexdigest(), native, given=given)

    @property
    def dims(self) -> list[int]:
        """The dimensions a file gives ranges for; empty when every dimension has them."""
        return sorted(self.given)

    def ranges(self, dim: int) -> Ranges:
        """The ranges at `dim` (1 <= dim <= native, checked by the caller); InvalidInput when
        an operator's file has none for it."""
        if self.vectors is None:
            if dim not in self.given:
                listed = ", ".join(map(str, self.dims))
                raise InvalidInput(
                    f"int8 and uint8 need calibration ranges for dim {dim}; QUANT_RANGES "
                    f"has them for dim {listed}"
                )
            return self.given[dim]
        if dim not in self._computed:
            cut = self.vectors[:, :dim]
            norms = np.sqrt((cut * cut).sum(axis=1, keepdims=True))
            cut = cut / np.maximum(norms, np.float32(1e-12))
            self._computed[dim] = Ranges(dim, cut.min(axis=0), cut.max(axis=0))
        return self._computed[dim]
