"""`herald sim` names each simulator's server as text, imported only when it starts: every name in
its table must lead to a server."""

from __future__ import annotations

import inspect

import pytest

from herald.cli.sim import SimPlatform, simulator_server


@pytest.mark.parametrize("platform", list(SimPlatform))
def test_every_simulator_resolves_to_a_server_of_host_and_port(platform: SimPlatform) -> None:
    server = simulator_server(platform)
    assert list(inspect.signature(server).parameters)[:2] == ["host", "port"]
