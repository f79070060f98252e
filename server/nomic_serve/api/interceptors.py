"""One interceptor for every RPC: maps core errors to status codes and logs one line.

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
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import grpc

from ..core.types import Timings
from ..errors import Overloaded, ServeError, bounded
from .status import retry_metadata, status_code

__all__ = ["RequestInterceptor", "RequestRecord", "current_record"]

log = logging.getLogger("nomic_serve.request")

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

    def add(self, *, items: int, tokens: int, timings: Timings) -> None:
        self.items += items
        self.tokens += tokens
        self.timings.add(timings)


_record: contextvars.ContextVar[RequestRecord | None] = contextvars.ContextVar(
    "request_record", default=None
)


def current_record() -> RequestRecord:
    """The running RPC's record (a throwaway one outside an RPC, e.g. in unit tests)."""
    return _record.get() or RequestRecord(method="")


class RequestInterceptor(grpc.aio.ServerInterceptor):
    """Wraps every handler with error mapping and the request log line."""

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler | None:
        found = await continuation(handler_call_details)
        if found is None:
            return found
        # grpc's handlers are named tuples at run time, which its type stubs do not say.
        handler: Any = found
        method = handler_call_details.method
        if handler.unary_unary:
            return handler._replace(unary_unary=_wrap_unary(handler.unary_unary, method))
        if handler.unary_stream:
            return handler._replace(unary_stream=_wrap_stream(handler.unary_stream, method))
        if handler.stream_unary:
            return handler._replace(stream_unary=_wrap_unary(handler.stream_unary, method))
        return handler._replace(stream_stream=_wrap_stream(handler.stream_stream, method))


@contextlib.asynccontextmanager
async def _recorded(method: str, context: grpc.aio.ServicerContext) -> AsyncIterator[None]:
    """Makes the RPC's record current, maps what escapes, and logs one line at the end."""
    record = RequestRecord(method=method)
    token = _record.set(record)
    started = time.perf_counter()
    try:
        yield
    except BaseException as exc:
        await _handle(exc, record, context)
        raise
    finally:
        _record.reset(token)
        _log(record, started)


def _wrap_unary(behavior: Callable[..., Awaitable[Any]], method: str) -> Callable[..., Any]:
    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> Any:
        async with _recorded(method, context):
            return await behavior(request, context)

    return wrapper


def _wrap_stream(behavior: Callable[..., Any], method: str) -> Callable[..., Any]:
    """A streaming handler is an async generator (ours) or a coroutine that writes through
    its context (grpc's own health Watch): each is wrapped as what it is."""
    if inspect.iscoroutinefunction(behavior):
        return _wrap_unary(behavior, method)

    async def wrapper(request: Any, context: grpc.aio.ServicerContext) -> AsyncIterator[Any]:
        async with _recorded(method, context):
            async for response in behavior(request, context):
                yield response

    return wrapper


async def _handle(exc: BaseException, record: RequestRecord, context: Any) -> None:
    """Aborts with the mapped status; returns only for exceptions that must propagate."""
    if isinstance(exc, ServeError):
        code = status_code(exc)
        record.code = code.name
        if isinstance(exc, Overloaded):
            context.set_trailing_metadata(retry_metadata(exc))
        await context.abort(code, bounded(str(exc)))
    if isinstance(exc, asyncio.CancelledError):
        remaining = context.time_remaining()
        expired = remaining is not None and remaining <= 0
        record.code = "DEADLINE_EXCEEDED" if expired else "CANCELLED"
        return
    if isinstance(exc, grpc.aio.AbortError):
        record.code = context.code().name if context.code() else "ABORTED"
        return
    if isinstance(exc, Exception):
        log.exception("unhandled error in %s", record.method)
        record.code = grpc.StatusCode.INTERNAL.name
        await context.abort(grpc.StatusCode.INTERNAL, "internal error; see the server log")


def _log(record: RequestRecord, started: float) -> None:
    quiet = record.method.startswith(_QUIET_PREFIXES) and record.code == "OK"
    timings = record.timings
    log.log(
        logging.DEBUG if quiet else logging.INFO,
        "%s %s",
        record.method,
        record.code,
        extra={
            "method": record.method,
            "code": record.code,
            "ms": round((time.perf_counter() - started) * 1000, 3),
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
