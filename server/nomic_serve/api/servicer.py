"""pb request -> core types -> engine -> pb response, and nothing else."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import grpc
from google.protobuf import struct_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .. import __version__
from ..config import Settings
from ..core.engine import EmbedResult, TextEngine
from ..core.types import TextItem
from ..core.validation import validate_text, validate_texts
from ..errors import ModelUnavailable, NotAvailable, ServeError
from ..models.loader import LoadedTextModel
from .interceptors import current_record
from .status import rpc_status

__all__ = ["EmbeddingServicer", "ServingState"]

# The request messages that carry one text with `input`, `dim` and `truncate`.
_OneText = pb.EmbedRequest | pb.EmbedQueryRequest | pb.EmbedBatchRequest
_NO_IMAGES = "image embeddings and image statistics are not available in this version"


@dataclass
class ServingState:
    """Mutable process state the servicer reports: flipped once on shutdown."""

    shutting_down: bool = False


class EmbeddingServicer(rpc.EmbeddingServiceServicer):
    """Implements nomic.serve.v1.EmbeddingService on top of the text engine."""

    def __init__(
        self,
        *,
        settings: Settings,
        text: LoadedTextModel | None,
        text_missing: str = "",
    ) -> None:
        self._settings = settings
        self._text = text
        self._text_missing = text_missing or "no text model is loaded"
        self.state = ServingState()

    async def Embed(
        self, request: pb.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> pb.EmbedResponse:
        return pb.EmbedResponse(**await self._embed_one(request, request.prefix))

    async def EmbedQuery(
        self, request: pb.EmbedQueryRequest, context: grpc.aio.ServicerContext
    ) -> pb.EmbedQueryResponse:
        return pb.EmbedQueryResponse(**await self._embed_one(request, "search_query"))

    async def EmbedList(
        self, request: pb.EmbedListRequest, context: grpc.aio.ServicerContext
    ) -> pb.EmbedListResponse:
        started = time.perf_counter()
        engine = self._engine()
        items = validate_texts(
            request.inputs,
            dim=request.dim,
            prefix=request.prefix,
            truncate=_truncate(request),
            profile=engine.profile,
            default_prefix=self._settings.default_prefix,
            max_inputs=self._settings.max_list_inputs,
        )
        result = await self._run(engine, items)
        return pb.EmbedListResponse(
            embeddings=[_list_value(e.vector.tolist()) for e in result.embeddings],
            tokens=[e.tokens for e in result.embeddings],
            truncated=[e.truncated for e in result.embeddings],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )

    async def EmbedBatch(
        self,
        request_iterator: AsyncIterator[pb.EmbedBatchRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.EmbedBatchResponse]:
        """Reads ahead at most STREAM_WINDOW items; when the window is full the reader stops
        pulling, so HTTP/2 flow control slows the client down instead of memory growing."""
        engine = self._engine()
        window = asyncio.Semaphore(self._settings.stream_window)
        answers: asyncio.Queue[asyncio.Task[pb.EmbedBatchResponse] | None] = asyncio.Queue()

        async def read() -> None:
            index = 0
            try:
                async for request in request_iterator:
                    await window.acquire()
                    answers.put_nowait(
                        asyncio.create_task(self._stream_item(engine, index, request))
                    )
                    index += 1
            finally:
                answers.put_nowait(None)

        reader = asyncio.create_task(read())
        task: asyncio.Task[pb.EmbedBatchResponse] | None = None
        try:
            while (task := await answers.get()) is not None:
                yield await task
                window.release()
            await reader  # surfaces a broken request stream
        finally:
            # The caller went away or the stream broke: drop the work nobody will read.
            reader.cancel()
            if task is not None:
                task.cancel()
            while not answers.empty():
                if (queued := answers.get_nowait()) is not None:
                    queued.cancel()

    async def ImageEmbed(
        self, request: pb.ImageEmbedRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageEmbedResponse:
        raise NotAvailable(_NO_IMAGES)

    async def ImageEmbedList(
        self, request: pb.ImageEmbedListRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageEmbedListResponse:
        raise NotAvailable(_NO_IMAGES)

    async def ImageStats(
        self, request: pb.ImageStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageStatsResponse:
        raise NotAvailable(_NO_IMAGES)

    async def Health(
        self, request: pb.HealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.HealthResponse:
        text = self._text
        return pb.HealthResponse(
            status="SHUTTING_DOWN" if self.state.shutting_down else "OK",
            text_model=text is not None and not self.state.shutting_down,
            vision_model=False,
            text_model_name=text.engine.profile.name if text else "",
            provider=text.engine.session.providers[0] if text else "",
        )

    async def Info(
        self, request: pb.InfoRequest, context: grpc.aio.ServicerContext
    ) -> pb.InfoResponse:
        settings = self._settings
        response = pb.InfoResponse(
            averaging=settings.averaging,
            load_cuda=settings.use_gpu,
            txt_model=str(self._text.files.model if self._text else settings.txt_model),
            tokenizer=str(self._text.files.tokenizer if self._text else settings.tokenizer),
            img_model=str(settings.img_model),
            default_prefix=settings.default_prefix,
            version=__version__,
        )
        if self._text:
            response.text.CopyFrom(_text_model_info(self._text))
        return response

    async def _embed_one(self, request: _OneText, prefix: str) -> dict[str, object]:
        started = time.perf_counter()
        engine = self._engine()
        (embedding,) = (await self._run(engine, [self._item(engine, request, prefix)])).embeddings
        return dict(
            embedding=embedding.vector.tolist(),
            tokens=embedding.tokens,
            truncated=embedding.truncated,
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )

    async def _stream_item(
        self, engine: TextEngine, index: int, request: pb.EmbedBatchRequest
    ) -> pb.EmbedBatchResponse:
        try:
            item = self._item(engine, request, request.prefix)
            (embedding,) = (await self._run(engine, [item])).embeddings
        except ServeError as exc:
            return pb.EmbedBatchResponse(index=index, error=rpc_status(exc))
        return pb.EmbedBatchResponse(
            index=index,
            embedding=embedding.vector.tolist(),
            tokens=embedding.tokens,
            truncated=embedding.truncated,
        )

    def _item(self, engine: TextEngine, request: _OneText, prefix: str) -> TextItem:
        return validate_text(
            request.input,
            dim=request.dim,
            prefix=prefix,
            truncate=_truncate(request),
            profile=engine.profile,
            default_prefix=self._settings.default_prefix,
        )

    async def _run(self, engine: TextEngine, items: list[TextItem]) -> EmbedResult:
        result = await engine.embed(items)
        current_record().add(
            items=len(items),
            tokens=sum(e.tokens for e in result.embeddings),
            timings=result.timings,
        )
        return result

    def _engine(self) -> TextEngine:
        if self._text is None:
            raise ModelUnavailable(self._text_missing)
        return self._text.engine


def _truncate(request: _OneText | pb.EmbedListRequest) -> bool:
    """`truncate` defaults to True when the caller leaves it unset."""
    return request.truncate if request.HasField("truncate") else True


def _list_value(values: list[float]) -> struct_pb2.ListValue:
    list_value = struct_pb2.ListValue()
    list_value.extend(values)
    return list_value


def _text_model_info(text: LoadedTextModel) -> pb.ModelInfo:
    profile, session = text.engine.profile, text.engine.session
    return pb.ModelInfo(
        name=profile.name,
        path=str(text.files.model),
        dimension=profile.dimension,
        max_tokens=profile.max_tokens,
        pooling=profile.pooling,
        matryoshka_layer_norm=profile.layer_norm,
        prefixes=list(profile.prefixes),
        providers=session.providers,
        batching=session.mode.name,
        batching_reason=session.mode.reason,
        source=text.files.source,
    )


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
