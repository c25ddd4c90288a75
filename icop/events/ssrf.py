"""Webhook targets: which URLs may be registered and which addresses may be connected to.

In every mode, every address a target's host resolves to must be a public one: no loopback, private,
link-local (the cloud metadata addresses 169.254.169.254 and fd00:ec2::254 are), shared, multicast,
reserved or unspecified address, in any spelling (``127.1``, ``2130706433``, ``0x7f000001``) and in any IPv6
wrapping of an IPv4 address (mapped, compatible, 6to4, Teredo, NAT64). In development a receiver on such an
address is reached only when ``ICOP_WEBHOOK_ALLOWED_TARGETS`` names its host and port exactly, and never
on one of the stack's own ports (its database, broker, Temporal, Ray, emulators, gateway). Outside
embedded development (``ICOP_ENV=production`` or ``ICOP_WEBHOOK_ENFORCE_PUBLIC_URLS``) a URL must also be
https. The check runs at registration and again at each delivery, and the delivery connects to the
address that was vetted (never to a second lookup), so a DNS answer that changes in between cannot
redirect it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
from collections.abc import Collection
from dataclasses import dataclass
from urllib.parse import urlsplit

from icop.settings import Settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
METADATA_ADDRESSES = {ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")}


class UnsafeWebhookURL(ValueError):
    """The URL may not be used as a webhook target; the message says why."""


def strict(settings: Settings) -> bool:
    return settings.env == "production" or settings.webhook_enforce_public_urls


NAT64 = ipaddress.ip_network("64:ff9b::/96")  # well-known prefix: the last 32 bits are an IPv4 address
NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")  # local-use translation prefixes (RFC 8215)


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (and would reach through a translator or tunnel)."""
    found = [a for a in (ip.ipv4_mapped, ip.sixtofour) if a is not None]
    if ip.teredo is not None:
        found += list(ip.teredo)  # (server, client)
    if ip in NAT64 or int(ip) >> 32 == 0:  # NAT64, or IPv4-compatible ::a.b.c.d
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF))
    return found


def is_public(ip: IPAddress) -> bool:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64_LOCAL:
            return False
        inner = embedded_ipv4(ip)
        if inner:
            return all(is_public(a) for a in inner) and ip not in METADATA_ADDRESSES
    if ip in METADATA_ADDRESSES:
        return False
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_link_local)


def stack_ports(settings: Settings) -> set[int]:
    """Every port the embedded stack's own services listen on (refused as webhook targets): each ``*_port``
    setting (database, Temporal, Ray, Serve, RabbitMQ, the emulators, the gateway, the dashboard) and Ray's
    worker port range."""
    ports = {getattr(settings, name) for name in type(settings).model_fields if name.endswith("_port")}
    ports.update(range(settings.ray_min_worker_port, settings.ray_max_worker_port + 1))
    ports.discard(0)
    return ports


def allowed_receiver(settings: Settings, host: str, port: int) -> bool:
    """Whether the development allow-list names exactly this host and port."""
    named = {t.strip().lower() for t in settings.webhook_allowed_targets}
    shown = f"[{host}]" if ":" in host else host
    return settings.env != "production" and f"{shown}:{port}" in named


@dataclass(frozen=True)
class Target:
    """A vetted webhook target: where to connect (``ip``) and what to call it (``host`` for Host/SNI)."""

    scheme: str
    host: str
    port: int
    path: str  # path + query
    ip: str

    @property
    def connect_url(self) -> str:
        ip = f"[{self.ip}]" if ":" in self.ip else self.ip
        return f"{self.scheme}://{ip}:{self.port}{self.path}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def parse(url: str, enforce: bool) -> tuple[str, str, int, str]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as e:
        raise UnsafeWebhookURL(f"not a valid URL: {e}") from e
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise UnsafeWebhookURL("the URL must start with https://")
    if enforce and scheme != "https":
        raise UnsafeWebhookURL("webhook URLs must use https")
    if not parts.hostname:
        raise UnsafeWebhookURL("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeWebhookURL("credentials in the URL are not allowed; verify the signature instead")
    if parts.fragment:
        raise UnsafeWebhookURL("the URL may not have a #fragment")
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, parts.hostname.lower(), port or (443 if scheme == "https" else 80), path


async def resolve(host: str, port: int) -> list[IPAddress]:
    try:
        literal = ipaddress.ip_address(host)
        return [literal]
    except ValueError:
        pass
    if re.fullmatch(r"[0-9a-fx.]+", host):  # 127.1, 2130706433, 0x7f000001, 0177.0.0.1: what a resolver reads
        try:
            return [ipaddress.IPv4Address(socket.inet_aton(host))]
        except OSError:
            pass
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as e:
        raise UnsafeWebhookURL(f"the host {host!r} does not resolve") from e
    seen: list[IPAddress] = []
    for info in infos:
        ip = ipaddress.ip_address(str(info[4][0]).split("%", 1)[0])
        if ip not in seen:
            seen.append(ip)
    return seen


async def vet(url: str, settings: Settings) -> Target:
    """Check ``url`` (and, when enforcing, every address of its host); return the address to connect to."""
    enforce = strict(settings)
    scheme, host, port, path = parse(url, enforce)
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeWebhookURL(f"the host {host!r} does not resolve")
    bad = [str(ip) for ip in addresses if not is_public(ip)]
    if bad:
        if port in stack_ports(settings):
            raise UnsafeWebhookURL(
                f"{host}:{port} is one of this stack's own services; webhooks may not call them"
            )
        if not allowed_receiver(settings, host, port):
            raise UnsafeWebhookURL(
                f"the host {host!r} resolves to a non-public address ({', '.join(bad)}); webhooks may only "
                "reach public addresses (a development receiver must be named in "
                "ICOP_WEBHOOK_ALLOWED_TARGETS)"
            )
    return Target(scheme, host, port, path, str(addresses[0]))


async def vet_public(url: str, allowed: Collection[str] = ()) -> Target:
    """A server-side fetch of someone else's page (the Researcher's): https, and every address of the host
    public — the rule of webhook targets outside development. ``allowed`` holds ``host:port`` pairs the
    caller lets through although they are not (development's emulators); it is empty in production."""
    scheme, host, port, path = parse(url, enforce=False)
    exempt = f"{host}:{port}" in allowed
    if scheme != "https" and not exempt:
        raise UnsafeWebhookURL("only https:// pages are fetched")
    addresses = await resolve(host, port)
    if not addresses:
        raise UnsafeWebhookURL(f"the host {host!r} does not resolve")
    bad = [str(ip) for ip in addresses if not is_public(ip)]
    if bad and not exempt:
        raise UnsafeWebhookURL(
            f"the host {host!r} resolves to a non-public address ({', '.join(bad)}); only public "
            "addresses are fetched"
        )
    return Target(scheme, host, port, path, str(addresses[0]))
