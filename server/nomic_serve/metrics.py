"""Prometheus metrics: what the server exports, and the port they are served on.

State the core already keeps (queue depth, texts in flight, cache counters, the queue's
refusals and drops) is read when Prometheus scrapes, so those series are exact at every
moment and cost a request nothing. Only histograms and request counters are recorded as
work happens, once per request (from its RequestRecord) or once per batch. Every label
takes its values from a closed set (this server's methods, status codes, phases, image
outcomes, SSRF rules, one row per model), so the number of series is bounded whatever the
traffic: `tests/unit/test_metrics.py` counts them.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    start_http_server,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .errors import ConfigError

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from .api.interceptors import RequestRecord
    from .core.cache import EmbeddingCache
    from .core.engine import TextEngine
    from .core.scheduler import TextScheduler

__all__ = ["PHASES", "Metrics", "MetricsServer", "ModelRow", "serve_metrics"]

log = logging.getLogger(__name__)

PREFIX = "nomic_serve"
# Request and phase durations: from a cache hit (well under a millisecond) to a list of 2048
# texts or a slow image download (tens of seconds).
SECONDS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
# Timings fields -> phase label.
PHASES = {
    "fetch_ms": "fetch",
    "preprocess_ms": "preprocess",
    "tokenize_ms": "tokenize",
    "queue_ms": "queue",
    "inference_ms": "inference",
    "postprocess_ms": "postprocess",
}
BATCH_SIZES = (1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024)
TOKENS = (8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768)


@dataclass(frozen=True)
class ModelRow:
    """One served model, for `nomic_serve_model_info`."""

    kind: str  # text | vision
    name: str
    provider: str  # the execution provider really in use
    batching: str  # batched | isolated


class Metrics:
    """Every series the server exports, on a registry of its own (so tests can build many)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self._state = _StateCollector()
        self.registry.register(self._state)
        # RSS, CPU seconds, open file descriptors; Python's version; collections per generation.
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        GCCollector(registry=self.registry)
        on = self.registry
        self.requests = Counter(
            "requests", "RPCs answered, by method and final status code (REST arrives as gRPC)",
            ["method", "code"], registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.duration = Histogram(
            "request_duration_seconds", "time from the handler's start to its answer",
            ["method"], buckets=SECONDS, registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.phases = Histogram(
            "request_phase_seconds", "time a request spent in each phase it went through",
            ["phase"], buckets=SECONDS, registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.batch_size = Histogram(
            "batch_size",
            "texts per inference batch",
            buckets=BATCH_SIZES,
            registry=on,
            namespace=PREFIX,
        )
        self.batch_tokens = Histogram(
            "batch_padded_tokens", "padded tokens (longest x texts) per inference batch",
            buckets=TOKENS, registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.input_tokens = Histogram(
            "input_tokens", "tokens of each text computed (before truncation)",
            buckets=TOKENS, registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.truncated = Counter(
            "truncated_inputs",
            "texts cut to the model's token limit",
            registry=on,
            namespace=PREFIX,
        )
        self.images = Counter(
            "images", "images answered, by outcome (OK or the status code of their error)",
            ["outcome"], registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.overloaded = Counter(
            "overload_refusals", "work refused RESOURCE_EXHAUSTED, by the limit that was full",
            ["limit"], registry=on, namespace=PREFIX,
        )  # fmt: skip
        self.fetch_refusals = Counter(
            "fetch_refusals",
            "image URLs refused by the SSRF policy, by rule",
            ["rule"],
            registry=on,
            namespace=PREFIX,
        )
        self.model_info = Gauge(
            "model_info", "the models served (always 1)",
            ["kind", "name", "provider", "batching"], registry=on, namespace=PREFIX,
        )  # fmt: skip
        self._requests: dict[tuple[str, str], Any] = {}
        self._durations: dict[str, Any] = {}
        self._phases = {field: self.phases.labels(phase) for field, phase in PHASES.items()}

    def watch_models(self, rows: list[ModelRow]) -> None:
        for row in rows:
            self.model_info.labels(row.kind, row.name, row.provider, row.batching).set(1)

    def watch_text(self, engine: TextEngine) -> None:
        """Reads the text queue and the cache at each scrape; records each batch and the
        texts each request computed."""
        self._state.scheduler, self._state.cache = engine.scheduler, engine.cache
        engine.scheduler.on_batch = self._batch
        engine.on_tokenized = self.tokenized

    def _batch(self, size: int, padded_tokens: int) -> None:
        self.batch_size.observe(size)
        self.batch_tokens.observe(padded_tokens)

    def tokenized(self, tokens: list[int], truncated: int) -> None:
        """The texts a request computed (cache hits and repeats excluded)."""
        for count in tokens:
            self.input_tokens.observe(count)
        if truncated:
            self.truncated.inc(truncated)

    def request_done(self, record: RequestRecord, seconds: float) -> None:
        """One answered RPC, from what its record says it did. The labelled children are
        kept (label sets are few), sparing each request prometheus_client's lookup."""
        key = (record.method, record.code)
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = self.requests.labels(*key)
        counter.inc()
        histogram = self._durations.get(record.method)
        if histogram is None:
            histogram = self._durations[record.method] = self.duration.labels(record.method)
        histogram.observe(seconds)
        timings = record.timings
        for field, phase in self._phases.items():
            value = getattr(timings, field)
            if value > 0:
                phase.observe(value / 1000)
        for outcome, count in record.images.items():
            self.images.labels(outcome).inc(count)
        for rule, count in record.fetch_refusals.items():
            self.fetch_refusals.labels(rule).inc(count)
        for limit, count in record.overloaded.items():
            self.overloaded.labels(limit).inc(count)


class _StateCollector(Collector):
    """Series read from the core's own state at scrape time (see the module docstring)."""

    def __init__(self) -> None:
        self.scheduler: TextScheduler | None = None
        self.cache: EmbeddingCache | None = None

    def collect(self) -> Iterator[Metric]:
        scheduler, cache = self.scheduler, self.cache
        if scheduler is not None:
            yield _gauge("queue_depth", "texts queued for a batch now", scheduler.queued)
            yield _gauge(
                "texts_in_flight",
                "texts admitted and not yet answered: tokenizing, queued or in a batch",
                scheduler.in_flight,
            )
            dropped = CounterMetricFamily(
                f"{PREFIX}_queue_dropped_texts",
                "queued texts dropped before inference: deadline passed or caller gone",
                labels=["reason"],
            )
            for reason, count in scheduler.dropped.items():
                dropped.add_metric([reason], count)
            yield dropped
        if cache is not None:
            stats = cache.stats()
            yield _counter("cache_hits", "texts answered from the embedding cache", stats.hits)
            yield _counter("cache_misses", "texts looked up and not found", stats.misses)
            yield _counter(
                "cache_evictions", "entries evicted to stay in CACHE_MB", stats.evictions
            )
            yield _gauge("cache_bytes", "bytes the embedding cache holds", stats.bytes)
            yield _gauge("cache_entries", "entries in the embedding cache", stats.entries)


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


@dataclass
class MetricsServer:
    """The metrics HTTP server's socket and thread, stopped with the app."""

    server: WSGIServer
    port: int
    close: Callable[[], None]


def serve_metrics(metrics: Metrics, host: str, port: int) -> MetricsServer:
    """Serves /metrics on its own port (a thread of prometheus_client's), never on the gRPC
    or REST port: an operator exposes it to Prometheus only."""
    try:
        server, thread = start_http_server(port, addr=host, registry=metrics.registry)
    except OSError as exc:
        raise ConfigError(
            f"METRICS_PORT {port} on {host}: {exc.strerror or exc} (set METRICS_PORT=0 to serve "
            "no metrics)"
        ) from None
    bound = server.server_address[1]

    def close() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    log.info("metrics on http://%s:%d/metrics", host, bound)
    return MetricsServer(server, bound, close)
