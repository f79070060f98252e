"""pb request -> core types -> engine -> pb response, and nothing else."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

import grpc
import numpy as np

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .. import __version__
from ..config import Settings
from ..core.admission import ImageAdmission
from ..core.engine import EmbedResult, TextEngine
from ..core.image_engine import ImageDecoder, ImageEngine
from ..core.scheduler import Flow
from ..core.types import TextItem, Timings
from ..core.validation import resolve_averaging, resolve_dim
from ..core.workpool import WorkPool
from ..errors import InvalidInput, ModelUnavailable, ServeError, quoted
from ..imagestats import color_stats, read_exif
from ..intake import ImageIntake
from ..models.loader import LoadedTextModel
from . import messages
from .codec import PARSE_OFF_LOOP_BYTES, text_field
from .interceptors import current_record
from .status import rpc_status

__all__ = ["EmbeddingServicer", "ServingState"]

# The request messages that carry one text with `input`, `dim` and `truncate`.
_OneText: TypeAlias = pb.EmbedRequest | pb.EmbedQueryRequest | pb.EmbedBatchRequest
_OneVector: TypeAlias = type[pb.EmbedResponse] | type[pb.EmbedQueryResponse]
# The repeated ListValue fields whose entries are written as bytes (see messages.py).
_TEXT_VECTORS = pb.EmbedListResponse.DESCRIPTOR.fields_by_name["embeddings"].number
_IMAGE_VECTORS = pb.ImageEmbedListResponse.DESCRIPTOR.fields_by_name["embeddings"].number
_NO_ROW = np.empty((1, 0), dtype=np.uint8)  # a failed image's entry: an empty ListValue
# EmbedBatch items arriving this close together share one engine call, up to STREAM_GROUP.
STREAM_GATHER_S = 0.001
STREAM_GROUP = 64
# The `repeated float embedding` fields, written as bytes (see messages.packed_floats).
_VECTOR_FIELD = {
    message: message.DESCRIPTOR.fields_by_name["embedding"].number
    for message in (pb.EmbedResponse, pb.EmbedQueryResponse, pb.EmbedBatchResponse)
}


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
        admission: ImageAdmission,
        parse_pool: WorkPool,
    ) -> None:
        self._settings = settings
        self._text = text
        self._text_missing = text_missing or "no text model is loaded"
        self._image = image
        self._image_missing = image_missing or "no vision model is loaded"
        self._decoder = decoder
        self._intake = intake
        self._admission = admission
        self._parse_pool = parse_pool
        self._max_reply = settings.grpc_max_message_mb * 1024 * 1024
        self.state = ServingState()

    def gates(self) -> dict[str, Callable[[], None]]:
        """Per method, what refuses a call before its request is read: no room left at all in
        the text queue, or in the images in flight (see codec.py)."""
        gates: dict[str, Callable[[], None]] = {}
        if self._text is not None:
            room = self._text.engine.scheduler.check_room
            for name in ("Embed", "EmbedQuery", "EmbedList", "CreateEmbeddings"):
                gates[name] = room
        for name in ("ImageEmbed", "ImageEmbedList", "ImageStats"):
            gates[name] = self._admission.check_room
        return gates

    async def Embed(self, request: pb.EmbedRequest, context: grpc.aio.ServicerContext) -> bytes:
        return await self._embed_one(request, request.prefix, context, pb.EmbedResponse)

    async def EmbedQuery(
        self, request: pb.EmbedQueryRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        return await self._embed_one(request, "search_query", context, pb.EmbedQueryResponse)

    async def EmbedList(
        self, request: pb.EmbedListRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        started = time.perf_counter()
        engine = self._engine()
        items = engine.rules.texts(
            request.inputs, dim=request.dim, prefix=request.prefix, truncate=_truncate(request)
        )
        result = await self._run(engine, items, context)
        rest = pb.EmbedListResponse(
            tokens=result.tokens,
            truncated=result.truncated,
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )
        rows = messages.list_value_rows(result.vectors)
        return self._sized(rest.SerializeToString() + messages.repeated(_TEXT_VECTORS, rows))

    async def EmbedBatch(
        self,
        request_iterator: AsyncIterator[pb.EmbedBatchRequest],
        context: grpc.aio.ServicerContext,
    ) -> AsyncIterator[pb.EmbedBatchResponse | bytes]:
        """Reads ahead at most STREAM_WINDOW items; when the window is full the reader stops
        pulling, so HTTP/2 flow control slows the client down instead of memory growing. The
        whole stream is one flow of the scheduler: it shares the queue fairly with others.
        Items that arrive within STREAM_GATHER_S of each other are embedded by one engine
        call, as a list would be, and each is still answered, or refused, on its own and in
        order (MiniLM, a 4,000-text stream on 2 cores: 0.81-0.84x -> 0.85-0.86x of the
        in-process limit)."""
        engine = self._engine()
        flow = Flow()
        loop = asyncio.get_running_loop()
        window = asyncio.Semaphore(self._settings.stream_window)
        answers: asyncio.Queue[asyncio.Future[pb.EmbedBatchResponse | bytes] | None]
        answers = asyncio.Queue()
        arrived: list[_StreamItem] = []
        groups: set[asyncio.Task[None]] = set()

        closed = False  # the stream is gone: nothing more is dispatched

        def dispatch() -> None:
            if arrived and not closed:
                group = asyncio.create_task(self._stream_group(engine, arrived[:], context, flow))
                arrived.clear()
                groups.add(group)
                group.add_done_callback(groups.discard)

        async def read() -> None:
            index = 0
            try:
                async for request in request_iterator:
                    await window.acquire()
                    answer: asyncio.Future[pb.EmbedBatchResponse | bytes] = loop.create_future()
                    answers.put_nowait(answer)
                    if not arrived:
                        loop.call_later(STREAM_GATHER_S, dispatch)
                    arrived.append(_StreamItem(index, request, answer))
                    if len(arrived) >= STREAM_GROUP:
                        dispatch()
                    index += 1
            finally:
                dispatch()
                answers.put_nowait(None)

        reader = asyncio.create_task(read())
        answer: asyncio.Future[pb.EmbedBatchResponse | bytes] | None = None
        try:
            while (answer := await answers.get()) is not None:
                yield await answer
                window.release()
            await reader  # surfaces a broken request stream (a malformed item included)
        finally:
            # The caller went away or the stream broke: drop the work nobody will read.
            closed = True
            reader.cancel()
            for group in list(groups):
                group.cancel()
            arrived.clear()

    async def ImageEmbed(
        self, request: pb.ImageEmbedRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageEmbedResponse:
        started = time.perf_counter()
        engine = self._image_engine()
        dim = resolve_dim(request.dim, engine.profile.dimension)
        with self._admission.admit(1) as ticket:
            data = await self._intake.one(await self._image_source(request), ticket)
            fetched = time.perf_counter()
            result = await engine.embed_list(self._decoder, [data], dim)
        (vector,) = result.vectors
        result.timings.fetch_ms = (fetched - started) * 1000
        current_record().add(items=1, tokens=0, timings=result.timings)
        return pb.ImageEmbedResponse(
            embedding=vector.tolist() if vector is not None else [],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )

    async def ImageEmbedList(
        self, request: pb.ImageEmbedListRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        """Fetches and decodes every image in parallel, then runs one inference for the
        images that made it; the others are reported per item."""
        started = time.perf_counter()
        engine = self._image_engine()
        dim = resolve_dim(request.dim, engine.profile.dimension)
        sources: list[str | bytes] = [*request.contents, *request.data]
        self._intake.check_count(len(sources))
        with self._admission.admit(len(sources)) as ticket:
            loaded, fetch_ms = await self._intake.many(sources, ticket)
            result = await engine.embed_list(self._decoder, loaded, dim)
        result.timings.add(Timings(fetch_ms=fetch_ms))
        current_record().add(items=len(sources), tokens=0, timings=result.timings)
        rest = pb.ImageEmbedListResponse(
            errors=[pb.ItemError(index=i, status=rpc_status(e)) for i, e in result.errors],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )
        rows = b"".join(
            messages.repeated(
                _IMAGE_VECTORS, _NO_ROW if v is None else messages.list_value_rows(v[None])
            )
            for v in result.vectors
        )
        return self._sized(rest.SerializeToString() + rows)

    async def ImageStats(
        self, request: pb.ImageStatsRequest, context: grpc.aio.ServicerContext
    ) -> pb.ImageStatsResponse:
        """Needs no model: EXIF as stored (never rotated) and colours of the opaque pixels."""
        started = time.perf_counter()
        method = resolve_averaging(request.averaging_method, self._settings.averaging)
        with self._admission.admit(1) as ticket:
            data = await self._intake.one(await self._image_source(request), ticket)
            (stats,) = await self._decoder.map(
                [data], lambda image: (read_exif(image), color_stats(image, method))
            )
        if isinstance(stats, ServeError):
            raise stats
        exif, colors = stats
        response = pb.ImageStatsResponse(time_ms=_ms_since(started), exif_omitted=exif.omitted)
        response.exif_data.SetInParent()  # `{}` when the image has none, as the original
        response.exif_data.update(cast(dict[str, Any], exif.tags))
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
        """Paths as configured, never where the server resolved them to (INFO_SHOW_PATHS)."""
        settings = self._settings
        show = settings.info_show_paths
        if self._text:
            txt_model, tokenizer = self._text.files.shown
            if show:
                txt_model = str(self._text.files.model.resolve())
                tokenizer = str(self._text.files.tokenizer.resolve())
        else:
            txt_model, tokenizer = str(settings.txt_model), str(settings.tokenizer)
        response = pb.InfoResponse(
            averaging=settings.averaging,
            load_cuda=settings.use_gpu,
            txt_model=txt_model,
            tokenizer=tokenizer,
            img_model=str(settings.img_model.resolve() if show else settings.img_model),
            default_prefix=settings.default_prefix,
            version=__version__,
            limits=messages.limits(settings),
            exif_orientation=settings.image_exif_orientation,
        )
        if self._text:
            response.text.CopyFrom(messages.text_model_info(self._text, show))
            response.cache.CopyFrom(messages.cache_stats(self._text.engine))
        if self._image:
            response.vision.CopyFrom(messages.vision_model_info(self._image, settings))
        return response

    async def CreateEmbeddings(
        self, request: pb.CreateEmbeddingsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        """OpenAI's shape: `input` a string or a list of strings, `float` or `base64` vectors;
        the nomic prefix comes from the `prefix` extension field, else DEFAULT_PREFIX."""
        engine = self._engine()
        encoding = request.encoding_format or "float"
        if encoding not in ("float", "base64"):
            raise InvalidInput(f"encoding_format must be float or base64, got {quoted(encoding)}")
        items = engine.rules.texts(
            messages.openai_texts(request.input, engine.rules.max_inputs),
            dim=request.dimensions,
            prefix=request.prefix,
            truncate=True,
        )
        result = await self._run(engine, items, context)
        tokens = sum(result.tokens)
        rest = pb.CreateEmbeddingsResponse(
            object="list",
            model=engine.profile.name,
            usage=pb.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
        )
        return self._sized(
            rest.SerializeToString() + messages.openai_data(result.vectors, encoding)
        )

    async def _embed_one(
        self,
        request: _OneText,
        prefix: str,
        context: grpc.aio.ServicerContext,
        response: _OneVector,
    ) -> bytes:
        """Embed and EmbedQuery: one text, answered as a `response`, which both RPCs shape
        alike; the vector is written as bytes."""
        started = time.perf_counter()
        engine = self._engine()
        item = self._item(engine, request, prefix)
        result = await self._run(engine, [item], context)
        rest = response(
            tokens=result.tokens[0],
            truncated=result.truncated[0],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )
        vector = messages.packed_floats(_VECTOR_FIELD[response], result.vectors[0])
        return vector + rest.SerializeToString()

    async def _stream_group(
        self,
        engine: TextEngine,
        group: list[_StreamItem],
        context: grpc.aio.ServicerContext,
        flow: Flow,
    ) -> None:
        """Answers every item of `group`: valid ones of one `dim` in one engine call. When
        that call fails (one text too long, no room for all of them), each is tried on its
        own, so only the items at fault are refused."""
        try:
            by_dim: dict[int, list[tuple[_StreamItem, TextItem]]] = {}
            for member in group:
                try:
                    item = self._item(engine, member.request, member.request.prefix)
                except ServeError as exc:
                    member.answer.set_result(_stream_error(member.index, exc))
                    continue
                by_dim.setdefault(item.dim, []).append((member, item))
            for members in by_dim.values():
                try:
                    result = await self._run(engine, [item for _, item in members], context, flow)
                except ServeError as exc:
                    if len(members) == 1:
                        members[0][0].answer.set_result(_stream_error(members[0][0].index, exc))
                        continue
                    for member, item in members:
                        await self._stream_alone(engine, member, item, context, flow)
                    continue
                for row, (member, _) in enumerate(members):
                    member.answer.set_result(_stream_reply(member.index, result, row))
        except BaseException as exc:
            for member in group:  # the writer raises it (INTERNAL), or the stream is gone
                if not member.answer.done():
                    member.answer.set_exception(exc)
            if not isinstance(exc, Exception):
                raise

    async def _stream_alone(
        self,
        engine: TextEngine,
        member: _StreamItem,
        item: TextItem,
        context: grpc.aio.ServicerContext,
        flow: Flow,
    ) -> None:
        try:
            result = await self._run(engine, [item], context, flow)
        except ServeError as exc:
            member.answer.set_result(_stream_error(member.index, exc))
            return
        member.answer.set_result(_stream_reply(member.index, result, 0))

    def _item(self, engine: TextEngine, request: _OneText, prefix: str) -> TextItem:
        return engine.rules.text(
            request.input, dim=request.dim, prefix=prefix, truncate=_truncate(request)
        )

    async def _run(
        self,
        engine: TextEngine,
        items: list[TextItem],
        context: grpc.aio.ServicerContext,
        flow: Flow | None = None,
    ) -> EmbedResult:
        remaining = context.time_remaining()
        deadline = None if remaining is None else asyncio.get_running_loop().time() + remaining
        result = await engine.embed(items, deadline, flow)
        current_record().add(items=len(items), tokens=sum(result.tokens), timings=result.timings)
        return result

    async def _image_source(
        self, request: pb.ImageEmbedRequest | pb.ImageStatsRequest
    ) -> str | bytes | None:
        """The `image` oneof as set: empty bytes are an (empty) image, unset is no image.
        A large one is read on the parse pool: turning 27 MB of base64 into a Python string
        holds the GIL for about 20 ms."""
        field = request.WhichOneof("image")
        if field is None:
            return None
        if field == "data":
            return request.data
        if request.ByteSize() <= PARSE_OFF_LOOP_BYTES:
            return text_field(request, field)
        return await self._parse_pool.run(functools.partial(text_field, request, field))

    def _sized(self, reply: bytes) -> bytes:
        """A reply the server may send: one over GRPC_MAX_MESSAGE_MB is the request's fault
        (too many inputs for that limit), not a reason to retry."""
        if len(reply) > self._max_reply:
            raise InvalidInput(
                f"the reply would be {len(reply) / 1048576:.0f} MB, more than the "
                f"{self._max_reply / 1048576:g} MB limit (GRPC_MAX_MESSAGE_MB); ask for fewer "
                "inputs or a smaller dim"
            )
        return reply

    def _engine(self) -> TextEngine:
        if self._text is None:
            raise ModelUnavailable(self._text_missing)
        return self._text.engine

    def _image_engine(self) -> ImageEngine:
        if self._image is None:
            raise ModelUnavailable(self._image_missing)
        return self._image


@dataclass(frozen=True)
class _StreamItem:
    """One EmbedBatch request, its position, and where its answer goes."""

    index: int
    request: pb.EmbedBatchRequest
    answer: asyncio.Future[pb.EmbedBatchResponse | bytes]


def _stream_reply(index: int, result: EmbedResult, row: int) -> bytes:
    rest = pb.EmbedBatchResponse(
        index=index, tokens=result.tokens[row], truncated=result.truncated[row]
    )
    vector = messages.packed_floats(_VECTOR_FIELD[pb.EmbedBatchResponse], result.vectors[row])
    return rest.SerializeToString() + vector


def _stream_error(index: int, exc: ServeError) -> pb.EmbedBatchResponse:
    return pb.EmbedBatchResponse(index=index, error=rpc_status(exc))


def _truncate(request: _OneText | pb.EmbedListRequest) -> bool:
    """`truncate` defaults to True when the caller leaves it unset."""
    return request.truncate if request.HasField("truncate") else True


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
