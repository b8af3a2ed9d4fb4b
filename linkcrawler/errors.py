"""Exceptions that carry a result reason, and the mapping of transport failures to reasons.

Downloader middlewares raise `FetchError` with the reason the backlink's result must get;
the spider's errback turns any failure into a reason through `reason_for_exception`, so
every request ends in exactly one classified outcome.
"""

from __future__ import annotations

from linkcrawler.enums import Reason


# getaddrinfo's wording for "this name does not exist" (EAI_NONAME / EAI_NODATA), as opposed to
# a resolver that failed to answer (EAI_AGAIN), which must not read as a lost domain.
NXDOMAIN_MARKERS = ("name or service not known", "no address associated", "nodename nor servname",
                    "nxdomain", "non-existent domain", "name does not resolve")


class UsageError(Exception):
    """Bad usage or bad input: the CLI prints the message and exits with status 2."""


class FetchError(Exception):
    """A fetch ended in a known, classified way (robots, address guard, redirects, size...)."""

    def __init__(self, reason: Reason, detail: str = "") -> None:
        super().__init__(detail or reason.value)
        self.reason = reason
        self.detail = detail or reason.value


def reason_for_exception(exc: BaseException) -> tuple[Reason, str]:
    """Classify any exception that ended a download into a result reason and a detail."""
    if isinstance(exc, FetchError):
        return exc.reason, exc.detail
    # Imported here so that this module stays importable without Twisted/Scrapy.
    from twisted.internet import error as terr

    try:
        from scrapy import exceptions as sexc
    except ImportError:  # pragma: no cover
        sexc = None

    detail = f"{type(exc).__name__}: {exc}".strip()
    for e in _causes(exc):
        dns_failure = isinstance(e, terr.DNSLookupError) or (
            sexc is not None and isinstance(e, getattr(sexc, "CannotResolveHostError", ())))
        if dns_failure:
            if any(marker in detail.lower() for marker in NXDOMAIN_MARKERS):
                return Reason.DOMAIN_GONE, detail
            return Reason.DNS_ERROR, detail
        if sexc is not None:
            if isinstance(e, getattr(sexc, "DownloadTimeoutError", ())):
                return Reason.TIMEOUT, detail
            if isinstance(e, getattr(sexc, "DownloadConnectionRefusedError", ())):
                return Reason.CONNECTION_ERROR, detail
        if isinstance(e, (terr.TimeoutError, terr.TCPTimedOutError)):
            return Reason.TIMEOUT, detail
        if _is_tls_error(e):
            return Reason.TLS_ERROR, detail
        if isinstance(e, (terr.ConnectionRefusedError, terr.ConnectError, terr.ConnectionLost,
                          terr.ConnectionDone)):
            return Reason.CONNECTION_ERROR, detail
        if "maxsize" in str(e).lower() or "cancelled because of size" in str(e).lower():
            return Reason.TOO_LARGE, detail
    if isinstance(exc, TimeoutError):
        return Reason.TIMEOUT, detail
    return Reason.CONNECTION_ERROR, detail


def _causes(exc: BaseException) -> list[BaseException]:
    """`exc` and what it wraps: Twisted's lists of failures, Scrapy's download errors, chained
    exceptions. The innermost cause decides (a TLS error inside a "download failed")."""
    seen: list[BaseException] = []
    todo = [exc]
    while todo and len(seen) < 20:
        e = todo.pop(0)
        if any(e is s for s in seen):
            continue
        seen.append(e)
        nested = list(getattr(e, "reasons", None) or [])
        nested += [a for arg in e.args for a in (arg if isinstance(arg, list) else [arg])]
        nested += [e.__cause__, e.__context__]
        for n in nested:
            n = getattr(n, "value", n)  # a twisted Failure
            if isinstance(n, BaseException):
                todo.append(n)
    return seen


def _is_tls_error(exc: BaseException) -> bool:
    try:
        from OpenSSL.SSL import Error as OpenSSLError
    except ImportError:  # pragma: no cover
        OpenSSLError = ()  # type: ignore[assignment]
    import ssl

    if isinstance(exc, (ssl.SSLError, OpenSSLError)):
        return True
    name = type(exc).__name__.lower()
    return "ssl" in name or "tls" in name or "certificate" in str(exc).lower()
