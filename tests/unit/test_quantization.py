"""The compact encodings against an independent numpy transcription of sentence-transformers'
`quantize_embeddings`, and the calibration ranges' rules."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nomic_serve.core.quantization import Calibration, Ranges, encode, resolve_encoding
from nomic_serve.errors import ConfigError, InvalidInput

from ..support.quantization import st_quantize


def unit_rows(count: int, dim: int, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((count, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


@pytest.mark.parametrize("precision", ["int8", "uint8", "binary", "ubinary"])
@pytest.mark.parametrize("dim", [8, 64, 768])
def test_bytes_equal_sentence_transformers(precision: str, dim: int) -> None:
    calibration = unit_rows(500, dim, seed=1)
    ranges = np.vstack([calibration.min(axis=0), calibration.max(axis=0)])
    vectors = calibration[:100]  # inside the ranges: where both are defined
    ours = encode(vectors, precision, Ranges(dim, ranges[0], ranges[1]))
    theirs = st_quantize(vectors, precision, ranges)
    assert ours.dtype == np.uint8 and ours.shape == (100, theirs.view(np.uint8).shape[1])
    assert ours.tobytes() == theirs.tobytes()


def test_bit_layout_is_msb_first_and_binary_is_offset() -> None:
    vector = np.array([[1, -1, -1, -1, -1, -1, -1, 1, -1, 1, 1, 1, 1, 1, 1, 1]], np.float32)
    assert encode(vector, "ubinary").tolist() == [[0b10000001, 0b01111111]]
    assert encode(vector, "binary").view(np.int8).tolist() == [[0b10000001 - 128, 127 - 128]]
    assert encode(np.zeros((1, 8), np.float32), "ubinary").tolist() == [[0]]  # 0 is not > 0


def test_float_layouts_are_little_endian() -> None:
    vector = np.array([[0.5, -2.0, 1 / 3]], np.float32)
    assert encode(vector, "base64").tobytes() == vector.astype("<f4").tobytes()
    halves = np.frombuffer(encode(vector, "float16").tobytes(), "<f2")
    np.testing.assert_array_equal(halves, vector[0].astype(np.float16))


def test_values_outside_the_ranges_saturate() -> None:
    ranges = Ranges(2, np.array([-0.1, -0.1], np.float32), np.array([0.1, 0.1], np.float32))
    vectors = np.array([[-0.9, 0.9], [0.0, 0.1]], np.float32)
    assert encode(vectors, "int8", ranges).view(np.int8).tolist() == [[-128, 127], [0, 127]]
    assert encode(vectors, "uint8", ranges).tolist() == [[0, 255], [127, 255]]


def test_a_constant_position_does_not_divide_by_zero() -> None:
    ranges = Ranges(2, np.array([0.2, -1.0], np.float32), np.array([0.2, 1.0], np.float32))
    out = encode(np.array([[0.2, 0.0]], np.float32), "uint8", ranges)
    assert out.tolist() == [[0, 127]]


def test_encoding_rules() -> None:
    assert resolve_encoding("", 10) == "float"
    assert resolve_encoding("int8", 10) == "int8"
    with pytest.raises(InvalidInput, match=r"divisible by 8, got 10"):
        resolve_encoding("binary", 10)
    with pytest.raises(InvalidInput, match=r"encoding_format must be one of float, base64"):
        resolve_encoding("int4", 16, "encoding_format")


def test_builtin_ranges_follow_the_matryoshka_cut() -> None:
    vectors = unit_rows(300, 32, seed=3)
    calibration = Calibration.from_vectors(vectors, "test")
    ranges = calibration.ranges(8)
    cut = vectors[:, :8] / np.linalg.norm(vectors[:, :8], axis=1, keepdims=True)
    np.testing.assert_allclose(ranges.mins, cut.min(axis=0), atol=1e-7)
    np.testing.assert_allclose(ranges.maxs, cut.max(axis=0), atol=1e-7)
    assert calibration.ranges(8) is ranges  # computed once
    assert calibration.dims == [] and len(calibration.sha256) == 64
    assert Calibration.from_vectors(vectors.copy(), "test").sha256 == calibration.sha256


def test_an_operator_file(tmp_path: Path) -> None:
    path = tmp_path / "ranges.json"
    path.write_text(json.dumps({"ranges": {"4": {"min": [-1] * 4, "max": [1] * 4}}}))
    calibration = Calibration.from_file(path, native=16)
    assert (calibration.source, calibration.dims) == ("file", [4])
    assert calibration.ranges(4).maxs.tolist() == [1, 1, 1, 1]
    with pytest.raises(InvalidInput, match="QUANT_RANGES has them for dim 4"):
        calibration.ranges(8)


@pytest.mark.parametrize(
    ("content", "fault"),
    [
        ("not json", "not valid"),
        ('{"ranges": {}}', "lists no ranges"),
        ('{"ranges": {"4": {"min": [0, 0], "max": [1, 1]}}}', "needs 4 min and max"),
        ('{"ranges": {"2": {"min": [1, 0], "max": [0, 1]}}}', "min <= max"),
        ('{"ranges": {"32": {"min": [0], "max": [1]}}}', "dim <= 16"),
    ],
)
def test_a_bad_operator_file_is_one_clear_line(tmp_path: Path, content: str, fault: str) -> None:
    path = tmp_path / "ranges.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=fault):
        Calibration.from_file(path, native=16)
    with pytest.raises(ConfigError, match="cannot be read"):
        Calibration.from_file(tmp_path / "missing.json", native=16)
