"""Images: decode and preprocess in parallel, then one inference for the request.

Decoding (Pillow) runs on its own pool so a burst of large JPEGs never stalls text
inference; each image is its own job, so one bad image fails only its own item. Results
come back as values or ServeErrors, item by item, for the caller to report.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image

from ..errors import InvalidImage, ServeError
from .images import ClipConfig, clip_pixels, decode_image
from .inference import VisionSession
from .postprocessing import matryoshka
from .types import Timings, VisionProfile

__all__ = ["ImageDecoder", "ImageEngine", "ImageLimits"]

T = TypeVar("T")


@dataclass(frozen=True)
class ImageLimits:
    """What one request's images may cost to decode."""

    max_pixels: int
    decode_timeout_s: float
    exif_orientation: bool


class ImageDecoder:
    """Decodes images and runs per-image work on them, one pool job per image.

    Independent of any model: ImageStats uses it with no vision model loaded.
    """

    def __init__(self, limits: ImageLimits, pool: ThreadPoolExecutor) -> None:
        self.limits = limits
        self._pool = pool

    async def pixels(
        self, images: Sequence[bytes], clip: ClipConfig
    ) -> list[np.ndarray | ServeError]:
        """CLIP pixel values [3, H, W] per input (EXIF orientation as configured)."""
        return await self.map(
            images, lambda image: clip_pixels(image, clip), self.limits.exif_orientation
        )

    async def map(
        self,
        images: Sequence[bytes],
        work: Callable[[Image.Image], T],
        exif_orientation: bool = False,
    ) -> list[T | ServeError]:
        """`work(decoded image)` per input, all within the decode timeout; a failed item
        yields its ServeError in place."""
        if not images:
            return []
        loop = asyncio.get_running_loop()

        def job(data: bytes) -> T:
            decoded = decode_image(
                data, max_pixels=self.limits.max_pixels, exif_orientation=exif_orientation
            )
            return work(decoded)

        futures = [loop.run_in_executor(self._pool, job, data) for data in images]
        done, _ = await asyncio.wait(futures, timeout=self.limits.decode_timeout_s)
        late = InvalidImage(
            f"decoding took longer than {self.limits.decode_timeout_s:g} s (IMAGE_DECODE_TIMEOUT_S)"
        )
        results: list[T | ServeError] = []
        for future in futures:
            if future not in done:
                future.cancel()  # a job already running finishes in its thread; dropped here
                results.append(late)
            elif isinstance(error := future.exception(), ServeError):
                results.append(error)
            elif error is not None:
                raise error
            else:
                results.append(future.result())
        return results


class ImageEngine:
    """Owns the vision session and its preprocessing config; runs inference on its pool."""

    def __init__(
        self,
        *,
        session: VisionSession,
        profile: VisionProfile,
        clip: ClipConfig,
        pool: ThreadPoolExecutor,
    ) -> None:
        self.session = session
        self.profile = profile
        self.clip = clip
        self._pool = pool

    async def embed(
        self, pixels: Sequence[np.ndarray], dim: int
    ) -> tuple[list[np.ndarray], Timings]:
        """Unit vectors of `dim` values, in input order; one inference when batching is exact."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._pool, self.embed_sync, list(pixels), dim)

    async def aclose(self) -> None:
        await asyncio.to_thread(self._pool.shutdown, wait=True, cancel_futures=True)

    def embed_sync(self, pixels: list[np.ndarray], dim: int) -> tuple[list[np.ndarray], Timings]:
        timings = Timings()
        groups = [pixels] if self.session.mode.batched else [[p] for p in pixels]
        cls_vectors: list[np.ndarray] = []
        for group in groups:
            started = time.perf_counter()
            hidden = self.session.run(np.stack(group).astype(np.float32, copy=False))
            timings.inference_ms += (time.perf_counter() - started) * 1000
            cls_vectors.extend(hidden[:, 0, :])
        started = time.perf_counter()
        vectors = [matryoshka(vector, dim, layer_norm=False) for vector in cls_vectors]
        timings.postprocess_ms = (time.perf_counter() - started) * 1000
        return vectors, timings
