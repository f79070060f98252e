"""OpenTelemetry traces, off unless OTEL_EXPORTER_OTLP_ENDPOINT is set.

One span per RPC, continuing the caller's W3C `traceparent` (gRPC metadata; Envoy passes
the HTTP header through as metadata), and a child span per phase the request went through:
tokenize, queue, inference (with the batch it ran in: its texts and padded tokens),
postprocess, and for images fetch and preprocess. Attributes carry sizes, counts and codes,
never a text, an image or a URL. Spans are exported in batches by the SDK's own thread over
OTLP gRPC or HTTP/protobuf (OTEL_EXPORTER_OTLP_PROTOCOL); the SDK reads the other standard
OTEL_* variables (headers, timeouts, certificates) itself.

The `opentelemetry` packages are the optional `otel` extra: nothing here imports them unless
tracing is on, and with tracing off every function below costs one attribute check.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .config import Settings
from .errors import ConfigError

__all__ = ["configure", "end_rpc", "phase", "phase_span", "shutdown", "start_rpc"]

_tracer: Any = None  # an opentelemetry Tracer while tracing is on
_provider: Any = None
# perf_counter -> wall-clock nanoseconds, for spans whose times were measured before they
# could be created (a batch's start and end, stamped by the scheduler's worker).
_WALL_OFFSET_NS = time.time_ns() - time.perf_counter_ns()


def configure(settings: Settings) -> None:
    """Starts exporting when OTEL_EXPORTER_OTLP_ENDPOINT is set; ConfigError when the `otel`
    extra is not installed."""
    global _tracer, _provider
    if settings.otel_endpoint is None:
        return
    try:
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        raise ConfigError(
            "OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed: "
            "pip install 'nomic-serve[otel]'"
        ) from None
    if settings.otel_protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # type: ignore[assignment]
            OTLPSpanExporter,
        )
    resource = Resource.create({"service.name": settings.otel_service_name})
    _provider = TracerProvider(resource=resource)
    _provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    _tracer = _provider.get_tracer("nomic_serve")


def shutdown() -> None:
    """Flushes the spans still buffered (at the server's stop)."""
    global _tracer, _provider
    if _provider is not None:
        _provider.shutdown()
    _tracer = _provider = None


def start_rpc(method: str, metadata: Callable[[], Iterable[tuple[str, Any]] | None]) -> Any:
    """The RPC's span, made current for the handler's task, as a child of the caller's
    `traceparent` when it sent one; None when tracing is off. `metadata` is only called
    when tracing is on: grpc builds the tuples anew at every call."""
    if _tracer is None:
        return None
    from opentelemetry import context, propagate, trace

    carrier = {key: value for key, value in metadata() or () if isinstance(value, str)}
    parent = propagate.extract(carrier)
    service, _, name = method.lstrip("/").rpartition("/")
    span = _tracer.start_span(
        method.lstrip("/"),
        context=parent,
        kind=trace.SpanKind.SERVER,
        attributes={"rpc.system": "grpc", "rpc.service": service, "rpc.method": name},
    )
    token = context.attach(trace.set_span_in_context(span, parent))
    return span, token


def end_rpc(started: Any, code: str, *, items: int, tokens: int) -> None:
    if started is None:
        return
    from opentelemetry import context, trace

    span, token = started
    span.set_attribute("rpc.grpc.status_code", code)
    span.set_attribute("nomic_serve.items", items)
    span.set_attribute("nomic_serve.tokens", tokens)
    if code != "OK":
        span.set_status(trace.Status(trace.StatusCode.ERROR, code))
    span.end()
    context.detach(token)


@contextlib.contextmanager
def phase(name: str, **attributes: int) -> Iterator[None]:
    """A child span of the current RPC around a phase run in the RPC's own task."""
    if _tracer is None:
        yield
        return
    # Not made current: a phase has no children, and attaching a context costs more than
    # the span itself.
    span = _tracer.start_span(name, attributes=attributes)
    try:
        yield
    finally:
        span.end()


def phase_span(name: str, start: float, end: float, **attributes: int) -> None:
    """A child span of the current RPC for a phase timed elsewhere (`start` and `end` from
    time.perf_counter), such as the batch a text waited for and ran in."""
    if _tracer is None:
        return
    span = _tracer.start_span(
        name, start_time=_WALL_OFFSET_NS + int(start * 1e9), attributes=attributes
    )
    span.end(end_time=_WALL_OFFSET_NS + int(end * 1e9))
