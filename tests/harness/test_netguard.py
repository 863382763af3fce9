from __future__ import annotations

import pytest

from harness.netguard import TargetRefused, check_host, is_loopback


@pytest.mark.parametrize("host", ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "LOCALHOST"])
def test_loopback_hosts_pass(host: str) -> None:
    assert is_loopback(host)
    check_host(host)


@pytest.mark.parametrize("host", ["10.0.0.1", "192.168.1.1", "8.8.8.8", "example.com", "0.0.0.0", ""])
def test_other_hosts_are_refused_unless_allowlisted(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(TargetRefused, match="only loopback"):
        check_host(host)


def test_allowlist_admits_named_hosts_only() -> None:
    check_host("uat-gw.example.com", ["UAT-GW.example.com"])
    with pytest.raises(TargetRefused, match=r"uat-gw\.example\.com"):
        check_host("other.example.com", ["uat-gw.example.com"])
