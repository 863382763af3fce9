"""The one check for a URL a mock will deliver webhooks to (Stripe's endpoint, DocuSign Connect's
listeners): http(s), a host, a port that is a number in range, a URL httpx can send to, on loopback
or a host allowlisted with --allow-host. A URL that passed a looser check once killed every
delivery to it (httpx.InvalidURL and a bad port are not httpx.HTTPError), with nothing recorded."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpx

from harness.netguard import TargetRefused, check_host

from .faults import FaultError


def check_delivery_url(url: Any, allowed_hosts: Iterable[str], *, what: str) -> str:
    """`url` if a mock may deliver to it; otherwise a FaultError naming `url`."""
    if not isinstance(url, str) or not url:
        raise FaultError("url", "is required and must be a string")
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
    except ValueError:  # urlsplit refuses some URLs outright: "http://[::1", say
        raise FaultError("url", "must be an http(s) URL with a host") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise FaultError("url", "must be an http(s) URL with a host")
    try:
        _ = parts.port  # ValueError: not a number, or outside 0-65535
        httpx.URL(url)  # InvalidURL: control characters, over 64 KiB, ...
    except (ValueError, httpx.InvalidURL):
        raise FaultError("url", "must be an http(s) URL with a valid port, one httpx can send to") from None
    try:
        check_host(hostname, allowed_hosts, what=what)
    except TargetRefused as exc:
        raise FaultError("url", str(exc)) from None
    return url
