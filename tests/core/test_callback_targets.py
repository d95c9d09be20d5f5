"""Where callbacks may go: allowed URL prefixes and public addresses only."""

from __future__ import annotations

import pytest

from core.callback_targets import address_problem, is_allowed, origin_of, private_target

PREFIXES = ["https://wms.example/hooks/", "http://relay.example:8080"]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://wms.example/hooks/wf-1", True),
        ("https://WMS.example/hooks", True),
        ("https://wms.example:443/hooks/x?y=1", True),
        ("http://relay.example:8080/anything", True),
        ("https://wms.example/hooks-evil/x", False),
        ("https://wms.example/other", False),
        ("http://wms.example/hooks/x", False),
        ("https://wms.example:8443/hooks/x", False),
        ("https://wms.example.evil.example/hooks/x", False),
        ("https://wms.example@evil.example/hooks/x", False),
        ("http://relay.example/anything", False),
        ("http://169.254.169.254/latest/meta-data/", False),
    ],
)
def test_a_url_is_allowed_only_under_a_prefix_s_origin_and_path(url: str, allowed: bool) -> None:
    """Scheme, host and port must match exactly; the path must lie under the prefix's segments."""
    assert is_allowed(url, PREFIXES) is allowed


def test_an_origin_drops_the_default_port_and_case() -> None:
    """The default allow-list is the callback URL's origin."""
    assert origin_of("HTTPS://Wms.Example:443/hooks") == "https://wms.example"
    assert origin_of("http://127.0.0.1:8999/hooks") == "http://127.0.0.1:8999"
    assert origin_of("http://[::1]:80/x") == "http://[::1]"


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("127.0.0.1", "a loopback address"),
        ("::1", "a loopback address"),
        ("::ffff:127.0.0.1", "a loopback address"),
        ("169.254.169.254", "a link-local address"),
        ("fe80::1%eth0", "a link-local address"),
        ("10.1.2.3", "a private address"),
        ("172.16.0.1", "a private address"),
        ("192.168.1.1", "a private address"),
        ("fd00::1", "a private address"),
        ("0.0.0.0", "a private address"),
        ("100.64.0.1", "not a public address"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_only_public_addresses_are_targets(address: str, problem: str | None) -> None:
    """Loopback, link-local, private and shared addresses each get a named refusal."""
    assert address_problem(address) == problem


async def test_a_hostname_is_checked_by_every_address_it_resolves_to() -> None:
    """localhost resolves to loopback; a public literal address passes."""
    assert "a loopback address" in (await private_target("http://localhost:9/hooks") or "")
    assert await private_target("http://93.184.216.34/hooks") is None
    with pytest.raises(OSError):  # noqa: PT011 - getaddrinfo's error differs by platform
        await private_target("http://no-such-host.invalid/hooks")
