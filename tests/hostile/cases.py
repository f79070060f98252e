"""The hostile cases, one class of problem each, through gRPC and (where a route exists) REST.

A case sends its requests, checks what it expects of the answers, and returns every reply
so the harness can also check what no reply may ever do (see `Reply.problems`).
"""

from __future__ import annotations

import base64
import functools
import itertools
import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import grpc
from google.rpc import error_details_pb2, status_pb2

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..support.waiting import eventually_sync
from .evil_host import png
from .payloads import (
    big_text,
    deep_value,
    exif_array_png,
    exif_many_tags_png,
    exif_string_png,
    pixel_bomb_png,
)
from .stack import SERVICE, Reply, Stack

__all__ = ["CASES", "Case"]

TEN_MB = 10_000_000
_RUNS = itertools.count()  # every run of a case sends texts no earlier run sent (no cache hits)
EXIF_REPLY_MAX = 256 * 1024  # what one ImageStats reply may carry, EXIF included


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[[Stack], list[Reply]]


def expect(reply: Reply, *codes: str) -> Reply:
    assert reply.code in codes, f"{reply.label}: {reply.code} {reply.message[:300]!r}, want {codes}"
    return reply


def _data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


# --- texts ------------------------------------------------------------------------------


def _fresh(text: str) -> str:
    """`text` made new to the server's cache, at its start (a cut keeps the start)."""
    return f"run {next(_RUNS)} " + text


def huge_text_grpc(stack: Stack) -> list[Reply]:
    text = _fresh(big_text(TEN_MB))
    cut = expect(stack.grpc("10 MB", lambda: stack.stub.Embed(pb.EmbedRequest(input=text))), "OK")
    assert cut.body.truncated and cut.body.tokens > 0
    refused = stack.grpc(
        "10 MB, truncate false",
        lambda: stack.stub.Embed(pb.EmbedRequest(input=text, truncate=False)),
    )
    listed = stack.grpc(
        "10 MB in a list",
        lambda: stack.stub.EmbedList(pb.EmbedListRequest(inputs=[text, "hello"])),
    )
    expect(listed, "OK")
    return [cut, expect(refused, "INVALID_ARGUMENT"), listed]


def huge_text_rest(stack: Stack) -> list[Reply]:
    text = _fresh(big_text(TEN_MB))
    cut = expect(stack.post("10 MB", "/embed", {"input": text}), "OK")
    assert cut.body["truncated"] is True
    refused = stack.post("10 MB, truncate false", "/embed", {"input": text, "truncate": False})
    listed = stack.post("10 MB in a list", "/batch", {"inputs": [text, "hello"]})
    return [cut, expect(refused, "INVALID_ARGUMENT"), expect(listed, "OK")]


def huge_texts_beside_small_work(stack: Stack) -> list[Reply]:
    """Two 10 MB texts at once must not hold up a 3000-character text or a tiny ImageStats."""
    text = _fresh(big_text(TEN_MB))
    small = _fresh(big_text(3000))
    with ThreadPoolExecutor(4) as pool:
        big = [
            pool.submit(
                stack.grpc, f"10 MB #{i}", lambda: stack.stub.Embed(pb.EmbedRequest(input=text))
            )
            for i in range(2)
        ]
        stack.wait_busy()  # the big texts are being received and cut
        replies = [
            stack.grpc(
                "3000 chars", lambda: stack.stub.Embed(pb.EmbedRequest(input=small), timeout=10)
            ),
            stack.grpc(
                "32x32 ImageStats",
                lambda: stack.stub.ImageStats(
                    pb.ImageStatsRequest(data=png(3, (32, 32))), timeout=10
                ),
            ),
        ]
        replies += [future.result() for future in big]
    return [expect(reply, "OK") for reply in replies]


def too_many_inputs_grpc(stack: Stack) -> list[Reply]:
    """Millions of tiny inputs are refused before anyone iterates over them."""
    many = pb.EmbedListRequest(inputs=["a"] * 5_000_000).SerializeToString()
    openai = pb.CreateEmbeddingsRequest()
    openai.input.list_value.extend(["a"] * 3_000_000)
    replies = [
        stack.raw("EmbedList of 5M", "EmbedList", many),
        stack.raw("CreateEmbeddings of 3M", "CreateEmbeddings", openai.SerializeToString()),
    ]
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


def too_many_inputs_rest(stack: Stack) -> list[Reply]:
    inputs = ["a"] * 200_000
    replies = [
        stack.post("/batch of 200k", "/batch", {"inputs": inputs}),
        stack.post("/v1/embeddings of 200k", "/v1/embeddings", {"input": inputs}),
    ]
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


def full_list_grpc(stack: Stack) -> list[Reply]:
    """The largest list allowed: 2048 distinct texts, the biggest reply a list can have."""
    run = next(_RUNS)
    texts = [f"run {run} bulk document number {i} about {i % 97} things" for i in range(2048)]
    reply = stack.grpc(
        "EmbedList 2048", lambda: stack.stub.EmbedList(pb.EmbedListRequest(inputs=texts))
    )
    expect(reply, "OK")
    assert len(reply.body.embeddings) == 2048
    return [reply]


def full_list_rest(stack: Stack) -> list[Reply]:
    run = next(_RUNS)
    texts = [f"run {run} rest bulk document {i} about {i % 89} things" for i in range(2048)]
    reply = expect(stack.post("/batch 2048", "/batch", {"inputs": texts}), "OK")
    assert len(reply.body["embeddings"]) == 2048
    return [reply]


def many_streams(stack: Stack) -> list[Reply]:
    """64 streams of 200 distinct texts each (a bulk job the cache cannot answer); every
    item answered, in order."""
    run = next(_RUNS)
    jobs = [
        [
            pb.EmbedBatchRequest(input=f"run {run} stream {n} item {i} of the job")
            for i in range(200)
        ]
        for n in range(64)
    ]

    def stream(n: int) -> Reply:
        def call() -> list[int]:
            return [answer.index for answer in stack.stub.EmbedBatch(iter(jobs[n]), timeout=300)]

        reply = stack.grpc(f"stream {n}", call)
        assert reply.code != "OK" or reply.body == list(range(200)), f"stream {n} out of order"
        return reply

    with ThreadPoolExecutor(64) as pool:
        replies = list(pool.map(stream, range(64)))
    return [expect(reply, "OK") for reply in replies]


def duplicates_name_the_caller_index(stack: Stack) -> list[Reply]:
    long = " ".join(["embedding"] * 400)  # over 256 tokens, under any character cap
    stack.stub.Embed(pb.EmbedRequest(input="a"))  # "a" is now a cache hit
    reply = stack.grpc(
        "['a', 'a', long]",
        lambda: stack.stub.EmbedList(pb.EmbedListRequest(inputs=["a", "a", long], truncate=False)),
    )
    expect(reply, "INVALID_ARGUMENT")
    assert "inputs[2]" in reply.message, reply.message
    return [reply]


# --- bounded messages -------------------------------------------------------------------

LONG = "x" * 70_000


def long_values_grpc(stack: Stack) -> list[Reply]:
    image = png(4)
    replies = [
        stack.grpc("prefix", lambda: stack.stub.Embed(pb.EmbedRequest(input="a", prefix=LONG))),
        stack.grpc(
            "encoding_format",
            lambda: stack.stub.CreateEmbeddings(
                pb.CreateEmbeddingsRequest(input={"string_value": "a"}, encoding_format=LONG)
            ),
        ),
        stack.grpc(
            "averaging_method",
            lambda: stack.stub.ImageStats(pb.ImageStatsRequest(data=image, averaging_method=LONG)),
        ),
        stack.grpc(
            "image content",
            lambda: stack.stub.ImageEmbed(pb.ImageEmbedRequest(content=LONG + ":x")),
        ),
        stack.grpc(
            "image URL",
            lambda: stack.stub.ImageEmbed(
                pb.ImageEmbedRequest(content="http://" + "h" * 70_000 + "/")
            ),
        ),
    ]
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


def long_values_rest(stack: Stack) -> list[Reply]:
    replies = [
        stack.post("prefix", "/embed", {"input": "a", "prefix": LONG}),
        stack.post("encoding_format", "/v1/embeddings", {"input": "a", "encoding_format": LONG}),
        stack.post(
            "averaging_method",
            "/img/stats",
            {"content": _data_url(png(4)), "averaging_method": LONG},
        ),
    ]
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


# --- unparseable requests ---------------------------------------------------------------


def bad_wire_grpc(stack: Stack) -> list[Reply]:
    garbage = b"\x0a\xff\xff\xff\xff\x0f"
    replies = [
        stack.raw(f"garbage to {method}", method, garbage)
        for method in ("Embed", "EmbedList", "ImageStats", "CreateEmbeddings", "Info")
    ]
    replies.append(stack.raw("invalid UTF-8", "Embed", b"\x0a\x03\xff\xfe\xfd"))
    replies.append(stack.raw("nested 200 deep", "CreateEmbeddings", deep_value(200)))
    replies.append(stack.raw("truncated field", "EmbedList", b"\x0a\x10abc"))
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


def bad_wire_mid_stream(stack: Stack) -> list[Reply]:
    """Three good items, then bytes that are no EmbedBatchRequest: three answers, then
    INVALID_ARGUMENT for the stream."""
    call = stack.channel.stream_stream("/nomic.serve.v1.EmbeddingService/EmbedBatch")
    good = [pb.EmbedBatchRequest(input=f"good {i}").SerializeToString() for i in range(3)]
    answers: list[bytes] = []

    def run() -> list[bytes]:
        for answer in call(iter([*good, b"\x0a\xff\xff\xff\xff\x0f"]), timeout=30):
            answers.append(answer)
        return answers

    reply = expect(stack.grpc("garbage after 3 items", run), "INVALID_ARGUMENT")
    indices = [pb.EmbedBatchResponse.FromString(a).index for a in answers]
    assert indices == [0, 1, 2], indices
    return [reply]


def bad_json_rest(stack: Stack) -> list[Reply]:
    nested = '{"input": ' + "[" * 300 + '"x"' + "]" * 300 + "}"
    replies = [
        stack.rest("not JSON", "POST", "/embed", b"{not json"),
        stack.rest("invalid UTF-8", "POST", "/embed", b'{"input": "\xff\xfe"}'),
        stack.rest("nested 300 deep", "POST", "/v1/embeddings", nested.encode()),
        stack.rest("wrong type", "POST", "/batch", b'{"inputs": {"a": 1}}'),
    ]
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


# --- images -----------------------------------------------------------------------------


def exif_bombs_grpc(stack: Stack) -> list[Reply]:
    replies = []
    for label, data in (
        ("9M-value EXIF array", exif_array_png()),
        ("15 MB EXIF string", exif_string_png()),
        ("240 tags of 60 KB", exif_many_tags_png()),
    ):
        reply = stack.grpc(
            label, lambda d=data: stack.stub.ImageStats(pb.ImageStatsRequest(data=d))
        )
        expect(reply, "OK")
        assert reply.size <= EXIF_REPLY_MAX, f"{label}: reply of {reply.size} bytes"
        replies.append(reply)
    return replies


def exif_bombs_rest(stack: Stack) -> list[Reply]:
    """The same bombs through Envoy, at about 12 MB of JSON each. Bodies near the 32 MB REST
    limit also work, but each costs a concurrent Health one slow answer on two cores (grpc
    copies a received message on the event loop while Envoy transcodes the JSON)."""
    replies = []
    for label, data in (
        ("9M-value EXIF byte array", exif_array_png(9_000_000, width=1)),
        ("8 MB EXIF string", exif_string_png(8_000_000)),
    ):
        reply = expect(stack.post(label, "/img/stats", {"content": _data_url(data)}), "OK")
        assert reply.size <= 2 * EXIF_REPLY_MAX, f"{label}: reply of {reply.size} bytes"
        replies.append(reply)
    return replies


def pixel_bombs(stack: Stack) -> list[Reply]:
    """Images under the pixel limit that decode to hundreds of MB: served or refused, never
    more memory than the bound."""
    replies = []
    for mode in ("RGBA", "L", "RGB"):
        data = pixel_bomb_png(7000, mode)
        replies.append(
            stack.grpc(
                f"7000x7000 {mode} embed",
                lambda d=data: stack.stub.ImageEmbed(pb.ImageEmbedRequest(data=d)),
            )
        )
        replies.append(
            stack.grpc(
                f"7000x7000 {mode} stats",
                lambda d=data: stack.stub.ImageStats(pb.ImageStatsRequest(data=d)),
            )
        )
    return [expect(reply, "OK", "INVALID_ARGUMENT", "RESOURCE_EXHAUSTED") for reply in replies]


@functools.cache
def _flood_request() -> bytes:
    """One ImageEmbedList of 32 small PNGs, serialized once for every sender (the attacker's
    own CPU is taken from the same two cores as the server's)."""
    return pb.ImageEmbedListRequest(
        data=[png(100 + i, (96, 72)) for i in range(32)]
    ).SerializeToString()


def image_flood(stack: Stack) -> list[Reply]:
    """Eight waves of 24 lists of 32 images at once, more than the server admits: the excess
    is refused at once, with a retry hint, and what was admitted is served."""
    request = _flood_request()
    call = stack.channel.unary_unary(SERVICE + "ImageEmbedList").with_call

    def one(n: int) -> Reply:
        try:
            body, _ = call(request, timeout=120)
        except grpc.RpcError as error:  # a call error: it carries the trailers
            reply = Reply("grpc", f"list {n}", error.code().name, error.details() or "")
            if reply.code == "RESOURCE_EXHAUSTED":
                trailers = dict(error.trailing_metadata() or ())
                status = status_pb2.Status.FromString(trailers["grpc-status-details-bin"])
                retry = error_details_pb2.RetryInfo()
                assert status.details[0].Unpack(retry) and retry.retry_delay.ToNanoseconds() > 0
            return reply
        return Reply("grpc", f"list {n}", "OK", "", len(body), body)

    with ThreadPoolExecutor(24) as pool:
        replies = [reply for _ in range(8) for reply in pool.map(one, range(24))]
    codes = {reply.code for reply in replies}
    assert codes <= {"OK", "RESOURCE_EXHAUSTED"}, codes
    assert "OK" in codes and "RESOURCE_EXHAUSTED" in codes, codes
    return replies


def slow_urls(stack: Stack) -> list[Reply]:
    """Two lists of 32 slow URLs must leave room for an unrelated fetch: it is answered while
    both lists are still downloading."""
    slow = [stack.host.url(f"/slow/3/{i}") for i in range(32)]
    finished: list[float] = []

    def listed(n: int) -> Reply:
        reply = stack.grpc(
            f"32 slow URLs #{n}",
            lambda: stack.stub.ImageEmbedList(pb.ImageEmbedListRequest(contents=slow), timeout=120),
        )
        finished.append(time.monotonic())
        return reply

    before = stack.host.connections
    with ThreadPoolExecutor(2) as pool:
        lists = [pool.submit(listed, n) for n in range(2)]
        # Both lists hold their share of connections (FETCH_CONNECTIONS_PER_REQUEST, 8).
        eventually_sync(lambda: stack.host.connections - before >= 16, timeout=30)
        lone = stack.grpc(
            "unrelated URL",
            lambda: stack.stub.ImageEmbed(
                pb.ImageEmbedRequest(content=stack.host.url("/png/9")), timeout=60
            ),
        )
        answered = time.monotonic()
        replies = [lone] + [future.result() for future in lists]
    expect(lone, "OK")
    assert not finished or answered < min(finished), "the unrelated fetch waited for the slow lists"
    return [expect(reply, "OK", "INVALID_ARGUMENT") for reply in replies]


def hostile_urls_grpc(stack: Stack) -> list[Reply]:
    def embed(label: str, url: str) -> Reply:
        return stack.grpc(label, lambda: stack.stub.ImageEmbed(pb.ImageEmbedRequest(content=url)))

    redirect = stack.host.url("/redirect?to=")
    replies = [
        expect(embed("gzip, gzip bomb", stack.host.url("/gzip-bomb")), "INVALID_ARGUMENT"),
        expect(embed("endless body", stack.host.url("/endless")), "INVALID_ARGUMENT"),
        expect(
            embed("redirect to data:", redirect + "data:image/png;base64,iVBORw0KGgo="),
            "INVALID_ARGUMENT",
        ),
        expect(
            embed("redirect to mailto:", redirect + "mailto:someone@example.com"),
            "INVALID_ARGUMENT",
        ),
        expect(
            embed("redirect to metadata", redirect + "http://169.254.169.254/latest/"),
            "PERMISSION_DENIED",
        ),
    ]
    return replies


def hostile_urls_rest(stack: Stack) -> list[Reply]:
    redirect = stack.host.url("/redirect?to=")
    replies = [
        stack.post("gzip, gzip bomb", "/img/embed", {"content": stack.host.url("/gzip-bomb")}),
        stack.post("redirect to data:", "/img/stats", {"content": redirect + "data:,x"}),
        stack.post("redirect to mailto:", "/img/embed", {"content": redirect + "mailto:a@b.c"}),
    ]
    return [expect(reply, "INVALID_ARGUMENT") for reply in replies]


# --- what the server tells about itself -------------------------------------------------


def info_grpc(stack: Stack) -> list[Reply]:
    info = expect(stack.grpc("Info", lambda: stack.stub.Info(pb.InfoRequest())), "OK")
    configured = {stack.server.env.get("IMG_MODEL", "")}
    _no_unconfigured_paths(json.dumps(_as_dict(info.body)), configured)
    return [info]


def info_rest(stack: Stack) -> list[Reply]:
    info = expect(stack.rest("GET /info", "GET", "/info"), "OK")
    _no_unconfigured_paths(json.dumps(info.body), {stack.server.env.get("IMG_MODEL", "")})
    return [info]


def _as_dict(message: object) -> dict:
    from google.protobuf.json_format import MessageToDict

    return MessageToDict(message, preserving_proto_field_name=True)  # type: ignore[arg-type]


def _no_unconfigured_paths(text: str, configured: set[str]) -> None:
    for value in configured:
        text = text.replace(value, "")
    assert not _find_paths(text), f"absolute paths in Info: {_find_paths(text)}"


def _find_paths(text: str) -> list[str]:
    import re

    return re.findall(r"\"(/[^\"]*)\"", text)


def _cases() -> Iterator[Case]:
    for name, run in (
        ("huge text/grpc", huge_text_grpc),
        ("huge text/rest", huge_text_rest),
        ("huge texts beside small work/grpc", huge_texts_beside_small_work),
        ("too many inputs/grpc", too_many_inputs_grpc),
        ("too many inputs/rest", too_many_inputs_rest),
        ("full list/grpc", full_list_grpc),
        ("full list/rest", full_list_rest),
        ("64 streams/grpc", many_streams),
        ("duplicate index/grpc", duplicates_name_the_caller_index),
        ("long values/grpc", long_values_grpc),
        ("long values/rest", long_values_rest),
        ("bad wire/grpc", bad_wire_grpc),
        ("bad wire mid-stream/grpc", bad_wire_mid_stream),
        ("bad json/rest", bad_json_rest),
        ("exif bombs/grpc", exif_bombs_grpc),
        ("exif bombs/rest", exif_bombs_rest),
        ("pixel bombs/grpc", pixel_bombs),
        ("image flood/grpc", image_flood),
        ("slow urls/grpc", slow_urls),
        ("hostile urls/grpc", hostile_urls_grpc),
        ("hostile urls/rest", hostile_urls_rest),
        ("info/grpc", info_grpc),
        ("info/rest", info_rest),
    ):
        yield Case(name, run)


CASES = list(_cases())
