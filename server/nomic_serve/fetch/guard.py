"""Which addresses an image URL may reach: the SSRF rules, each refusal naming its rule.

Only public (globally routable) addresses are fetched unless FETCH_ALLOW_NETWORKS lists the
network. IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`,
6to4 `2002::/16`) are judged by that IPv4 address, so `::ffff:127.0.0.1` is loopback. Cloud
metadata addresses are refused even inside an allowed network: an allow-list written for a
LAN (or `0.0.0.0/0`) must not hand out the instance's credentials.
"""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_network

from ..errors import FetchBlocked

__all__ = ["AddressPolicy", "IPAddress", "IPNetwork"]

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network


def _networks(*cidrs: str) -> tuple[IPNetwork, ...]:
    return tuple(ip_network(cidr) for cidr in cidrs)


# AWS/GCP/Azure/OpenStack, AWS over IPv6, Alibaba.
_METADATA = _networks("169.254.169.254/32", "fd00:ec2::254/128", "100.100.100.200/32")
_NAT64 = ip_network("64:ff9b::/96")
# (rule: the metrics label, what the refusal says, its networks)
_RULES: tuple[tuple[str, str, tuple[IPNetwork, ...]], ...] = (
    ("unspecified", "an unspecified address", _networks("0.0.0.0/8", "::/128")),
    ("loopback", "a loopback address", _networks("127.0.0.0/8", "::1/128")),
    ("link_local", "a link-local address", _networks("169.254.0.0/16", "fe80::/10")),
    (
        "private",
        "a private address",
        _networks("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fec0::/10"),
    ),
    ("shared", "a shared (carrier-grade NAT) address", _networks("100.64.0.0/10")),
    ("multicast", "a multicast address", _networks("224.0.0.0/4", "ff00::/8")),
)


class AddressPolicy:
    """Refuses non-public addresses unless an allowed network contains them."""

    def __init__(self, allow: tuple[IPNetwork, ...] = ()) -> None:
        self._allow = allow

    def check(self, ip: IPAddress) -> None:
        """Raises FetchBlocked naming the rule if `ip` must not be connected to."""
        refusal = self.refusal(ip)
        if refusal is not None:
            raise refusal

    def refusal(self, ip: IPAddress) -> FetchBlocked | None:
        """Why `ip` is refused (the error to raise, naming its rule), or None if it may be
        connected to."""
        judged = _embedded_ipv4(ip) or ip
        if any(judged in network for network in _METADATA):
            return FetchBlocked(
                f"image URL resolves to a cloud metadata address ({ip}); it is never fetched",
                rule="metadata",
            )
        if any(address in network for address in (ip, judged) for network in self._allow):
            return None
        found = _rule(judged)
        if found is None:
            return None
        rule, description = found
        return FetchBlocked(
            f"image URL resolves to {description} ({ip}); set FETCH_ALLOW_NETWORKS to allow it",
            rule=rule,
        )


def _rule(ip: IPAddress) -> tuple[str, str] | None:
    for rule, description, networks in _RULES:
        if any(ip in network for network in networks):
            return rule, description
    if ip.is_reserved or not ip.is_global:
        return "reserved", "a reserved address"
    return None


def _embedded_ipv4(ip: IPAddress) -> IPv4Address | None:
    """The IPv4 address an IPv6 address stands for, where the prefix says it carries one."""
    if isinstance(ip, IPv4Address):
        return None
    if ip in _NAT64:
        return IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.ipv4_mapped or ip.sixtofour
