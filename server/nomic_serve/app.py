"""Composition root: settings -> pools -> models -> servicer -> server, and back down again.

`running_app(settings)` is the one place anything is built. `__main__` serves with it until
SIGTERM, and the tests run it as it is, on port 0 with their own settings. Whatever was
built is torn down in reverse order when the block ends, failures included: the server
stops first (gracefully), then the fetcher, the engines and the pools.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TypeVar

from . import tracing
from .api.auth import ApiKeys
from .api.server import RunningServer, start_server
from .api.servicer import EmbeddingServicer
from .config import Settings
from .core.admission import DecodeBudget, ImageAdmission
from .core.calibration import calibrate
from .core.image_engine import ImageDecoder, ImageEngine, ImageLimits
from .core.inference import optimized_graph_cache
from .core.workpool import WorkPool, lower_priority, name_thread, shorten_gil_turns
from .errors import InferenceFailed, ModelMissing
from .fetch import ImageFetcher
from .intake import ImageIntake
from .memory import (
    IdleTrimmer,
    freeze_startup_heap,
    release_free_memory,
    thaw_startup_heap,
    tune_allocator,
)
from .metrics import Metrics, MetricsServer, ModelRow, serve_metrics
from .models.loader import (
    LoadedTextModel,
    load_text_model,
    load_vision_model,
    resolve_text_files,
    resolve_vision_file,
)

__all__ = ["App", "running_app"]

# Large requests waiting to be parsed at most, beyond the one being parsed (each is over 1 MB).
PARSE_QUEUE = 64

log = logging.getLogger("nomic_serve")
T = TypeVar("T")


@dataclass(frozen=True)
class App:
    """A running server and what it was built from."""

    settings: Settings
    text: LoadedTextModel | None
    image: ImageEngine | None
    servicer: EmbeddingServicer
    server: RunningServer
    metrics: Metrics
    metrics_server: MetricsServer | None  # None when METRICS_PORT is 0
    keys: ApiKeys  # reloaded on SIGHUP (see __main__)

    @property
    def port(self) -> int:
        return self.server.port


@asynccontextmanager
async def running_app(settings: Settings, *, port: int | None = None) -> AsyncIterator[App]:
    """Builds and starts everything (on `port`, default GRPC_PORT; 0 picks a free one)."""
    tune_allocator()
    shorten_gil_turns()
    keys = ApiKeys(settings.api_keys, settings.api_keys_file)  # a bad file fails first
    async with AsyncExitStack() as stack:
        tracing.configure(settings)
        stack.callback(tracing.shutdown)  # last out: the spans of the final requests go too
        # Threads that mostly hold the GIL keep the loop's priority: lowering theirs would only
        # make the loop wait longer for the GIL. Those that mostly release it get WORKER_NICE:
        # inference (see the loader) and decoding, whose resize and pixel lookup run without
        # it (two threads decode 1.9x as fast as one). Image flood, one run on 2 cores: Health
        # p99 13-19 ms with decoding at WORKER_NICE against 20-26 ms at the loop's priority.
        tokenize = WorkPool("tokenize", settings.tokenize_workers, settings.max_pending_items)
        stack.callback(tokenize.shutdown)
        decode = WorkPool(
            "decode", settings.preprocess_workers, settings.image_max_pending, settings.worker_nice
        )
        stack.callback(decode.shutdown)
        parse = WorkPool("parse", 1, PARSE_QUEUE)
        stack.callback(parse.shutdown)
        nice = settings.worker_nice
        optimized = optimized_graph_cache(settings.cache_dir, settings.cache_seed_dir)
        # Every file is resolved before anything loads, so a bad path fails fast.
        vision_file, image_missing = _resolved(resolve_vision_file, settings)
        text_files, text_missing = _resolved(resolve_text_files, settings)
        # ONNX Runtime's threads are started by the thread that creates a session and inherit
        # its priority: sessions are created on a thread running at WORKER_NICE.
        text = image = None
        calibration, calibration_missing = None, ""
        if text_files is not None:
            text = await _lowered(
                nice, "ort-text", load_text_model, text_files, settings, tokenize, optimized
            )
            stack.push_async_callback(text.engine.aclose)
            try:
                calibration = await asyncio.to_thread(
                    calibrate,
                    text.engine,
                    text.files.model,
                    text.files.tokenizer,
                    settings.cache_dir,
                    settings.cache_seed_dir,
                    settings.quant_ranges,
                )
            except InferenceFailed as exc:
                # A model that fails on a calibration sentence (one whose real limits are
                # not the profile's) still serves; only int8/uint8 are refused, saying why.
                calibration_missing = (
                    f"int8 and uint8 are unavailable: the calibration failed at start-up "
                    f"({exc}); see the server log"
                )
                log.error(calibration_missing)
        if vision_file is not None:
            image = await _lowered(
                nice, "ort-vision", load_vision_model, vision_file, settings, optimized
            )
            stack.callback(image.shutdown)
        for missing in (text_missing, image_missing):
            if missing:
                log.warning(missing)  # only now: a fatal error above stays the one line printed
        fetcher = ImageFetcher.from_settings(settings)
        stack.push_async_callback(fetcher.aclose)
        servicer = EmbeddingServicer(
            settings=settings,
            text=text,
            text_missing=text_missing,
            calibration=calibration,
            calibration_missing=calibration_missing,
            image=image,
            image_missing=image_missing,
            decoder=ImageDecoder(
                ImageLimits(
                    max_pixels=settings.image_max_pixels,
                    decode_timeout_s=settings.image_decode_timeout_s,
                    exif_orientation=settings.image_exif_orientation,
                ),
                decode,
                DecodeBudget(settings.image_decode_bytes),
            ),
            intake=ImageIntake(
                fetcher,
                max_bytes=settings.image_max_bytes,
                max_per_request=settings.image_max_per_request,
                fetches_per_request=settings.fetch_connections_per_request,
                pool=decode,
            ),
            admission=ImageAdmission(settings.image_max_pending, settings.image_max_pending_bytes),
            parse_pool=parse,
        )
        metrics = Metrics()
        metrics.watch_models(_model_rows(text, image))
        if text is not None:
            metrics.watch_text(text.engine)
        metrics_server = None
        if settings.metrics_port:
            metrics_server = serve_metrics(metrics, settings.metrics_host, settings.metrics_port)
            stack.callback(metrics_server.close)
        release_free_memory()  # the models' scratch memory, before any request needs the loop
        freeze_startup_heap()
        stack.callback(thaw_startup_heap)
        trimmer = IdleTrimmer()
        stack.callback(trimmer.close)
        server = await start_server(
            servicer,
            settings,
            text_ready=text is not None,
            vision_ready=image is not None,
            parse_pool=parse,
            activity=trimmer,
            metrics=metrics,
            keys=keys,
            port=port,
        )
        stack.push_async_callback(server.stop, settings.shutdown_grace_s)
        yield App(settings, text, image, servicer, server, metrics, metrics_server, keys)


def _model_rows(text: LoadedTextModel | None, image: ImageEngine | None) -> list[ModelRow]:
    """What `nomic_serve_model_info` says: each model, its provider in use, its batching."""
    rows = []
    if text is not None:
        engine = text.engine
        rows.append(
            ModelRow("text", engine.profile.name, engine.session.providers[0],
                     engine.session.mode.name)
        )  # fmt: skip
    if image is not None:
        rows.append(
            ModelRow("vision", image.profile.name, image.session.providers[0],
                     image.session.mode.name)
        )  # fmt: skip
    return rows


async def _lowered(nice: int, name: str, build: Callable[..., T], *args: object) -> T:
    """`build(*args)` on a thread of its own running at `nice`, named `name`: the ONNX
    Runtime threads it starts inherit both."""

    def run() -> T:
        name_thread(name)
        lower_priority(nice)
        return build(*args)

    with ThreadPoolExecutor(1, thread_name_prefix="loader") as loader:
        return await asyncio.get_running_loop().run_in_executor(loader, run)


def _resolved(resolve: Callable[[Settings], T], settings: Settings) -> tuple[T | None, str]:
    """The model's files, or None and why not: a missing model is served as UNAVAILABLE."""
    try:
        return resolve(settings), ""
    except ModelMissing as exc:
        return None, str(exc)
