"""Fair shares of a worker's slots between tenants: what each account and connection may hold.

Every claim holds one of the worker's `engine_concurrency` slots until its outcome is written,
including while it waits for its host. A tenant whose endpoint answers after 25 s would otherwise
fill them all and delay everyone. With n accounts holding claims, each may hold
`slots // (n + 1)`, so a newcomer always finds room, and one connection half of that, so one
slow connection does not hold up its own account's others. One tenant alone still gets half the
slots (a quarter on one connection), far more than a healthy host's calls need. A claim adds at
most half a share to what a connection or account holds, and skips those holding more than the
rest, so none goes past its share (store/claim_limits.py)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from herald.store.claim_limits import ClaimLimits


@dataclass(frozen=True)
class Holder:
    account: str
    connection: str
    host: str


class Holdings:
    def __init__(self, slots: int) -> None:
        self.slots = slots
        self._holders: dict[str, Holder] = {}
        self._accounts: Counter[str] = Counter()
        self._connections: Counter[str] = Counter()
        self._hosts: dict[str, Counter[str]] = {}  # connections holding claims, by host

    def add(self, target_id: str, holder: Holder) -> None:
        self._holders[target_id] = holder
        self._accounts[holder.account] += 1
        self._connections[holder.connection] += 1
        self._hosts.setdefault(holder.host, Counter())[holder.connection] += 1

    def remove(self, target_id: str) -> None:
        holder = self._holders.pop(target_id, None)
        if holder is None:
            return
        _drop(self._accounts, holder.account)
        _drop(self._connections, holder.connection)
        _drop(self._hosts[holder.host], holder.connection)
        if not self._hosts[holder.host]:
            del self._hosts[holder.host]

    def account_share(self) -> int:
        return max(1, self.slots // (len(self._accounts) + 1))

    def connection_share(self) -> int:
        return max(1, self.account_share() // 2)

    def limits(self, saturated: Callable[[str], bool]) -> ClaimLimits:
        """The limits of the next claim; `saturated(host)` says a host is queueing our calls."""
        account_share, connection_share = self.account_share(), self.connection_share()
        account_step, connection_step = max(1, account_share // 2), max(1, connection_share // 2)
        skip_accounts = {a for a, n in self._accounts.items() if n + account_step > account_share}
        skip_connections = {
            c for c, n in self._connections.items() if n + connection_step > connection_share
        }
        for host, connections in self._hosts.items():
            if saturated(host):
                skip_connections.update(connections)
        return ClaimLimits(
            connection_step,
            account_step,
            frozenset(skip_connections),
            frozenset(skip_accounts),
        )


def _drop(counter: Counter[str], key: str) -> None:
    counter[key] -= 1
    if counter[key] <= 0:
        del counter[key]
