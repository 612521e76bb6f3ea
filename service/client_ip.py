"""The client's address, believing `X-Forwarded-For` only from trusted proxies (as Werkzeug's ProxyFix)."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, proxies: Sequence[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def client_ip(peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]) -> str | None:
    """Walk `X-Forwarded-For` from the right while the hop is a trusted proxy; the first other hop is the client.

    With no trusted proxies (the default) the peer is the client, so a forged header changes nothing.
    """
    current = _address(peer or "")
    if current is None:
        return peer
    if not forwarded_for or not _trusted(current, proxies):
        return str(current)
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)
