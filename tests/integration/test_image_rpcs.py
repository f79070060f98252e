"""The image RPCs through a real server: intake forms, exactness, per-item errors, limits."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import functools
import gc
import io
import ipaddress
import json
import threading
import time
import tracemalloc
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import numpy as np
import onnxruntime as ort
import pytest
from PIL import Image

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.reference import reference_file
from .conftest import VISION_MISSING, Served, serving

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def _png(size: tuple[int, int] = (64, 48), mode: str = "RGB", seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    channels = {"RGB": 3, "RGBA": 4, "L": 1}[mode]
    array = rng.integers(0, 256, (size[1], size[0], channels), dtype=np.uint8)
    image = Image.fromarray(array.squeeze(-1) if channels == 1 else array, mode)
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def _vec(values) -> np.ndarray:
    return np.asarray(list(values), dtype=np.float64)


@pytest.fixture(scope="module")
def image_host() -> Iterator[str]:
    """A local web server: an image, a redirect to the cloud metadata address, an endless
    body, a 404."""
    body = _png(seed=5)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/cat.png":
                self.send_response(200)
                self.send_header("Content-Type", "image/png")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            elif self.path == "/endless":
                self.send_response(200)
                self.end_headers()
                with contextlib.suppress(OSError):  # until the fetcher hangs up
                    while True:
                        self.wfile.write(bytes(1 << 16))
            elif self.path == "/metadata":
                self.send_response(302)
                self.send_header("Location", "http://169.254.169.254/latest/meta-data/")
                self.end_headers()
            else:
                self.send_error(404)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


async def test_bytes_data_url_and_base64_give_the_same_unit_vector(vision: Served) -> None:
    png = _png()
    encoded = base64.b64encode(png).decode()
    replies = [
        await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=png)),
        await vision.stub.ImageEmbed(
            pb.ImageEmbedRequest(content=f"data:image/png;base64,{encoded}")
        ),
        await vision.stub.ImageEmbed(pb.ImageEmbedRequest(content=encoded)),
    ]
    first = _vec(replies[0].embedding)
    assert first.shape == (32,) and abs(np.linalg.norm(first) - 1) < 1e-5
    for reply in replies[1:]:
        np.testing.assert_array_equal(_vec(reply.embedding), first)
    assert replies[0].model == "nomic-embed-vision-v1.5" and replies[0].time_ms > 0


async def test_embedding_is_the_normalized_cls_of_clip_pixels(vision: Served, vision_model) -> None:
    """The reference pixel values (CLIPImageProcessor) through raw ORT give the same vector."""
    path = reference_file("images", "a05_rgba_400x300.png")
    pixels = np.load(reference_file("images", "clip_pixel_values.npz"))[path.name]
    session = ort.InferenceSession(str(vision_model.model), providers=["CPUExecutionProvider"])
    cls = session.run(["last_hidden_state"], {"pixel_values": pixels})[0][0, 0].astype(np.float64)
    for dim in (32, 8, 1):
        reply = await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=path.read_bytes(), dim=dim))
        expected = cls[:dim] / np.linalg.norm(cls[:dim])
        np.testing.assert_allclose(_vec(reply.embedding), expected, atol=2e-5)


async def test_list_runs_one_inference_and_matches_singles(vision: Served, monkeypatch) -> None:
    images = [_png(seed=i) for i in range(5)]
    calls = []
    real_run = vision.image.session.run
    monkeypatch.setattr(vision.image.session, "run", lambda p: calls.append(len(p)) or real_run(p))
    reply = await vision.stub.ImageEmbedList(
        pb.ImageEmbedListRequest(
            contents=[base64.b64encode(i).decode() for i in images[:3]], data=images[3:], dim=16
        )
    )
    assert calls == [5] and not reply.errors
    for image, vector in zip(images, reply.embeddings, strict=True):
        single = await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=image, dim=16))
        assert np.abs(_vec(vector) - _vec(single.embedding)).max() <= 1e-5


async def test_one_bad_image_fails_only_its_own_item(vision: Served) -> None:
    good = base64.b64encode(_png()).decode()
    reply = await vision.stub.ImageEmbedList(
        pb.ImageEmbedListRequest(contents=[good, "data:image/png;base64", good], data=[b"GIF89a"])
    )
    assert [len(e) for e in reply.embeddings] == [32, 0, 32, 0]
    assert [e.index for e in reply.errors] == [1, 3]
    assert {e.status.code for e in reply.errors} == {INVALID.value[0]}
    assert "no comma" in reply.errors[0].status.message


async def test_no_image_at_all_is_named(vision: Served) -> None:
    for request in (pb.ImageEmbedRequest(), pb.ImageEmbedRequest(content="  ")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await vision.stub.ImageEmbed(request)
        assert caught.value.code() == INVALID and "no image given" in caught.value.details()


async def test_all_bad_is_an_error_and_limits_are_named(vision: Served) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageEmbedList(pb.ImageEmbedListRequest(data=[b"", b"nope"]))
    assert caught.value.code() == INVALID
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageEmbedList(pb.ImageEmbedListRequest(data=[b"x"] * 33))
    assert caught.value.code() == INVALID and "IMAGE_MAX_PER_REQUEST" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=_png(), dim=33))
    assert caught.value.code() == INVALID and "dim must be in [1, 32]" in caught.value.details()


@functools.cache
def _corpus() -> dict[str, tuple[bytes | str, str]]:
    png = _png(size=(80, 60))
    jpeg = io.BytesIO()
    Image.new("RGB", (80, 60), (200, 30, 30)).save(jpeg, "JPEG")
    bomb = io.BytesIO()
    Image.new("1", (20000, 20000)).save(bomb, "PNG", optimize=True)
    return {
        "zero-byte": (b"", "empty"),
        "wrong magic": (b"<html><body>not an image</body></html>", "not a recognized image"),
        "truncated png": (png[: len(png) // 2], "truncated"),
        "truncated jpeg": (jpeg.getvalue()[: len(jpeg.getvalue()) // 2], "truncated"),
        "pixel bomb": (bomb.getvalue(), "IMAGE_MAX_PIXELS"),
        "corrupt base64": ("!!!not base64!!!", "base64"),
        "data url without comma": ("data:image/png;base64", "no comma"),
        "unsupported scheme": ("file:///etc/passwd", "scheme"),
    }


@pytest.mark.parametrize("case", list(_corpus()))
async def test_bad_inputs_get_clear_errors_and_the_server_goes_on(vision: Served, case) -> None:
    payload, message = _corpus()[case]
    request = (
        pb.ImageEmbedRequest(data=payload)
        if isinstance(payload, bytes)
        else pb.ImageEmbedRequest(content=payload)
    )
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageEmbed(request)
    assert caught.value.code() == INVALID, caught.value.details()
    assert message.lower() in caught.value.details().lower()
    assert "Traceback" not in caught.value.details()
    assert len((await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=_png()))).embedding) == 32


async def test_odd_but_valid_images_are_embedded(vision: Served) -> None:
    tiny = _png(size=(1, 1))
    frames = [Image.new("P", (40, 30), i) for i in (1, 2, 3)]
    gif = io.BytesIO()
    frames[0].save(gif, "GIF", save_all=True, append_images=frames[1:])
    cmyk = io.BytesIO()
    Image.new("CMYK", (50, 40), (10, 200, 30, 5)).save(cmyk, "JPEG")
    for data in (tiny, gif.getvalue(), cmyk.getvalue(), _png(mode="RGBA"), _png(mode="L")):
        reply = await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=data))
        assert abs(np.linalg.norm(_vec(reply.embedding)) - 1) < 1e-5


async def test_urls_are_fetched_only_where_the_policy_allows(
    tiny_model, vision_model, image_host
) -> None:
    url = f"{image_host}/cat.png"
    async with serving(tiny_model.model, vision=vision_model.model) as default:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await default.stub.ImageEmbed(pb.ImageEmbedRequest(content=url))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "FETCH_ALLOW_NETWORKS" in caught.value.details()
    allow = (ipaddress.ip_network("127.0.0.1/32"),)
    async with serving(
        tiny_model.model, vision=vision_model.model, fetch_allow_networks=allow
    ) as allowed:
        fetched = await allowed.stub.ImageEmbed(pb.ImageEmbedRequest(content=url))
        direct = await allowed.stub.ImageEmbed(pb.ImageEmbedRequest(data=_png(seed=5)))
        assert list(fetched.embedding) == list(direct.embedding)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await allowed.stub.ImageEmbed(pb.ImageEmbedRequest(content=f"{image_host}/metadata"))
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await allowed.stub.ImageEmbed(pb.ImageEmbedRequest(content=f"{image_host}/missing"))
        assert caught.value.code() == INVALID and "404" in caught.value.details()


async def test_image_stats_has_the_original_shape(vision: Served) -> None:
    rgba = np.zeros((20, 30, 4), dtype=np.uint8)
    rgba[:, :15] = (255, 0, 0, 255)
    rgba[:, 15:] = (0, 0, 255, 40)  # transparent half: ignored
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    reply = await vision.stub.ImageStats(
        pb.ImageStatsRequest(data=buffer.getvalue(), averaging_method="arithmetic")
    )
    avg = reply.color_data.avg_color
    assert list(avg.rgb) == [1.0, 0.0, 0.0] and avg.hex == "#ff0000" and avg.method == "arithmetic"
    assert reply.color_data.dominant_color.hex == "#ff0000"
    assert reply.HasField("exif_data") and dict(reply.exif_data) == {} and reply.time_ms > 0
    default = await vision.stub.ImageStats(pb.ImageStatsRequest(data=buffer.getvalue()))
    assert default.color_data.avg_color.method == "geometric"
    rgba[..., 3] = 0
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    empty = await vision.stub.ImageStats(pb.ImageStatsRequest(data=buffer.getvalue()))
    assert not empty.HasField("color_data")
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageStats(pb.ImageStatsRequest(data=_png(), averaging_method="median"))
    assert caught.value.code() == INVALID and "arithmetic, geometric" in caught.value.details()


async def test_image_stats_reads_exif_of_the_reference_jpeg(vision: Served) -> None:
    path = reference_file("images", "a02_rgb_640x480.jpg")
    manifest = json.loads((path.parent / "manifest.json").read_text())
    written = next(i for i in manifest["images"] if i["file"] == path.name)["exif_written"]
    reply = await vision.stub.ImageStats(pb.ImageStatsRequest(data=path.read_bytes()))
    exif = dict(reply.exif_data)
    assert exif["Make"] == written["Make"] and exif["Model"] == written["Model"]
    assert exif["GPSLatitude"] == pytest.approx(37.7749, abs=1e-4)
    assert exif["GPSLongitude"] == pytest.approx(-122.4194, abs=1e-4)


async def test_stats_need_no_model_but_embeddings_do() -> None:
    async with serving(None) as served:
        stats = await served.stub.ImageStats(pb.ImageStatsRequest(data=_png()))
        assert stats.HasField("color_data")
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ImageEmbed(pb.ImageEmbedRequest(data=_png()))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert caught.value.details() == VISION_MISSING
        health = await served.stub.Health(pb.HealthRequest())
        assert not health.vision_model and not health.vision_model_name


async def test_info_and_health_report_the_vision_model_and_limits(vision: Served) -> None:
    health = await vision.stub.Health(pb.HealthRequest())
    assert health.vision_model and health.vision_model_name == "nomic-embed-vision-v1.5"
    info = await vision.stub.Info(pb.InfoRequest())
    assert (info.vision.name, info.vision.dimension, info.vision.pooling) == (
        "nomic-embed-vision-v1.5",
        32,
        "cls",
    )
    assert info.vision.batching == "batched" and not info.exif_orientation
    limits = info.limits
    assert limits.image_max_bytes == 20 * 1024 * 1024 and limits.image_max_per_request == 32
    assert limits.image_max_pixels == 50_000_000 and limits.fetch_max_redirects == 3


async def test_concurrent_image_requests(vision: Served) -> None:
    images = [_png(seed=i) for i in range(4)]
    alone = [(await vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=i))).embedding for i in images]
    replies = await asyncio.gather(
        *(vision.stub.ImageEmbed(pb.ImageEmbedRequest(data=images[k % 4])) for k in range(24))
    )
    for k, reply in enumerate(replies):
        np.testing.assert_allclose(_vec(reply.embedding), _vec(alone[k % 4]), atol=1e-5)


async def test_tiny_payloads_and_all_failed_lists_are_client_errors(vision: Served) -> None:
    """Found by schemathesis: these were 500s (a Pillow magic test raised on < 4 bytes; an
    empty decode batch crashed when every list item failed intake)."""
    for request in (pb.ImageEmbedRequest(data=b"\x00"), pb.ImageEmbedRequest(content="AA==")):
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await vision.stub.ImageEmbed(request)
        assert caught.value.code() == INVALID and "not a recognized image" in caught.value.details()
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageStats(pb.ImageStatsRequest(data=b"AAA"))
    assert caught.value.code() == INVALID
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.ImageEmbedList(pb.ImageEmbedListRequest(contents=["", "%%%"]))
    assert caught.value.code() == INVALID and "no image given" in caught.value.details()


async def test_refused_requests_leave_no_memory_behind(
    tiny_model, vision_model, image_host
) -> None:
    """A refused request's buffers go when it ends, by reference counting alone (the
    collector is off meanwhile). They once stayed for good: grpc kept the exception of
    `context.abort` in a cycle the collector cannot see through, and its traceback kept the
    body read so far (+4 MB per refused download here) and the request itself. The client
    has its answer a moment before the server's side of the call is torn down (CI once saw
    the last request, 5.8 MB, still held), so the count is read once that has happened."""
    limit = 4 << 20
    allow = (ipaddress.ip_network("127.0.0.1/32"),)
    async with serving(
        tiny_model.model,
        vision=vision_model.model,
        fetch_allow_networks=allow,
        image_max_bytes=limit,
        cache_bytes=0,
    ) as served:
        oversized = pb.ImageEmbedRequest(content=base64.b64encode(bytes(limit + 4096)).decode())
        endless = pb.ImageEmbedRequest(content=f"{image_host}/endless")

        async def refuse(request: pb.ImageEmbedRequest) -> None:
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await served.stub.ImageEmbed(request)
            assert caught.value.code() == INVALID and "IMAGE_MAX_MB" in caught.value.details()

        await refuse(endless)
        gc.disable()
        tracemalloc.start()
        try:
            baseline = tracemalloc.get_traced_memory()[0]
            for _ in range(6):
                await refuse(endless)
                await refuse(oversized)
            settled = time.monotonic() + 5.0  # what is still held then is held for good
            while (kept := tracemalloc.get_traced_memory()[0] - baseline) >= limit:
                if time.monotonic() > settled:
                    break
                await asyncio.sleep(0.01)
        finally:
            tracemalloc.stop()
            gc.enable()
    assert kept < limit, f"{kept / 1048576:.1f} MB still held after 12 refused requests"
