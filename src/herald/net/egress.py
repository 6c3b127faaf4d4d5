"""The egress policy: which addresses Herald may connect to when a tenant supplies the URL.

Tenants name the hosts Herald calls (a Mastodon instance, a Bot API server, a PDS), so without
a policy they could make Herald call the services on its own network and read the answers, or
use the credential checks to probe which ports are open. The policy:

- reads a host in every notation a resolver accepts (`2130706433`, `0x7f.1`, `127.1`,
  `[::ffff:127.0.0.1]`) as the address it names, and resolves a name once;
- refuses the whole answer unless every address is public: not loopback, private, link-local,
  CGNAT, multicast, reserved, unspecified, broadcast, documentation or benchmarking, and not an
  IPv6 form that embeds such an IPv4 address (mapped, NAT64, 6to4; IPv4-compatible is refused
  outright) -- Python's `is_global` is the base, with the cases it gets wrong for this purpose
  (multicast, site-local, the embedding prefixes) added;
- opens the operator's networks (HERALD_EGRESS_ALLOW) and trusts the operator's own endpoints
  (the sandbox simulator) by host and port;
- hands back the addresses it checked, which the caller connects to: no second lookup, so a
  name cannot resolve to a public address for the check and a private one for the connection.

It takes a host and a port and knows nothing of HTTP, so any transport can call it where it
opens a TCP connection.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import string
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

from herald.config import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

EGRESS_DENIED = "EGRESS_DENIED"

# RFC 6052's well-known NAT64 prefix: the low 32 bits are the IPv4 address reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_OCTAL = frozenset("01234567")
_HEX = frozenset(string.hexdigits)


class EgressDenied(Exception):  # noqa: N818 (the name says what happened, as httpx's do)
    """The host is, or resolves to, an address the policy refuses. The message names the host
    as it was written and never the addresses it resolved to: internal DNS stays internal."""

    code = EGRESS_DENIED

    def __init__(self, host: str) -> None:
        self.host = host
        super().__init__(
            f"Herald does not connect to {host}: it is not a public internet address "
            "(the operator can open networks with HERALD_EGRESS_ALLOW)"
        )


def is_public(address: IPAddress) -> bool:
    """True for an address on the public internet, the only kind a tenant may make Herald call
    unless the operator opens more."""
    embedded = _embedded_ipv4(address)
    if embedded is not None:
        return is_public(embedded)
    if isinstance(address, ipaddress.IPv4Address):
        # 224.0.0.0/4 counts as global to Python: it is routed, but not to one host.
        return address.is_global and not address.is_multicast
    # Python calls multicast, site-local (fec0::/10) and much of ::/8 (IPv4-compatible,
    # SIIT) global; none is one host on the internet.
    return address.is_global and not (
        address.is_multicast or address.is_site_local or address.is_reserved
    )


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address reaches through mapping, NAT64 or 6to4, if any."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _unmapped(address: IPAddress) -> IPAddress:
    """::ffff:a.b.c.d is a.b.c.d on a dual-stack socket: judge and connect to it as IPv4."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def ip_literal(host: str) -> IPAddress | None:
    """The address `host` names if it is written as one: IPv6 with or without brackets and a
    zone, or IPv4 as inet_aton reads it (resolvers do): one to four parts, each decimal,
    octal (a leading 0) or hex (0x), the last filling the remaining bytes, so `2130706433`,
    `017700000001`, `0x7f.1` and `127.1` are all 127.0.0.1. None for anything else."""
    bare = host[1:-1] if host.startswith("[") and host.endswith("]") else host
    if ":" in bare:
        try:
            return ipaddress.IPv6Address(unquote(bare).split("%", 1)[0])
        except ValueError:
            return None
    return _inet_aton(host)


def _inet_aton(host: str) -> ipaddress.IPv4Address | None:
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers = [_number(part) for part in parts]
    *head, last = numbers
    if last is None or any(n is None or n > 255 for n in head):
        return None
    if last >= 256 ** (5 - len(parts)):
        return None
    value = last
    for position, number in enumerate(head):
        value |= (number or 0) << (8 * (3 - position))
    return ipaddress.IPv4Address(value)


def _number(part: str) -> int | None:
    """One part as inet_aton reads it; int() alone would take "1_0", " 1" and other scripts'
    digits, which no resolver does."""
    if part[:2] in ("0x", "0X"):
        digits = part[2:]
        return int(digits, 16) if digits and set(digits) <= _HEX else None
    if len(part) > 1 and part[0] == "0":
        return int(part, 8) if set(part) <= _OCTAL else None
    return int(part) if part.isascii() and part.isdecimal() else None


Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]


async def system_resolver(host: str, port: int) -> list[IPAddress]:
    """The host's addresses from the system's resolver, in its order of preference."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [ip_literal(str(info[4][0])) for info in infos]
    found = [address for address in addresses if address is not None]
    if not found:
        raise OSError(f"{host} has no IPv4 or IPv6 address")
    return found


@dataclass(frozen=True)
class EgressPolicy:
    """`allow`: networks the operator opened. `trusted`: (host, port) pairs the operator
    configured (the sandbox simulator), connected to without judging their addresses.
    `resolver`: where names are looked up (tests give a resolver that changes its answer)."""

    allow: tuple[Network, ...] = ()
    trusted: frozenset[tuple[str, int]] = field(default_factory=frozenset)
    resolver: Resolver = system_resolver

    @classmethod
    def from_settings(cls, settings: Settings) -> EgressPolicy:
        return cls(
            allow=tuple(settings.egress_allow),
            trusted=frozenset({origin_of(settings.resolved_sandbox_url)}),
        )

    def permits(self, address: IPAddress) -> bool:
        address = _unmapped(address)
        return any(address in network for network in self.allow) or is_public(address)

    async def vet(self, host: str, port: int) -> list[IPAddress]:
        """The addresses to connect to for host:port, resolved once, every one permitted.
        Raises EgressDenied if any is not (a name with one internal address is an internal
        name), OSError if the name does not resolve."""
        literal = ip_literal(host)
        addresses = [literal] if literal is not None else await self.resolver(host, port)
        if (host.lower(), port) not in self.trusted and not all(map(self.permits, addresses)):
            raise EgressDenied(host)
        return _unique(_unmapped(address) for address in addresses)


def _unique(addresses: Iterable[IPAddress]) -> list[IPAddress]:
    return list(dict.fromkeys(addresses))


def origin_of(url: str) -> tuple[str, int]:
    """(host, port) of an http(s) URL as the transport sees them: lower case, no brackets."""
    parts = urlsplit(url)
    default = 443 if parts.scheme == "https" else 80
    return (parts.hostname or "", parts.port or default)
