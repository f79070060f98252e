"""The one exception tree of nomic-serve; the core raises nothing else.

    ServeError                  a request ends with it; the message is safe to show a caller
    ├── InvalidInput            a request the caller must change (INVALID_ARGUMENT)
    │   ├── EmptyInput
    │   ├── InputTooLong        over MAX_INPUT_CHARS, or over the model's tokens without
    │   │                       truncation
    │   ├── InvalidImage        undecodable, unsupported format or mode, bad base64 or data URL
    │   │   └── ImageTooLarge   over a byte, pixel or decoding-memory limit (names the limit)
    │   └── FetchError          a URL could not be fetched (status, DNS, connect, timeout,
    │                           an encoding or redirect we do not follow)
    ├── FetchBlocked            a URL leads to a refused address, SSRF rule (PERMISSION_DENIED)
    ├── Overloaded              too much work admitted already (RESOURCE_EXHAUSTED, retry hint)
    ├── DeadlineExceeded        the caller's deadline passed before the work ran
    ├── ModelUnavailable        the model the RPC needs is not loaded (UNAVAILABLE)
    └── InferenceFailed         the engine failed on valid input (INTERNAL)
    ConfigError                 bad configuration or model files at start-up (exit 1)
    ├── ModelMissing            no model configured or found: serve without it (UNAVAILABLE)
    └── EmbeddedModelUnavailable  the embedded model's package is absent or not as pinned
        └── EmbeddedModelIntegrityError  a file in it does not match its pinned sha256
    DownloadError               `make models` could not fetch or verify a file

The gRPC edge maps these to status codes in one table (`api/status.py`); nothing here
imports grpc, so every entry point shares the same errors.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "DeadlineExceeded",
    "DownloadError",
    "EmbeddedModelIntegrityError",
    "EmbeddedModelUnavailable",
    "EmptyInput",
    "FetchBlocked",
    "FetchError",
    "ImageTooLarge",
    "InferenceFailed",
    "InputTooLong",
    "InvalidImage",
    "InvalidInput",
    "ModelMissing",
    "ModelUnavailable",
    "Overloaded",
    "ServeError",
    "bounded",
    "quoted",
]

# The longest message a caller is sent (HTTP/2 header limits are 8-16 KB; a message quoting
# a whole 70 KB field would break them). Values from the request are quoted by `quoted`.
MAX_MESSAGE_CHARS = 300
QUOTED_CHARS = 40


def quoted(value: str | bytes) -> str:
    """A caller's value as a message may show it: escaped, and cut after a few characters."""
    shown = repr(value[:QUOTED_CHARS])
    if len(value) > QUOTED_CHARS:
        shown += f"... ({len(value):,} {'characters' if isinstance(value, str) else 'bytes'})"
    return shown


def bounded(message: str) -> str:
    """A message as it goes on the wire: never longer than MAX_MESSAGE_CHARS."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return message[: MAX_MESSAGE_CHARS - 3] + "..."


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

    def __init__(self, message: str, *, rule: str) -> None:
        super().__init__(message)
        self.rule = rule  # a short name from a closed set (fetch/guard.py), for metrics


class Unauthenticated(ServeError):
    """The call carries no API key the server accepts (missing and wrong alike)."""


class Overloaded(ServeError):
    """More work is pending than the server admits; the caller should retry later."""

    def __init__(self, message: str, *, limit: str, retry_after_s: float = 1.0) -> None:
        super().__init__(message)
        self.limit = limit  # the setting (or pool) that refused, for metrics: a closed set
        self.retry_after_s = retry_after_s


class DeadlineExceeded(ServeError):
    """The caller's deadline passed while its work was queued; it was dropped, not run."""


class ModelUnavailable(ServeError):
    """The model an RPC needs is not loaded."""


class InferenceFailed(ServeError):
    """ONNX Runtime failed on an input that passed validation."""


class ConfigError(Exception):
    """Configuration or model files are unusable; the server must not start."""


class ModelMissing(ConfigError):
    """No model files were configured and none could be found: serve without this model."""


class EmbeddedModelUnavailable(ConfigError):
    """The embedded model cannot be provided (package missing or its files not as pinned)."""


class EmbeddedModelIntegrityError(EmbeddedModelUnavailable):
    """A file in the package does not match its pinned sha256."""


class DownloadError(Exception):
    """A model file could not be fetched or verified; the message names the file and why."""
