"""Every transport failure is classified into a result reason (the errback never guesses)."""

from __future__ import annotations

import ssl

import pytest
from scrapy.exceptions import CannotResolveHostError, DownloadTimeoutError
from twisted.internet import error as terr
from twisted.python.failure import Failure
from twisted.web._newclient import ResponseNeverReceived

from linkcrawler.enums import Reason
from linkcrawler.errors import FetchError, reason_for_exception


@pytest.mark.parametrize(
    ("exc", "reason"),
    [
        (FetchError(Reason.ROBOTS_DISALLOWED, "no"), Reason.ROBOTS_DISALLOWED),
        (terr.DNSLookupError("gone.invalid: [Errno -2] Name or service not known"), Reason.DOMAIN_GONE),
        (CannotResolveHostError("x.invalid: Name or service not known"), Reason.DOMAIN_GONE),
        (terr.DNSLookupError("x.test: [Errno -3] Temporary failure in name resolution"), Reason.DNS_ERROR),
        (terr.TimeoutError(), Reason.TIMEOUT),
        (DownloadTimeoutError("took longer than 30 seconds"), Reason.TIMEOUT),
        (terr.TCPTimedOutError(), Reason.TIMEOUT),
        (terr.ConnectionRefusedError(), Reason.CONNECTION_ERROR),
        (terr.ConnectionLost(), Reason.CONNECTION_ERROR),
        (ResponseNeverReceived([Failure(terr.ConnectionLost())]), Reason.CONNECTION_ERROR),
        (ssl.SSLError("certificate verify failed"), Reason.TLS_ERROR),
        (RuntimeError("something else"), Reason.CONNECTION_ERROR),
    ],
    ids=lambda v: type(v).__name__ if isinstance(v, BaseException) else str(v),
)
def test_reason_for_exception(exc: BaseException, reason: Reason) -> None:
    got, detail = reason_for_exception(exc)
    assert got is reason and detail
