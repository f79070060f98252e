"""The embedded default model through the server against sentence-transformers' own output."""

from __future__ import annotations

import numpy as np

from nomic_serve.models.embedded import ensure_embedded_model
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from .conftest import serving


async def test_embedded_model_matches_sentence_transformers(oracle, embedded_cache) -> None:
    folder = ensure_embedded_model(embedded_cache)
    items = oracle["items"]
    async with serving(folder / "model.onnx") as served:
        info = await served.stub.Info(pb.InfoRequest())
        assert (info.text.dimension, info.text.max_tokens) == (384, 256)
        assert not info.text.prefixes and not info.text.matryoshka_layer_norm
        reply = await served.stub.EmbedList(pb.EmbedListRequest(inputs=[i["text"] for i in items]))
        single = await served.stub.Embed(pb.EmbedRequest(input=items[0]["text"]))
    cosines = []
    for item, vector, tokens, truncated in zip(
        items, reply.embeddings, reply.tokens, reply.truncated, strict=True
    ):
        got = np.asarray(list(vector))
        cosines.append(float(got @ np.asarray(item["embedding"])))
        assert tokens == item["tokens"], item["text"][:40]
        assert truncated == (item["tokens_untruncated"] > 256)
    print(f"oracle: {len(items)} items, min cosine {min(cosines):.9f}")
    assert min(cosines) >= 0.99999
    assert single.tokens == items[0]["tokens"]
    assert float(np.asarray(single.embedding) @ np.asarray(items[0]["embedding"])) >= 0.99999
