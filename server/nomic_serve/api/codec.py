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
  loop can at least run between the steps of the request instead of waiting for all of them.

A method may also answer with bytes it serialized itself (a large list is serialized off
the event loop, piece by piece); any other reply is serialized here.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from google.protobuf.message_factory import GetMessageClass

from ..core.workpool import WorkPool
from ..errors import InvalidInput

__all__ = ["PARSE_OFF_LOOP_BYTES", "SCAN_ABOVE_BYTES", "RequestParser", "service_handler"]

SCAN_ABOVE_BYTES = 64 * 1024  # smaller messages cannot hold enough fields to be slow
PARSE_OFF_LOOP_BYTES = 1024 * 1024
MAX_DEPTH = 100  # the parser's own nesting limit
_MESSAGE = _descriptor.FieldDescriptor.TYPE_MESSAGE
# What the parser says, turned into what a caller can act on.
_DECODE_REASONS = (
    ("UTF-8", "a string field is not valid UTF-8"),
    ("Exceeded", f"it is nested more than {MAX_DEPTH} levels deep"),
)


class RequestParser:
    """Parses one method's requests, refusing oversized or malformed ones as InvalidInput."""

    def __init__(self, descriptor: _descriptor.Descriptor, max_fields: int) -> None:
        self._descriptor = descriptor
        self._message = GetMessageClass(descriptor)
        self._max_fields = max_fields

    def __call__(self, data: bytes) -> _message.Message:
        if len(data) > SCAN_ABOVE_BYTES:
            _Scan(self._max_fields).message(data, 0, len(data), self._descriptor, 0)
        try:
            return self._message.FromString(data)
        except _message.DecodeError as exc:
            reason = next(
                (why for marker, why in _DECODE_REASONS if marker in str(exc)),
                "malformed protobuf wire format",
            )
            raise InvalidInput(
                f"the request is not a valid {self._descriptor.name}: {reason}"
            ) from None


class _Scan:
    """Counts fields at every depth of a message, without building any, up to a budget."""

    def __init__(self, budget: int) -> None:
        self._left = budget
        self._budget = budget

    def message(
        self, data: bytes, start: int, end: int, descriptor: _descriptor.Descriptor, depth: int
    ) -> None:
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
            key, at = _varint(data, at, end)
            number, wire = key >> 3, key & 7
            if wire == 0:
                _, at = _varint(data, at, end)
            elif wire == 1:
                at += 8
            elif wire == 5:
                at += 4
            elif wire == 2:
                length, at = _varint(data, at, end)
                field = descriptor.fields_by_number.get(number)
                if field is not None and field.type == _MESSAGE and at + length <= end:
                    self.message(data, at, at + length, field.message_type, depth + 1)
                at += length
            else:
                raise _malformed(descriptor)
            if at > end or number == 0:
                raise _malformed(descriptor)


def _varint(data: bytes, at: int, end: int) -> tuple[int, int]:
    value = shift = 0
    while at < end and shift < 64:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7
    raise InvalidInput("the request is not valid: malformed protobuf wire format")


def _malformed(descriptor: _descriptor.Descriptor) -> InvalidInput:
    return InvalidInput(f"the request is not a valid {descriptor.name}: malformed wire format")


def serialize(reply: Any) -> bytes:
    """A reply message, or the bytes a method already serialized."""
    return reply if isinstance(reply, bytes) else reply.SerializeToString()


def service_handler(
    service: _descriptor.ServiceDescriptor, servicer: object, max_fields: int, pool: WorkPool
) -> grpc.GenericRpcHandler:
    """The service's methods on raw bytes: each parses its requests with a RequestParser,
    large ones on `pool`."""
    handlers = {}
    for method in service.methods:
        parser = RequestParser(method.input_type, max_fields)

        async def parse(data: bytes, parser: RequestParser = parser) -> _message.Message:
            if len(data) <= PARSE_OFF_LOOP_BYTES:
                return parser(data)
            return await pool.run(functools.partial(parser, data))

        behaviour = getattr(servicer, method.name)
        if method.client_streaming and method.server_streaming:
            handlers[method.name] = grpc.stream_stream_rpc_method_handler(
                _stream(behaviour, parse), response_serializer=serialize
            )
        elif not method.client_streaming and not method.server_streaming:
            handlers[method.name] = grpc.unary_unary_rpc_method_handler(
                _unary(behaviour, parse), response_serializer=serialize
            )
        else:  # the contract has none; refuse to serve a method we would get wrong
            raise TypeError(f"{method.full_name}: only unary and bidi methods are served")
    return grpc.method_handlers_generic_handler(service.full_name, handlers)


Parse = Callable[[bytes], Awaitable[_message.Message]]


def _unary(
    behaviour: Callable[[Any, Any], Awaitable[Any]], parse: Parse
) -> Callable[[bytes, Any], Awaitable[Any]]:
    async def handle(data: bytes, context: Any) -> Any:
        return await behaviour(await parse(data), context)

    return handle


def _stream(
    behaviour: Callable[[Any, Any], AsyncIterator[Any]], parse: Parse
) -> Callable[[AsyncIterator[bytes], Any], AsyncIterator[Any]]:
    async def parsed(requests: AsyncIterator[bytes]) -> AsyncIterator[Any]:
        async for data in requests:
            yield await parse(data)

    def handle(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[Any]:
        return behaviour(parsed(requests), context)

    return handle
