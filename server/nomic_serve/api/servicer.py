"""pb request -> core types -> engine -> pb response, and nothing else."""

from __future__ import annotations

import asyncio
import copy
import functools
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias, cast

import grpc
import numpy as np

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from .. import __version__, tracing
from ..config import Settings
from ..core.admission import ImageAdmission
from ..core.chunking import TRUNCATE, ChunkPlan, resolve_mode
from ..core.engine import ChunkedResult, EmbedResult, TextEngine
from ..core.image_engine import ImageDecoder, ImageEngine
from ..core.quantization import CALIBRATED, FLOAT, Calibration, Ranges, encode, resolve_encoding
from ..core.scheduler import Flow
from ..core.types import TextItem, Timings
from ..core.validation import check_count, resolve_averaging, resolve_dim
from ..core.workpool import WorkPool
from ..errors import InvalidInput, ModelUnavailable, ServeError
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
        calibration: Calibration | None = None,
        calibration_missing: str = "",
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
        self._calibration = calibration
        self._calibration_missing = calibration_missing
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
        encoding = self._encoding(request.encoding, items[0].dim)
        result = await self._run(engine, items, context)
        rest = pb.EmbedListResponse(
            tokens=result.tokens,
            truncated=result.truncated,
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )
        if encoding != FLOAT:
            rest.packed.CopyFrom(self._packed_list(result.vectors, encoding))
            return self._sized(rest.SerializeToString())
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
        encoding = self._encoding(request.encoding, dim)
        with self._admission.admit(1) as ticket:
            with tracing.phase("fetch"):
                data = await self._intake.one(await self._image_source(request), ticket)
            fetched = time.perf_counter()
            result = await engine.embed_list(self._decoder, [data], dim)
        (vector,) = result.vectors
        result.timings.fetch_ms = (fetched - started) * 1000
        record = current_record()
        record.add(items=1, tokens=0, timings=result.timings)
        record.image_answered()  # a failed image raised: the interceptor counts its error
        response = pb.ImageEmbedResponse(time_ms=_ms_since(started), model=engine.profile.name)
        if vector is not None and encoding == FLOAT:
            response.embedding.extend(vector.tolist())
        elif vector is not None:
            response.packed.CopyFrom(self._packed_one(vector, encoding))
        return response

    async def ImageEmbedList(
        self, request: pb.ImageEmbedListRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        """Fetches and decodes every image in parallel, then runs one inference for the
        images that made it; the others are reported per item."""
        started = time.perf_counter()
        engine = self._image_engine()
        dim = resolve_dim(request.dim, engine.profile.dimension)
        encoding = self._encoding(request.encoding, dim)
        sources: list[str | bytes] = [*request.contents, *request.data]
        self._intake.check_count(len(sources))
        with self._admission.admit(len(sources)) as ticket:
            with tracing.phase("fetch", **{"nomic_serve.images": len(sources)}):
                loaded, fetch_ms = await self._intake.many(sources, ticket)
            result = await engine.embed_list(self._decoder, loaded, dim)
        result.timings.add(Timings(fetch_ms=fetch_ms))
        record = current_record()
        record.add(items=len(sources), tokens=0, timings=result.timings)
        for _, error in result.errors:
            record.image_answered(error)
        for _ in range(len(sources) - len(result.errors)):
            record.image_answered()
        rest = pb.ImageEmbedListResponse(
            errors=[pb.ItemError(index=i, status=rpc_status(e)) for i, e in result.errors],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )
        if encoding != FLOAT:
            rest.packed.encoding, rest.packed.dim = encoding, dim
            for vector in result.vectors:
                data = b"" if vector is None else self._encoded(vector[None], encoding)[0]
                rest.packed.data.append(data)
            return self._sized(rest.SerializeToString())
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
        current_record().image_answered()
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
        if self._calibration is not None:
            native = self._calibration.native
            dims = [resolve_dim(d, native) for d in request.quantization_dims if d != native]
            if self._calibration.source == "builtin" or native in self._calibration.given:
                dims.insert(0, native)
            response.quantization.CopyFrom(
                messages.quantization(self._calibration, list(dict.fromkeys(dims)))
            )
        if self._image:
            response.vision.CopyFrom(messages.vision_model_info(self._image, settings))
        return response

    async def Similarity(
        self, request: pb.SimilarityRequest, context: grpc.aio.ServicerContext
    ) -> pb.SimilarityResponse:
        """Texts through the text engine and images through the vision engine, concurrently,
        at one dim; every input is checked (and an image request admitted) before any work."""
        started = time.perf_counter()
        if not request.HasField("query"):
            raise InvalidInput("query is required: a text, an image or image_data")
        inputs = [request.query, *request.candidates]
        labels = ["query", *(f"candidates[{i}]" for i in range(len(request.candidates)))]
        if not request.candidates:
            raise InvalidInput("candidates must hold at least one text or image")
        kinds = [_similarity_kind(item, label) for item, label in zip(inputs, labels, strict=True)]
        texts = [i for i, kind in enumerate(kinds) if kind == "text"]
        images = [i for i, kind in enumerate(kinds) if kind != "text"]
        natives = []
        if texts:
            check_count(len(texts), self._engine().rules.max_inputs)
            natives.append(self._engine().profile.dimension)
        if images:
            self._intake.check_count(len(images))
            natives.append(self._image_engine().profile.dimension)
        dim = resolve_dim(request.dim, min(natives))
        vectors = np.zeros((len(inputs), dim), dtype=np.float32)

        async def embed_texts() -> None:
            engine = self._engine()
            items = [
                engine.rules.text(
                    inputs[i].text,
                    dim=dim,
                    prefix=inputs[i].prefix or ("search_query" if i == 0 else "search_document"),
                    truncate=_truncate(request),
                    label=labels[i],
                )
                for i in texts
            ]
            result = await self._run(engine, items, context)
            vectors[texts] = result.vectors

        async def embed_images() -> None:
            engine = self._image_engine()
            sources: list[str | bytes] = [
                inputs[i].image if kinds[i] == "image" else inputs[i].image_data for i in images
            ]
            with self._admission.admit(len(sources)) as ticket:
                loaded, _ = await self._intake.many(sources, ticket)
                try:
                    result = await engine.embed_list(self._decoder, loaded, dim)
                except InvalidInput as exc:  # every image failed: this is the first one's
                    raise _labelled(exc, labels[images[0]]) from None
            record = current_record()
            record.add(items=len(sources), tokens=0, timings=result.timings)
            if result.errors:
                index, error = result.errors[0]
                raise _labelled(error, labels[images[index]])  # counted once, by its code
            for _ in sources:
                record.image_answered()
            vectors[images] = np.stack([v for v in result.vectors if v is not None])

        tasks = [
            asyncio.ensure_future(work())
            for work, used in ((embed_texts, texts), (embed_images, images))
            if used
        ]
        try:
            await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:  # the other half's work is no one's any more
                task.cancel()
            raise
        scores = vectors[1:].astype(np.float64) @ vectors[0].astype(np.float64)
        return pb.SimilarityResponse(
            scores=scores.tolist(),
            ranking=np.argsort(-scores, kind="stable").tolist(),
            time_ms=_ms_since(started),
            dim=dim,
        )

    async def CreateEmbeddings(
        self, request: pb.CreateEmbeddingsRequest, context: grpc.aio.ServicerContext
    ) -> bytes:
        """OpenAI's shape: `input` a string or a list of strings, `float` or `base64` vectors;
        the nomic prefix comes from the `prefix` extension field, else DEFAULT_PREFIX."""
        engine = self._engine()
        items = engine.rules.texts(
            messages.openai_texts(request.input, engine.rules.max_inputs),
            dim=request.dimensions,
            prefix=request.prefix,
            truncate=True,
        )
        encoding = self._encoding(request.encoding_format, items[0].dim, "encoding_format")
        result = await self._run(engine, items, context)
        tokens = sum(result.tokens)
        rest = pb.CreateEmbeddingsResponse(
            object="list",
            model=engine.profile.name,
            usage=pb.EmbeddingUsage(prompt_tokens=tokens, total_tokens=tokens),
        )
        rows = None if encoding == FLOAT else self._encoded(result.vectors, encoding)
        return self._sized(rest.SerializeToString() + messages.openai_data(result.vectors, rows))

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
        encoding = self._encoding(request.encoding, item.dim)
        if isinstance(request, pb.EmbedRequest):
            plan = _plan(engine, item, request)
            if plan.mode != TRUNCATE:
                chunked = await self._run_chunked(engine, item, plan, context)
                document = pb.EmbedResponse(
                    tokens=chunked.tokens,
                    truncated=item.cut,
                    time_ms=_ms_since(started),
                    model=engine.profile.name,
                )
                document.chunks.CopyFrom(self._chunks(plan.mode, chunked, encoding))
                return document.SerializeToString()
        result = await self._run(engine, [item], context)
        rest = response(
            tokens=result.tokens[0],
            truncated=result.truncated[0],
            time_ms=_ms_since(started),
            model=engine.profile.name,
        )
        return self._with_vector(rest, result.vectors[0], encoding)

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
                    encoding = self._encoding(member.request.encoding, item.dim)
                    plan = _plan(engine, item, member.request)
                except ServeError as exc:
                    member.answer.set_result(_stream_error(member.index, exc))
                    continue
                if plan.mode != TRUNCATE:
                    await self._stream_document(engine, member, item, plan, encoding, context, flow)
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
                    member.answer.set_result(self._stream_reply(member, result, row))
        except BaseException as exc:
            for member in group:  # the writer raises it (INTERNAL), or the stream is gone
                if member.answer.done():
                    continue
                if isinstance(exc, asyncio.CancelledError):
                    member.answer.cancel()  # nobody reads it: an exception would be logged
                else:
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
        member.answer.set_result(self._stream_reply(member, result, 0))

    async def _stream_document(
        self,
        engine: TextEngine,
        member: _StreamItem,
        item: TextItem,
        plan: ChunkPlan,
        encoding: str,
        context: grpc.aio.ServicerContext,
        flow: Flow,
    ) -> None:
        try:
            chunked = await self._run_chunked(engine, item, plan, context, flow)
        except ServeError as exc:
            member.answer.set_result(_stream_error(member.index, exc))
            return
        rest = pb.EmbedBatchResponse(index=member.index, tokens=chunked.tokens, truncated=item.cut)
        rest.chunks.CopyFrom(self._chunks(plan.mode, chunked, encoding))
        member.answer.set_result(rest.SerializeToString())

    async def _run_chunked(
        self,
        engine: TextEngine,
        item: TextItem,
        plan: ChunkPlan,
        context: grpc.aio.ServicerContext,
        flow: Flow | None = None,
    ) -> ChunkedResult:
        remaining = context.time_remaining()
        deadline = None if remaining is None else asyncio.get_running_loop().time() + remaining
        result = await engine.embed_chunks(item, plan, deadline, flow)
        current_record().add(items=len(result.spans), tokens=result.tokens, timings=result.timings)
        return result

    def _chunks(self, mode: str, chunked: ChunkedResult, encoding: str) -> pb.Chunks:
        message = pb.Chunks(mode=mode)
        encoded = None if encoding == FLOAT else self._encoded(chunked.vectors, encoding)
        for row, span in enumerate(chunked.spans):
            chunk = message.chunks.add(
                token_start=span.token_start,
                token_end=span.token_end,
                char_start=span.char_start,
                char_end=span.char_end,
            )
            if encoded is None:
                chunk.embedding.extend(chunked.vectors[row].tolist())
            else:
                dim = chunked.vectors.shape[1]
                chunk.packed.CopyFrom(
                    pb.PackedEmbedding(encoding=encoding, dim=dim, data=encoded[row])
                )
        return message

    def _stream_reply(self, member: _StreamItem, result: EmbedResult, row: int) -> bytes:
        rest = pb.EmbedBatchResponse(
            index=member.index, tokens=result.tokens[row], truncated=result.truncated[row]
        )
        return self._with_vector(rest, result.vectors[row], member.request.encoding or FLOAT)

    def _with_vector(
        self,
        rest: pb.EmbedResponse | pb.EmbedQueryResponse | pb.EmbedBatchResponse,
        vector: np.ndarray,
        encoding: str,
    ) -> bytes:
        """A one-vector reply: floats written as packed bytes beside `rest`, or `packed`."""
        if encoding != FLOAT:
            rest.packed.CopyFrom(self._packed_one(vector, encoding))
            return rest.SerializeToString()
        return rest.SerializeToString() + messages.packed_floats(_VECTOR_FIELD[type(rest)], vector)

    def _encoding(self, value: str, dim: int, name: str = "encoding") -> str:
        """The request's encoding, checked before any work: its name, its dim rule, and for
        int8/uint8 that calibration ranges exist at `dim`."""
        encoding = resolve_encoding(value, dim, name)
        if encoding in CALIBRATED:
            self._ranges(dim)
        return encoding

    def _ranges(self, dim: int) -> Ranges:
        calibration = self._calibration
        if calibration is None and self._calibration_missing:
            raise ModelUnavailable(self._calibration_missing)
        if calibration is None:
            raise InvalidInput(
                "int8 and uint8 use the text model's calibration, and no text model is loaded"
            )
        if dim > calibration.native:
            raise InvalidInput(
                f"int8 and uint8 use the text model's calibration, which stops at dim "
                f"{calibration.native}; got {dim}"
            )
        return calibration.ranges(dim)

    def _encoded(self, vectors: np.ndarray, encoding: str) -> list[bytes]:
        ranges = self._ranges(vectors.shape[1]) if encoding in CALIBRATED else None
        return [row.tobytes() for row in encode(vectors, encoding, ranges)]

    def _packed_one(self, vector: np.ndarray, encoding: str) -> pb.PackedEmbedding:
        (data,) = self._encoded(vector[None], encoding)
        return pb.PackedEmbedding(encoding=encoding, dim=len(vector), data=data)

    def _packed_list(self, vectors: np.ndarray, encoding: str) -> pb.PackedEmbeddings:
        return pb.PackedEmbeddings(
            encoding=encoding, dim=vectors.shape[1], data=self._encoded(vectors, encoding)
        )

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


def _stream_error(index: int, exc: ServeError) -> pb.EmbedBatchResponse:
    current_record().refused(exc)  # an item refused for overload counts as a call would
    return pb.EmbedBatchResponse(index=index, error=rpc_status(exc))


def _plan(
    engine: TextEngine, item: TextItem, request: pb.EmbedRequest | pb.EmbedBatchRequest
) -> ChunkPlan:
    """The long-input options, checked against what one input of this model can hold."""
    budget = engine.chunk_budget(item) if request.long_input not in ("", TRUNCATE) else 0
    return resolve_mode(request.long_input, request.chunk_tokens, request.chunk_overlap, budget)


def _similarity_kind(item: pb.SimilarityInput, label: str) -> str:
    kind = item.WhichOneof("input")
    if kind is None:
        raise InvalidInput(f"{label} is empty: set text, image or image_data")
    return kind


def _labelled(error: ServeError, label: str) -> ServeError:
    """`error` (its type and attributes kept) with its message naming the item."""
    named = copy.copy(error)
    named.args = (f"{label}: {error}",)
    return named


def _truncate(request: _OneText | pb.EmbedListRequest | pb.SimilarityRequest) -> bool:
    """`truncate` defaults to True when the caller leaves it unset."""
    return request.truncate if request.HasField("truncate") else True


def _ms_since(started: float) -> float:
    return (time.perf_counter() - started) * 1000.0
