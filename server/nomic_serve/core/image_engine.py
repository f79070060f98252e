"""Images: decode and preprocess in parallel, then one inference for the request.

Decoding (Pillow) runs on its own bounded pool so a burst of large JPEGs never stalls text
inference, and each decode first reserves the memory its pixels will take; each image is its
own job, so one bad image fails only its own item. The list rules live here too: a bad image
fails only its item, and the request fails only when every item does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import numpy as np
from PIL import Image

from .. import tracing
from ..errors import InvalidImage, Overloaded, ServeError
from .admission import DecodeBudget
from .images import ClipConfig, clip_pixels, decoding_bytes, load_image, open_image
from .inference import VisionSession
from .postprocessing import matryoshka
from .types import Timings, VisionProfile
from .workpool import JobTimedOut, WorkPool

__all__ = ["ImageDecoder", "ImageEngine", "ImageLimits", "ImageListResult"]

T = TypeVar("T")


@dataclass(frozen=True)
class ImageLimits:
    """What one request's images may cost to decode."""

    max_pixels: int
    decode_timeout_s: float
    exif_orientation: bool


@dataclass(frozen=True)
class ImageListResult:
    """A list request's outcome: a vector per image that made it (None for the others) and
    each failed item's error by its index in the request."""

    vectors: list[np.ndarray | None]
    errors: list[tuple[int, ServeError]]
    timings: Timings = field(default_factory=Timings)


class ImageDecoder:
    """Decodes images and runs per-image work on them, one pool job per image.

    Independent of any model: ImageStats uses it with no vision model loaded.
    """

    def __init__(
        self,
        limits: ImageLimits,
        pool: WorkPool,
        budget: DecodeBudget,
    ) -> None:
        self.limits = limits
        self._pool = pool
        self._budget = budget

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
        """`work(decoded image)` per input, all within one decode timeout for the request; a
        failed item yields its ServeError in place. A timed-out item says whether it waited
        (for a thread or for decoding memory: the server was busy) or decoding ran too long."""
        deadline = time.monotonic() + self.limits.decode_timeout_s
        # At most one job per thread queued for this request at a time, so a request of 32
        # images takes turns with the others instead of filling the pool's queue.
        turns = asyncio.Semaphore(self._pool.workers)

        async def one(data: bytes) -> T | ServeError:
            async with turns:
                left = max(deadline - time.monotonic(), 0.0)
                job = self._job(data, work, exif_orientation, deadline)
                try:
                    return await self._pool.run(job, timeout=left)
                except ServeError as error:
                    return error
                except JobTimedOut as late:
                    return self._late(late)

        return list(await asyncio.gather(*(one(data) for data in images)))

    def _job(
        self,
        data: bytes,
        work: Callable[[Image.Image], T],
        exif_orientation: bool,
        deadline: float,
    ) -> Callable[[], T]:
        limits = self.limits

        def run() -> T:
            image = open_image(data, max_pixels=limits.max_pixels)
            cost = decoding_bytes(image, exif_orientation=exif_orientation)
            try:
                with self._budget.hold(cost, deadline):
                    return work(load_image(image, exif_orientation=exif_orientation))
            except TimeoutError:
                raise Overloaded(
                    "server is busy: no decoding memory came free within "
                    f"{limits.decode_timeout_s:g} s (IMAGE_DECODE_MB); retry shortly",
                    limit="IMAGE_DECODE_MB",
                    retry_after_s=1.0,
                ) from None

        return run

    def _late(self, late: JobTimedOut) -> ServeError:
        timeout = self.limits.decode_timeout_s
        if not late.started:
            return Overloaded(
                f"server is busy: the image waited {late.waited_s:.1f} s for a decoding thread "
                f"without starting (IMAGE_DECODE_TIMEOUT_S={timeout:g}); retry shortly",
                limit="IMAGE_DECODE_TIMEOUT_S",
                retry_after_s=1.0,
            )
        return InvalidImage(
            f"decoding the image ran {late.ran_s:.1f} s (after {late.waited_s:.1f} s waiting), "
            f"past the {timeout:g} s limit (IMAGE_DECODE_TIMEOUT_S)"
        )


class ImageEngine:
    """Owns the vision session and its preprocessing; runs inference on its own pool."""

    def __init__(
        self,
        *,
        session: VisionSession,
        profile: VisionProfile,
        clip: ClipConfig,
        pool: WorkPool,
    ) -> None:
        self.session = session
        self.profile = profile
        self.clip = clip
        self._pool = pool

    async def embed_list(
        self, decoder: ImageDecoder, loaded: Sequence[bytes | ServeError], dim: int
    ) -> ImageListResult:
        """Decodes the images that arrived and embeds those that decoded, in one inference
        when batching is exact; raises the first item's error when every item failed."""
        started = time.perf_counter()
        arrived = {i: item for i, item in enumerate(loaded) if isinstance(item, bytes)}
        with tracing.phase("preprocess", **{"nomic_serve.images": len(arrived)}):
            decoded = await decoder.pixels(list(arrived.values()), self.clip)
        outcome: dict[int, np.ndarray | ServeError] = {
            i: item for i, item in enumerate(loaded) if isinstance(item, ServeError)
        }
        outcome.update(zip(arrived, decoded, strict=True))
        errors = [(i, item) for i, item in sorted(outcome.items()) if isinstance(item, ServeError)]
        if len(errors) == len(loaded):
            raise errors[0][1]
        ready = {i: item for i, item in sorted(outcome.items()) if isinstance(item, np.ndarray)}
        preprocess_ms = (time.perf_counter() - started) * 1000
        with tracing.phase("inference", **{"nomic_serve.batch_size": len(ready)}):
            vectors, timings = await self.embed(list(ready.values()), dim)
        placed: list[np.ndarray | None] = [None] * len(loaded)
        for index, vector in zip(ready, vectors, strict=True):
            placed[index] = vector
        timings.preprocess_ms += preprocess_ms
        return ImageListResult(placed, errors, timings)

    async def embed(
        self, pixels: Sequence[np.ndarray], dim: int
    ) -> tuple[list[np.ndarray], Timings]:
        """Unit vectors of `dim` values, in input order; one inference when batching is exact."""
        return await self._pool.run(lambda: self._embed_sync(list(pixels), dim))

    def shutdown(self) -> None:
        self._pool.shutdown()

    def _embed_sync(self, pixels: list[np.ndarray], dim: int) -> tuple[list[np.ndarray], Timings]:
        timings = Timings()
        groups = [pixels] if self.session.mode.batched else [[p] for p in pixels]
        cls_vectors: list[np.ndarray] = []
        for group in groups:
            started = time.perf_counter()
            hidden = self.session.run(np.stack(group).astype(np.float32, copy=False))
            timings.inference_ms += (time.perf_counter() - started) * 1000
            cls_vectors.extend(hidden[:, 0, :])
        started = time.perf_counter()
        vectors = list(matryoshka(np.stack(cls_vectors), dim, layer_norm=False))
        timings.postprocess_ms = (time.perf_counter() - started) * 1000
        return vectors, timings
