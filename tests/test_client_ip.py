"""Which address is the client's, with and without trusted proxies."""

from __future__ import annotations

import ipaddress
import logging

import pytest

from service.client_ip import client_ip

PROXIES = (ipaddress.ip_network("10.0.0.0/8"), ipaddress.ip_network("::1/128"))


@pytest.mark.parametrize(("peer", "header", "proxies", "expected"), [
    ("203.0.113.5", None, (), "203.0.113.5"),
    ("203.0.113.5", "1.2.3.4", (), "203.0.113.5"),  # no trusted proxy: the header is ignored
    ("10.0.0.2", "1.2.3.4", PROXIES, "1.2.3.4"),
    ("10.0.0.2", "6.6.6.6, 1.2.3.4, 10.0.0.7", PROXIES, "1.2.3.4"),  # a forged left part is not believed
    ("203.0.113.5", "1.2.3.4", PROXIES, "203.0.113.5"),  # peer not trusted
    ("10.0.0.2", "10.0.0.3, 10.0.0.4", PROXIES, "10.0.0.3"),
    ("10.0.0.2", "garbage, 1.2.3.4", PROXIES, "1.2.3.4"),
    ("10.0.0.2", "garbage", PROXIES, "10.0.0.2"),
    ("::1", "2001:db8::1", PROXIES, "2001:db8::1"),
])
def test_client_ip(peer: str, header: str | None, proxies: tuple, expected: str) -> None:
    assert client_ip(peer, header, proxies) == expected


def test_an_untrusted_proxy_is_named_in_one_warning(caplog: pytest.LogCaptureFixture,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from service import client_ip as module

    monkeypatch.setattr(module, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="service.client_ip"):
        for _ in range(3):
            assert client_ip("172.18.0.3", "203.0.113.9", ()) == "172.18.0.3"
        client_ip("93.184.216.34", "1.2.3.4", ())  # a client on the internet forging the header: nothing to say
        client_ip("10.0.0.2", "1.2.3.4", PROXIES)  # a trusted proxy
        client_ip("10.0.0.9", None, ())  # no header
    [record] = caplog.records
    assert "172.18.0.3" in record.getMessage() and "COMMENTS_TRUSTED_PROXIES" in record.getMessage()
