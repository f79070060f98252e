"""The one table from core errors to gRPC status codes (Envoy maps those to HTTP)."""

from __future__ import annotations

import grpc
from google.protobuf import duration_pb2
from google.rpc import error_details_pb2, status_pb2

from ..errors import (
    DeadlineExceeded,
    FetchBlocked,
    InferenceFailed,
    InvalidInput,
    ModelUnavailable,
    Overloaded,
    ServeError,
    Unauthenticated,
    bounded,
)

__all__ = ["STATUS_BY_ERROR", "retry_metadata", "rpc_status", "status_code"]

STATUS_BY_ERROR: dict[type[ServeError], grpc.StatusCode] = {
    InvalidInput: grpc.StatusCode.INVALID_ARGUMENT,  # HTTP 400
    FetchBlocked: grpc.StatusCode.PERMISSION_DENIED,  # HTTP 403
    Unauthenticated: grpc.StatusCode.UNAUTHENTICATED,  # HTTP 401
    Overloaded: grpc.StatusCode.RESOURCE_EXHAUSTED,  # HTTP 429
    DeadlineExceeded: grpc.StatusCode.DEADLINE_EXCEEDED,  # HTTP 504
    ModelUnavailable: grpc.StatusCode.UNAVAILABLE,  # HTTP 503
    InferenceFailed: grpc.StatusCode.INTERNAL,  # HTTP 500
}


def status_code(error: ServeError) -> grpc.StatusCode:
    """The code of the most specific mapped class of `error`."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return grpc.StatusCode.INTERNAL


def rpc_status(error: ServeError) -> status_pb2.Status:
    """The error as a google.rpc.Status (per-item errors inside a stream are one), with a
    RetryInfo when it is an Overloaded: a stream item says when to send it again as a call
    does."""
    status = status_pb2.Status(code=status_code(error).value[0], message=bounded(str(error)))
    if isinstance(error, Overloaded):
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(int(error.retry_after_s * 1e9))
        status.details.add().Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    return status


def retry_metadata(error: Overloaded) -> tuple[tuple[str, str | bytes], ...]:
    """When to retry an Overloaded call: a google.rpc.RetryInfo in the rich status (Envoy
    prints it in the JSON error's `details`) and gRPC's own retry pushback header."""
    status = rpc_status(error)
    return (
        ("grpc-status-details-bin", status.SerializeToString()),
        ("grpc-retry-pushback-ms", str(int(error.retry_after_s * 1000))),
    )
