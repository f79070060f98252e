"""The text RPCs through a real grpc.aio server and channel."""

from __future__ import annotations

import asyncio

import grpc
import numpy as np
import pytest

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.waiting import eventually
from .conftest import ONE_SESSION, Served
from .reference import reference_embedding

LONG = "hello world " * 40  # 82 tokens with [CLS]/[SEP]; the test models take 64


def _vec(values) -> np.ndarray:
    return np.asarray(list(values), dtype=np.float64)


async def test_embed_returns_a_unit_vector_with_tokens_and_time(tiny: Served) -> None:
    reply = await tiny.stub.Embed(pb.EmbedRequest(input="Hello world"))
    assert len(reply.embedding) == 32
    assert abs(np.linalg.norm(_vec(reply.embedding)) - 1) < 1e-5
    assert reply.tokens == 8  # [CLS] search_query : hello world [SEP] -> "search", "query"...
    assert reply.time_ms > 0 and not reply.truncated
    assert reply.model == "nomic-embed-text-v1.5"


@pytest.mark.parametrize("dim", [1, 64, 128, 256, 512, 768])
async def test_matryoshka_dims_match_the_model_card_recipe(wide: Served, wide_model, dim) -> None:
    text = "the cat and the dog"
    reply = await wide.stub.Embed(pb.EmbedRequest(input=text, dim=dim, prefix="search_document"))
    got = _vec(reply.embedding)
    expected = reference_embedding(
        wide_model.model, wide_model.tokenizer, f"search_document: {text}", dim
    )
    assert got.shape == (dim,)
    assert abs(np.linalg.norm(got) - 1) < 1e-5
    np.testing.assert_allclose(got, expected, atol=2e-5)


async def test_prefixes_change_the_text_the_model_sees(tiny: Served, tiny_model) -> None:
    replies = {
        prefix: _vec((await tiny.stub.Embed(pb.EmbedRequest(input="cat", prefix=prefix))).embedding)
        for prefix in ("search_query", "search_document", "clustering", "classification", "none")
    }
    default = _vec((await tiny.stub.Embed(pb.EmbedRequest(input="cat"))).embedding)
    np.testing.assert_array_equal(default, replies["search_query"])
    expected = reference_embedding(tiny_model.model, tiny_model.tokenizer, "cat", 32)
    np.testing.assert_allclose(replies["none"], expected, atol=2e-5)
    assert len({v.tobytes() for v in replies.values()}) == 5


async def test_query_forces_the_search_query_prefix(tiny_model) -> None:
    from .conftest import serving

    async with serving(tiny_model.model, default_prefix="search_document") as served:
        query = await served.stub.EmbedQuery(pb.EmbedQueryRequest(input="cat", dim=16))
        as_query = await served.stub.Embed(
            pb.EmbedRequest(input="cat", dim=16, prefix="search_query")
        )
        default = await served.stub.Embed(pb.EmbedRequest(input="cat", dim=16))
    assert list(query.embedding) == list(as_query.embedding)
    assert list(query.embedding) != list(default.embedding)


async def test_list_matches_single_embeds_in_batched_mode(tiny: Served) -> None:
    texts = ["hello", "the cat and the dog on the road", LONG, "sky", "sea sun moon star"]
    reply = await tiny.stub.EmbedList(pb.EmbedListRequest(inputs=texts, dim=8))
    assert list(reply.tokens) == [
        (await tiny.stub.Embed(pb.EmbedRequest(input=t, dim=8))).tokens for t in texts
    ]
    assert list(reply.truncated) == [False, False, True, False, False]
    for text, vector in zip(texts, reply.embeddings, strict=True):
        single = await tiny.stub.Embed(pb.EmbedRequest(input=text, dim=8))
        assert np.abs(_vec(vector) - _vec(single.embedding)).max() <= 1e-5


async def test_quantized_model_never_shares_a_batch(quantized: Served) -> None:
    info = await quantized.stub.Info(pb.InfoRequest())
    assert info.text.batching == "isolated" and "DynamicQuantizeLinear" in info.text.batching_reason
    texts = ["hello world the cat", "sky sea sun moon", "a"]
    reply = await quantized.stub.EmbedList(pb.EmbedListRequest(inputs=texts))
    for text, vector in zip(texts, reply.embeddings, strict=True):
        single = await quantized.stub.Embed(pb.EmbedRequest(input=text))
        assert list(vector) == list(single.embedding)  # bit-identical


async def test_long_input_is_truncated_and_reported(tiny: Served) -> None:
    reply = await tiny.stub.Embed(pb.EmbedRequest(input=LONG, prefix="none"))
    assert reply.truncated and reply.tokens == 64


async def test_refused_truncation_names_token_count_and_limit(tiny: Served) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tiny.stub.Embed(pb.EmbedRequest(input=LONG, prefix="none", truncate=False))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == (
        "input has 82 tokens, more than the model's limit of 64; shorten it or allow truncation"
    )


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (pb.EmbedRequest(input=""), "input is empty or whitespace only"),
        (pb.EmbedRequest(input=" \n "), "input is empty or whitespace only"),
        (pb.EmbedRequest(input="a", dim=33), "dim must be in [1, 32]"),
        (pb.EmbedRequest(input="a", dim=-4), "dim must be in [1, 32]"),
        (pb.EmbedRequest(input="a", prefix="query"), "prefix must be one of search_query"),
    ],
)
async def test_bad_input_is_invalid_argument(tiny: Served, request_, message: str) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tiny.stub.Embed(request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert message in caught.value.details()


async def test_list_errors_name_the_bad_item(tiny: Served) -> None:
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await tiny.stub.EmbedList(pb.EmbedListRequest(inputs=["ok", ""]))
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "inputs[1] is empty" in caught.value.details()


async def test_concurrent_requests_get_their_own_answers(tiny: Served, monkeypatch) -> None:
    """64 concurrent calls (each text twice) really share batches, the server computing
    every one (no cache), and each caller still gets exactly its own text's vector."""
    texts = [
        f"the {w} and the {v}"
        for w in ("cat", "dog", "fish", "bird")
        for v in ("tree", "house", "car", "road", "sky", "sea", "sun", "moon")
    ] * 2
    alone = [(await tiny.stub.Embed(pb.EmbedRequest(input=t))).embedding for t in texts[:32]]
    assert tiny.text is not None
    session = tiny.text.engine.session
    real, sizes = session.run, []
    monkeypatch.setattr(session, "run", lambda ids, *a: sizes.append(len(ids)) or real(ids, *a))
    together = await asyncio.gather(*(tiny.stub.Embed(pb.EmbedRequest(input=t)) for t in texts))
    assert sum(sizes) == 64 and max(sizes) > 1  # computed, and batched across callers
    for index, reply in enumerate(together):
        assert np.abs(_vec(reply.embedding) - _vec(alone[index % 32])).max() <= 1e-5


async def test_stream_answers_in_order_with_per_item_errors(tiny: Served) -> None:
    texts = [f"the cat {i % 7} and the dog" for i in range(150)]
    texts[40] = "   "
    requests = [pb.EmbedBatchRequest(input=t, dim=16) for t in texts]
    requests[90] = pb.EmbedBatchRequest(input="a", dim=99)

    async def produce():
        for request in requests:
            yield request

    replies = [reply async for reply in tiny.stub.EmbedBatch(produce())]
    assert [r.index for r in replies] == list(range(150))
    assert replies[40].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "empty" in replies[40].error.message and not replies[40].embedding
    assert "dim must be in [1, 32]" in replies[90].error.message
    for i in (0, 7, 149):
        single = await tiny.stub.Embed(pb.EmbedRequest(input=texts[i], dim=16))
        assert np.abs(_vec(replies[i].embedding) - _vec(single.embedding)).max() <= 1e-5
        assert replies[i].tokens == single.tokens and not replies[i].HasField("error")


async def test_stream_items_sent_together_share_engine_calls(tiny: Served, monkeypatch) -> None:
    """Items that arrive together are embedded by one engine call per `dim`; a text that
    may not be truncated fails alone, its neighbours in the same call still succeed."""
    engine = tiny.text.engine
    real, calls = engine.embed, []

    async def counting(items, deadline=None, flow=None):
        calls.append(len(items))
        return await real(items, deadline, flow)

    monkeypatch.setattr(engine, "embed", counting)
    too_long = " ".join(["cat"] * (engine.tokenizer.max_tokens + 10))
    requests = [pb.EmbedBatchRequest(input=f"the cat {i}", dim=8 + 8 * (i % 2)) for i in range(48)]
    requests[17] = pb.EmbedBatchRequest(input=too_long, dim=16, truncate=False)

    async def produce():
        for request in requests:
            yield request

    replies = [reply async for reply in tiny.stub.EmbedBatch(produce())]
    assert [r.index for r in replies] == list(range(48))
    assert replies[17].error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert "more than the model's limit" in replies[17].error.message
    for i, reply in enumerate(replies):
        if i != 17:
            single = await tiny.stub.Embed(
                pb.EmbedRequest(input=f"the cat {i}", dim=8 + 8 * (i % 2))
            )
            assert len(reply.embedding) == len(single.embedding)
            assert np.abs(_vec(reply.embedding) - _vec(single.embedding)).max() <= 1e-5
    assert max(calls) > 1  # some items shared a call


async def test_stream_answers_each_item_before_the_next_is_sent(tiny: Served) -> None:
    """A client may wait for each answer before sending more: no read-ahead deadlock."""
    call = tiny.stub.EmbedBatch()
    for i in range(3):
        await call.write(pb.EmbedBatchRequest(input=f"cat {i}"))
        reply = await asyncio.wait_for(call.read(), timeout=10)
        assert reply.index == i and len(reply.embedding) == 32
    await call.done_writing()
    assert await call.read() == grpc.aio.EOF


async def test_overload_is_refused_fast_and_the_rest_succeeds(tiny_model, monkeypatch) -> None:
    """Inference is held while 40 single requests arrive: the batch already running and
    MAX_PENDING_ITEMS queued texts are served, the rest refused at once with a retry hint."""
    import threading

    from google.rpc import error_details_pb2, status_pb2

    from .conftest import serving

    limits = dict(max_pending_items=4, max_list_inputs=4, max_batch_size=1)
    async with serving(tiny_model.model, **limits, **ONE_SESSION) as served:
        gate, real = threading.Event(), served.text.engine.session.run
        monkeypatch.setattr(
            served.text.engine.session, "run", lambda *a: gate.wait(10) and real(*a)
        )
        calls = [
            asyncio.ensure_future(served.stub.Embed(pb.EmbedRequest(input=f"cat {i}")))
            for i in range(40)
        ]
        await eventually(lambda: sum(c.done() for c in calls) == 40 - 5)  # refused at once
        gate.set()
        results = await asyncio.gather(*calls, return_exceptions=True)
        refused = [r for r in results if isinstance(r, grpc.aio.AioRpcError)]
        served_ok = [r for r in results if isinstance(r, pb.EmbedResponse)]
        assert len(refused) == 35 and len(served_ok) == 5
        assert {r.code() for r in refused} == {grpc.StatusCode.RESOURCE_EXHAUSTED}
        assert "MAX_PENDING_ITEMS" in refused[0].details()
        trailers = dict(refused[0].trailing_metadata())
        status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
        retry = error_details_pb2.RetryInfo()
        assert status.details[0].Unpack(retry) and retry.retry_delay.ToNanoseconds() > 0
        assert int(trailers["grpc-retry-pushback-ms"]) >= 50
        assert all(len(r.embedding) == 32 for r in served_ok)
        assert (await served.stub.Health(pb.HealthRequest())).status == "OK"


async def test_unexpected_errors_are_internal_without_internals(tiny_model, monkeypatch) -> None:
    from .conftest import serving

    async with serving(tiny_model.model, **ONE_SESSION) as served:

        def explode(*arrays):
            raise RuntimeError("secret stack detail")

        monkeypatch.setattr(served.text.engine.session, "run", explode)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="cat"))
        assert caught.value.code() == grpc.StatusCode.INTERNAL
        assert "secret" not in caught.value.details() and "Traceback" not in caught.value.details()
        monkeypatch.undo()
        assert (await served.stub.Embed(pb.EmbedRequest(input="cat"))).tokens > 0


async def test_stream_reads_ahead_at_most_the_window(tiny_model, monkeypatch) -> None:
    from .conftest import serving

    async with serving(tiny_model.model, stream_window=3) as served:
        engine = served.text.engine
        started, release = [], asyncio.Event()
        real_embed = engine.embed

        async def held_embed(items, deadline=None, flow=None):
            started.extend(item.text for item in items)  # items read together share a call
            await release.wait()
            return await real_embed(items, deadline, flow)

        monkeypatch.setattr(engine, "embed", held_embed)
        call = served.stub.EmbedBatch()
        for i in range(20):
            await call.write(pb.EmbedBatchRequest(input=f"cat {i}"))
        await eventually(lambda: len(started) == 3)
        # Proving that nothing more starts needs an observation window: the 17 others are
        # already sent, so a server reading past its window would start one well within it.
        await asyncio.sleep(0.3)
        assert len(started) == 3  # the other 17 wait in flow control, not in memory
        release.set()
        await call.done_writing()
        replies = [reply async for reply in call]
        assert [r.index for r in replies] == list(range(20)) and len(started) == 20


async def test_stream_without_a_model_is_unavailable() -> None:
    """The server refuses the stream as it opens; the client sends nothing, since a send
    racing the refusal is reported by grpc's client as its own INTERNAL error."""
    from .conftest import serving

    async with serving(None) as served:
        call = served.stub.EmbedBatch()
        assert await call.code() == grpc.StatusCode.UNAVAILABLE
        assert "no text model is loaded" in await call.details()


async def test_caller_deadline_is_deadline_exceeded_and_server_goes_on(
    tiny_model, monkeypatch, caplog
) -> None:
    import time as clock

    from .conftest import serving

    caplog.set_level("INFO", logger="nomic_serve.request")
    async with serving(tiny_model.model, **ONE_SESSION) as served:
        real = served.text.engine.session.run

        def slow(*arrays):
            clock.sleep(0.5)
            return real(*arrays)

        monkeypatch.setattr(served.text.engine.session, "run", slow)
        with pytest.raises(grpc.aio.AioRpcError) as caught:
            await served.stub.Embed(pb.EmbedRequest(input="cat"), timeout=0.1)
        assert caught.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
        monkeypatch.undo()
        assert (await served.stub.Embed(pb.EmbedRequest(input="cat"), timeout=5)).tokens > 0
    logged = [r for r in caplog.records if getattr(r, "method", "").endswith("/Embed")]
    assert logged[0].code == "DEADLINE_EXCEEDED" and logged[-1].code == "OK"
