"""The client's address, believing `X-Forwarded-For` only from trusted proxies (as Werkzeug's ProxyFix)."""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence

logger = logging.getLogger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_warned: set[str] = set()
MAX_WARNED = 16


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
        if forwarded_for and (current.is_private or current.is_loopback):
            _warn_untrusted_proxy(str(current))
        return str(current)
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            break
        current = address
        if not _trusted(address, proxies):
            break
    return str(current)


def _warn_untrusted_proxy(peer: str) -> None:
    """Once per address and process: a private or loopback peer that sends X-Forwarded-For is almost
    surely a reverse proxy missing from COMMENTS_TRUSTED_PROXIES, so every commenter looks like it to
    flood control and the spam checks. (A client on the internet has no private address to forge.)
    """
    if peer in _warned or len(_warned) >= MAX_WARNED:
        return
    _warned.add(peer)
    logger.warning("requests from %s carry X-Forwarded-For, but COMMENTS_TRUSTED_PROXIES does not name it: "
                   "every comment through this proxy counts as from %s (flood control, spam checks)", peer, peer)
