"""Protobuf messages built from core results and settings: field mapping, nothing else."""

from __future__ import annotations

import base64

import numpy as np
from google.protobuf import struct_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..config import Settings
from ..core.engine import TextEngine
from ..core.image_engine import ImageEngine
from ..errors import InvalidInput
from ..imagestats import ColorStats
from ..models.loader import LoadedTextModel

__all__ = [
    "cache_stats",
    "color_data",
    "first_provider",
    "limits",
    "list_value",
    "openai_texts",
    "openai_vector",
    "text_model_info",
    "vision_model_info",
]


def list_value(values: list[float]) -> struct_pb2.ListValue:
    list_value = struct_pb2.ListValue()
    list_value.extend(values)
    return list_value


def text_model_info(text: LoadedTextModel) -> pb.ModelInfo:
    profile, session = text.engine.profile, text.engine.session
    limits = text.engine.scheduler.limits
    return pb.ModelInfo(
        name=profile.name,
        path=str(text.files.model),
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


def openai_texts(value: struct_pb2.Value) -> list[str]:
    """OpenAI `input`: one string or a list of strings (token-id arrays are not supported)."""
    kind = value.WhichOneof("kind")
    if kind == "string_value":
        return [value.string_value]
    if kind == "list_value" and all(
        item.WhichOneof("kind") == "string_value" for item in value.list_value.values
    ):
        return [item.string_value for item in value.list_value.values]
    raise InvalidInput(
        "input must be a string or a list of strings (token arrays are not supported)"
    )


def openai_vector(vector: np.ndarray, encoding: str) -> struct_pb2.Value:
    """A list of numbers, or base64 of little-endian float32 bytes as OpenAI clients decode it."""
    value = struct_pb2.Value()
    if encoding == "base64":
        value.string_value = base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii")
    else:
        value.list_value.extend(vector.tolist())
    return value


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
    )


def color_data(colors: ColorStats) -> pb.ColorData:
    return pb.ColorData(
        avg_color=pb.AverageColor(rgb=colors.avg_rgb, hex=colors.avg_hex, method=colors.method),
        dominant_color=pb.DominantColor(rgb=colors.dominant_rgb, hex=colors.dominant_hex),
    )
