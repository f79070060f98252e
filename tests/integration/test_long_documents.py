"""Long texts through the server: `chunk` vectors are the chunks' own embeddings, and
`late_chunk` vectors equal an independent numpy computation from the full hidden states (one
context, and overlapping ones past the model's length); spans cover the text; a document
far past every limit is cut or refused as documented."""

from __future__ import annotations

import grpc
import numpy as np
import pytest
from tokenizers import Tokenizer

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from .conftest import Served, serving
from .reference import reference_late_chunks

SENTENCES = [
    "The cat sat on the mat.",
    "It purred and slept!",
    "Did the dog notice?",
    "No, the dog was outside with the ball.",
    "Rain fell on the old roof all night.",
]


def document(sentences: int) -> str:
    return " ".join(SENTENCES[i % len(SENTENCES)] for i in range(sentences))


def own_tokens(model, text: str) -> list[int]:
    tok = Tokenizer.from_file(str(model.tokenizer))
    tok.no_padding()
    tok.no_truncation()
    return tok.encode(text, add_special_tokens=False).ids


def vectors(reply) -> np.ndarray:
    return np.array([list(c.embedding) for c in reply.chunks.chunks])


def spans(reply) -> list[tuple[int, int]]:
    return [(c.token_start, c.token_end) for c in reply.chunks.chunks]


async def test_chunks_are_their_own_embeddings(tiny: Served, tiny_model) -> None:
    text = document(12)
    reply = await tiny.stub.Embed(
        pb.EmbedRequest(
            input=text,
            prefix="search_document",
            long_input="chunk",
            chunk_tokens=24,
            chunk_overlap=6,
            dim=16,
        )
    )
    chunks = reply.chunks.chunks
    assert reply.chunks.mode == "chunk" and len(chunks) > 3 and not reply.embedding
    assert reply.tokens == len(own_tokens(tiny_model, text))
    assert chunks[0].token_start == 0 and chunks[-1].token_end == reply.tokens
    pieces = [text[c.char_start : c.char_end] for c in chunks]
    expected = await tiny.stub.EmbedList(
        pb.EmbedListRequest(inputs=pieces, prefix="search_document", dim=16)
    )
    expected_rows = [[v.number_value for v in e.values] for e in expected.embeddings]
    np.testing.assert_allclose(vectors(reply), expected_rows, atol=1e-6)


@pytest.mark.parametrize("sentences", [3, 9])  # one context; past 64 tokens, several
async def test_late_chunks_equal_numpy_from_the_hidden_states(
    tiny: Served, tiny_model, sentences: int
) -> None:
    text = document(sentences)
    reply = await tiny.stub.Embed(
        pb.EmbedRequest(
            input=text, prefix="search_document", long_input="late_chunk", chunk_tokens=12
        )
    )
    got = vectors(reply)
    head = len(own_tokens(tiny_model, "search_document:"))
    expected = reference_late_chunks(
        tiny_model.model,
        tiny_model.tokenizer,
        "search_document",
        text,
        spans(reply),
        32,
        width=64 - 2 - head,
    )
    assert reply.chunks.mode == "late_chunk" and len(got) == len(spans(reply)) > 1
    np.testing.assert_allclose(got, expected, atol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)
    if sentences == 3:  # one context: chunks see their neighbours, unlike plain chunks
        plain = await tiny.stub.Embed(
            pb.EmbedRequest(
                input=text, prefix="search_document", long_input="chunk", chunk_tokens=12
            )
        )
        assert spans(plain) == spans(reply)
        assert not np.allclose(vectors(plain), got, atol=1e-3)


async def test_a_stream_mixes_documents_and_plain_texts_with_encodings(tiny: Served) -> None:
    requests = [
        pb.EmbedBatchRequest(input="short text"),
        pb.EmbedBatchRequest(
            input=document(6), long_input="late_chunk", chunk_tokens=16, encoding="int8"
        ),
        pb.EmbedBatchRequest(input=document(4), long_input="chunk", chunk_tokens=99),
        pb.EmbedBatchRequest(
            input=document(4), long_input="chunk", chunk_tokens=16, chunk_overlap=4
        ),
    ]
    replies = [r async for r in tiny.stub.EmbedBatch(iter(requests))]
    assert [r.index for r in replies] == [0, 1, 2, 3]
    assert len(replies[0].embedding) == 32 and not replies[0].HasField("chunks")
    assert all(
        len(c.packed.data) == 32 and c.packed.encoding == "int8" for c in replies[1].chunks.chunks
    )
    assert replies[2].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "chunk_tokens must be in [8, " in replies[2].error.message
    assert len(replies[3].chunks.chunks) > 1


@pytest.mark.parametrize(
    ("request_", "fault"),
    [
        (pb.EmbedRequest(input="x", long_input="split"), "long_input must be one of"),
        (pb.EmbedRequest(input="x", chunk_tokens=16), "need long_input chunk or late_chunk"),
        (
            pb.EmbedRequest(input="x", long_input="chunk", chunk_tokens=16, chunk_overlap=9),
            "chunk_overlap",
        ),
        (
            pb.EmbedRequest(input="x", long_input="late_chunk", chunk_tokens=4),
            "chunk_tokens must be in [8",
        ),
    ],
)
async def test_bad_options_are_refused(tiny: Served, request_, fault: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tiny.stub.Embed(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert fault in caught.value.details()


async def test_a_20000_token_document(tiny_model) -> None:
    """With the default MAX_INPUT_CHARS (32 per token of the model's 64) the document is cut
    there, and said so, or refused when truncation is off; with the limit raised it is
    windowed whole: hundreds of contexts, each at most the model's length."""
    text = document(2600)
    assert len(own_tokens(tiny_model, text)) > 20_000
    async with serving(tiny_model.model, cache_bytes=0) as served:
        cut = await served.stub.Embed(pb.EmbedRequest(input=text, long_input="late_chunk"))
        assert cut.truncated and cut.chunks.chunks[-1].char_end <= 2048
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input=text, long_input="chunk", truncate=False))
        assert "MAX_INPUT_CHARS" in caught.value.details()
    async with serving(tiny_model.model, cache_bytes=0, max_input_chars=len(text)) as served:
        whole = await served.stub.Embed(
            pb.EmbedRequest(input=text, long_input="late_chunk", chunk_tokens=32, dim=8)
        )
        assert not whole.truncated and whole.tokens > 20_000
        assert whole.chunks.chunks[-1].token_end == whole.tokens
        assert whole.chunks.chunks[-1].char_end == len(text.rstrip())
        got = np.array([list(c.embedding) for c in whole.chunks.chunks])
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1, atol=1e-5)


async def test_more_chunks_than_a_list_may_hold_is_refused(tiny_model) -> None:
    async with serving(tiny_model.model, cache_bytes=0, max_list_inputs=4) as served:
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(
                pb.EmbedRequest(input=document(12), long_input="chunk", chunk_tokens=8)
            )
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "(MAX_LIST_INPUTS); ask for longer chunks" in caught.value.details()
