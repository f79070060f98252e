"""Wires the servicer from loaded models and settings: one place, for the server and tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .api.servicer import EmbeddingServicer
from .config import Settings
from .core.image_engine import ImageDecoder, ImageEngine, ImageLimits
from .fetch import ImageFetcher
from .intake import ImageIntake
from .models.loader import LoadedTextModel

__all__ = ["build_servicer"]


def build_servicer(
    settings: Settings,
    *,
    text: LoadedTextModel | None,
    text_missing: str,
    image: ImageEngine | None,
    image_missing: str,
    preprocess_pool: ThreadPoolExecutor,
) -> tuple[EmbeddingServicer, ImageFetcher]:
    """The servicer and the fetcher it uses (close it with `aclose()` after the server)."""
    fetcher = ImageFetcher.from_settings(settings)
    limits = ImageLimits(
        max_pixels=settings.image_max_pixels,
        decode_timeout_s=settings.image_decode_timeout_s,
        exif_orientation=settings.image_exif_orientation,
    )
    servicer = EmbeddingServicer(
        settings=settings,
        text=text,
        text_missing=text_missing,
        image=image,
        image_missing=image_missing,
        decoder=ImageDecoder(limits, preprocess_pool),
        intake=ImageIntake(
            fetcher,
            max_bytes=settings.image_max_bytes,
            max_per_request=settings.image_max_per_request,
        ),
    )
    return servicer, fetcher
