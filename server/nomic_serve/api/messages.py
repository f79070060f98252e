"""Protobuf messages built from core results and settings: field mapping, nothing else.

Lists of vectors are the exception to building messages: the original JSON wants each vector
as a `google.protobuf.ListValue`, and building 2048 x 768 of those one number at a time takes
over a second of the event loop. Their wire bytes are a fixed pattern per number, so they are
written by numpy in one pass and appended to the rest of the reply, serialized as usual
(repeated fields may arrive in any order: the bytes parse as the same message).
"""

from __future__ import annotations

import base64

import numpy as np
from google.protobuf import struct_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..config import Settings
from ..core.engine import TextEngine
from ..core.image_engine import ImageEngine
from ..core.quantization import Calibration
from ..core.validation import check_count
from ..errors import InvalidInput
from ..imagestats import ColorStats
from ..models.loader import LoadedTextModel

__all__ = [
    "cache_stats",
    "color_data",
    "first_provider",
    "limits",
    "list_value_rows",
    "openai_data",
    "openai_texts",
    "packed_floats",
    "quantization",
    "repeated",
    "text_model_info",
    "vision_model_info",
]

# One number of a ListValue: `values` entry (field 1, 9 bytes) holding a Value whose
# number_value (field 2, fixed64) follows: 0x0a 0x09 0x11, then the little-endian double.
_NUMBER_PREFIX = np.array([0x0A, 0x09, 0x11], dtype=np.uint8)
_NUMBER_BYTES = 11
_LIST_VALUE = 6  # Value.list_value
_STRING_VALUE = 3  # Value.string_value


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field: its key, the payload's length, the payload."""
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def list_value_rows(vectors: np.ndarray) -> np.ndarray:
    """[n, dim] -> [n, 11 * dim] uint8: row i is the serialized ListValue of vector i, its
    numbers as doubles (what `ListValue.extend(vector.tolist())` would write)."""
    count, dim = vectors.shape
    cells = np.empty((count, dim, _NUMBER_BYTES), dtype=np.uint8)
    cells[:, :, :3] = _NUMBER_PREFIX
    cells[:, :, 3:] = vectors.astype("<f8").view(np.uint8).reshape(count, dim, 8)
    return cells.reshape(count, dim * _NUMBER_BYTES)


def packed_floats(number: int, vector: np.ndarray) -> bytes:
    """Field `number` (a `repeated float`) holding `vector`, serialized: the little-endian
    float32 bytes are the packed payload, so no Python float is made per value."""
    return _field(number, np.asarray(vector, dtype="<f4").tobytes())


def repeated(number: int, rows: np.ndarray) -> bytes:
    """Rows of equal length, each the payload of one entry of repeated field `number`."""
    if not len(rows):
        return b""
    head = np.frombuffer(_varint(number << 3 | 2) + _varint(rows.shape[1]), dtype=np.uint8)
    return np.hstack([np.broadcast_to(head, (len(rows), len(head))), rows]).tobytes()


def openai_data(vectors: np.ndarray, encoded: list[bytes] | None) -> bytes:
    """The `data` entries (field 2) of a CreateEmbeddingsResponse, already serialized: the
    vectors as numbers, or their `encoded` bytes as base64 strings (OpenAI's `base64` is
    little-endian float32)."""
    number = pb.CreateEmbeddingsResponse.DESCRIPTOR.fields_by_name["data"].number
    embedding = pb.EmbeddingData.DESCRIPTOR.fields_by_name["embedding"].number
    if encoded is not None:
        values = [_field(_STRING_VALUE, base64.b64encode(data)) for data in encoded]
    else:
        values = [_field(_LIST_VALUE, row.tobytes()) for row in list_value_rows(vectors)]
    entries = (
        pb.EmbeddingData(object="embedding", index=index).SerializeToString()
        + _field(embedding, value)
        for index, value in enumerate(values)
    )
    return b"".join(_field(number, entry) for entry in entries)


def quantization(calibration: Calibration, dims: list[int]) -> pb.Quantization:
    """What the int8/uint8 encodings use, with the ranges at each of `dims` (checked)."""
    return pb.Quantization(
        source=calibration.source,
        detail=calibration.detail,
        sha256=calibration.sha256,
        dims=calibration.dims,
        ranges=[
            pb.QuantizationRange(dim=r.dim, min=r.mins.tolist(), max=r.maxs.tolist())
            for r in map(calibration.ranges, dims)
        ],
    )


def text_model_info(text: LoadedTextModel, show_paths: bool) -> pb.ModelInfo:
    profile, session = text.engine.profile, text.engine.session
    limits = text.engine.scheduler.limits
    return pb.ModelInfo(
        name=profile.name,
        path=str(text.files.model) if show_paths else text.files.shown[0],
        dimension=profile.dimension,
        max_tokens=profile.max_tokens,
        pooling=profile.pooling,
        matryoshka_layer_norm=profile.layer_norm,
        prefixes=list(profile.prefixes),
        providers=session.providers,
        batching=session.mode.name,
        batching_reason=session.mode.reason,
        source=text.files.source,
        scheduler=pb.Scheduler(
            workers=limits.workers,
            max_batch_size=limits.max_batch_size,
            max_batch_tokens=limits.max_batch_tokens,
            max_padding_ratio=limits.max_padding_ratio,
            batch_wait_ms=limits.batch_wait_s * 1000,
            queued=text.engine.scheduler.queued,
            intra_op_threads=session.threads.intra_op,
            solo_session=text.engine.solo_session is not None,
        ),
        max_input_chars=text.engine.rules.max_chars,
    )


def cache_stats(engine: TextEngine) -> pb.CacheStats:
    stats = engine.cache.stats()
    return pb.CacheStats(
        hits=stats.hits,
        misses=stats.misses,
        entries=stats.entries,
        bytes=stats.bytes,
        max_bytes=stats.max_bytes,
        evictions=stats.evictions,
    )


def openai_texts(value: struct_pb2.Value, max_inputs: int) -> list[str]:
    """OpenAI `input`: one string or a list of strings (token-id arrays are not supported);
    a list is counted before any item is looked at."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return [value.string_value]
    if kind == "list_value":
        items = value.list_value.values
        check_count(len(items), max_inputs)
        if all(item.WhichOneof("kind") == "string_value" for item in items):
            return [item.string_value for item in items]
    raise InvalidInput(
        "input must be a string or a list of strings (token arrays are not supported)"
    )


def vision_model_info(image: ImageEngine, settings: Settings) -> pb.ModelInfo:
    return pb.ModelInfo(
        name=image.profile.name,
        path=str(settings.img_model),
        dimension=image.profile.dimension,
        pooling="cls",
        providers=image.session.providers,
        batching=image.session.mode.name,
        batching_reason=image.session.mode.reason,
        source="file",
    )


def first_provider(text: LoadedTextModel | None, image: ImageEngine | None) -> str:
    session = text.engine.session if text else image.session if image else None
    return session.providers[0] if session else ""


def limits(settings: Settings) -> pb.Limits:
    return pb.Limits(
        image_max_bytes=settings.image_max_bytes,
        image_max_pixels=settings.image_max_pixels,
        image_max_per_request=settings.image_max_per_request,
        image_decode_timeout_s=settings.image_decode_timeout_s,
        fetch_timeout_s=settings.fetch_timeout_s,
        fetch_max_redirects=settings.fetch_max_redirects,
        fetch_allow_networks=[str(n) for n in settings.fetch_allow_networks],
        max_list_inputs=settings.max_list_inputs,
        max_pending_items=settings.max_pending_items,
        stream_window=settings.stream_window,
        grpc_max_message_bytes=settings.grpc_max_message_mb * 1024 * 1024,
        image_max_pending=settings.image_max_pending,
        image_max_pending_bytes=settings.image_max_pending_bytes,
        image_decode_bytes=settings.image_decode_bytes,
        fetch_connections=settings.fetch_connections,
        fetch_connections_per_request=settings.fetch_connections_per_request,
    )


def color_data(colors: ColorStats) -> pb.ColorData:
    return pb.ColorData(
        avg_color=pb.AverageColor(rgb=colors.avg_rgb, hex=colors.avg_hex, method=colors.method),
        dominant_color=pb.DominantColor(rgb=colors.dominant_rgb, hex=colors.dominant_hex),
    )
