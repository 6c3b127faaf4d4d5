"""aiohttp's name resolver, answered by the egress policy: the addresses it returns are the ones
the policy checked, so the connection goes to an address that was checked."""

from __future__ import annotations

import socket

from aiohttp.abc import AbstractResolver, ResolveResult

from herald.net.egress import EgressPolicy


class PolicyResolver(AbstractResolver):
    """Resolves through `egress.vet` (EgressDenied when it refuses). `trusted` (host, port)
    pairs, the operator's proxies, are resolved without judging their addresses."""

    def __init__(self, egress: EgressPolicy, trusted: frozenset[tuple[str, int]]) -> None:
        self._egress = egress
        self._trusted = trusted

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        if (host.lower(), port) in self._trusted:
            addresses = await self._egress.resolver(host, port)
        else:
            addresses = await self._egress.vet(host, port)
        return [
            ResolveResult(
                hostname=host,
                host=str(address),
                port=port,
                family=socket.AF_INET6 if address.version == 6 else socket.AF_INET,
                proto=0,
                flags=socket.AI_NUMERICHOST,
            )
            for address in addresses
        ]

    async def close(self) -> None:
        return None
