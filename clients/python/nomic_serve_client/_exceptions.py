"""What can go wrong, as one tree keyed by the gRPC status the server answered with.

    NomicServeError                 any failed call: .code (grpc.StatusCode), .message
    ├── InvalidArgument             the request itself is wrong: never retried
    ├── NotFound
    ├── Unauthenticated             no API key, or a wrong one
    ├── PermissionDenied            e.g. an image URL the server's fetch guard refused
    ├── ResourceExhausted           overload (.retry_after_s set) or a request over a limit
    ├── Unavailable                 no server, or one going away: retried
    ├── DeadlineExceeded            the call's deadline passed
    ├── Cancelled
    ├── Unimplemented
    └── ServerError                 INTERNAL, UNKNOWN and anything else

`ItemError` is not raised by a call: it is one item of a stream or a list that failed while
the others succeeded (`.index` says which).
"""

from __future__ import annotations

import grpc
from google.rpc import error_details_pb2, status_pb2

__all__ = [
    "Cancelled",
    "DeadlineExceeded",
    "InvalidArgument",
    "ItemError",
    "NomicServeError",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "ServerError",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "VersionMismatchWarning",
]


class NomicServeError(Exception):
    """A call the server (or the channel) answered with a status other than OK."""

    def __init__(
        self, code: grpc.StatusCode, message: str, *, retry_after_s: float | None = None
    ) -> None:
        super().__init__(f"{code.name}: {message}")
        self.code = code
        self.message = message
        self.retry_after_s = retry_after_s  # what the server asked for, when it did


class InvalidArgument(NomicServeError):
    pass


class NotFound(NomicServeError):
    pass


class Unauthenticated(NomicServeError):
    pass


class PermissionDenied(NomicServeError):
    pass


class ResourceExhausted(NomicServeError):
    pass


class Unavailable(NomicServeError):
    pass


class DeadlineExceeded(NomicServeError):
    pass


class Cancelled(NomicServeError):
    pass


class Unimplemented(NomicServeError):
    pass


class ServerError(NomicServeError):
    pass


class ItemError(NomicServeError):
    """One item of a stream or list failed; the others were answered."""

    def __init__(self, index: int, code: grpc.StatusCode, message: str) -> None:
        super().__init__(code, message)
        self.index = index
        self.args = (f"item {index}: {code.name}: {message}",)


class VersionMismatchWarning(UserWarning):
    """The server runs another version than this client: fields may be missing or ignored."""


_BY_CODE: dict[grpc.StatusCode, type[NomicServeError]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidArgument,
    grpc.StatusCode.NOT_FOUND: NotFound,
    grpc.StatusCode.UNAUTHENTICATED: Unauthenticated,
    grpc.StatusCode.PERMISSION_DENIED: PermissionDenied,
    grpc.StatusCode.RESOURCE_EXHAUSTED: ResourceExhausted,
    grpc.StatusCode.UNAVAILABLE: Unavailable,
    grpc.StatusCode.DEADLINE_EXCEEDED: DeadlineExceeded,
    grpc.StatusCode.CANCELLED: Cancelled,
    grpc.StatusCode.UNIMPLEMENTED: Unimplemented,
}
_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


def code_of(number: int) -> grpc.StatusCode:
    """The StatusCode of a google.rpc.Status's integer code."""
    return _CODES_BY_NUMBER.get(number, grpc.StatusCode.UNKNOWN)


def error_for(
    code: grpc.StatusCode, message: str, retry_after_s: float | None = None
) -> NomicServeError:
    return _BY_CODE.get(code, ServerError)(code, message, retry_after_s=retry_after_s)


def from_rpc_error(error: grpc.aio.AioRpcError) -> NomicServeError:
    """The typed error for a failed call, with the server's retry hint when it gave one: a
    RetryInfo in the rich status, or gRPC's own `grpc-retry-pushback-ms` trailer."""
    code: grpc.StatusCode = error.code()
    message: str = error.details() or ""
    return error_for(code, message, retry_after(error))


def retry_after(error: grpc.aio.AioRpcError) -> float | None:
    trailers: dict[str, str | bytes] = dict(error.trailing_metadata() or ())
    pushback = trailers.get("grpc-retry-pushback-ms")
    if isinstance(pushback, str) and pushback.isdigit():
        return int(pushback) / 1000
    details = trailers.get("grpc-status-details-bin")
    if isinstance(details, bytes):
        status = status_pb2.Status.FromString(details)
        for detail in status.details:
            info = error_details_pb2.RetryInfo()
            if detail.Unpack(info):
                return info.retry_delay.ToNanoseconds() / 1e9
    return None
