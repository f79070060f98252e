"""Request bytes in, reply bytes out: the server parses what it receives itself.

grpc's generated handlers parse a request before any of our code runs, so a malformed
message would end as UNKNOWN with Python's exception text (HTTP 500 through Envoy) and a
traceback in the log. The service is registered with raw bytes instead, and every request
is parsed here, inside the error-mapping interceptor:

- a request larger than SCAN_ABOVE_BYTES is first walked, without building anything, and
  refused if it holds more fields than any valid request could: parsing millions of list
  items takes seconds, and the parser holds the GIL, so it would stall every other caller;
- a malformed request (bad wire format, invalid UTF-8 in a string, nested too deep) is
  InvalidInput (INVALID_ARGUMENT), with a short message naming the problem;
- a request over PARSE_OFF_LOOP_BYTES is parsed on the parse pool's thread: the parser
  holds the GIL throughout (about 1 ms per MB, UTF-8 checks included), and there the event
  loop can at least run between the steps of the request instead of waiting for all of them;
- a method with a gate (the text and image methods) checks it before its request is even
  read: when the server has no room at all for such work, the call is refused as it opens,
  so a flood costs neither the copy of its bodies (grpc copies each three times on the
  event loop) nor their parsing. The gate is asked as grpc looks up the call's handler:
  while there is room the call gets the plain unary handler, and only while there is none
  a handler that serves it as a client stream of one message (what a unary call is on the
  wire), read only if the gate has opened meanwhile. The stream handler costs grpc about a
  tenth more of the event loop per call (MiniLM, c32), so it is not the everyday path.

A method may also answer with bytes it serialized itself (a large list is serialized off
the event loop, piece by piece); any other reply is serialized here.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from typing import Any, Protocol

import grpc
from google.protobuf import descriptor as _descriptor
from google.protobuf import descriptor_pb2, descriptor_pool
from google.protobuf import message as _message
from google.protobuf.message_factory import GetMessageClass

from nomic_serve_stubs.v1 import embedding_service_pb2 as pb

from ..core.workpool import WorkPool
from ..errors import InvalidInput, Overloaded

__all__ = [
    "PARSE_OFF_LOOP_BYTES",
    "SCAN_ABOVE_BYTES",
    "Activity",
    "LargeRequest",
    "PendingRequests",
    "RequestParser",
    "service_handler",
    "text_field",
]

SCAN_ABOVE_BYTES = 64 * 1024  # smaller messages cannot hold enough fields to be slow
PARSE_OFF_LOOP_BYTES = 1024 * 1024
_MB = 1024 * 1024
MAX_DEPTH = 100  # the parser's own nesting limit
_MESSAGE = _descriptor.FieldDescriptor.TYPE_MESSAGE
_READ_AHEAD = (_descriptor.FieldDescriptor.TYPE_STRING, _descriptor.FieldDescriptor.TYPE_BYTES)
# What the parser says, turned into what a caller can act on.
_DECODE_REASONS = (
    ("UTF-8", "a string field is not valid UTF-8"),
    ("Exceeded", f"it is nested more than {MAX_DEPTH} levels deep"),
)


# Request fields that carry whole images as text (base64 or a data URL): in a large request
# they are read as bytes, skipping the parser's UTF-8 check and Python's decoding of a 27 MB
# string (about 40 ms of GIL between them); base64 is checked character by character anyway.
AS_BYTES = {"ImageEmbedRequest": ("content",), "ImageStatsRequest": ("content",)}


def _bytes_twins() -> dict[str, type[_message.Message]]:
    """Twins of the AS_BYTES messages whose named string fields are bytes: the same wire
    format, parsed without the UTF-8 check (a private descriptor pool, no other type)."""
    file = descriptor_pb2.FileDescriptorProto(
        name="nomic_serve/bytes_twins.proto", package="nomic_serve.twins", syntax="proto3"
    )
    for name, fields in AS_BYTES.items():
        message = file.message_type.add()
        pb.DESCRIPTOR.message_types_by_name[name].CopyToProto(message)
        for field in message.field:
            if field.name in fields:
                field.type = descriptor_pb2.FieldDescriptorProto.TYPE_BYTES
    pool = descriptor_pool.DescriptorPool()
    pool.Add(file)
    return {
        name: GetMessageClass(pool.FindMessageTypeByName(f"nomic_serve.twins.{name}"))
        for name in AS_BYTES
    }


_TWINS = _bytes_twins()


class RequestParser:
    """Parses one method's requests, refusing oversized or malformed ones as InvalidInput."""

    def __init__(self, descriptor: _descriptor.Descriptor, max_fields: int) -> None:
        self._descriptor = descriptor
        self._message = GetMessageClass(descriptor)
        self._large = _TWINS.get(descriptor.name, self._message)
        self._max_fields = max_fields

    def __call__(self, data: bytes) -> _message.Message | LargeRequest:
        """The request; one over PARSE_OFF_LOOP_BYTES is a LargeRequest of its bytes twin,
        whose AS_BYTES fields hold bytes (see `text_field`)."""
        if len(data) > SCAN_ABOVE_BYTES:
            _Scan(self._max_fields, self._descriptor.name).message(
                data, 0, len(data), self._descriptor, 0
            )
        large = len(data) > PARSE_OFF_LOOP_BYTES
        try:
            message = (self._large if large else self._message).FromString(data)
        except _message.DecodeError as exc:
            reason = next(
                (why for marker, why in _DECODE_REASONS if marker in str(exc)),
                "malformed protobuf wire format",
            )
            raise InvalidInput(
                f"the request is not a valid {self._descriptor.name}: {reason}"
            ) from None
        return LargeRequest(message) if large else message


class LargeRequest:
    """A large request whose string and bytes fields were read into Python where it was
    parsed (the parse pool's thread): every read of such a field builds a new str or bytes,
    6 ms for a 10 MB text, which the servicer would otherwise pay on the event loop. Other
    attributes are the message's own."""

    __slots__ = ("_values", "message")

    def __init__(self, message: _message.Message) -> None:
        self.message = message
        self._values = {
            field.name: list(value) if field.is_repeated else value
            for field, value in message.ListFields()
            if field.type in _READ_AHEAD
        }

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            return getattr(self.message, name)


class _Scan:
    """Counts fields at every depth of a message, without building any, up to a budget."""

    def __init__(self, budget: int, request: str) -> None:
        self._left = budget
        self._budget = budget
        self._request = request  # what a malformed message is reported as

    def message(
        self,
        data: bytes,
        start: int,
        end: int,
        descriptor: _descriptor.Descriptor | None,
        depth: int,
        group: int | None = None,
    ) -> int:
        """Walks fields from `start` to `end` (or to the end of `group`, a field number) and
        returns where it stopped; a group's fields are walked without a descriptor."""
        if depth > MAX_DEPTH:
            raise InvalidInput(f"the request is nested more than {MAX_DEPTH} levels deep")
        at = start
        while at < end:
            self._left -= 1
            if self._left < 0:
                raise InvalidInput(
                    f"the request holds more than {self._budget:,} fields, more than any "
                    "request accepts (see MAX_LIST_INPUTS and IMAGE_MAX_PER_REQUEST)"
                )
            key, at = _varint(data, at, end, self._request)
            number, wire = key >> 3, key & 7
            if number == 0:
                raise _malformed(self._request)
            if wire == 0:
                _, at = _varint(data, at, end, self._request)
            elif wire == 1:
                at += 8
            elif wire == 5:
                at += 4
            elif wire == 2:
                length, at = _varint(data, at, end, self._request)
                field = descriptor.fields_by_number.get(number) if descriptor else None
                inner = field.message_type if field and field.type == _MESSAGE else None
                if inner is not None and at + length <= end:
                    self.message(data, at, at + length, inner, depth + 1)
                at += length
            elif wire == 3:  # a (proto2) group: its fields follow until its end tag
                at = self.message(data, at, end, None, depth + 1, group=number)
            elif wire == 4 and number == group:
                return at
            else:
                raise _malformed(self._request)
            if at > end:
                raise _malformed(self._request)
        if group is not None:
            raise _malformed(self._request)  # the group never ended
        return at


def text_field(message: _message.Message | LargeRequest, name: str) -> str:
    """A string field's value, also from a bytes twin (where it must be ASCII or UTF-8)."""
    value = getattr(message, name)
    if isinstance(value, str):
        return value
    try:
        return value.decode("ascii")  # a plain copy: what base64 and data URLs are
    except UnicodeDecodeError:
        pass
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(
            f"the request is not a valid {message.DESCRIPTOR.name}: a string field is not "
            "valid UTF-8"
        ) from None


def _varint(data: bytes, at: int, end: int, request: str) -> tuple[int, int]:
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    raise _malformed(request)


def _malformed(request: str) -> InvalidInput:
    return InvalidInput(f"the request is not a valid {request}: malformed protobuf wire format")


def serialize(reply: Any) -> bytes:
    """A reply message, or the bytes a method already serialized."""
    return reply if isinstance(reply, bytes) else reply.SerializeToString()


Gate = Callable[[], None]  # raises Overloaded when the server has no room for the call


class Activity(Protocol):
    """Told when a large request is taken in and when its call ends (memory.IdleTrimmer)."""

    def begin(self) -> None: ...

    def end(self) -> None: ...


class PendingRequests:
    """Bytes of large requests held at once, server-wide (REQUEST_MAX_PENDING_MB).

    grpc hands a request over whole, and until its call ends the server holds it about twice
    over (the parsed message and its strings), three times while it is parsed: without a
    bound, twenty concurrent 30 MB requests would take gigabytes. A request over the limit
    left is refused as soon as its size is known, and its bytes freed. Requests up to
    PARSE_OFF_LOOP_BYTES are not counted: the queues they join bound how many there are.
    `activity` hears of each large request held and released. Used on the event loop only."""

    def __init__(self, max_bytes: int, activity: Activity) -> None:
        self.max_bytes = max_bytes
        self.activity = activity
        self.held = 0

    @contextlib.contextmanager
    def hold(self, size: int) -> Iterator[None]:
        if size <= PARSE_OFF_LOOP_BYTES:
            yield
            return
        if self.held + size > self.max_bytes:
            raise Overloaded(
                f"server is busy: {self.held / _MB:.0f} MB of large requests in flight, limit "
                f"{self.max_bytes / _MB:g} MB (REQUEST_MAX_PENDING_MB); retry shortly",
                limit="REQUEST_MAX_PENDING_MB",
                retry_after_s=1.0,
            )
        self.held += size
        self.activity.begin()
        try:
            yield
        finally:
            self.held -= size
            self.activity.end()


def service_handler(
    service: _descriptor.ServiceDescriptor,
    servicer: object,
    max_fields: int,
    pool: WorkPool,
    gates: Mapping[str, Gate],
    pending: PendingRequests,
) -> grpc.GenericRpcHandler:
    """The service's methods on raw bytes: each parses its requests with a RequestParser,
    large ones on `pool` and within `pending`; a method named in `gates` is refused before
    its request is read while its gate says so."""
    handlers: dict[str, grpc.RpcMethodHandler] = {}
    gated: dict[str, tuple[Gate, grpc.RpcMethodHandler]] = {}
    for method in service.methods:
        parser = RequestParser(method.input_type, max_fields)

        @contextlib.asynccontextmanager
        async def parse(data: bytes, parser: RequestParser = parser) -> AsyncIterator[Request]:
            size = len(data)
            with pending.hold(size):
                if size <= PARSE_OFF_LOOP_BYTES:
                    request = parser(data)
                else:
                    request = await pool.run(functools.partial(parser, data))
                del data  # the parsed copy is all the call needs from here on
                yield request

        behaviour = getattr(servicer, method.name)
        if method.client_streaming and method.server_streaming:
            handlers[method.name] = grpc.stream_stream_rpc_method_handler(
                _stream(behaviour, parse), response_serializer=serialize
            )
        elif not method.client_streaming and not method.server_streaming:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _unary(behaviour, parse), response_serializer=serialize
            )
            if method.name in gates:
                gate = gates[method.name]
                gated[method.name] = (
                    gate,
                    grpc.stream_unary_rpc_method_handler(
                        _gated(behaviour, parse, gate), response_serializer=serialize
                    ),
                )
        else:  # the contract has none; refuse to serve a method we would get wrong
            raise TypeError(f"{method.full_name}: only unary and bidi methods are served")
    return _Service(service.full_name, handlers, gated)


class _Service(grpc.GenericRpcHandler):
    """The service's handlers by method path; a gated method's handler is chosen per call."""

    def __init__(
        self,
        name: str,
        handlers: Mapping[str, grpc.RpcMethodHandler],
        gated: Mapping[str, tuple[Gate, grpc.RpcMethodHandler]],
    ) -> None:
        self._handlers = {f"/{name}/{method}": found for method, found in handlers.items()}
        self._gated = {f"/{name}/{method}": found for method, found in gated.items()}

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler | None:
        method = handler_call_details.method
        if method in self._gated:
            gate, refusing = self._gated[method]
            try:
                gate()
            except Overloaded:
                return refusing  # before a byte of the request is read (see _gated)
        return self._handlers.get(method)


Request = _message.Message | LargeRequest
# The request parsed from these bytes, held within PendingRequests while the block runs.
Parse = Callable[[bytes], contextlib.AbstractAsyncContextManager[Request]]


def _unary(
    behaviour: Callable[[Any, Any], Awaitable[Any]], parse: Parse
) -> Callable[[bytes, Any], Awaitable[Any]]:
    async def handle(data: bytes, context: Any) -> Any:
        async with parse(data) as request:
            return await behaviour(request, context)

    return handle


def _gated(
    behaviour: Callable[[Any, Any], Awaitable[Any]], parse: Parse, gate: Gate
) -> Callable[[AsyncIterator[bytes], Any], Awaitable[Any]]:
    async def handle(_requests: AsyncIterator[bytes], context: Any) -> Any:
        gate()  # before a byte of the request is copied into Python
        # Read through the context, not by iterating `_requests`: grpc's iterator keeps its
        # last message until the call's state is freed, which can be long after the call.
        data = await context.read()
        if data is grpc.aio.EOF:
            raise InvalidInput("the call carried no request message")
        async with parse(data) as request:
            del data  # see parse
            return await behaviour(request, context)

    return handle


def _stream(
    behaviour: Callable[[Any, Any], AsyncIterator[Any]], parse: Parse
) -> Callable[[AsyncIterator[bytes], Any], AsyncIterator[Any]]:
    async def parsed(context: Any) -> AsyncIterator[Any]:
        """Each request is held until the servicer asks for the next one (it has taken what
        it needs from it by then)."""
        while (data := await context.read()) is not grpc.aio.EOF:
            async with parse(data) as request:
                del data
                yield request

    def handle(_requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[Any]:
        return behaviour(parsed(context), context)

    return handle
