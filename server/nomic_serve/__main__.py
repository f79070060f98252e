"""Composition root: read config, load the models, serve until SIGTERM, stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time
from concurrent.futures import ThreadPoolExecutor

from .api.server import start_server
from .api.servicer import EmbeddingServicer
from .config import Settings
from .errors import ConfigError
from .log import configure_logging
from .models.loader import ModelMissing, load_text_model, resolve_text_files

log = logging.getLogger("nomic_serve")


async def serve(settings: Settings) -> None:
    started = time.perf_counter()
    pool = ThreadPoolExecutor(settings.inference_workers, thread_name_prefix="inference")
    text, missing = None, ""
    try:
        text = load_text_model(resolve_text_files(settings), settings, pool)
    except ModelMissing as exc:
        missing = str(exc)
        log.warning(missing)
    servicer = EmbeddingServicer(settings=settings, text=text, text_missing=missing)
    running = await start_server(servicer, settings, text_ready=text is not None)
    log.info(
        "ready",
        extra={
            "startup_s": round(time.perf_counter() - started, 3),
            "text_model": text.engine.profile.name if text else None,
            "providers": text.engine.session.providers if text else [],
        },
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    log.info("shutting down", extra={"grace_s": settings.shutdown_grace_s})
    await running.stop(settings.shutdown_grace_s)
    pool.shutdown(wait=True, cancel_futures=True)
    log.info("stopped")


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
