"""The server scraped by a real Prometheus (1 s interval): after a known mix of requests,
PromQL returns exactly those counts, and the queue-depth gauge rises during a burst and is
back at zero after it; and every expression of the Grafana dashboard (deploy/grafana) is
PromQL that Prometheus accepts."""

from __future__ import annotations

import asyncio
import urllib.error
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb
from nomic_serve_stubs.v1 import embedding_service_pb2_grpc as rpc

from ..support.dashboard import expressions, for_prometheus, load
from ..support.models import TextModelDir
from ..support.processes import EnvoyProcess, ServerProcess, free_port, text_server
from ..support.prometheus import Prometheus

pytestmark = pytest.mark.e2e

SERVICE = "/nomic.serve.v1.EmbeddingService"
QUEUE_LIMIT = 256  # MAX_PENDING_ITEMS: small, so a burst of lists overflows it


@pytest.fixture
def scraped(tmp_path: Path, tiny_model: TextModelDir) -> Iterator[tuple[ServerProcess, Prometheus]]:
    metrics_port = free_port()
    server = text_server(
        tmp_path,
        tiny_model.model,
        {
            "CACHE_MB": "0",
            "METRICS_PORT": str(metrics_port),
            "METRICS_HOST": "127.0.0.1",
            "MAX_PENDING_ITEMS": str(QUEUE_LIMIT),
            "MAX_LIST_INPUTS": "64",
        },
    )
    prometheus = Prometheus(tmp_path / "prometheus", [f"127.0.0.1:{metrics_port}"])
    try:
        yield server, prometheus
    finally:
        prometheus.close()
        server.stop()


async def _known_mix(address: str) -> None:
    async with grpc.aio.insecure_channel(address) as channel:
        stub = rpc.EmbeddingServiceStub(channel)
        for i in range(7):
            await stub.Embed(pb.EmbedRequest(input=f"known text {i}"))
        for _ in range(2):
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await stub.Embed(pb.EmbedRequest(input=""))
            assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        await stub.EmbedList(pb.EmbedListRequest(inputs=["one", "two", "three"]))


async def _burst(address: str, seconds: float) -> tuple[int, int]:
    """16 callers sending lists of 64 back to back: more than the queue holds, so some are
    refused. (answered, refused) lists."""
    answered = refused = 0
    loop = asyncio.get_running_loop()
    end = loop.time() + seconds
    async with grpc.aio.insecure_channel(address) as channel:
        stub = rpc.EmbeddingServiceStub(channel)

        async def caller(who: int) -> None:
            nonlocal answered, refused
            sent = 0
            while loop.time() < end:
                texts = [f"burst {who} {sent} {i}" for i in range(64)]
                sent += 1
                try:
                    await stub.EmbedList(pb.EmbedListRequest(inputs=texts))
                    answered += 1
                except grpc.aio.AioRpcError as error:
                    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED, error
                    refused += 1

        await asyncio.gather(*(caller(who) for who in range(16)))
    return answered, refused


def test_prometheus_sees_exact_counts_and_the_queue_rise_and_fall(
    scraped: tuple[ServerProcess, Prometheus],
) -> None:
    server, prometheus = scraped
    requests = 'nomic_serve_requests_total{{method="{SERVICE}/{method}",code="{code}"}}'

    def count(method: str, code: str) -> float | None:
        return prometheus.value(requests.format(SERVICE=SERVICE, method=method, code=code))

    asyncio.run(_known_mix(server.address))
    # Scraped after the last request: the counters are final from then on.
    prometheus.wait_for(lambda: count("EmbedList", "OK") == 1, timeout=30, what="a scrape")
    assert count("Embed", "OK") == 7
    assert count("Embed", "INVALID_ARGUMENT") == 2
    assert prometheus.value("sum(nomic_serve_input_tokens_count)") == 10
    assert prometheus.value("sum(nomic_serve_batch_size_sum)") == 10
    assert prometheus.value("nomic_serve_queue_depth") == 0

    answered, refused = asyncio.run(_burst(server.address, seconds=4))
    assert answered > 0 and refused > 0, (answered, refused)
    prometheus.wait_for(
        lambda: count("EmbedList", "RESOURCE_EXHAUSTED") == refused,
        timeout=30,
        what="the burst scraped",
    )
    assert count("EmbedList", "OK") == 1 + answered
    overloaded = prometheus.value('nomic_serve_overload_refusals_total{limit="MAX_PENDING_ITEMS"}')
    assert overloaded == refused
    # Seen above zero while the burst ran (each scrape reads the queue as it is then)...
    risen = prometheus.value("max_over_time(nomic_serve_queue_depth[1m])")
    assert risen is not None and 0 < risen <= QUEUE_LIMIT
    # ...and back to zero now, with nothing in flight.
    assert prometheus.value("nomic_serve_queue_depth") == 0
    assert prometheus.value("nomic_serve_texts_in_flight") == 0
    up = prometheus.value('up{job="nomic-serve"}')
    assert up == 1


def test_every_dashboard_expression_is_valid_promql(
    scraped: tuple[ServerProcess, Prometheus],
) -> None:
    """Each panel target and templating query of deploy/grafana/nomic-serve.json, with the
    Grafana variables replaced as Grafana would (all instances, a 1 m rate interval), runs
    as an instant query once the server has been scraped: a syntax error fails the query."""
    _, prometheus = scraped
    found = expressions(load())
    assert found
    prometheus.wait_for(
        lambda: prometheus.value("nomic_serve_model_info") == 1, timeout=30, what="a scrape"
    )
    targets = {row["metric"]["instance"] for row in prometheus.query('up{job="nomic-serve"}')}
    for expression in found:
        promql = for_prometheus(expression.expr)
        try:
            rows = prometheus.query(promql)
        except urllib.error.HTTPError as error:  # 400: Prometheus could not parse it
            raise AssertionError(
                f"{expression.where}: {promql!r}: {error.read().decode()}"
            ) from None
        if not expression.in_panel:  # the $instance variable's values: the target scraped
            values = {row["metric"].get("instance") for row in rows}
            assert values == targets, (expression.where, rows)


def test_rest_metrics_serves_them_through_envoy_only_when_asked(
    tmp_path: Path, tiny_model: TextModelDir
) -> None:
    port = str(free_port())
    server = text_server(tmp_path, tiny_model.model, {"METRICS_PORT": port})
    try:
        asked = EnvoyProcess(server, tmp_path, {"REST_METRICS": "1", "METRICS_PORT": port})
        default = EnvoyProcess(server, tmp_path, {"METRICS_PORT": port})
        try:
            status, headers, body = asked.request("GET", "/metrics")
            assert status == 200 and b"nomic_serve_requests_total" in body
            assert headers["content-type"].startswith("text/plain")
            status, _, body = default.request("GET", "/metrics")
            assert status != 200 and b"nomic_serve_" not in body
        finally:
            asked.stop()
            default.stop()
    finally:
        server.stop()
