"""The name resolver (TWISTED_DNS_RESOLVER): --resolve overrides, then the address guard.

Twisted's HostnameEndpoint asks the reactor's IHostnameResolver for every connection, with the
port it will connect to, also for IP-literal hosts. `GuardedResolver` wraps the resolver that
was installed before it (Twisted's getaddrinfo resolver: IPv4 and IPv6):

- LINKCRAWLER_RESOLVE entries "HOST:PORT:ADDR[,ADDR...]" work like curl's --resolve: they apply
  when connecting to HOST on PORT. HOST may be `*` (any name) or `*.suffix` (any name below
  suffix); PORT may be `*` (any port; our extension). The most specific entry wins: exact host
  over the longest suffix over `*`, a given port over `*`. IPv6 addresses may be bracketed.
  IP-literal hosts are never overridden.
- Every address, from an override or from DNS, is checked against the AddressPolicy
  (linkcrawler.addressguard) for the port connected to; refused ones are dropped. A name left
  with no address fails as a DNS lookup error; the refusal is recorded (`refusal(host, port)`)
  so the address guard middleware reports it as blocked_address, not dns_error.

Scrapy builds the resolver once per process from the CrawlerProcess settings, so the CLI must
pass these settings to CrawlerProcess (linkcrawler.crawl does).
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from twisted.internet.address import IPv4Address, IPv6Address
from twisted.internet.interfaces import IHostnameResolver, IHostResolution, IResolutionReceiver
from zope.interface import implementer, provider

from linkcrawler.addressguard import AddressPolicy, IPAddress, parse_ip_literal
from linkcrawler.errors import UsageError

if TYPE_CHECKING:
    from twisted.internet.interfaces import IAddress

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolveOverride:
    host: str  # "example.com", "*" or "*.example.com" (lower case)
    port: int | None  # None: any port
    addresses: tuple[IPAddress, ...]

    def matches(self, host: str, port: int) -> bool:
        if self.port is not None and self.port != port:
            return False
        if self.host == "*":
            return True
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    @property
    def specificity(self) -> tuple[int, int, int]:
        kind = 0 if self.host == "*" else 1 if self.host.startswith("*.") else 2
        return (kind, len(self.host), self.port is not None)


def parse_resolve_entry(text: str) -> ResolveOverride:
    """Parse "HOST:PORT:ADDR[,ADDR...]"; UsageError naming the entry if malformed."""
    host, sep1, rest = str(text).strip().partition(":")
    port_text, sep2, addrs = rest.partition(":")
    try:
        if not (sep1 and sep2 and host and addrs):
            raise ValueError("expected HOST:PORT:ADDR")
        port = None if port_text == "*" else int(port_text)
        if port is not None and not 0 < port < 65536:
            raise ValueError("port out of range")
        addresses = tuple(ipaddress.ip_address(a.strip().strip("[]")) for a in addrs.split(","))
    except ValueError as exc:
        raise UsageError(f"bad --resolve entry {text!r}: {exc}") from None
    return ResolveOverride(host.lower().rstrip("."), port, addresses)


@implementer(IHostResolution)
class _Resolution:
    def __init__(self, name: str) -> None:
        self.name = name

    def cancel(self) -> None:
        pass


def _twisted_address(ip: IPAddress, port: int) -> IAddress:
    if isinstance(ip, ipaddress.IPv6Address):
        return IPv6Address("TCP", str(ip), port)
    return IPv4Address("TCP", str(ip), port)


@provider(IResolutionReceiver)
class _FilteringReceiver:
    """Passes on the allowed addresses; records the refusal if none is left."""

    def __init__(self, resolver: GuardedResolver, receiver: Any, host: str, port: int) -> None:
        self.resolver = resolver
        self.receiver = receiver
        self.host = host
        self.port = port
        self.passed = 0
        self.refused: list[str] = []

    def resolutionBegan(self, resolution: IHostResolution) -> None:  # noqa: N802 - Twisted API
        self.receiver.resolutionBegan(resolution)

    def addressResolved(self, address: IAddress) -> None:  # noqa: N802
        host = getattr(address, "host", None)
        ip = parse_ip_literal(host) if isinstance(host, str) else None
        why = "not an IP address" if ip is None else self.resolver.policy.refusal(ip, self.port)
        if why:
            self.refused.append(f"{host} ({why})")
        else:
            self.passed += 1
            self.receiver.addressResolved(address)

    def resolutionComplete(self) -> None:  # noqa: N802
        if not self.passed and self.refused:
            self.resolver.record_refusal(self.host, self.port, self.refused)
        elif not self.passed and parse_ip_literal(self.host) is None:
            # Twisted reports every failed lookup alike; ask once more, in a thread, whether the
            # name does not exist (NXDOMAIN: the domain is gone) or the resolver did not answer.
            from twisted.internet import threads

            d = threads.deferToThreadPool(self.resolver.reactor, self.resolver.reactor.getThreadPool(),
                                          lookup_failure, self.host, self.port)
            d.addCallback(lambda finding: self.resolver.record_lookup_failure(self.host, finding))
            d.addBoth(lambda _: self.receiver.resolutionComplete())
            return
        self.receiver.resolutionComplete()


NXDOMAIN = "nxdomain"
TEMPORARY = "temporary"


def lookup_failure(host: str, port: int) -> str | None:
    """Why `host` does not resolve: NXDOMAIN (EAI_NONAME/EAI_NODATA), TEMPORARY (EAI_AGAIN and
    other resolver failures), or None if it resolves after all. Blocking: run it in a thread."""
    try:
        socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        if exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)):
            return NXDOMAIN
        return TEMPORARY
    except (UnicodeError, OSError):
        return TEMPORARY
    return None


@implementer(IHostnameResolver)
class GuardedResolver:
    def __init__(
        self,
        reactor: Any,
        policy: AddressPolicy,
        overrides: Sequence[ResolveOverride] = (),
    ) -> None:
        self.reactor = reactor
        self.policy = policy
        self.overrides = sorted(overrides, key=lambda o: o.specificity, reverse=True)
        self.upstream: Any = None
        self._refusals: dict[tuple[str, int], str] = {}
        self._lookup_failures: dict[str, str] = {}

    @classmethod
    def from_settings(cls, settings: Any, reactor: Any) -> GuardedResolver:
        entries = settings.getlist("LINKCRAWLER_RESOLVE", [])
        return cls(
            reactor,
            AddressPolicy.from_settings(settings),
            [parse_resolve_entry(e) for e in entries],
        )

    @classmethod
    def from_crawler(cls, crawler: Any, reactor: Any) -> GuardedResolver:
        # Scrapy passes the CrawlerProcess here; only its settings are used.
        return cls.from_settings(crawler.settings, reactor)

    def install_on_reactor(self) -> None:
        current = self.reactor.nameResolver
        if isinstance(current, GuardedResolver):
            current = current.upstream
        self.upstream = current
        self.reactor.installNameResolver(self)

    # --- refusals ------------------------------------------------------------------------------

    def record_refusal(self, host: str, port: int, refused: list[str]) -> None:
        detail = f"{host} resolves only to refused addresses: {', '.join(refused)}"
        self._refusals[(host.lower().rstrip("."), port)] = detail
        logger.info("Address guard: %s", detail)

    def refusal(self, host: str, port: int) -> str | None:
        return self._refusals.get((host.lower().rstrip("."), port))

    def record_lookup_failure(self, host: str, finding: str | None) -> None:
        if finding is not None:
            self._lookup_failures[host.lower().rstrip(".")] = finding

    def lookup_failure(self, host: str) -> str | None:
        """NXDOMAIN or TEMPORARY for a host whose lookup failed in this process, else None."""
        return self._lookup_failures.get(host.lower().rstrip("."))

    # --- IHostnameResolver ---------------------------------------------------------------------

    def override_for(self, host: str, port: int) -> ResolveOverride | None:
        host = host.lower().rstrip(".")
        if parse_ip_literal(host) is not None:
            return None
        return next((o for o in self.overrides if o.matches(host, port)), None)

    def resolveHostName(  # noqa: N802 - Twisted API
        self,
        resolutionReceiver: Any,  # noqa: N803
        hostName: str,  # noqa: N803
        portNumber: int = 0,  # noqa: N803
        addressTypes: Sequence[type[IAddress]] | None = None,  # noqa: N803
        transportSemantics: str = "TCP",  # noqa: N803
    ) -> IHostResolution:
        receiver = _FilteringReceiver(self, resolutionReceiver, hostName, portNumber)
        override = self.override_for(hostName, portNumber)
        if override is None:
            return self.upstream.resolveHostName(
                receiver, hostName, portNumber, addressTypes, transportSemantics
            )
        resolution = _Resolution(hostName)
        receiver.resolutionBegan(resolution)
        for ip in override.addresses:
            receiver.addressResolved(_twisted_address(ip, portNumber))
        receiver.resolutionComplete()
        return resolution


def installed_resolver() -> GuardedResolver | None:
    from twisted.internet import reactor

    resolver = getattr(reactor, "nameResolver", None)
    return resolver if isinstance(resolver, GuardedResolver) else None


def ensure_installed(settings: Any) -> GuardedResolver:
    """Install a GuardedResolver if the process has none (CrawlerRunner, another setting)."""
    resolver = installed_resolver()
    if resolver is None:
        from twisted.internet import reactor

        resolver = GuardedResolver.from_settings(settings, reactor)
        resolver.install_on_reactor()
        logger.info("Installed linkcrawler's guarded resolver on the reactor")
    return resolver
