"""Endpoint URLs: http(s) only, and in production never an internal address (SSRF).

``WEBHOOK_ALLOW_PRIVATE_URLS`` (on in development and testing, off in production) lets a
receiver on 127.0.0.1 work out of the box. When off, a URL whose host is, or resolves to, a
loopback, private, link-local, multicast, reserved or unspecified address is refused when
the endpoint is saved and again before every delivery (a name may resolve elsewhere later).
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from flask import current_app

from vaulta.models.webhook import URL_MAX
from vaulta.services.errors import InvalidInput


class RefusedDestination(InvalidInput):
    """The URL points at an address webhooks may not reach."""


def _blocked(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_multicast
        or ip.is_reserved
        or ip.is_unspecified
        or not ip.is_global
    )


def clean(url: str) -> str:
    """The URL, stripped and checked for shape (and, in production, destination)."""
    url = (url or "").strip()
    if not url:
        raise InvalidInput("Enter the endpoint's URL.", field="url")
    if len(url) > URL_MAX:
        raise InvalidInput(f"Keep the URL under {URL_MAX} characters.", field="url")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("Use an http:// or https:// URL with a host.", field="url")
    if parts.username or parts.password:
        raise InvalidInput("Leave credentials out of the URL.", field="url")
    if any(ord(ch) < 33 for ch in url):
        raise InvalidInput("The URL may not contain spaces or control characters.", field="url")
    check_destination(url)
    return url


def check_destination(url: str) -> None:
    """Refuse internal destinations unless WEBHOOK_ALLOW_PRIVATE_URLS is on."""
    if current_app.config.get("WEBHOOK_ALLOW_PRIVATE_URLS"):
        return
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        infos = socket.getaddrinfo(host, parts.port or 443, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):
        raise RefusedDestination(f"The host {host!r} does not resolve.", field="url") from None
    for info in infos:
        if _blocked(str(info[4][0])):
            raise RefusedDestination(
                "This URL reaches an internal address (loopback, private or link-local): "
                "webhooks only go to public addresses.",
                field="url",
            )
