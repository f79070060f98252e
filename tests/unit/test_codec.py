"""The request codec: raw request bytes in, a parsed message or a short InvalidInput out.

Malformed bytes must end as InvalidInput naming the problem (never protobuf's DecodeError and
its "Error parsing message ..." text), and a request holding more fields than any valid one
could must be refused by the scan before protobuf spends time parsing it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Callable
from types import SimpleNamespace
from typing import Any

import grpc
import pytest
from google.protobuf import struct_pb2
from google.protobuf.message import DecodeError
from grpc_health.v1 import health_pb2

from nomic_serve.api import codec
from nomic_serve.api.codec import (
    MAX_DEPTH,
    PARSE_OFF_LOOP_BYTES,
    SCAN_ABOVE_BYTES,
    LargeRequest,
    PendingRequests,
    RequestParser,
    serialize,
    service_handler,
)
from nomic_serve.core.workpool import WorkPool
from nomic_serve.errors import MAX_MESSAGE_CHARS, InvalidInput, Overloaded
from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..hostile.payloads import varint
from ..support.waiting import eventually

SERVICE = pb.DESCRIPTOR.services_by_name["EmbeddingService"]
# What the server allows with its default settings (api/server.py: 2 * 2048 + 64).
MAX_FIELDS = 2 * 2048 + 64


class CountingActivity:
    """What PendingRequests reports: large requests begun and ended."""

    def __init__(self) -> None:
        self.begun = self.ended = 0

    def begin(self) -> None:
        self.begun += 1

    def end(self) -> None:
        self.ended += 1


UNBOUNDED = PendingRequests(1 << 40, CountingActivity())
FIELD_COUNT_MESSAGE = (
    f"the request holds more than {MAX_FIELDS:,} fields, more than any request accepts "
    "(see MAX_LIST_INPUTS and IMAGE_MAX_PER_REQUEST)"
)


def parser_for(message: type, max_fields: int = MAX_FIELDS) -> RequestParser:
    return RequestParser(message.DESCRIPTOR, max_fields)


def refusal(parse: Callable[[bytes], object], data: bytes) -> str:
    """The message of the InvalidInput `parse` refuses `data` with, checked to be safe to show:
    short, and none of protobuf's own parser text."""
    try:
        parse(data)
    except DecodeError as exc:  # pragma: no cover - the failure this module guards against
        pytest.fail(f"DecodeError escaped the parser: {exc}")
    except InvalidInput as exc:
        message = str(exc)
        assert len(message) < MAX_MESSAGE_CHARS, message
        assert "Error parsing" not in message
        assert not isinstance(exc.__cause__, DecodeError)
        return message
    pytest.fail(f"{len(data):,} bytes were accepted")


def nested_input(levels: int, model: str = "") -> bytes:
    """A CreateEmbeddingsRequest whose `input` is a Value holding a list `levels` deep,
    [[[...["x"]...]]], written by hand so no parser ever builds it: every level is two
    messages (a Value's list_value, a ListValue's values)."""
    value = b"\x1a\x01x"  # Value.string_value = "x"
    for _ in range(levels):
        inner = b"\x0a" + varint(len(value)) + value  # ListValue.values = value
        value = b"\x32" + varint(len(inner)) + inner  # Value.list_value = inner
    request = b"\x0a" + varint(len(value)) + value  # CreateEmbeddingsRequest.input = value
    if model:
        encoded = model.encode()
        request += b"\x12" + varint(len(encoded)) + encoded  # model: pads past the scan size
    return request


def list_input(items: int, text: str = "x") -> struct_pb2.Value:
    return struct_pb2.Value(
        list_value=struct_pb2.ListValue(values=[struct_pb2.Value(string_value=text)] * items)
    )


@pytest.fixture(scope="module")
def five_million_items() -> bytes:
    """15 MB: an EmbedListRequest of 5,000,000 one-character texts."""
    return pb.EmbedListRequest(inputs=["x"] * 5_000_000).SerializeToString()


# --- messages that parse ------------------------------------------------------------------


@pytest.mark.parametrize(
    "message",
    [
        pb.EmbedRequest(input="Hello world", dim=128, prefix="search_query", truncate=False),
        pb.EmbedRequest(),
        pb.EmbedListRequest(inputs=["Hello", "wörld", ""], dim=8),
        pb.CreateEmbeddingsRequest(input=struct_pb2.Value(string_value="one"), model="m"),
        pb.CreateEmbeddingsRequest(input=list_input(3, "several"), dimensions=64),
        pb.ImageEmbedListRequest(contents=["https://example.com/a.png"], data=[b"\x89PNG\0\xff"]),
        pb.ImageStatsRequest(data=bytes(range(256)), averaging_method="geometric"),
    ],
    ids=lambda message: type(message).__name__,
)
def test_a_valid_message_round_trips(message: Any) -> None:
    data = message.SerializeToString()
    parsed = parser_for(type(message))(data)
    assert type(parsed) is type(message)
    assert parsed == message
    assert parsed.SerializeToString() == data


def test_optional_fields_keep_their_presence() -> None:
    parse = parser_for(pb.EmbedRequest)
    assert not parse(pb.EmbedRequest(input="a").SerializeToString()).HasField("truncate")
    explicit = parse(pb.EmbedRequest(input="a", truncate=False).SerializeToString())
    assert explicit.HasField("truncate") and explicit.truncate is False


def test_a_large_valid_message_passes_the_scan_and_parses() -> None:
    """2048 items (MAX_LIST_INPUTS) of 40 characters: over SCAN_ABOVE_BYTES, under the budget."""
    message = pb.EmbedListRequest(
        inputs=[f"text number {i:05d} ".ljust(40, "x") for i in range(2048)]
    )
    data = message.SerializeToString()
    assert len(data) > SCAN_ABOVE_BYTES
    assert parser_for(pb.EmbedListRequest)(data) == message


def test_a_large_openai_list_counts_the_value_inside_each_item_and_still_parses() -> None:
    """An item of CreateEmbeddings' `input` list is two fields (the list entry and the string
    in its Value); 2048 of them fit the budget the server sets."""
    message = pb.CreateEmbeddingsRequest(input=list_input(2048, "y" * 40), model="m")
    data = message.SerializeToString()
    assert len(data) > SCAN_ABOVE_BYTES
    assert parser_for(pb.CreateEmbeddingsRequest)(data) == message


def test_the_budget_is_exactly_max_fields() -> None:
    """max_fields fields at the top level parse; one more is refused (texts long enough that
    both messages are over SCAN_ABOVE_BYTES)."""
    budget = 1000
    parse = parser_for(pb.EmbedListRequest, budget)
    text = "z" * 100
    fits = pb.EmbedListRequest(inputs=[text] * budget)
    assert len(fits.SerializeToString()) > SCAN_ABOVE_BYTES
    assert parse(fits.SerializeToString()) == fits
    over = pb.EmbedListRequest(inputs=[text] * (budget + 1)).SerializeToString()
    assert "holds more than 1,000 fields" in refusal(parse, over)


def test_small_messages_are_not_scanned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Under SCAN_ABOVE_BYTES nothing is counted: a tiny budget does not refuse 100 items."""

    def no_scan(*args: object) -> None:
        pytest.fail("a small message was scanned")

    monkeypatch.setattr(codec._Scan, "message", no_scan)
    message = pb.EmbedListRequest(inputs=["a"] * 100)
    assert len(message.SerializeToString()) <= SCAN_ABOVE_BYTES
    assert parser_for(pb.EmbedListRequest, 10)(message.SerializeToString()) == message


# --- malformed messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "data"),
    [
        (pb.EmbedRequest, b"\x0a\xff\xff\xff\xff\x0f"),  # a length far past the end
        (pb.EmbedRequest, b"\x0a\x10abc"),  # a string cut short
        (pb.EmbedRequest, b"\xff"),  # a key whose varint never ends
        (pb.EmbedRequest, b"\x00\x01"),  # field number 0
        (pb.EmbedRequest, b"\x0f\x00"),  # wire type 7 does not exist
        (pb.EmbedListRequest, b"\x0a\xff\xff\xff\xff\x0f"),
        (pb.CreateEmbeddingsRequest, b"\x0a\x05\x32\x07\x0a"),  # a nested message cut short
        (pb.ImageStatsRequest, b"\x12\x80"),  # bytes field: its length varint cut short
    ],
    ids=[
        "huge-length",
        "truncated",
        "endless-varint",
        "field-0",
        "wire-7",
        "list",
        "nested",
        "bytes",
    ],
)
def test_malformed_wire_format_is_invalid_input(message: type, data: bytes) -> None:
    assert refusal(parser_for(message), data) == (
        f"the request is not a valid {message.DESCRIPTOR.name}: malformed protobuf wire format"
    )


@pytest.mark.parametrize(
    ("message", "data"),
    [
        (pb.EmbedRequest, b"\x0a\x03\xff\xfe\xfd"),
        (pb.EmbedListRequest, b"\x0a\x02ok\x0a\x02\xc3\x28"),  # the second item is invalid
        (pb.CreateEmbeddingsRequest, b"\x0a\x03\x1a\x01\x80"),  # Value.string_value, nested
    ],
    ids=["Embed", "EmbedList-second-item", "nested-Value"],
)
def test_invalid_utf8_in_a_string_field_is_invalid_input(message: type, data: bytes) -> None:
    assert refusal(parser_for(message), data) == (
        f"the request is not a valid {message.DESCRIPTOR.name}: a string field is not valid UTF-8"
    )


def test_invalid_utf8_in_a_bytes_field_is_fine() -> None:
    message = pb.ImageStatsRequest(data=b"\xff\xfe\xfd")
    assert parser_for(pb.ImageStatsRequest)(message.SerializeToString()) == message


def test_nesting_too_deep_is_invalid_input() -> None:
    """150 list levels: 301 messages deep, far past the parser's limit of 100."""
    data = nested_input(150)
    assert len(data) <= SCAN_ABOVE_BYTES  # the parser's own limit answers
    assert refusal(parser_for(pb.CreateEmbeddingsRequest), data) == (
        "the request is not a valid CreateEmbeddingsRequest: "
        f"it is nested more than {MAX_DEPTH} levels deep"
    )


def test_nesting_too_deep_in_a_large_message_is_refused_by_the_scan(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = nested_input(150, model="m" * SCAN_ABOVE_BYTES)
    assert len(data) > SCAN_ABOVE_BYTES
    parse = parser_for(pb.CreateEmbeddingsRequest)
    monkeypatch.setattr(parse, "_message", _never_parsed(parse))
    assert f"nested more than {MAX_DEPTH} levels deep" in refusal(parse, data)


@pytest.mark.parametrize("large", [False, True], ids=["small", "large"])
def test_the_deepest_nesting_protobuf_accepts_also_passes_the_scan(large: bool) -> None:
    """49 list levels are 99 messages below the request: protobuf parses it, and the scan
    (which runs on large requests only) must not refuse what protobuf would accept."""
    data = nested_input(49, model="m" * SCAN_ABOVE_BYTES if large else "")
    assert (len(data) > SCAN_ABOVE_BYTES) is large
    parsed = parser_for(pb.CreateEmbeddingsRequest)(data)
    value = parsed.input
    for _ in range(49):
        (value,) = value.list_value.values
    assert value.string_value == "x"
    assert "nested more than" in refusal(parser_for(pb.CreateEmbeddingsRequest), nested_input(50))


def _malformed_large() -> list[bytes]:
    body = pb.EmbedRequest(input="a" * (SCAN_ABOVE_BYTES + 100)).SerializeToString()
    return [
        body[:-1],  # the string cut short
        body + b"\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",  # a varint over 64 bits
        body + b"\x0b",  # a group start: proto3 has none (wire type 3)
        b"\x00\x01" + body,  # field number 0
    ]


@pytest.mark.parametrize("data", _malformed_large(), ids=["cut", "varint", "group", "field-0"])
def test_malformed_large_messages_get_the_same_message_from_the_scan(data: bytes) -> None:
    """Over SCAN_ABOVE_BYTES the scan meets the damage before protobuf does: the caller is
    told the same as for a small message."""
    assert len(data) > SCAN_ABOVE_BYTES
    assert refusal(parser_for(pb.EmbedRequest), data) == (
        "the request is not a valid EmbedRequest: malformed protobuf wire format"
    )


# --- the field-count scan -------------------------------------------------------------------


def _never_parsed(parse: RequestParser) -> type:
    """A stand-in for the parser's message class whose FromString fails the test."""

    class NeverParsed:
        @staticmethod
        def FromString(data: bytes) -> None:
            pytest.fail(f"protobuf parsed a {parse._descriptor.name} the scan should refuse")

    return NeverParsed


def test_five_million_items_are_refused_before_parsing(
    five_million_items: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    parse = parser_for(pb.EmbedListRequest)
    monkeypatch.setattr(parse._message, "FromString", _never_parsed(parse).FromString)
    assert refusal(parse, five_million_items) == FIELD_COUNT_MESSAGE


def test_the_scan_stops_at_the_budget(
    five_million_items: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The work is bounded by the budget, not by the message: a key and a length per field
    read up to the first field over the budget, not 10 million varints."""
    calls = 0
    varint_of = codec._varint

    def counted(*args: Any) -> tuple[int, int]:
        nonlocal calls
        calls += 1
        return varint_of(*args)

    monkeypatch.setattr(codec, "_varint", counted)
    assert refusal(parser_for(pb.EmbedListRequest), five_million_items) == FIELD_COUNT_MESSAGE
    assert calls <= 2 * (MAX_FIELDS + 1)


def test_fields_are_counted_at_every_depth(monkeypatch: pytest.MonkeyPatch) -> None:
    """One top-level field holding 3000 list items is 6002 fields once nested ones count."""
    data = pb.CreateEmbeddingsRequest(input=list_input(3000, "t" * 20)).SerializeToString()
    assert len(data) > SCAN_ABOVE_BYTES
    parse = parser_for(pb.CreateEmbeddingsRequest)
    monkeypatch.setattr(parse, "_message", _never_parsed(parse))
    assert refusal(parse, data) == FIELD_COUNT_MESSAGE


def test_the_scan_does_not_descend_into_bytes_or_strings() -> None:
    """A bytes item and a string whose contents read as 30,000 fields each are one field: the
    scan looks inside message fields only. The same content as real fields is refused."""
    looks_like_fields = b"\x0a\x01x" * 30_000  # 90 KB of `inputs` entries, as bytes
    images = pb.ImageEmbedListRequest(data=[looks_like_fields], contents=["a"])
    assert parser_for(pb.ImageEmbedListRequest, 10)(images.SerializeToString()) == images
    text = pb.EmbedRequest(input=looks_like_fields.decode())
    assert parser_for(pb.EmbedRequest, 10)(text.SerializeToString()) == text
    as_fields = refusal(parser_for(pb.EmbedListRequest, 10), looks_like_fields)
    assert "holds more than 10 fields" in as_fields


# --- serialize and the service handler ------------------------------------------------------


def test_serialize_passes_bytes_through_and_serializes_messages() -> None:
    already = b"\x0a\x02ok"
    assert serialize(already) is already
    reply = pb.EmbedResponse(embedding=[0.5, -1.0], tokens=3, model="m")
    assert serialize(reply) == reply.SerializeToString()


class RecordingServicer:
    """Every method of the service: records what it was given and answers with bytes."""

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        for method in SERVICE.methods:
            setattr(self, method.name, self._behaviour(method))

    def _behaviour(self, method: Any) -> Callable[..., Any]:
        if method.client_streaming:

            async def stream(requests: AsyncIterator[Any], context: object) -> AsyncIterator[Any]:
                async for request in requests:
                    self.received.append((method.name, request))
                    yield pb.EmbedBatchResponse(index=len(self.received))

            return stream

        async def unary(request: Any, context: object) -> Any:
            self.received.append((method.name, request))
            return b"raw reply"

        return unary


class CountingPool:
    """A WorkPool that counts what it is asked to run."""

    def __init__(self) -> None:
        self.pool = WorkPool("parse-test", 1, 4)
        self.runs = 0

    async def run(self, work: Callable[[], Any], timeout: float | None = None) -> Any:
        self.runs += 1
        return await self.pool.run(work, timeout)


@pytest.fixture
def pool() -> Any:
    counting = CountingPool()
    yield counting
    counting.pool.shutdown()


def method_handler(handler: grpc.GenericRpcHandler, name: str) -> grpc.RpcMethodHandler:
    found = handler.service(SimpleNamespace(method=f"/{SERVICE.full_name}/{name}"))
    assert found is not None, name
    return found


def test_every_method_is_served_on_raw_bytes(pool: CountingPool) -> None:
    handler = service_handler(SERVICE, RecordingServicer(), MAX_FIELDS, pool, {}, UNBOUNDED)  # type: ignore[arg-type]
    for method in SERVICE.methods:
        served = method_handler(handler, method.name)
        assert served.request_deserializer is None  # grpc hands us the bytes
        assert served.response_serializer is serialize
        streaming = method.client_streaming and method.server_streaming
        assert (served.stream_stream is not None) is streaming
        assert (served.unary_unary is not None) is not streaming


async def test_a_unary_request_is_parsed_on_the_loop_when_small(
    pool: CountingPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _record_parsing_threads(monkeypatch, pb.EmbedRequest)
    servicer = RecordingServicer()
    handler = service_handler(SERVICE, servicer, MAX_FIELDS, pool, {}, UNBOUNDED)  # type: ignore[arg-type]
    request = pb.EmbedRequest(input="Hello world", dim=8)
    unary = method_handler(handler, "Embed").unary_unary
    assert await unary(request.SerializeToString(), None) == b"raw reply"
    assert servicer.received == [("Embed", request)]
    assert pool.runs == 0
    assert threads == [threading.get_ident()]


async def test_a_request_over_the_off_loop_size_is_parsed_on_the_pool(
    pool: CountingPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads = _record_parsing_threads(monkeypatch, pb.EmbedListRequest)
    servicer = RecordingServicer()
    handler = service_handler(SERVICE, servicer, MAX_FIELDS, pool, {}, UNBOUNDED)  # type: ignore[arg-type]
    request = pb.EmbedListRequest(inputs=[f"{i:04d}".ljust(600, "w") for i in range(2048)])
    data = request.SerializeToString()
    assert len(data) > PARSE_OFF_LOOP_BYTES
    assert await method_handler(handler, "EmbedList").unary_unary(data, None) == b"raw reply"
    [(method, received)] = servicer.received
    assert method == "EmbedList"
    # Its strings were read into Python on the pool too, not by the servicer on the loop.
    assert isinstance(received, LargeRequest) and received.message == request
    assert type(received.inputs) is list and received.inputs == list(request.inputs)
    assert received.dim == 0 and received.HasField("truncate") is False
    assert pool.runs == 1
    assert len(threads) == 1 and threads[0] != threading.get_ident()


async def test_a_malformed_request_raises_invalid_input_before_the_servicer_runs(
    pool: CountingPool,
) -> None:
    servicer = RecordingServicer()
    handler = service_handler(SERVICE, servicer, MAX_FIELDS, pool, {}, UNBOUNDED)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="not a valid EmbedRequest: malformed protobuf"):
        await method_handler(handler, "Embed").unary_unary(b"\x0a\x10abc", None)
    assert servicer.received == []


class ReadingContext:
    """The part of a grpc.aio servicer context the codec reads requests through: `read()`,
    which returns each message in turn, then EOF. Requests are read so, not by iterating
    the stream grpc passes in: grpc's iterator keeps its last message until the call's
    state is freed, which can be long after the call ended."""

    def __init__(self, *messages: bytes) -> None:
        self._messages = list(messages)
        self.pulled: list[bytes] = []

    async def read(self) -> Any:
        if not self._messages:
            return grpc.aio.EOF
        self.pulled.append(self._messages.pop(0))
        return self.pulled[-1]


async def test_a_stream_parses_each_request_in_order(pool: CountingPool) -> None:
    servicer = RecordingServicer()
    handler = service_handler(SERVICE, servicer, MAX_FIELDS, pool, {}, UNBOUNDED)  # type: ignore[arg-type]
    requests = [pb.EmbedBatchRequest(input=f"item {i}", dim=4) for i in range(3)]
    invalid = b"\x0a\x03\xff\xfe\xfd"  # invalid UTF-8: the stream fails here
    context = ReadingContext(*(request.SerializeToString() for request in requests), invalid)

    replies = []
    with pytest.raises(InvalidInput, match="not a valid EmbedBatchRequest: a string field"):
        async for reply in method_handler(handler, "EmbedBatch").stream_stream(None, context):
            replies.append(reply)
    assert [reply.index for reply in replies] == [1, 2, 3]
    assert servicer.received == [("EmbedBatch", request) for request in requests]


def test_a_service_with_a_half_streaming_method_is_refused(pool: CountingPool) -> None:
    """grpc.health.v1.Health's Watch streams replies only: no handler is built for it."""
    service = health_pb2.DESCRIPTOR.services_by_name["Health"]
    servicer = SimpleNamespace(Check=None, Watch=None, List=None)
    with pytest.raises(TypeError, match=r"grpc\.health\.v1\.Health\.Watch"):
        service_handler(service, servicer, MAX_FIELDS, pool, {}, UNBOUNDED)  # type: ignore[arg-type]


def _record_parsing_threads(monkeypatch: pytest.MonkeyPatch, message: type) -> list[int]:
    """The threads `message` is parsed on, from now to the end of the test."""
    threads: list[int] = []
    original = message.FromString

    def recording(data: bytes) -> Any:
        threads.append(threading.get_ident())
        return original(data)

    monkeypatch.setattr(message, "FromString", recording)
    return threads


async def test_a_gated_method_is_refused_before_its_request_is_read(pool: CountingPool) -> None:
    """While the gate says the server has no room, the call is refused as it opens: the
    request stream is never pulled from, so its body is never copied or parsed."""
    servicer = RecordingServicer()
    full = [True]

    def gate() -> None:
        if full[0]:
            raise Overloaded("server is busy", limit="MAX_PENDING_ITEMS", retry_after_s=0.5)

    handler = service_handler(SERVICE, servicer, MAX_FIELDS, pool, {"Embed": gate}, UNBOUNDED)  # type: ignore[arg-type]
    served = method_handler(handler, "Embed")  # chosen while the gate is shut
    assert served.unary_unary is None and served.stream_unary is not None
    request = pb.EmbedRequest(input="Hello world").SerializeToString()
    refused = ReadingContext(request)
    with pytest.raises(Overloaded):
        await served.stream_unary(None, refused)
    assert refused.pulled == [] and servicer.received == []
    full[0] = False  # the gate opened after the handler was chosen: the call is read
    assert await served.stream_unary(None, ReadingContext(request)) == b"raw reply"
    assert servicer.received == [("Embed", pb.EmbedRequest(input="Hello world"))]
    with pytest.raises(InvalidInput, match="no request message"):
        await served.stream_unary(None, ReadingContext())
    # While there is room a call gets the plain unary handler: grpc reads the request.
    open_handler = method_handler(handler, "Embed")
    assert open_handler.stream_unary is None
    assert await open_handler.unary_unary(request, None) == b"raw reply"


async def test_large_requests_share_the_pending_budget(pool: CountingPool) -> None:
    """Requests over PARSE_OFF_LOOP_BYTES hold their size until their call ends; one that
    does not fit in what is left is refused before it is parsed, small ones never count."""
    servicer = RecordingServicer()
    release = asyncio.Event()

    async def slow_embed(request: Any, context: object) -> bytes:
        servicer.received.append(("Embed", request))
        await release.wait()
        return b"raw reply"

    servicer.Embed = slow_embed  # type: ignore[attr-defined]
    activity = CountingActivity()
    pending = PendingRequests(3 * PARSE_OFF_LOOP_BYTES, activity)
    handler = service_handler(SERVICE, servicer, MAX_FIELDS, pool, {}, pending)  # type: ignore[arg-type]
    embed = method_handler(handler, "Embed").unary_unary
    large = pb.EmbedRequest(input="x" * (2 * PARSE_OFF_LOOP_BYTES)).SerializeToString()
    first = asyncio.create_task(embed(large, None))
    await eventually(lambda: servicer.received)
    assert pending.held == len(large) and (activity.begun, activity.ended) == (1, 0)
    runs = pool.runs
    with pytest.raises(Overloaded, match=r"MB of large requests in flight.*REQUEST_MAX_PENDING_MB"):
        await asyncio.wait_for(embed(large, None), 10)  # a call let in would wait for `release`
    assert pool.runs == runs and len(servicer.received) == 1  # refused unparsed
    small = asyncio.create_task(embed(pb.EmbedRequest(input="small").SerializeToString(), None))
    await eventually(lambda: len(servicer.received) == 2)
    release.set()
    assert await first == b"raw reply" and await small == b"raw reply"
    assert pending.held == 0 and (activity.begun, activity.ended) == (1, 1)  # small: not told
    assert await embed(large, None) == b"raw reply"
