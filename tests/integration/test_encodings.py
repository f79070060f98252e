"""Compact encodings through every embedding RPC: bytes equal to sentence-transformers'
formulas (tests/support/quantization.py) applied to the float vectors and the ranges `Info`
reports; the same text gives the same bytes alone, in a list, in a stream and in a burst;
every bad request is refused before any work, with the rule it broke."""

from __future__ import annotations

import asyncio
import base64
import io
import json
import os
import shutil
from pathlib import Path

import grpc
import numpy as np
import pytest
from google.protobuf import struct_pb2
from PIL import Image

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.quantization import st_quantize
from .conftest import ONE_SESSION, Served, serving

ENCODINGS = ["base64", "float16", "int8", "uint8", "binary", "ubinary"]
TEXTS = ["Hello world", "the cat sat on the mat", "stocks fell on Monday", "a b c d e f g"]


def floats(reply: pb.EmbedListResponse) -> np.ndarray:
    return np.array([[v.number_value for v in row.values] for row in reply.embeddings], np.float32)


async def ranges_at(served: Served, dim: int) -> np.ndarray:
    info = await served.stub.Info(pb.InfoRequest(quantization_dims=[dim]))
    (found,) = [r for r in info.quantization.ranges if r.dim == dim]
    return np.array([found.min, found.max], dtype=np.float32)


async def reference(served: Served, vectors: np.ndarray, encoding: str) -> list[bytes]:
    """What the encoding must give for these float vectors, computed here, not by the server."""
    if encoding == "base64":
        rows = vectors.astype("<f4")
    elif encoding == "float16":
        rows = vectors.astype("<f2")
    else:
        ranges = await ranges_at(served, vectors.shape[1])
        rows = st_quantize(vectors, encoding, ranges, saturate=True)
    return [row.tobytes() for row in rows]


@pytest.mark.parametrize("encoding", ENCODINGS)
@pytest.mark.parametrize("dim", [0, 16])
async def test_every_text_rpc_gives_the_reference_bytes(
    tiny: Served, encoding: str, dim: int
) -> None:
    plain = await tiny.stub.EmbedList(pb.EmbedListRequest(inputs=TEXTS, dim=dim))
    vectors = floats(plain)
    expected = await reference(tiny, vectors, encoding)
    width = vectors.shape[1]

    listed = await tiny.stub.EmbedList(
        pb.EmbedListRequest(inputs=TEXTS, dim=dim, encoding=encoding)
    )
    assert not listed.embeddings and listed.tokens == plain.tokens
    assert (listed.packed.encoding, listed.packed.dim) == (encoding, width)
    assert list(listed.packed.data) == expected

    one = await tiny.stub.Embed(pb.EmbedRequest(input=TEXTS[0], dim=dim, encoding=encoding))
    assert not one.embedding and (one.packed.encoding, one.packed.dim) == (encoding, width)
    assert one.packed.data == expected[0]

    query = await tiny.stub.EmbedQuery(
        pb.EmbedQueryRequest(input=TEXTS[1], dim=dim, encoding=encoding)
    )
    as_query = await tiny.stub.EmbedList(
        pb.EmbedListRequest(inputs=[TEXTS[1]], dim=dim, prefix="search_query")
    )
    assert query.packed.data == (await reference(tiny, floats(as_query), encoding))[0]

    requests = [pb.EmbedBatchRequest(input=t, dim=dim, encoding=encoding) for t in TEXTS]
    streamed = [reply async for reply in tiny.stub.EmbedBatch(iter(requests))]
    assert [r.packed.data for r in streamed] == expected
    assert all(not r.embedding and r.packed.dim == width for r in streamed)


async def test_sizes_in_bytes(tiny: Served) -> None:
    sizes = {}
    for encoding in ENCODINGS:
        reply = await tiny.stub.Embed(pb.EmbedRequest(input="Hello", encoding=encoding))
        sizes[encoding] = len(reply.packed.data)
    assert sizes == {
        "base64": 128,
        "float16": 64,
        "int8": 32,
        "uint8": 32,
        "binary": 4,
        "ubinary": 4,
    }


async def test_the_float_answer_is_unchanged(tiny: Served) -> None:
    default = await tiny.stub.Embed(pb.EmbedRequest(input="Hello"))
    explicit = await tiny.stub.Embed(pb.EmbedRequest(input="Hello", encoding="float"))
    assert default.embedding == explicit.embedding and len(default.embedding) == 32
    assert not default.HasField("packed") and not explicit.HasField("packed")


async def test_int8_bytes_do_not_depend_on_the_neighbours(tiny: Served) -> None:
    """sentence-transformers without calibration ranges takes them from the batch; ours are
    fixed: alone, among others in a list, in a stream and in a concurrent burst, the same
    text has the same bytes."""
    text, others = "the same text every time", [f"neighbour number {i}" for i in range(40)]
    for encoding in ("int8", "uint8"):
        alone = (await tiny.stub.Embed(pb.EmbedRequest(input=text, encoding=encoding))).packed.data
        listed = await tiny.stub.EmbedList(
            pb.EmbedListRequest(inputs=[*others[:20], text, *others[20:]], encoding=encoding)
        )
        stream = [
            r.packed.data
            async for r in tiny.stub.EmbedBatch(
                iter(pb.EmbedBatchRequest(input=t, encoding=encoding) for t in [*others, text])
            )
        ]
        burst = await asyncio.gather(
            *(tiny.stub.Embed(pb.EmbedRequest(input=t, encoding=encoding)) for t in [text, *others])
        )
        assert listed.packed.data[20] == alone
        assert stream[-1] == alone
        assert burst[0].packed.data == alone


@pytest.mark.parametrize(
    ("request_", "fault"),
    [
        (pb.EmbedRequest(input="x", encoding="int4"), "encoding must be one of float, base64"),
        (pb.EmbedRequest(input="x", dim=12, encoding="binary"), "divisible by 8, got 12"),
        (pb.EmbedListRequest(inputs=["x"], dim=20, encoding="ubinary"), "divisible by 8, got 20"),
    ],
)
async def test_bad_encodings_are_refused(tiny: Served, request_, fault: str) -> None:
    method = tiny.stub.Embed if isinstance(request_, pb.EmbedRequest) else tiny.stub.EmbedList
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await method(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fault in caught.value.details()


async def test_a_stream_refuses_a_bad_encoding_per_item(tiny: Served) -> None:
    requests = [
        pb.EmbedBatchRequest(input="one", encoding="int8"),
        pb.EmbedBatchRequest(input="two", encoding="bits"),
        pb.EmbedBatchRequest(input="three", dim=4, encoding="binary"),
        pb.EmbedBatchRequest(input="four"),
    ]
    replies = [r async for r in tiny.stub.EmbedBatch(iter(requests))]
    assert [r.error.code for r in replies] == [0, 3, 3, 0]
    assert "divisible by 8" in replies[2].error.message
    assert len(replies[0].packed.data) == 32 and len(replies[3].embedding) == 32


async def test_info_reports_the_calibration(tiny: Served) -> None:
    info = await tiny.stub.Info(pb.InfoRequest(quantization_dims=[8, 16, 8]))
    quantization = info.quantization
    assert quantization.source == "builtin"
    assert quantization.detail == "calibration-v1 (2008 sentences)"
    assert len(quantization.sha256) == 64 and not quantization.dims
    assert [r.dim for r in quantization.ranges] == [32, 8, 16]
    for found in quantization.ranges:
        assert len(found.min) == len(found.max) == found.dim
        assert all(lo < hi for lo, hi in zip(found.min, found.max, strict=True))
    plain = await tiny.stub.Info(pb.InfoRequest())
    assert [r.dim for r in plain.quantization.ranges] == [32]
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tiny.stub.Info(pb.InfoRequest(quantization_dims=[33]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_openai_encodings(tiny: Served) -> None:
    texts = ["Hello world", "Goodbye"]
    vectors = floats(await tiny.stub.EmbedList(pb.EmbedListRequest(inputs=texts, dim=16)))
    for encoding in ("base64", "int8", "binary"):
        reply = await tiny.stub.CreateEmbeddings(
            pb.CreateEmbeddingsRequest(
                input=_strings(texts), dimensions=16, encoding_format=encoding
            )
        )
        got = [base64.b64decode(d.embedding.string_value) for d in reply.data]
        assert got == await reference(tiny, vectors, encoding)
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tiny.stub.CreateEmbeddings(
            pb.CreateEmbeddingsRequest(input=_strings(texts), encoding_format="int4")
        )
    assert "encoding_format must be one of" in caught.value.details()


def _strings(texts: list[str]) -> struct_pb2.Value:
    value = struct_pb2.Value()
    value.list_value.extend(texts)
    return value


def png(seed: int) -> bytes:
    array = np.random.default_rng(seed).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


async def test_images_use_the_text_calibration(vision: Served) -> None:
    images = [png(1), b"not an image", png(2)]
    plain = await vision.stub.ImageEmbedList(pb.ImageEmbedListRequest(data=images, dim=16))
    good = np.array(
        [[v.number_value for v in plain.embeddings[i].values] for i in (0, 2)], np.float32
    )
    for encoding in ("int8", "binary", "float16"):
        listed = await vision.stub.ImageEmbedList(
            pb.ImageEmbedListRequest(data=images, dim=16, encoding=encoding)
        )
        expected = await reference(vision, good, encoding)
        assert list(listed.packed.data) == [expected[0], b"", expected[1]]
        assert [e.index for e in listed.errors] == [1]
        one = await vision.stub.ImageEmbed(
            pb.ImageEmbedRequest(data=images[0], dim=16, encoding=encoding)
        )
        assert one.packed.data == expected[0] and not one.embedding


async def test_without_a_text_model_int8_images_are_refused(vision_model) -> None:
    async with serving(None, vision=vision_model.model) as served:
        info = await served.stub.Info(pb.InfoRequest())
        assert not info.HasField("quantization")
        ok = await served.stub.ImageEmbed(pb.ImageEmbedRequest(data=png(3), encoding="binary"))
        assert len(ok.packed.data) == 4
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.ImageEmbed(pb.ImageEmbedRequest(data=png(3), encoding="int8"))
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "no text model is loaded" in caught.value.details()


async def test_calibration_is_cached_and_reused(tiny_model, tmp_path: Path, caplog) -> None:
    """The first start embeds the corpus and saves the vectors; the next one reads them and
    reports the same hash (so the same bytes)."""
    caplog.set_level("INFO", logger="nomic_serve.core.calibration")
    hashes = []
    for _ in range(2):
        caplog.clear()
        async with serving(tiny_model.model, cache_dir=tmp_path, **ONE_SESSION) as served:
            hashes.append((await served.stub.Info(pb.InfoRequest())).quantization.sha256)
        calibrated = [r for r in caplog.records if r.getMessage() == "calibrated int8 ranges"]
        assert len(calibrated) == (1 if len(hashes) == 1 else 0)
    assert hashes[0] == hashes[1]
    assert len(list((tmp_path / "calibration").glob("*.npy"))) == 1


async def test_a_restart_trusts_the_remembered_file_digests(
    tiny_model, tmp_path: Path, caplog
) -> None:
    """The model's and tokenizer's sha256 are remembered under path, size and mtime: a restart
    does not hash the files again (a planted digest is believed, so the vectors are looked for
    under another name and made anew), and a file whose mtime changed is hashed again (its
    true digest finds the first start's vectors)."""
    caplog.set_level("INFO", logger="nomic_serve.core.calibration")
    folder = tmp_path / "model"
    shutil.copytree(tiny_model.folder, folder)
    model = folder / tiny_model.model.name

    async def calibrated() -> bool:
        caplog.clear()
        async with serving(model, cache_dir=tmp_path / "cache", **ONE_SESSION) as served:
            await served.stub.Info(pb.InfoRequest())
        return any(r.getMessage() == "calibrated int8 ranges" for r in caplog.records)

    vectors = tmp_path / "cache" / "calibration"
    assert await calibrated()
    first = set(vectors.glob("*.npy"))
    digests = sorted((vectors / "digests").iterdir())
    assert len(digests) == 2  # the model and its tokenizer
    for digest in digests:
        digest.write_text("0" * 64)
    assert await calibrated()  # the planted digests were used: no file was read again
    for planted in set(vectors.glob("*.npy")) - first:
        planted.unlink()  # were the planted digests still believed, a start would calibrate
    for path in (model, folder / "tokenizer.json"):
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    assert not await calibrated()  # hashed again: the first start's vectors are found


async def test_an_operator_ranges_file(tiny_model, tmp_path: Path) -> None:
    path = tmp_path / "ranges.json"
    lows, highs = [-0.5] * 16, [0.5] * 16
    path.write_text(json.dumps({"ranges": {"16": {"min": lows, "max": highs}}}))
    async with serving(tiny_model.model, quant_ranges=path, **ONE_SESSION) as served:
        info = await served.stub.Info(pb.InfoRequest(quantization_dims=[16]))
        assert (info.quantization.source, list(info.quantization.dims)) == ("file", [16])
        assert info.quantization.detail == str(path)
        assert [r.dim for r in info.quantization.ranges] == [16]
        vector = floats(await served.stub.EmbedList(pb.EmbedListRequest(inputs=["Hello"], dim=16)))
        reply = await served.stub.Embed(pb.EmbedRequest(input="Hello", dim=16, encoding="uint8"))
        ranges = np.array([lows, highs], np.float32)
        assert reply.packed.data == st_quantize(vector, "uint8", ranges, saturate=True).tobytes()
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="Hello", encoding="int8"))
        assert "QUANT_RANGES has them for dim 16" in caught.value.details()


async def test_a_failed_calibration_leaves_the_server_serving(tiny_model, tmp_path: Path) -> None:
    """A profile that overstates the model's length (as a model mounted without its
    config.json can) makes a calibration sentence fail: the server still serves, and only
    int8/uint8 are refused, UNAVAILABLE, saying why."""
    async with serving(tiny_model.model, txt_max_tokens=512, cache_dir=tmp_path) as served:
        assert len((await served.stub.Embed(pb.EmbedRequest(input="Hello"))).embedding) == 32
        assert not (await served.stub.Info(pb.InfoRequest())).HasField("quantization")
        binary = await served.stub.Embed(pb.EmbedRequest(input="Hello", encoding="binary"))
        assert len(binary.packed.data) == 4
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="Hello", encoding="int8"))
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "the calibration failed at start-up" in caught.value.details()
