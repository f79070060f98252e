"""Entry point: read the configuration, serve until SIGTERM, stop gracefully."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
import time

from .app import running_app
from .config import Settings
from .errors import ConfigError
from .log import configure_logging

log = logging.getLogger("nomic_serve")


async def serve(settings: Settings) -> None:
    started = time.perf_counter()
    async with running_app(settings) as app:
        log.info(
            "ready",
            extra={
                "startup_s": round(time.perf_counter() - started, 3),
                "text_model": app.text.engine.profile.name if app.text else None,
                "vision_model": app.image.profile.name if app.image else None,
            },
        )
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await stop.wait()
        log.info("shutting down", extra={"grace_s": settings.shutdown_grace_s})
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
