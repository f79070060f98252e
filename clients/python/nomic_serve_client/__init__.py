"""nomic-serve's Python SDK: numpy embeddings over gRPC, with retries, deadlines and bulk
streams. `Client` blocks, `AsyncClient` awaits; both have the same methods.

    from nomic_serve_client import Client

    with Client("localhost:50051") as client:
        documents = client.embed(["The cat sat.", "Dogs bark."])  # [2, 768], unit rows
        query = client.embed_query("a sitting cat", dim=256)  # [256]
"""

from ._async_client import AsyncClient, LongInput, Task
from ._client import Client
from ._config import DEFAULT_RETRY, DEFAULT_TIMEOUT_S, DEFAULT_WINDOW, TLS, RetryPolicy
from ._exceptions import (
    Cancelled,
    DeadlineExceeded,
    InvalidArgument,
    ItemError,
    NomicServeError,
    NotFound,
    PermissionDenied,
    ResourceExhausted,
    ServerError,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    VersionMismatchWarning,
)
from ._images import ImageInput
from ._stream import Chunk, EmbedResult
from ._version import __version__

__all__ = [
    "DEFAULT_RETRY",
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_WINDOW",
    "TLS",
    "AsyncClient",
    "Cancelled",
    "Chunk",
    "Client",
    "DeadlineExceeded",
    "EmbedResult",
    "ImageInput",
    "InvalidArgument",
    "ItemError",
    "LongInput",
    "NomicServeError",
    "NotFound",
    "PermissionDenied",
    "ResourceExhausted",
    "RetryPolicy",
    "ServerError",
    "Task",
    "Unauthenticated",
    "Unavailable",
    "Unimplemented",
    "VersionMismatchWarning",
    "__version__",
]
