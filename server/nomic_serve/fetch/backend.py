"""The one place a fetch turns a host name into a socket: resolve, check, connect by IP.

Checking a URL's host before the request is not enough: DNS can answer differently a moment
later (rebinding) and redirects name new hosts. httpcore asks its network backend for every
new connection, so this backend resolves the host itself, checks each address with the
policy and connects to a checked address. TLS still uses the host name: httpcore's
`start_tls` takes SNI and certificate checks from the URL, not from this socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import socket
from collections.abc import Awaitable, Callable, Iterable, Sequence
from ipaddress import ip_address

import httpcore

from ..errors import FetchError, quoted
from .guard import AddressPolicy, IPAddress

__all__ = ["GuardedBackend", "Resolver", "resolve_host"]

Resolver = Callable[[str, int], Awaitable[Sequence[IPAddress]]]


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """The host's addresses in the system resolver's order, without duplicates."""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):  # UnicodeError: a label IDNA cannot encode
        raise FetchError(f"image URL host {quoted(host)} could not be resolved") from None
    return list(dict.fromkeys(ip_address(info[4][0]) for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Connects only to addresses the policy allows, trying them in the resolver's order."""

    def __init__(self, policy: AddressPolicy, resolver: Resolver = resolve_host) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        connect = functools.partial(
            self._inner.connect_tcp,
            port=port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )
        *others, last = await self._allowed_addresses(host, port)
        for ip in others:  # the last address's error is the one the caller sees
            with contextlib.suppress(httpcore.ConnectError):
                return await connect(str(ip))
        return await connect(str(last))

    async def _allowed_addresses(self, host: str, port: int) -> list[IPAddress]:
        """Never empty: literal IPs skip the resolver; FetchBlocked names the first refusal."""
        try:
            addresses: Sequence[IPAddress] = [ip_address(host)]
        except ValueError:
            addresses = await self._resolver(host, port)
        if not addresses:
            raise FetchError(f"image URL host {quoted(host)} could not be resolved")
        refusals = [self._policy.refusal(ip) for ip in addresses]
        allowed = [ip for ip, refusal in zip(addresses, refusals, strict=True) if refusal is None]
        if not allowed:
            raise next(refusal for refusal in refusals if refusal)
        return allowed
