"""Where callbacks may go: a key's allowed URL prefixes, and only public addresses unless allowed.

A case may name its own callback_url, so without these checks any key that submits cases could
make the server POST anywhere: to internal services or a cloud metadata endpoint.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable
from urllib.parse import urlsplit

PRIVATE_OPT_IN = "TRIAGE_CALLBACK_ALLOW_PRIVATE=true"
_DEFAULT_PORTS = {"http": 80, "https": 443}


def url_problem(url: str) -> str | None:
    """Returns why a string is not an absolute http(s) URL with a host, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError as exc:
        return f"{url!r} is not a URL ({exc})"
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        return f"{url!r} is not an absolute http or https URL"
    return None


def origin_of(url: str) -> str:
    """Returns a URL's origin, scheme://host[:port], lower-cased and without a default port."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    shown = "" if port in (None, _DEFAULT_PORTS.get(parts.scheme)) else f":{port}"
    return f"{parts.scheme.lower()}://{host}{shown}"


def _effective_port(scheme: str, port: int | None) -> int | None:
    return port if port is not None else _DEFAULT_PORTS.get(scheme)


def matches_prefix(url: str, prefix: str) -> bool:
    """Tells whether url has the prefix's scheme, host and port, and a path under its path."""
    got, allowed = urlsplit(url), urlsplit(prefix)
    if (got.scheme.lower(), got.hostname) != (allowed.scheme.lower(), allowed.hostname):
        return False
    if _effective_port(got.scheme, got.port) != _effective_port(allowed.scheme, allowed.port):
        return False
    base = allowed.path.rstrip("/")
    # Compared on path segments, so that a prefix /hooks admits /hooks/x but not /hooks-evil.
    return not base or got.path == base or got.path.startswith(base + "/")


def is_allowed(url: str, prefixes: Iterable[str]) -> bool:
    """Tells whether url falls under one of the allowed prefixes."""
    return any(matches_prefix(url, prefix) for prefix in prefixes)


def address_problem(address: str) -> str | None:
    """Returns why an IP address is no callback target (loopback, private...), or None if public."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped  # ::ffff:127.0.0.1 is loopback too
    if ip.is_global:
        return None
    for kind, hit in (
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("private", ip.is_private),
        ("unspecified", ip.is_unspecified),
        ("multicast", ip.is_multicast),
    ):
        if hit:
            return f"a {kind} address"
    return "not a public address"


async def resolve(url: str) -> list[str]:
    """Returns every address the URL's host resolves to; raises OSError when it does not resolve."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = _effective_port(parts.scheme, parts.port)
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


def first_problem(url: str, addresses: Iterable[str]) -> str | None:
    """Returns why one of the addresses a URL resolved to is no callback target, or None."""
    for address in addresses:
        problem = address_problem(address)
        if problem:
            return f"{origin_of(url)} resolves to {address.split('%', 1)[0]}, {problem}"
    return None


async def private_target(url: str) -> str | None:
    """Returns why url resolves to a non-public address (any one of them), or None.

    Raises OSError when the host does not resolve.
    """
    return first_problem(url, await resolve(url))
