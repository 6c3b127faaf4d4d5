"""The public media rule: Facebook, Instagram and Threads fetch each file from its URL, so a
post for them whose files sit on an address the internet cannot reach is refused when the file
is attached and again before publishing (MEDIA_NOT_PUBLIC), instead of timing out at Meta."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from ipaddress import IPv4Network, IPv6Network
from urllib.parse import urlsplit

from herald.domain.platform import Platform
from herald.errors import ValidationError
from herald.net.egress import ip_literal, is_public

Networks = Sequence[IPv4Network | IPv6Network]

# The platforms that fetch media by URL rather than take an upload.
FETCHING_PLATFORMS = frozenset({Platform.FACEBOOK, Platform.INSTAGRAM, Platform.THREADS})
_TITLES = {
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
    Platform.THREADS: "Threads",
}
# Names that never resolve to a public address (RFC 6761, RFC 8375, common private zones).
_PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".lan", ".home.arpa", ".test", ".invalid")
CODE = "MEDIA_NOT_PUBLIC"


def is_reachable(url: str, networks: Networks) -> bool:
    """Whether a platform on the internet can fetch `url`: a public address, a name that is
    not a private one (its DNS is the operator's business), or an address in `networks`."""
    try:
        host = (urlsplit(url).hostname or "").lower().rstrip(".")
    except ValueError:
        return False
    if not host:
        return False
    literal = ip_literal(host)
    if literal is not None:
        return is_public(literal) or any(literal in network for network in networks)
    return "." in host and host != "localhost" and not host.endswith(_PRIVATE_SUFFIXES)


def not_public_message(platform: Platform, url: str) -> str:
    base = urlsplit(url)
    return (
        f"{_TITLES[platform]} fetches media from their URL, and this Herald's media URLs "
        f"({base.scheme}://{base.netloc}) are not reachable from the internet. Set "
        "HERALD_PUBLIC_URL to a public address of this Herald (or keep media on S3 with a "
        "public HERALD_S3_PUBLIC_URL)"
    )


def first_unreachable(
    platforms: Iterable[Platform],
    urls: Iterable[str],
    networks: Sequence[IPv4Network | IPv6Network],
) -> tuple[Platform, str] | None:
    """The first Meta platform and file URL it cannot fetch, or None."""
    fetching = sorted(p for p in set(platforms) if p in FETCHING_PLATFORMS)
    if not fetching:
        return None
    for url in urls:
        if not is_reachable(url, networks):
            return fetching[0], url
    return None


def check_public_media(
    platforms: Iterable[Platform],
    urls: Iterable[str],
    networks: Sequence[IPv4Network | IPv6Network],
) -> None:
    """ValidationError MEDIA_NOT_PUBLIC naming HERALD_PUBLIC_URL when a file cannot be fetched."""
    found = first_unreachable(platforms, urls, networks)
    if found is not None:
        platform, url = found
        raise ValidationError(not_public_message(platform, url), code=CODE, platform=platform.value)
