"""The one exception tree of nomic-serve; the core raises nothing else.

    ServeError
    ├── InvalidInput            a request the caller must change (INVALID_ARGUMENT)
    │   ├── EmptyInput
    │   ├── InputTooLong
    │   ├── InvalidImage        undecodable, unsupported format or mode, bad base64 or data URL
    │   │   └── ImageTooLarge   over a byte or pixel limit (the message names the limit)
    │   └── FetchError          a URL could not be fetched (status, DNS, connect, timeout)
    ├── FetchBlocked            a URL leads to a refused address, SSRF rule (PERMISSION_DENIED)
    ├── Overloaded              too much work admitted already (RESOURCE_EXHAUSTED)
    ├── DeadlineExceeded        the caller's deadline passed before the work ran
    ├── ModelUnavailable        the model the RPC needs is not loaded (UNAVAILABLE)
    ├── NotAvailable            the capability is not in this build (UNIMPLEMENTED)
    └── InferenceFailed         the engine failed on valid input (INTERNAL)
    ConfigError                 bad configuration or model files at start-up (exit 1)

The gRPC edge maps these to status codes in one table (`api/status.py`); nothing here
imports grpc, so every entry point shares the same errors.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeadlineExceeded",
    "EmptyInput",
    "FetchBlocked",
    "FetchError",
    "ImageTooLarge",
    "InferenceFailed",
    "InputTooLong",
    "InvalidImage",
    "InvalidInput",
    "ModelUnavailable",
    "NotAvailable",
    "Overloaded",
    "ServeError",
]


class ServeError(Exception):
    """Base of every error a request can end with; the message is safe to show a caller."""


class InvalidInput(ServeError):
    """The request is malformed or out of range."""


class EmptyInput(InvalidInput):
    """A text is empty or whitespace only."""


class InputTooLong(InvalidInput):
    """A text has more tokens than the model accepts and truncation was refused."""


class InvalidImage(InvalidInput):
    """An image cannot be used: undecodable, unsupported format or mode, bad encoding."""


class ImageTooLarge(InvalidImage):
    """An image is over a configured byte or pixel limit; the message names the limit."""


class FetchError(InvalidInput):
    """An image URL could not be fetched; the message says why, without internals."""


class FetchBlocked(ServeError):
    """An image URL resolves to an address the SSRF policy refuses; names the rule."""


class Overloaded(ServeError):
    """More work is pending than the server admits; the caller should retry later."""

    def __init__(self, message: str, *, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class DeadlineExceeded(ServeError):
    """The caller's deadline passed while its work was queued; it was dropped, not run."""


class ModelUnavailable(ServeError):
    """The model an RPC needs is not loaded."""


class NotAvailable(ServeError):
    """The RPC exists in the contract but this build does not provide it."""


class InferenceFailed(ServeError):
    """ONNX Runtime failed on an input that passed validation."""


class ConfigError(Exception):
    """Configuration or model files are unusable; the server must not start."""
