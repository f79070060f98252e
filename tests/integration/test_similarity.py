"""Similarity against an independent numpy computation from the vectors the other RPCs
return: texts, images and both mixed, at the native and a Matryoshka dim; and its errors."""

from __future__ import annotations

import base64
import io

import grpc
import numpy as np
import pytest
from PIL import Image

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from .conftest import MISSING, Served, serving

T = pb.SimilarityInput


def png(seed: int) -> bytes:
    array = np.random.default_rng(seed).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(array, "RGB").save(buffer, "PNG")
    return buffer.getvalue()


async def text_vectors(served: Served, texts: list[str], prefix: str, dim: int) -> np.ndarray:
    reply = await served.stub.EmbedList(pb.EmbedListRequest(inputs=texts, prefix=prefix, dim=dim))
    return np.array([[v.number_value for v in row.values] for row in reply.embeddings])


async def image_vectors(served: Served, images: list[bytes], dim: int) -> np.ndarray:
    reply = await served.stub.ImageEmbedList(pb.ImageEmbedListRequest(data=images, dim=dim))
    return np.array([[v.number_value for v in row.values] for row in reply.embeddings])


def expected(query: np.ndarray, candidates: np.ndarray) -> tuple[np.ndarray, list[int]]:
    scores = candidates @ query / (np.linalg.norm(candidates, axis=1) * np.linalg.norm(query))
    return scores, sorted(range(len(scores)), key=lambda i: (-scores[i], i))


@pytest.mark.parametrize("dim", [0, 8])
async def test_a_text_query_against_texts(vision: Served, dim: int) -> None:
    candidates = ["the cat sat", "stock markets fell", "a kitten sleeps", "rain tomorrow"]
    reply = await vision.stub.Similarity(
        pb.SimilarityRequest(
            query=T(text="where is the cat"), candidates=[T(text=c) for c in candidates], dim=dim
        )
    )
    query = await text_vectors(vision, ["where is the cat"], "search_query", dim)
    docs = await text_vectors(vision, candidates, "search_document", dim)
    scores, ranking = expected(query[0], docs)
    np.testing.assert_allclose(reply.scores, scores, atol=1e-6)
    assert list(reply.ranking) == ranking and reply.dim == (dim or 32) and reply.time_ms > 0


async def test_mixed_texts_and_images_with_prefixes(vision: Served) -> None:
    images = [png(1), png(2)]
    request = pb.SimilarityRequest(
        query=T(image_data=images[0]),
        candidates=[
            T(text="a photo of noise", prefix="clustering"),
            T(image=base64.b64encode(images[1]).decode()),
            T(text="another caption"),
            T(image_data=images[0]),
        ],
    )
    reply = await vision.stub.Similarity(request)
    pictures = await image_vectors(vision, images, 0)
    captions = [
        (await text_vectors(vision, ["a photo of noise"], "clustering", 0))[0],
        (await text_vectors(vision, ["another caption"], "search_document", 0))[0],
    ]
    candidates = np.stack([captions[0], pictures[1], captions[1], pictures[0]])
    scores, ranking = expected(pictures[0], candidates)
    np.testing.assert_allclose(reply.scores, scores, atol=1e-6)
    assert list(reply.ranking) == ranking and ranking[0] == 3  # the image itself
    assert reply.scores[3] == pytest.approx(1.0, abs=1e-6)


async def test_an_image_query_names_its_text_candidate_prefix_default(vision: Served) -> None:
    """A text query defaults to search_query, text candidates to search_document."""
    reply = await vision.stub.Similarity(
        pb.SimilarityRequest(query=T(text="same words"), candidates=[T(text="same words")])
    )
    query = await text_vectors(vision, ["same words"], "search_query", 0)
    doc = await text_vectors(vision, ["same words"], "search_document", 0)
    np.testing.assert_allclose(reply.scores, expected(query[0], doc)[0], atol=1e-6)
    assert reply.scores[0] < 1 - 1e-4  # the prefixes made them differ


@pytest.mark.parametrize(
    ("request_", "fault"),
    [
        (pb.SimilarityRequest(candidates=[T(text="x")]), "query is required"),
        (pb.SimilarityRequest(query=T(text="x")), "candidates must hold at least one"),
        (pb.SimilarityRequest(query=T(text="x"), candidates=[T()]), "candidates[0] is empty"),
        (pb.SimilarityRequest(query=T(text=" "), candidates=[T(text="x")]), "query"),
        (
            pb.SimilarityRequest(query=T(text="x"), candidates=[T(text="y"), T(text="")]),
            "candidates[1]",
        ),
        (
            pb.SimilarityRequest(query=T(text="x"), candidates=[T(image_data=b"no image")]),
            "candidates[0]: ",
        ),
        (pb.SimilarityRequest(query=T(text="x"), candidates=[T(text="y")], dim=33), "dim"),
        (
            pb.SimilarityRequest(
                query=T(text="x"), candidates=[T(text="y"), T(prefix="bogus", text="z")]
            ),
            "prefix must be one of",
        ),
    ],
)
async def test_bad_requests_are_invalid_argument(vision: Served, request_, fault: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.Similarity(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fault in caught.value.details()


async def test_too_many_candidates(vision: Served) -> None:
    many = [T(image_data=png(0))] * 40
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await vision.stub.Similarity(pb.SimilarityRequest(query=T(text="x"), candidates=many))
    assert "IMAGE_MAX_PER_REQUEST" in caught.value.details()


async def test_a_missing_model_is_unavailable(vision_model) -> None:
    async with serving(None, vision=vision_model.model) as served:
        ok = await served.stub.Similarity(
            pb.SimilarityRequest(query=T(image_data=png(1)), candidates=[T(image_data=png(2))])
        )
        assert len(ok.scores) == 1
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Similarity(
                pb.SimilarityRequest(query=T(text="x"), candidates=[T(image_data=png(2))])
            )
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert MISSING in caught.value.details()
