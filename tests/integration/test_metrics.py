"""The metrics a known mix of requests leaves behind, read from the server's own registry
(the scrape through a real Prometheus is tests/e2e/test_prometheus.py)."""

from __future__ import annotations

import io
import urllib.request

import grpc
import numpy as np
import pytest
from PIL import Image
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from nomic_serve.errors import ConfigError
from nomic_serve.metrics import Metrics, serve_metrics
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.processes import free_port
from .conftest import ONE_SESSION, Served, serving

EMBED = "/nomic.serve.v1.EmbeddingService/Embed"
EMBED_LIST = "/nomic.serve.v1.EmbeddingService/EmbedList"
IMAGE = "/nomic.serve.v1.EmbeddingService/ImageEmbed"


def _samples(served: Served) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """Every exported sample, by name and labels, as Prometheus would scrape them."""
    text = generate_latest(served.app.metrics.registry).decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def _png(seed: int) -> bytes:
    pixels = np.random.default_rng(seed).integers(0, 255, (24, 24, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    return buffer.getvalue()


async def _refused(call: object) -> grpc.StatusCode:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await call  # type: ignore[misc]
    return caught.value.code()


async def test_a_known_mix_of_requests_is_counted_exactly(tiny_model, vision_model) -> None:
    async with serving(
        tiny_model.model, vision=vision_model.model, cache_bytes=1 << 20, **ONE_SESSION
    ) as served:
        stub = served.stub
        for i in range(5):
            await stub.Embed(pb.EmbedRequest(input=f"text number {i}"))
        await stub.Embed(pb.EmbedRequest(input="text number 0"))  # a cache hit
        for _ in range(3):
            code = await _refused(stub.Embed(pb.EmbedRequest(input="   ")))
            assert code == grpc.StatusCode.INVALID_ARGUMENT
        await stub.EmbedList(pb.EmbedListRequest(inputs=["a b c", "d e", "a b c"], dim=32))
        await stub.ImageEmbed(pb.ImageEmbedRequest(data=_png(1)))
        await stub.ImageEmbed(pb.ImageEmbedRequest(data=_png(2)))
        code = await _refused(stub.ImageEmbed(pb.ImageEmbedRequest(content="http://127.0.0.1/a")))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        listed = await stub.ImageEmbedList(
            pb.ImageEmbedListRequest(data=[_png(3), b"not an image", _png(4)])
        )
        assert len(listed.errors) == 1

        samples = _samples(served)
        requests = "nomic_serve_requests_total"
        assert _value(samples, requests, method=EMBED, code="OK") == 6
        assert _value(samples, requests, method=EMBED, code="INVALID_ARGUMENT") == 3
        assert _value(samples, requests, method=EMBED_LIST, code="OK") == 1
        assert _value(samples, requests, method=IMAGE, code="OK") == 2
        assert _value(samples, requests, method=IMAGE, code="PERMISSION_DENIED") == 1
        duration = "nomic_serve_request_duration_seconds_count"
        assert _value(samples, duration, method=EMBED) == 9
        # Texts computed: 5 singles and 2 distinct of the list; the repeat and the hit are not.
        assert _value(samples, "nomic_serve_input_tokens_count") == 7
        assert _value(samples, "nomic_serve_batch_size_sum") == 7
        assert _value(samples, "nomic_serve_truncated_inputs_total") == 0
        assert _value(samples, "nomic_serve_cache_hits_total") == 1
        assert _value(samples, "nomic_serve_cache_misses_total") == 8  # the repeat looked up too
        assert _value(samples, "nomic_serve_cache_entries") == 7
        assert _value(samples, "nomic_serve_images_total", outcome="OK") == 4
        assert _value(samples, "nomic_serve_images_total", outcome="INVALID_ARGUMENT") == 1
        assert _value(samples, "nomic_serve_images_total", outcome="PERMISSION_DENIED") == 1
        assert _value(samples, "nomic_serve_fetch_refusals_total", rule="loopback") == 1
        assert _value(samples, "nomic_serve_queue_depth") == 0
        assert _value(samples, "nomic_serve_texts_in_flight") == 0
        phase = "nomic_serve_request_phase_seconds_count"
        assert _value(samples, phase, phase="tokenize") == 6  # 5 singles and the list
        assert _value(samples, phase, phase="inference") == 6 + 3  # and the 3 images served
        info = [key for key in samples if key[0] == "nomic_serve_model_info"]
        assert {dict(labels)["kind"] for _, labels in info} == {"text", "vision"}
        assert all(dict(labels)["provider"] == "CPUExecutionProvider" for _, labels in info)
        assert _value(samples, "process_resident_memory_bytes") > 0
        assert _value(samples, "process_open_fds") > 0


async def test_series_stay_bounded_whatever_the_traffic(tiny_model) -> None:
    """Labels come from closed sets: a second, different mix of texts, dimensions and
    errors adds no series once each kind of request has been seen."""
    async with serving(tiny_model.model, cache_bytes=1 << 20, **ONE_SESSION) as served:

        async def mix(seed: int) -> None:
            for i in range(40):
                words = " ".join(f"w{seed}x{j}" for j in range(1 + (i * 7) % 60))
                await served.stub.Embed(pb.EmbedRequest(input=words, dim=1 + i % 32))
            await _refused(served.stub.Embed(pb.EmbedRequest(input="")))
            await _refused(served.stub.Embed(pb.EmbedRequest(input="x", dim=10_000)))
            await served.stub.EmbedList(
                pb.EmbedListRequest(inputs=[f"{seed} {i}" for i in range(64)])
            )

        await mix(1)
        first = set(_samples(served))
        await mix(2)
        second = set(_samples(served))
        assert second == first
        ours = [key for key in second if key[0].startswith("nomic_serve_")]
        assert len(ours) < 400, len(ours)


def test_the_metrics_port_serves_the_registry_and_a_taken_port_is_a_config_error() -> None:
    metrics = Metrics()
    metrics.requests.labels(EMBED, "OK").inc()
    port = free_port()
    served = serve_metrics(metrics, "127.0.0.1", port)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{served.port}/metrics", timeout=5) as reply:
            body = reply.read().decode()
        assert f'nomic_serve_requests_total{{code="OK",method="{EMBED}"}} 1.0' in body
        with pytest.raises(ConfigError, match=f"METRICS_PORT {port}"):
            serve_metrics(Metrics(), "127.0.0.1", port)
    finally:
        served.close()
