"""An in-process server on a free port, built by the same composition root as the server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from nomic_serve.api.server import RunningServer
from nomic_serve.app import App, running_app
from nomic_serve.config import DISABLED, Settings
from nomic_serve.core.image_engine import ImageEngine
from nomic_serve.models.loader import LoadedTextModel
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

MISSING = "no text model is loaded: TXT_MODEL=none"
VISION_MISSING = "no vision model is loaded: IMG_MODEL=none"


@dataclass
class Served:
    """A running server and stubs connected to it."""

    stub: rpc.EmbeddingServiceStub
    health: health_pb2_grpc.HealthStub
    channel: grpc.aio.Channel
    running: RunningServer
    text: LoadedTextModel | None
    image: ImageEngine | None
    app: App


@asynccontextmanager
async def serving(
    model: Path | None,
    tokenizer: Path | None = None,
    *,
    vision: Path | None = None,
    **overrides: object,
) -> AsyncIterator[Served]:
    """The server `running_app` builds, for these model files (None: no such model) and
    settings overrides."""
    # No metrics port unless a test asks for one: servers run side by side in one process.
    settings = replace(
        Settings(grpc_host="127.0.0.1", shutdown_grace_s=0, metrics_port=0),
        txt_model=model or Path(DISABLED),
        txt_model_explicit=True,
        tokenizer=tokenizer or Path("-"),
        tokenizer_explicit=tokenizer is not None,
        img_model=vision or Path(DISABLED),
        img_model_explicit=True,
        **overrides,
    )
    async with running_app(settings, port=0) as app:
        channel = grpc.aio.insecure_channel(f"127.0.0.1:{app.port}")
        try:
            yield Served(
                rpc.EmbeddingServiceStub(channel),
                health_pb2_grpc.HealthStub(channel),
                channel,
                app.server,
                app.text,
                app.image,
                app,
            )
        finally:
            await channel.close()


# The shared servers run without the embedding cache: a test comparing a list with single
# calls, or concurrent calls with lone ones, must compare computed results, never a result
# with its own cached copy. Tests of the cache start a server of their own.


# One inference worker and no solo session: a test that holds or records `session.run` then
# holds or sees every inference (by default a CPU server runs one per core, and a lone input
# on a second, solo session).
ONE_SESSION: dict[str, object] = {"inference_workers": 1, "solo_session": False}


@pytest.fixture(scope="session")
async def tiny(tiny_model) -> AsyncIterator[Served]:
    async with serving(tiny_model.model, cache_bytes=0, **ONE_SESSION) as served:
        yield served


@pytest.fixture(scope="session")
async def wide(wide_model) -> AsyncIterator[Served]:
    async with serving(wide_model.model, cache_bytes=0) as served:
        yield served


@pytest.fixture(scope="session")
async def quantized(quantized_model) -> AsyncIterator[Served]:
    async with serving(quantized_model.model, cache_bytes=0) as served:
        yield served


@pytest.fixture(scope="session")
async def vision(tiny_model, vision_model) -> AsyncIterator[Served]:
    async with serving(tiny_model.model, vision=vision_model.model, cache_bytes=0) as served:
        yield served
