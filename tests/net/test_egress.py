"""The egress policy's address rules: every notation of a host, every non-public range."""

from __future__ import annotations

import asyncio
import ipaddress

import pytest

from herald.net.egress import EgressDenied, EgressPolicy, ip_literal, is_public

LOOPBACK = (ipaddress.ip_network("127.0.0.0/8"),)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "127.255.255.254",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",  # link-local: cloud metadata services
        "100.64.0.1",  # CGNAT (RFC 6598)
        "100.127.255.254",
        "0.0.0.0",  # noqa: S104 (an address to refuse, not one to bind)
        "0.1.2.3",
        "255.255.255.255",
        "224.0.0.1",  # multicast, which Python calls global
        "239.255.255.250",
        "240.0.0.1",  # reserved
        "192.0.2.1",  # documentation (TEST-NET-1..3)
        "198.51.100.1",
        "203.0.113.1",
        "198.18.0.1",  # benchmarking
        "192.0.0.1",  # IETF protocol assignments
        "::1",
        "::",
        "::ffff:127.0.0.1",  # IPv4-mapped
        "::ffff:10.0.0.1",
        "::ffff:169.254.169.254",
        "::ffff:100.64.0.1",
        "::127.0.0.1",  # IPv4-compatible (deprecated), which Python calls global
        "::ffff:0:127.0.0.1",  # SIIT IPv4-translated
        "64:ff9b::127.0.0.1",  # NAT64 of a loopback address
        "64:ff9b::10.0.0.1",
        "64:ff9b:1::1",  # local-use NAT64 prefix
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1, which Python calls global
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "2001::1",  # Teredo
        "fc00::1",  # unique local (fc00::/7)
        "fd12:3456::1",
        "fe80::1",  # link-local (fe80::/10)
        "febf::1",
        "fec0::1",  # site-local (deprecated), which Python calls global
        "ff02::1",  # multicast, which Python calls global
        "ff0e::1",
        "2001:db8::1",  # documentation
        "100::1",  # discard-only
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(ipaddress.ip_address(address))
    assert not EgressPolicy().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.215.14",
        "100.63.255.255",  # just below CGNAT
        "100.128.0.0",  # just above
        "172.32.0.1",  # just above 172.16.0.0/12
        "::ffff:8.8.8.8",  # IPv4-mapped public
        "64:ff9b::8.8.8.8",  # NAT64 of a public address (DNS64 networks)
        "2002:808:808::1",  # 6to4 of a public address
        "2001:4860:4860::8888",
        "2606:4700:4700::1111",
    ],
)
def test_public_addresses_are_allowed(address: str) -> None:
    assert is_public(ipaddress.ip_address(address))
    assert EgressPolicy().permits(ipaddress.ip_address(address))


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),  # one 32-bit number
        ("017700000001", "127.0.0.1"),  # the same in octal
        ("0x7f000001", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),  # a.b: b fills the last 24 bits
        ("127.1", "127.0.0.1"),
        ("127.0.1", "127.0.0.1"),  # a.b.c: c fills the last 16 bits
        ("0177.0.0.01", "127.0.0.1"),
        ("0X7F.0x0.0.0X1", "127.0.0.1"),
        ("10.0x10.0300", "10.16.0.192"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("::1", "::1"),
        ("[::1]", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:127.0.0.1"),
        ("fe80::1%eth0", "fe80::1"),
        ("[fe80::1%25eth0]", "fe80::1"),
    ],
)
def test_every_numeric_notation_is_read_as_the_address_it_names(host: str, address: str) -> None:
    assert ip_literal(host) == ipaddress.ip_address(address)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "example.com",
        "1.2.3.4.5",
        "256.1.1.1",
        "1.2.3.256",
        "0x",
        "08.1.1.1",
        "1__2",
        "١٢٧.0.0.1",
        "1.2.3.",
        "",
        "127.0.0.1 ",
    ],
)
def test_names_and_malformed_numbers_are_not_literals(host: str) -> None:
    assert ip_literal(host) is None


def test_operator_networks_open_ranges_including_their_mapped_forms() -> None:
    policy = EgressPolicy(allow=LOOPBACK)
    assert policy.permits(ipaddress.ip_address("127.0.0.1"))
    assert policy.permits(ipaddress.ip_address("::ffff:127.0.0.2"))
    assert not policy.permits(ipaddress.ip_address("::1"))
    assert not policy.permits(ipaddress.ip_address("10.0.0.1"))


def vet(policy: EgressPolicy, host: str, port: int = 80) -> list[str]:
    return [str(a) for a in asyncio.run(policy.vet(host, port))]


@pytest.mark.parametrize(
    "host", ["127.0.0.1", "2130706433", "0x7f.1", "::1", "::ffff:127.0.0.1", "localhost"]
)
def test_the_default_policy_refuses_loopback_in_any_notation(host: str) -> None:
    with pytest.raises(EgressDenied) as denied:
        vet(EgressPolicy(), host)
    assert denied.value.code == "EGRESS_DENIED"
    assert host in str(denied.value)
    assert "127.0.0.1" not in str(denied.value).replace(host, "")  # never the resolved address


def test_a_name_is_resolved_and_refused_unless_every_address_is_permitted() -> None:
    both = (*LOOPBACK, ipaddress.ip_network("::1/128"))
    resolved = vet(EgressPolicy(allow=both), "localhost")
    assert "127.0.0.1" in resolved
    assert all(ipaddress.ip_address(a).is_loopback for a in resolved)
    with pytest.raises(EgressDenied):
        vet(EgressPolicy(allow=(ipaddress.ip_network("::1/128"),)), "localhost")
    assert vet(EgressPolicy(allow=LOOPBACK), "127.1") == ["127.0.0.1"]


def test_a_mapped_address_is_connected_to_as_ipv4() -> None:
    assert vet(EgressPolicy(allow=LOOPBACK), "::ffff:127.0.0.1") == ["127.0.0.1"]


def test_trusted_origins_skip_the_check_only_on_their_port() -> None:
    policy = EgressPolicy(trusted=frozenset({("127.0.0.1", 8080)}))
    assert vet(policy, "127.0.0.1", 8080) == ["127.0.0.1"]
    with pytest.raises(EgressDenied):
        vet(policy, "127.0.0.1", 8081)
