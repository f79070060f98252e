"""An httpx transport over an httpcore pool that connects through the guarded backend.

httpx 0.28's `AsyncHTTPTransport` takes no network backend, so this is its request and
response mapping (httpx/_transports/default.py) around a pool we build. httpcore's
exceptions pass through unmapped; the fetcher translates them, with httpx's, in one place.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpcore
import httpx

from .backend import GuardedBackend

__all__ = ["GuardedTransport"]

# Idle connections kept per fetcher; the pool's size is the fetcher's FETCH_CONNECTIONS, which
# its own semaphore never exceeds, so no request ever waits inside the pool.
MAX_KEEPALIVE_CONNECTIONS = 16
KEEPALIVE_EXPIRY_S = 30.0


class GuardedTransport(httpx.AsyncBaseTransport):
    """Sends httpx requests through a connection pool whose every socket is checked."""

    def __init__(self, backend: GuardedBackend, max_connections: int) -> None:
        self._pool = httpcore.AsyncConnectionPool(
            # certifi's CAs, or SSL_CERT_FILE / SSL_CERT_DIR where the operator sets them.
            ssl_context=httpx.create_ssl_context(),
            max_connections=max_connections,
            max_keepalive_connections=MAX_KEEPALIVE_CONNECTIONS,
            keepalive_expiry=KEEPALIVE_EXPIRY_S,
            network_backend=backend,
        )

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._pool.handle_async_request(
            httpcore.Request(
                method=request.method,
                url=httpcore.URL(
                    scheme=request.url.raw_scheme,
                    host=request.url.raw_host,
                    port=request.url.port,
                    target=request.url.raw_path,
                ),
                headers=request.headers.raw,
                content=request.stream,
                extensions=request.extensions,
            )
        )
        return httpx.Response(
            status_code=response.status,
            headers=response.headers,
            stream=_Body(response),
            extensions=response.extensions,
        )

    async def aclose(self) -> None:
        await self._pool.aclose()


class _Body(httpx.AsyncByteStream):
    """The httpcore response body as an httpx stream; closing it frees the connection."""

    def __init__(self, response: httpcore.Response) -> None:
        self._response = response

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._response.aiter_stream():
            yield chunk

    async def aclose(self) -> None:
        await self._response.aclose()
