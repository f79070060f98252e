"""Entry point: read the configuration, serve until SIGTERM, stop gracefully.

Signals, in the order a rolling restart sends them:
- SIGUSR1 (a Kubernetes preStop hook): drain. Health says NOT_SERVING, requests are still served.
- SIGTERM: drain, keep serving until SHUTDOWN_DELAY_S has passed since the drain began (so the
  load balancer has seen NOT_SERVING and sends nothing new), then refuse new RPCs, give the
  in-flight ones SHUTDOWN_GRACE_S, exit 0. A second SIGTERM ends the delay early.
- SIGINT (Ctrl-C): the same, without the delay.

With SERVER_PROCESSES > 1 this process only supervises that many servers on the same port
(see processes.py) and forwards these signals to each of them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import sys
import time

from .app import App, running_app
from .config import Settings
from .errors import ConfigError
from .log import configure_logging
from .processes import CONFIG_EXIT, ProcessSlot, follow_parent, pin_to_share, supervise

log = logging.getLogger("nomic_serve")


async def serve(settings: Settings) -> None:
    started = time.perf_counter()
    async with running_app(settings) as app:
        log.info(
            "ready",
            extra={"startup_s": round(time.perf_counter() - started, 3), **_models(app)},
        )
        await _until_stopped(app, settings.shutdown_delay_s)
        log.info("shutting down", extra={"grace_s": settings.shutdown_grace_s})
    log.info("stopped")


def _models(app: App) -> dict[str, object]:
    """The models served and the providers really in use (a GPU image without a GPU says
    CPU here), for the start-up log lines."""
    return {
        "text_model": app.text.engine.profile.name if app.text else None,
        "vision_model": app.image.profile.name if app.image else None,
        "text_providers": app.text.engine.session.providers if app.text else None,
        "vision_providers": app.image.session.providers if app.image else None,
    }


async def _until_stopped(app: App, delay_s: float) -> None:
    """Returns when the server should stop taking RPCs (see the module docstring)."""
    loop = asyncio.get_running_loop()
    terminate, now = asyncio.Event(), asyncio.Event()
    drained_at: float | None = None

    async def drain() -> None:
        nonlocal drained_at
        if drained_at is None:
            drained_at = time.monotonic()
            await app.server.drain()
            log.info("draining: health is NOT_SERVING, requests are still served")

    def on_term() -> None:
        (now if terminate.is_set() else terminate).set()

    draining: set[asyncio.Task[None]] = set()

    def on_usr1() -> None:
        task = asyncio.ensure_future(drain())
        draining.add(task)
        task.add_done_callback(draining.discard)

    loop.add_signal_handler(signal.SIGUSR1, on_usr1)
    loop.add_signal_handler(signal.SIGHUP, app.keys.reload)  # API_KEYS_FILE, rotated
    loop.add_signal_handler(signal.SIGTERM, on_term)

    def on_int() -> None:
        terminate.set()
        now.set()

    loop.add_signal_handler(signal.SIGINT, on_int)
    await terminate.wait()
    await drain()
    assert drained_at is not None
    remaining = drained_at + delay_s - time.monotonic()
    if remaining > 0 and not now.is_set():
        log.info("serving while the load balancers notice", extra={"delay_s": round(remaining, 3)})
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(now.wait(), remaining)


def main(argv: list[str] | None = None) -> int:
    """Runs the server; configuration and model errors exit 1 with one line on stderr."""
    parser = argparse.ArgumentParser(prog="nomic-serve", description="The nomic-serve server.")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="start once to fill CACHE_DIR (the embedded model converted, optimized graphs "
        "saved), then exit: how an image or an init container bakes its cache",
    )
    # One of SERVER_PROCESSES children, started by the supervisor (processes.py).
    parser.add_argument("--process", type=ProcessSlot.parse, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.process is not None:
            follow_parent(args.process.parent)
            settings = args.process.own_settings(settings)
            cores = pin_to_share(args.process)
            configure_logging(settings.log_level, {"server_process": str(args.process)})
            log.info("server process", extra={"cores": cores})
        else:
            configure_logging(settings.log_level)
        if settings.server_processes > 1 and args.process is None and not args.prepare:
            return supervise(settings)
        asyncio.run(prepare(settings) if args.prepare else serve(settings))
    except ConfigError as exc:
        print(f"nomic-serve: {exc}", file=sys.stderr)
        return CONFIG_EXIT
    return 0


async def prepare(settings: Settings) -> None:
    """Everything a start builds, on a free loopback port, then a stop."""
    local = dataclasses.replace(settings, grpc_host="127.0.0.1", shutdown_delay_s=0, metrics_port=0)
    async with running_app(local, port=0) as app:
        log.info(
            "prepared",
            extra={"cache_dir": str(settings.cache_dir), **_models(app)},
        )


if __name__ == "__main__":
    raise SystemExit(main())
