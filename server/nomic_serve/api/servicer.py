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
from ..core.image_engine import ImageDecoder, ImageEngine
from ..core.types import TextItem, Timings
from ..core.validation import resolve_averaging, resolve_dim, validate_text, validate_texts
from ..errors import InvalidInput, ModelUnavailable, ServeError
from ..imagestats import color_stats, read_exif
from ..intake import ImageIntake
from ..models.loader import LoadedTextModel
from . import messages
from .interceptors import current_record
from .status import rpc_status

__all__ = ["EmbeddingServicer", "ServingState"]

# The request messages that carry one text with `input`, `dim` and `truncate`.
_OneText = pb.EmbedRequest | pb.EmbedQueryRequest | pb.EmbedBatchRequest


@dataclass
class ServingState:
    """Mutable process state the servicer reports: flipped once on shutdown."""

    shutting_down: bool = False


class EmbeddingServicer(rpc.EmbeddingServiceServicer):
    """Implements nomic.serve.v1.EmbeddingService on top of the text and image engines."""

    def __init__(
        self,
        *,
        settings: Settings,
        text: LoadedTextModel | None,
        text_missing: str = "",
        image: ImageEngine | None = None,
        image_missing: str = "",
        decoder: ImageDecoder,
        intake: ImageIntake,
    ) -> None:
        self._settings = settings
        self._text = text
        self._text_missing = text_missing or "no text model is loaded"
        self._image = image
        self._image_missing = image_missing or "no vision model is loaded"
        self._decoder = decoder
        self._intake = intake
        self.state = ServingState()

    async def Embed(
        self, request: pb.EmbedRequest, context: grpc.aio.ServicerContext
    ) -> pb.EmbedResponse:
        return pb.EmbedResponse(**await self._embed_one(request, request.prefix, context))

    async def EmbedQuery(
        self, request: pb.EmbedQueryRequest, context: grpc.aio.ServicerContext
    ) -> pb.EmbedQueryResponse:
        return pb.EmbedQueryResponse(**await self._embed_one(request, "search_query", context))

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
        result = await self._run(engine, items, context)
        return pb.EmbedListResponse(
            embeddings=[messages.list_value(e.vector.tolist()) for e in result.embeddings],
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
                        asyncio.create_task(self._stream_item(engine, index, request, context))
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
        started = time.perf_counter()
        engine = self._image_engine()
        dim = resolve_dim(request.dim, engine.profile.dimension)
        data = await self._intake.one(_image_source(request))
        fetched = time.perf_counter()
        (pixels,) = await self._decoder.pixels([data], engine.clip)
        if isinstance(pixels, ServeError):
            raise pixels
        (vector,), timings = await engine.embed([pixels], dim)
        timings.fetch_ms = (fetched - started) * 1000
        timings.preprocess_ms = _ms_since(fetched) - timings.inference_ms - timings.postprocess_ms
        current_record().add(items=1, tokens=0, timings=timings)
        return pb.ImageEmbedResponse(
            embedding=vector.tolist(), time_ms=_ms_since(started), model=engine.profile.name
        )

    async def ImageEmbedList(
        self, request: pb.ImageEmbedListRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageEmbedListResponse:
        """Fetches and decodes every image in parallel, then runs one inference for the
        images that made it; the others are reported per item."""
        started = time.perf_counter()
        engine = self._image_engine()
        dim = resolve_dim(request.dim, engine.profile.dimension)
        loaded, fetch_ms = await self._intake.many(request.contents, request.data)
        decoding = time.perf_counter()
        good = [i for i, item in enumerate(loaded) if isinstance(item, bytes)]
        results: list[object] = list(loaded)
        for index, pixels in zip(
            good, await self._decoder.pixels([loaded[i] for i in good], engine.clip), strict=True
        ):
            results[index] = pixels
        errors = [(i, r) for i, r in enumerate(results) if isinstance(r, ServeError)]
        if len(errors) == len(results):
            raise errors[0][1]
        ready = [i for i, r in enumerate(results) if not isinstance(r, ServeError)]
        preprocess_ms = _ms_since(decoding)
        vectors, timings = await engine.embed([results[i] for i in ready], dim)
        embeddings = [struct_pb2.ListValue() for _ in results]
        for index, vector in zip(ready, vectors, strict=True):
            embeddings[index].extend(vector.tolist())
        timings.add(Timings(fetch_ms=fetch_ms, preprocess_ms=preprocess_ms))
        current_record().add(items=len(results), tokens=0, timings=timings)
        return pb.ImageEmbedListResponse(
            embeddings=embeddings,
            errors=[pb.ItemError(index=i, status=rpc_status(e)) for i, e in errors],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )

    async def ImageStats(
        self, request: pb.ImageStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageStatsResponse:
        """Needs no model: EXIF as stored (never rotated) and colours of the opaque pixels."""
        started = time.perf_counter()
        method = resolve_averaging(request.averaging_method, self._settings.averaging)
        data = await self._intake.one(_image_source(request))
        (stats,) = await self._decoder.map(
            [data], lambda image: (read_exif(image), color_stats(image, method))
        )
        if isinstance(stats, ServeError):
            raise stats
        exif, colors = stats
        response = pb.ImageStatsResponse(time_ms=_ms_since(started))
        response.exif_data.SetInParent()  # `{}` when the image has none, as the original
        response.exif_data.update(exif)
        if colors is not None:
            response.color_data.CopyFrom(messages.color_data(colors))
        return response

    async def Health(
        self, request: pb.HealthRequest, context: grpc.aio.ServicerContext
    ) -> pb.HealthResponse:
        text = self._text
        return pb.HealthResponse(
            status="SHUTTING_DOWN" if self.state.shutting_down else "OK",
            text_model=text is not None and not self.state.shutting_down,
            vision_model=self._image is not None and not self.state.shutting_down,
            text_model_name=text.engine.profile.name if text else "",
            vision_model_name=self._image.profile.name if self._image else "",
            provider=messages.first_provider(text, self._image),
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
            limits=messages.limits(settings),
            exif_orientation=settings.image_exif_orientation,
        )
        if self._text:
            response.text.CopyFrom(messages.text_model_info(self._text))
            response.cache.CopyFrom(messages.cache_stats(self._text.engine))
        if self._image:
            response.vision.CopyFrom(messages.vision_model_info(self._image, settings))
        return response

    async def CreateEmbeddings(
        self, request: pb.CreateEmbeddingsRequest, context: grpc.aio.ServicerContext
    ) -> pb.CreateEmbeddingsResponse:
        """OpenAI's shape: `input` a string or a list of strings, `float` or `base64` vectors;
        the nomic prefix comes from the `prefix` extension field, else DEFAULT_PREFIX."""
        engine = self._engine()
        encoding = request.encoding_format or "float"
        if encoding not in ("float", "base64"):
            raise InvalidInput(f"encoding_format must be float or base64, got {encoding!r}")
        items = validate_texts(
            messages.openai_texts(request.input),
            dim=request.dimensions,
            prefix=request.prefix,
            truncate=True,
            profile=engine.profile,
            default_prefix=self._settings.default_prefix,
            max_inputs=self._settings.max_list_inputs,
        )
        result = await self._run(engine, items, context)
        tokens = sum(e.tokens for e in result.embeddings)
        return pb.CreateEmbeddingsResponse(
            object="list",
            data=[
                pb.EmbeddingData(
                    object="embedding",
                    index=i,
                    embedding=messages.openai_vector(e.vector, encoding),
                )
                for i, e in enumerate(result.embeddings)
            ],
            model=engine.profile.name,
            usage=pb.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
        )

    async def _embed_one(
        self, request: _OneText, prefix: str, context: grpc.aio.ServicerContext
    ) -> dict[str, object]:
        started = time.perf_counter()
        engine = self._engine()
        item = self._item(engine, request, prefix)
        (embedding,) = (await self._run(engine, [item], context)).embeddings
        return dict(
            embedding=embedding.vector.tolist(),
            tokens=embedding.tokens,
            truncated=embedding.truncated,
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )

    async def _stream_item(
        self,
        engine: TextEngine,
        index: int,
        request: pb.EmbedBatchRequest,
        context: grpc.aio.ServicerContext,
    ) -> pb.EmbedBatchResponse:
        try:
            item = self._item(engine, request, request.prefix)
            (embedding,) = (await self._run(engine, [item], context)).embeddings
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

    async def _run(
        self, engine: TextEngine, items: list[TextItem], context: grpc.aio.ServicerContext
    ) -> EmbedResult:
        remaining = context.time_remaining()
        deadline = None if remaining is None else asyncio.get_running_loop().time() + remaining
        result = await engine.embed(items, deadline)
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

    def _image_engine(self) -> ImageEngine:
        if self._image is None:
            raise ModelUnavailable(self._image_missing)
        return self._image


def _truncate(request: _OneText | pb.EmbedListRequest) -> bool:
    """`truncate` defaults to True when the caller leaves it unset."""
    return request.truncate if request.HasField("truncate") else True


def _image_source(request: pb.ImageEmbedRequest | pb.ImageStatsRequest) -> str | bytes | None:
    """The `image` oneof as set: empty bytes are an (empty) image, unset is no image."""
    field = request.WhichOneof("image")
    return getattr(request, field) if field else None


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
