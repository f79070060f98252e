"""Composition root: read config, load the models, serve until SIGTERM, stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from .api.server import start_server
from .app import build_servicer
from .config import Settings
from .errors import ConfigError
from .log import configure_logging
from .models.loader import (
    ModelMissing,
    load_text_model,
    load_vision_model,
    resolve_text_files,
    resolve_vision_file,
)

log = logging.getLogger("nomic_serve")
T = TypeVar("T")


async def serve(settings: Settings) -> None:
    started = time.perf_counter()
    # Tokenization and image decoding; each model's inference has its own pool.
    preprocess = ThreadPoolExecutor(settings.preprocess_workers, thread_name_prefix="preprocess")
    # Every file is resolved before anything loads, so a bad path fails fast.
    vision_file, image_missing = _resolved(resolve_vision_file, settings)
    text_files, text_missing = _resolved(resolve_text_files, settings)
    text = load_text_model(text_files, settings, preprocess) if text_files else None
    image = load_vision_model(vision_file, settings) if vision_file else None
    for missing in (text_missing, image_missing):
        if missing:
            log.warning(missing)  # only now: a fatal error above stays the one line printed
    servicer, fetcher = build_servicer(
        settings,
        text=text,
        text_missing=text_missing,
        image=image,
        image_missing=image_missing,
        preprocess_pool=preprocess,
    )
    running = await start_server(
        servicer, settings, text_ready=text is not None, vision_ready=image is not None
    )
    log.info(
        "ready",
        extra={
            "startup_s": round(time.perf_counter() - started, 3),
            "text_model": text.engine.profile.name if text else None,
            "vision_model": image.profile.name if image else None,
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down", extra={"grace_s": settings.shutdown_grace_s})
    await running.stop(settings.shutdown_grace_s)
    await fetcher.aclose()
    for engine in (text.engine if text else None, image):
        if engine is not None:
            await engine.aclose()
    preprocess.shutdown(wait=True, cancel_futures=True)
    log.info("stopped")


def _resolved(resolve: Callable[[Settings], T], settings: Settings) -> tuple[T | None, str]:
    """The model's files, or None and why not: a missing model is served as UNAVAILABLE."""
    try:
        return resolve(settings), ""
    except ModelMissing as exc:
        return None, str(exc)


def main() -> int:
    """Runs the server; configuration and model errors exit 1 with one line on stderr."""
    try:
        settings = Settings.from_env()
        configure_logging(settings.log_level)
        asyncio.run(serve(settings))
    except ConfigError as exc:
        print(f"nomic-serve: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
