"""Address guard: never fetch from loopback, private or otherwise internal addresses.

A verifier fetches URLs that other people wrote; without a guard a page (or a redirect, or a DNS
name) pointing at 127.0.0.1, 169.254.169.254 or 10.x would make us probe the machine we run on
or its network (SSRF). Two layers, both off only with LINKCRAWLER_ALLOW_PRIVATE:

1. `AddressGuardMiddleware` (downloader middleware, before robots.txt and redirects) refuses
   before any connection: schemes other than http/https -> FetchError(INVALID_URL); hosts that
   are IP literals in any spelling (127.0.0.1, 2130706433, 0x7f000001, 0177.0.0.1, 127.1,
   [::1], [::ffff:127.0.0.1]) or `localhost` names, when the address is refused ->
   FetchError(BLOCKED_ADDRESS).
2. `linkcrawler.resolver.GuardedResolver` (TWISTED_DNS_RESOLVER) checks every address a name
   resolves to, at connection time, so DNS names and every redirect hop are covered, and
   --resolve overrides too. Twisted can only report "no address" (DNSLookupError), so the
   resolver records each refusal and this middleware turns that DNSLookupError into
   FetchError(BLOCKED_ADDRESS) for the errback.

Refused: loopback, private (RFC 1918 and the like), link-local (169.254/16, fe80::/10), CGNAT
(100.64/10), unique-local (fc00::/7), unspecified, multicast, reserved, any other address that is
not globally routable, and IPv4-mapped/6to4/Teredo IPv6 addresses embedding a refused IPv4.
LINKCRAWLER_ALLOWED_ENDPOINTS ("ADDR:PORT" strings; "[v6]:PORT") exempts single endpoints,
for tests and the bundled demo, without opening the rest of the machine.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from linkcrawler.enums import Reason
from linkcrawler.errors import FetchError, UsageError

if TYPE_CHECKING:
    from scrapy import Request
    from scrapy.crawler import Crawler

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")


def why_refused(ip: IPAddress) -> str | None:
    """Why an address is not one we may fetch from, or None if it is globally routable."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return "an IPv4-mapped IPv6 address"
        embedded = ip.sixtofour or (ip.teredo[1] if ip.teredo else None)
        if embedded is not None and why_refused(embedded):
            return f"an IPv6 address embedding {embedded}"
        if ip in _UNIQUE_LOCAL:
            return "a unique-local address"
    checks = (
        ("is_unspecified", "the unspecified address"),
        ("is_loopback", "a loopback address"),
        ("is_link_local", "a link-local address"),
        ("is_multicast", "a multicast address"),
    )
    for attr, text in checks:
        if getattr(ip, attr):
            return text
    if isinstance(ip, ipaddress.IPv4Address) and ip in _CGNAT:
        return "a carrier-grade NAT address"
    if ip.is_private:
        return "a private address"
    if ip.is_reserved or not ip.is_global:
        return "a reserved address"
    return None


# Every ASCII character ipaddress or int() (the parts below) can accept in an address.
_NUMERIC_HOST_CHARS = frozenset("0123456789abcdefox.:+-_ \t\n\r\x0b\x0c")


def parse_ip_literal(host: str) -> IPAddress | None:
    """The address a URL host spells, in any form resolvers accept; None for a name.

    IPv4 follows the WHATWG URL parser (which is what inet_aton accepts too): 1 to 4 dot-separated
    parts, each decimal, 0x-hex or 0-octal, the last one filling the remaining bytes.
    """
    host = host.strip().lower().strip("[]")
    if not host:
        return None
    address = host.split("%", 1)[0]
    if address.isascii() and not _NUMERIC_HOST_CHARS.issuperset(address):
        return None  # a letter past "f" (or the like): no parse below can succeed; hot path
    try:
        return ipaddress.ip_address(address)
    except ValueError:
        pass
    parts = host[:-1].split(".") if host.endswith(".") else host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    numbers: list[int] = []
    for part in parts:
        try:
            if part[:2] in ("0x", "0X"):
                numbers.append(int(part[2:] or "0", 16))
            elif len(part) > 1 and part.startswith("0"):
                numbers.append(int(part, 8))
            else:
                numbers.append(int(part, 10))
        except ValueError:
            return None
    *head, last = numbers
    if any(n < 0 for n in numbers):  # int() takes "-1"; no address parser does
        return None
    if any(n > 255 for n in head) or last >= 256 ** (5 - len(numbers)):
        return None
    value = last
    for i, n in enumerate(head):
        value += n << (8 * (3 - i))
    return ipaddress.IPv4Address(value)


def is_localhost_name(host: str) -> bool:
    host = host.lower().rstrip(".")
    return host == "localhost" or host.endswith(".localhost")


@dataclass(frozen=True)
class AddressPolicy:
    allow_private: bool = False
    allowed_endpoints: frozenset[tuple[IPAddress, int]] = frozenset()

    @classmethod
    def from_settings(cls, settings: object) -> AddressPolicy:
        getbool = settings.getbool  # type: ignore[attr-defined]
        getlist = settings.getlist  # type: ignore[attr-defined]
        endpoints = frozenset(
            _parse_endpoint(e) for e in getlist("LINKCRAWLER_ALLOWED_ENDPOINTS", [])
        )
        return cls(getbool("LINKCRAWLER_ALLOW_PRIVATE"), endpoints)

    def refusal(self, ip: IPAddress, port: int) -> str | None:
        if self.allow_private or (ip, port) in self.allowed_endpoints:
            return None
        if isinstance(ip, ipaddress.IPv6Address) and ip.scope_id:
            ip = ipaddress.IPv6Address(str(ip).split("%", 1)[0])
        return why_refused(ip)


def _parse_endpoint(text: str) -> tuple[IPAddress, int]:
    addr, sep, port = str(text).strip().rpartition(":")
    try:
        if not sep:
            raise ValueError
        return ipaddress.ip_address(addr.strip("[]")), int(port)
    except ValueError:
        raise UsageError(f"not an ADDR:PORT endpoint: {text!r}") from None


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def refusal_for(request: Request, exc: BaseException | None = None) -> FetchError | None:
    """The resolver's finding as a FetchError, if `request` failed in name resolution: the
    address guard refused every address (blocked_address), or the name does not exist
    (domain_gone); None for anything else."""
    from linkcrawler.errors import reason_for_exception
    from linkcrawler.resolver import installed_resolver

    if exc is not None and reason_for_exception(exc)[0] is not Reason.DNS_ERROR:
        return None  # a refusal shows as "no address": only a lookup failure can be one
    resolver = installed_resolver()
    if resolver is None:
        return None
    parts = urlsplit(request.url)
    try:
        port = parts.port or default_port(parts.scheme)
    except ValueError:
        return None
    host = (parts.hostname or "").lower()
    detail = resolver.refusal(host, port)
    if detail is not None:
        return FetchError(Reason.BLOCKED_ADDRESS, detail)
    from linkcrawler.resolver import NXDOMAIN

    if resolver.lookup_failure(host) == NXDOMAIN:
        return FetchError(Reason.DOMAIN_GONE, f"{host} does not exist (NXDOMAIN)")
    return None


class AddressGuardMiddleware:
    """Downloader middleware: scheme and IP-literal checks; classifies resolver refusals."""

    def __init__(self, policy: AddressPolicy) -> None:
        self.policy = policy

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> AddressGuardMiddleware:
        from linkcrawler.resolver import ensure_installed

        policy = AddressPolicy.from_settings(crawler.settings)
        ensure_installed(crawler.settings)
        return cls(policy)

    def process_request(self, request: Request) -> None:
        url = request.url
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("http", "https"):
            raise FetchError(Reason.INVALID_URL, f"not an http(s) URL, never fetched: {url[:300]}")
        host = parts.hostname or ""
        try:
            port = parts.port or default_port(scheme)
        except ValueError:
            raise FetchError(Reason.INVALID_URL, f"bad port in {url[:300]}") from None
        if not host:
            raise FetchError(Reason.INVALID_URL, f"no host in {url[:300]}")
        if self.policy.allow_private:
            return
        ip = parse_ip_literal(host)
        if ip is not None:
            why = self.policy.refusal(ip, port)
            if why:
                raise FetchError(
                    Reason.BLOCKED_ADDRESS, f"{host} is {ip}, {why}: refused ({url[:300]})"
                )
        elif is_localhost_name(host):
            raise FetchError(
                Reason.BLOCKED_ADDRESS, f"{host} names this machine: refused ({url[:300]})"
            )

    def process_exception(self, request: Request, exception: Exception) -> None:
        if isinstance(exception, FetchError):
            return
        refused = refusal_for(request, exception)
        if refused is not None:
            raise refused
