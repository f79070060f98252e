"""One interceptor for every RPC: maps core errors to status codes, logs one line and
records the RPC in the metrics.

Without it grpc.aio would send an escaped exception to the client as UNKNOWN with the
exception text in the details; here unknown errors become INTERNAL with a generic message
and the traceback goes only to the log.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import inspect
import logging
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from .. import tracing
from ..core.types import Timings
from ..errors import FetchBlocked, Overloaded, ServeError, Unauthenticated, bounded
from ..metrics import Metrics
from .status import retry_metadata, status_code

__all__ = ["RequestInterceptor", "RequestRecord", "current_record"]

log = logging.getLogger("nomic_serve.request")

# Wrapped handlers kept: every method's, twice over (gated methods have two handlers).
_MAX_WRAPPED = 64
# Probes and reflection are frequent and uninteresting: logged at DEBUG only.
_QUIET_PREFIXES = ("/grpc.health.v1.", "/grpc.reflection.")


@dataclass
class RequestRecord:
    """What one RPC did, filled in by the servicer and logged when it ends."""

    method: str
    code: str = "OK"
    items: int = 0
    tokens: int = 0
    timings: Timings = field(default_factory=Timings)
    images: Counter[str] = field(default_factory=Counter)  # outcome -> images
    fetch_refusals: Counter[str] = field(default_factory=Counter)  # SSRF rule -> URLs
    overloaded: Counter[str] = field(default_factory=Counter)  # limit -> refusals
    trace: Any = None  # the RPC's span while tracing is on (tracing.start_rpc)

    def add(self, *, items: int, tokens: int, timings: Timings) -> None:
        self.items += items
        self.tokens += tokens
        self.timings.add(timings)

    def image_answered(self, error: ServeError | None = None) -> None:
        """One image's outcome: OK, or the status code of the error it ended with."""
        self.images[status_code(error).name if error is not None else "OK"] += 1
        if error is not None:
            self.refused(error)

    def refused(self, error: ServeError) -> None:
        """What a refusal says about the server's limits and the SSRF rules."""
        if isinstance(error, FetchBlocked):
            self.fetch_refusals[error.rule] += 1
        elif isinstance(error, Overloaded):
            self.overloaded[error.limit] += 1


_record: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "request_record", default=None
)


def current_record() -> RequestRecord:
    """The running RPC's record (a throwaway one outside an RPC, e.g. in unit tests)."""
    return _record.get() or RequestRecord(method="")


class RequestInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler with error mapping, the request log line and the request's metrics
    (once per handler, not per call)."""

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics
        self._wrapped: dict[int, tuple[grpc.RpcMethodHandler, grpc.RpcMethodHandler]] = {}

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        found = await continuation(handler_call_details)
        if found is None:
            return found
        # Handlers are built once (a gated method has two, see codec.py): each is wrapped once.
        cached = self._wrapped.get(id(found))
        if cached is not None and cached[0] is found:
            return cached[1]
        wrapped = _wrap(found, handler_call_details.method, self._metrics)
        if len(self._wrapped) >= _MAX_WRAPPED:  # a handler built per call would fill it
            self._wrapped.clear()
        self._wrapped[id(found)] = (found, wrapped)
        return wrapped


def _wrap(found: grpc.RpcMethodHandler, method: str, metrics: Metrics) -> grpc.RpcMethodHandler:
    """The handler with its behaviour wrapped (see _wrap_unary, _wrap_stream)."""
    # grpc's handlers are named tuples at run time, which its type stubs do not say.
    handler: Any = found
    if handler.unary_unary:
        return handler._replace(unary_unary=_wrap_unary(handler.unary_unary, method, metrics))
    if handler.unary_stream:
        return handler._replace(unary_stream=_wrap_stream(handler.unary_stream, method, metrics))
    if handler.stream_unary:
        return handler._replace(stream_unary=_wrap_unary(handler.stream_unary, method, metrics))
    return handler._replace(stream_stream=_wrap_stream(handler.stream_stream, method, metrics))


def _wrap_unary(
    behavior: Callable[..., Awaitable[Any]], method: str, metrics: Metrics
) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        record, token, started = _begin(method, context)
        try:
            try:
                return await behavior(request, context)
            except BaseException as exc:
                status = _status_of(exc, record, context)
                if status is None:
                    raise
            del request  # see _status_of: the abort's exception keeps this frame
            await context.abort(*status)
        finally:
            _end(record, token, started, metrics)

    return wrapper


def _wrap_stream(behavior: Callable[..., Any], method: str, metrics: Metrics) -> Callable[..., Any]:
    """A streaming handler is an async generator (ours) or a coroutine that writes through
    its context (grpc's own health Watch): each is wrapped as what it is."""
    if inspect.iscoroutinefunction(behavior):
        return _wrap_unary(behavior, method, metrics)

    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        record, token, started = _begin(method, context)
        try:
            try:
                async for response in behavior(request, context):
                    yield response
                return
            except BaseException as exc:
                status = _status_of(exc, record, context)
                if status is None:
                    raise
            del request
            await context.abort(*status)
        finally:
            _end(record, token, started, metrics)

    return wrapper


def _begin(
    method: str, context: grpc.aio.ServicerContext
) -> tuple[RequestRecord, contextvars.Token[RequestRecord | None], float]:
    record = RequestRecord(method=method)
    if not method.startswith(_QUIET_PREFIXES):  # probes would bury the traces that matter
        record.trace = tracing.start_rpc(method, context.invocation_metadata)
    return record, _record.set(record), time.perf_counter()


def _end(
    record: RequestRecord,
    token: contextvars.Token[RequestRecord | None],
    started: float,
    metrics: Metrics,
) -> None:
    # A stream the client cancelled is finished by grpc closing its generator from another
    # task, whose context never held the token: the record ends all the same.
    with contextlib.suppress(ValueError):
        _record.reset(token)
    seconds = time.perf_counter() - started
    metrics.request_done(record, seconds)
    tracing.end_rpc(record.trace, record.code, items=record.items, tokens=record.tokens)
    _log(record, seconds)


def _status_of(
    exc: BaseException, record: RequestRecord, context: Any
) -> tuple[grpc.StatusCode, str] | None:
    """The status an escaped exception is answered with; None for one that must propagate.

    The caller aborts once it has left its `except` block and dropped the request: grpc
    keeps an abort's exception for as long as the call's state lives, which can be long
    after the call, and that exception's traceback keeps the frames it passed through. An
    abort inside the `except` would chain the original exception to it, and with that every
    frame and buffer of the failed work (+20 MB per refused 20 MB download, never freed)."""
    if isinstance(exc, asyncio.CancelledError):
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= 0
        record.code = "DEADLINE_EXCEEDED" if expired else "CANCELLED"
        return None
    if isinstance(exc, grpc.aio.AbortError):  # a handler of grpc's own (health) aborted
        record.code = context.code().name if context.code() else "ABORTED"
        return None
    if isinstance(exc, ServeError):
        code = status_code(exc)
        if "/Image" in record.method and not record.images:  # refused as a whole: once
            record.image_answered(exc)
        else:
            record.refused(exc)
        if isinstance(exc, Overloaded):
            context.set_trailing_metadata(retry_metadata(exc))
        elif isinstance(exc, Unauthenticated):  # RFC 6750; Envoy makes it an HTTP header
            context.set_trailing_metadata((("www-authenticate", 'Bearer realm="nomic-serve"'),))
        details = bounded(str(exc))
    elif isinstance(exc, Exception):
        log.exception("unhandled error in %s", record.method, exc_info=exc)
        code, details = grpc.StatusCode.INTERNAL, "internal error; see the server log"
    else:
        return None
    record.code = code.name
    release_frames(exc)
    return code, details


def release_frames(exc: BaseException) -> None:
    """Detaches the tracebacks of an answered exception and of the ones it chains to, so a
    reference cycle that still holds the exception (an asyncio task's result) does not also
    hold every frame it passed through, with their buffers, until the next full collection.
    The frames are not cleared: `frame.clear()` would also end a suspended coroutine whose
    frame is on the traceback, such as a scheduler worker."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.__traceback__ = None
        current = current.__cause__ or current.__context__


def _log(record: RequestRecord, seconds: float) -> None:
    quiet = record.method.startswith(_QUIET_PREFIXES) and record.code == "OK"
    level = logging.DEBUG if quiet else logging.INFO
    if not log.isEnabledFor(level):
        return  # the fields below cost more than the check, on every request
    timings = record.timings
    log.log(
        level,
        "%s %s",
        record.method,
        record.code,
        extra={
            "method": record.method,
            "code": record.code,
            "ms": round(seconds * 1000, 3),
            "items": record.items,
            "tokens": record.tokens,
            "fetch_ms": round(timings.fetch_ms, 3),
            "preprocess_ms": round(timings.preprocess_ms, 3),
            "tokenize_ms": round(timings.tokenize_ms, 3),
            "queue_ms": round(timings.queue_ms, 3),
            "inference_ms": round(timings.inference_ms, 3),
            "postprocess_ms": round(timings.postprocess_ms, 3),
        },
    )
