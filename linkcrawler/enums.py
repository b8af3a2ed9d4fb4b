"""The closed sets of values that cross module, storage and export boundaries.

The string values are part of the export contract (DESIGN §5/§6): never rename them.
"""

from __future__ import annotations

import enum


class Status(enum.StrEnum):
    LIVE = "live"
    LOST = "lost"
    UNVERIFIED = "unverified"


class RecheckPolicy(enum.StrEnum):
    """Which lost-looking backlinks the in-run re-check fetches once more (DESIGN §6)."""

    LIVE = "live"  # those whose latest conclusive result was live: only they can raise a lost alarm
    ALL = "all"  # every one, new and already lost included
    NONE = "none"


class Reason(enum.StrEnum):
    FOUND = "found"
    TARGET_CHANGED = "target_changed"
    LINK_REMOVED = "link_removed"
    PAGE_NOT_FOUND = "page_not_found"
    PAGE_GONE = "page_gone"
    PAGE_REDIRECTED = "page_redirected"
    DOMAIN_GONE = "domain_gone"
    PAGE_ERROR = "page_error"
    BLOCKED = "blocked"
    ROBOTS_DISALLOWED = "robots_disallowed"
    ROBOTS_UNAVAILABLE = "robots_unavailable"
    TIMEOUT = "timeout"
    CONNECTION_ERROR = "connection_error"
    DNS_ERROR = "dns_error"
    TLS_ERROR = "tls_error"
    TOO_LARGE = "too_large"
    NOT_HTML = "not_html"
    REDIRECT_LOOP = "redirect_loop"
    TOO_MANY_REDIRECTS = "too_many_redirects"
    BLOCKED_ADDRESS = "blocked_address"
    INVALID_URL = "invalid_url"

    @property
    def status(self) -> Status:
        return _STATUS_OF_REASON[self]


_STATUS_OF_REASON: dict[Reason, Status] = {
    Reason.FOUND: Status.LIVE,
    Reason.TARGET_CHANGED: Status.LIVE,
    Reason.LINK_REMOVED: Status.LOST,
    Reason.PAGE_NOT_FOUND: Status.LOST,
    Reason.PAGE_GONE: Status.LOST,
    Reason.PAGE_REDIRECTED: Status.LOST,
    Reason.DOMAIN_GONE: Status.LOST,
    Reason.PAGE_ERROR: Status.LOST,
}
for _reason in Reason:
    _STATUS_OF_REASON.setdefault(_reason, Status.UNVERIFIED)


class Position(enum.StrEnum):
    BODY = "body"
    HEADER = "header"
    NAV = "nav"
    FOOTER = "footer"
    SIDEBAR = "sidebar"
    COMMENTS = "comments"


class MatchKind(enum.StrEnum):
    EXACT = "exact"
    EQUIVALENT = "equivalent"
    DOMAIN = "domain"


class TargetKind(enum.StrEnum):
    URL = "url"
    PREFIX = "prefix"
    DOMAIN = "domain"


class ExpectedRel(enum.StrEnum):
    FOLLOW = "follow"
    NOFOLLOW = "nofollow"
    SPONSORED = "sponsored"
    UGC = "ugc"
    ANY = "any"


class RunState(enum.StrEnum):
    RUNNING = "running"
    COMPLETED = "completed"
    INTERRUPTED = "interrupted"
    ABORTED = "aborted"


class ExitStatus(enum.IntEnum):
    """Process exit statuses of every command (DESIGN §4)."""

    OK = 0
    FINDINGS = 1  # only with --fail-on: lost links or changes were found
    USAGE = 2  # bad usage or bad input; nothing stored was changed
    RUN_FAILED = 3  # the run could not complete (database unavailable, aborted)
