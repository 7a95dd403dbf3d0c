"""The address of the client behind a request, trusting a proxy header only from a proxy.

``REMOTE_ADDR`` is the address of whatever opened the connection: behind the recommended
reverse proxy that is the proxy itself, for every user. The proxy puts the client's address in
a header (``settings.MAWA_CLIENT_IP_HEADER``, ``X-Forwarded-For`` by default); anyone can send
that header, so it is read only when the connection comes from one of
``settings.MAWA_TRUSTED_PROXIES`` (addresses or networks). From ``X-Forwarded-For``'s list the
client is the right-most address that is not itself a trusted proxy: the entries to its left
were written by the client and may be forged.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=8)
def _networks(proxies: tuple[str, ...]) -> tuple[Network, ...]:
    out = []
    for text in proxies:
        try:
            out.append(ipaddress.ip_network(text.strip(), strict=False))
        except ValueError:
            continue  # a mistyped entry trusts nothing
    return tuple(out)


def _parse(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [v6]:port
        text = text[1:text.index("]")]
    elif text.count(":") == 1:  # v4:port
        text = text.split(":", 1)[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address, networks: tuple[Network, ...]) -> bool:
    return address is not None and any(address in net for net in networks)


def client_address(meta) -> str:
    """The client's address from a request's ``META``."""
    remote = meta.get("REMOTE_ADDR", "") or ""
    networks = _networks(tuple(getattr(settings, "MAWA_TRUSTED_PROXIES", ()) or ()))
    if not networks or not _trusted(_parse(remote), networks):
        return remote
    header = getattr(settings, "MAWA_CLIENT_IP_HEADER", "") or "X-Forwarded-For"
    value = meta.get("HTTP_" + header.upper().replace("-", "_"), "")
    if not value:
        return remote
    for part in reversed(value.split(",")):
        address = _parse(part)
        if address is None:
            return remote  # a malformed list: trust none of it
        if not _trusted(address, networks):
            return str(address)
    return remote
