"""An in-process server on a free port, built the way __main__ builds it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2_grpc

from nomic_serve.api.server import RunningServer, start_server
from nomic_serve.app import build_servicer
from nomic_serve.config import Settings
from nomic_serve.core.image_engine import ImageEngine
from nomic_serve.models.loader import (
    LoadedTextModel,
    TextModelFiles,
    load_text_model,
    load_vision_model,
)
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

MISSING = "no text model is loaded: models/txt/model_quantized.onnx not found"
VISION_MISSING = "no vision model is loaded: models/img/model_quantized.onnx not found"


@dataclass
class Served:
    """A running server and stubs connected to it."""

    stub: rpc.EmbeddingServiceStub
    health: health_pb2_grpc.HealthStub
    channel: grpc.aio.Channel
    running: RunningServer
    text: LoadedTextModel | None
    image: ImageEngine | None


@asynccontextmanager
async def serving(
    model: Path | None,
    tokenizer: Path | None = None,
    *,
    vision: Path | None = None,
    **overrides: object,
) -> AsyncIterator[Served]:
    settings = replace(Settings(grpc_host="127.0.0.1"), **overrides)
    preprocess = ThreadPoolExecutor(settings.preprocess_workers)
    text = image = None
    if model is not None:
        files = TextModelFiles(model, tokenizer or model.parent / "tokenizer.json", "file")
        text = load_text_model(files, settings, preprocess)
    if vision is not None:
        image = load_vision_model(vision, settings)
    servicer, fetcher = build_servicer(
        settings,
        text=text,
        text_missing=MISSING,
        image=image,
        image_missing=VISION_MISSING,
        preprocess_pool=preprocess,
    )
    running = await start_server(
        servicer, settings, text_ready=text is not None, vision_ready=image is not None, port=0
    )
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{running.port}")
    try:
        yield Served(
            rpc.EmbeddingServiceStub(channel),
            health_pb2_grpc.HealthStub(channel),
            channel,
            running,
            text,
            image,
        )
    finally:
        await channel.close()
        await running.stop(0)
        await fetcher.aclose()
        for engine in (text.engine if text else None, image):
            if engine is not None:
                await engine.aclose()
        preprocess.shutdown(wait=True)


@pytest.fixture(scope="session")
async def tiny(tiny_model) -> AsyncIterator[Served]:
    async with serving(tiny_model.model) as served:
        yield served


@pytest.fixture(scope="session")
async def wide(wide_model) -> AsyncIterator[Served]:
    async with serving(wide_model.model) as served:
        yield served


@pytest.fixture(scope="session")
async def quantized(quantized_model) -> AsyncIterator[Served]:
    async with serving(quantized_model.model) as served:
        yield served


@pytest.fixture(scope="session")
async def vision(tiny_model, vision_model) -> AsyncIterator[Served]:
    async with serving(tiny_model.model, vision=vision_model.model) as served:
        yield served
