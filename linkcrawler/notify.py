"""Alerts after a run: a JSON summary to a webhook, or an email through SMTP.

`notify` never raises: the run's results are already committed when it is called, and a
notifier that is down must not turn a good run into a failed one. It returns an outcome the
caller prints. Destinations:

- ``http(s)://...``: POST of a JSON document with a Slack-compatible ``text`` field, the run's
  counts and the change events (at most MAX_EVENTS; ``events_truncated`` says when more).
- ``mailto:ADDRESS[,ADDRESS...]``: an email with the same text and the JSON attached, sent
  through the SMTP server named by the environment:

  LINKCRAWLER_SMTP_HOST (default localhost), LINKCRAWLER_SMTP_PORT (default 25, or 587 with
  STARTTLS; 465 means TLS from the first byte), LINKCRAWLER_SMTP_STARTTLS (1/true/yes),
  LINKCRAWLER_SMTP_USER / LINKCRAWLER_SMTP_PASSWORD (login; refused over an unencrypted
  connection except to a loopback server), LINKCRAWLER_SMTP_FROM (default linkcrawler@<host>),
  LINKCRAWLER_SMTP_CAFILE (extra CA bundle for a private relay's certificate).

LINKCRAWLER_NOTIFY_TIMEOUT (seconds, default 20) bounds each attempt.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import os
import smtplib
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkcrawler import __version__
from linkcrawler.changes import ChangeEvent, count_events
from linkcrawler.db import Result, Run
from linkcrawler.enums import Status
from linkcrawler.errors import UsageError

MAX_EVENTS = 1000  # in the JSON payload; the counts always cover all of them
TEXT_EVENTS = 20  # listed in the short text (Slack, email subject line aside)
MAIL_EVENTS = 500  # listed in the email body
DEFAULT_TIMEOUT = 20.0


@dataclass(frozen=True, slots=True)
class RunSummary:
    run_id: int
    state: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    total: int
    by_status: Mapping[str, int]  # live / lost / unverified, all three always present
    by_reason: Mapping[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.run_id,
            "state": self.state,
            "started_at": _iso(self.started_at),
            "finished_at": _iso(self.finished_at),
            "total": self.total,
            "status": dict(self.by_status),
            "reasons": dict(self.by_reason),
        }


@dataclass(frozen=True, slots=True)
class NotifyOutcome:
    ok: bool
    destination: str  # safe to print: a webhook's secret path is elided
    message: str

    def __str__(self) -> str:
        return f"{'sent' if self.ok else 'FAILED'} to {self.destination}: {self.message}"


def summarize_run(session: Session, run_id: int) -> RunSummary:
    run = session.get(Run, run_id)
    if run is None:
        raise UsageError(f"there is no run {run_id}")
    by_status = {s.value: 0 for s in Status}
    by_reason: dict[str, int] = {}
    for status, reason, count in session.execute(
        select(Result.status, Result.reason, func.count())
        .where(Result.run_id == run_id)
        .group_by(Result.status, Result.reason)
        .order_by(func.count().desc(), Result.reason)
    ):
        by_status[status] = by_status.get(status, 0) + count
        by_reason[reason] = count
    return RunSummary(run.id, run.state, run.started_at, run.finished_at,
                      sum(by_status.values()), by_status, by_reason)


def notify(destination: str, summary: RunSummary, events: Sequence[ChangeEvent], *,
           env: Mapping[str, str] = os.environ, timeout: float | None = None) -> NotifyOutcome:
    """Send the run's summary and change events to `destination`; never raises."""
    shown = display_destination(destination)
    try:
        if timeout is None:
            timeout = float(env.get("LINKCRAWLER_NOTIFY_TIMEOUT") or DEFAULT_TIMEOUT)
        scheme = destination.split(":", 1)[0].lower()
        if scheme in ("http", "https"):
            message = _post(destination, payload(summary, events), timeout)
        elif scheme == "mailto":
            message = _mail(destination, summary, events, env, timeout)
        else:
            return NotifyOutcome(False, shown, "unsupported destination: use http(s)://... or mailto:ADDRESS")
        return NotifyOutcome(True, shown, message)
    except Exception as exc:  # noqa: BLE001 - a notifier must never fail the run
        return NotifyOutcome(False, shown, _describe(exc, destination, env))


def display_destination(destination: str) -> str:
    """The destination without secrets: webhook URLs carry their token in the path or query."""
    try:
        parts = urllib.parse.urlsplit(destination)
    except ValueError:
        return "(invalid destination)"
    if parts.scheme.lower() in ("http", "https"):
        host = parts.hostname or ""
        port = f":{parts.port}" if parts.port else ""
        tail = "/..." if parts.path.strip("/") or parts.query else "/"
        return f"{parts.scheme.lower()}://{host}{port}{tail}"
    return destination.split("?", 1)[0]


# --- the message --------------------------------------------------------------------------------

def headline(summary: RunSummary, events: Sequence[ChangeEvent]) -> str:
    s = summary.by_status
    line = (f"linkcrawler run {summary.run_id} {summary.state}: {summary.total} backlinks, "
            f"{s.get('live', 0)} live, {s.get('lost', 0)} lost, {s.get('unverified', 0)} unverified")
    counts = count_events(events)
    since = f" since run {events[0].from_run}" if events and events[0].from_run is not None else ""
    if any(counts.values()):
        line += f". Changes{since}: " + ", ".join(f"{n} {kind}" for kind, n in counts.items())
    else:
        line += ". No changes."
    return line


def event_line(event: ChangeEvent) -> str:
    if event.field is not None:
        detail = f"{event.field.value} {_show(event.before)} → {_show(event.after)}"
    else:
        detail = f"{_show(event.before)} → {_show(event.after)}"
    return f"{event.kind.value}: {event.source_url} → {event.target} ({detail})"


def summary_text(summary: RunSummary, events: Sequence[ChangeEvent], limit: int) -> str:
    lines = [headline(summary, events)]
    lines += [f"• {event_line(e)}" for e in events[:limit]]
    if len(events) > limit:
        lines.append(f"… and {len(events) - limit} more (linkcrawler changes --to {summary.run_id})")
    return "\n".join(lines)


def payload(summary: RunSummary, events: Sequence[ChangeEvent]) -> dict[str, Any]:
    return {
        "text": summary_text(summary, events, TEXT_EVENTS),
        "run": summary.as_dict(),
        "changes": {
            "from_run": events[0].from_run if events else None,
            "to_run": summary.run_id,
            "counts": count_events(events),
        },
        "events": [e.as_dict() for e in events[:MAX_EVENTS]],
        "events_truncated": len(events) > MAX_EVENTS,
    }


# --- transports ---------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # A redirected POST would be replayed as a GET without the body; report it instead.
    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: ANN001, ANN201, PLR0913
        return None


def _post(url: str, document: dict[str, Any], timeout: float) -> str:
    body = json.dumps(document, ensure_ascii=False).encode("utf-8")
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"linkcrawler/{__version__} (notifier)",
    })
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=timeout) as response:
        response.read(65536)
        return f"HTTP {response.status}"


def _mail(destination: str, summary: RunSummary, events: Sequence[ChangeEvent],
          env: Mapping[str, str], timeout: float) -> str:
    recipients = mail_recipients(destination)
    host = env.get("LINKCRAWLER_SMTP_HOST") or "localhost"
    starttls = _truthy(env.get("LINKCRAWLER_SMTP_STARTTLS"))
    port = int(env.get("LINKCRAWLER_SMTP_PORT") or (587 if starttls else 25))
    implicit_tls = port == 465
    user = env.get("LINKCRAWLER_SMTP_USER") or ""
    password = env.get("LINKCRAWLER_SMTP_PASSWORD") or ""
    sender = env.get("LINKCRAWLER_SMTP_FROM") or f"linkcrawler@{socket.getfqdn() or 'localhost'}"
    if "\n" in sender or "\r" in sender or "@" not in parseaddr(sender)[1]:
        raise ValueError("LINKCRAWLER_SMTP_FROM is not an email address")
    if user and not (starttls or implicit_tls) and not _is_loopback(host):
        raise ValueError("refusing to send the SMTP password unencrypted: set "
                         "LINKCRAWLER_SMTP_STARTTLS=1 or use port 465")
    context = ssl.create_default_context(cafile=env.get("LINKCRAWLER_SMTP_CAFILE") or None)

    message = EmailMessage()
    counts = count_events(events)
    message["Subject"] = (f"linkcrawler run {summary.run_id} {summary.state}: "
                          + ", ".join(f"{n} {kind}" for kind, n in counts.items()))
    message["From"] = sender
    message["To"] = ", ".join(formataddr(("", r)) for r in recipients)
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].rsplit("@", 1)[-1])
    message.set_content(summary_text(summary, events, MAIL_EVENTS) + "\n")
    message.add_attachment(
        json.dumps(payload(summary, events), ensure_ascii=False, indent=1).encode("utf-8"),
        maintype="application", subtype="json", filename=f"linkcrawler-run-{summary.run_id}.json",
    )

    smtp_class = smtplib.SMTP_SSL if implicit_tls else smtplib.SMTP
    kwargs: dict[str, Any] = {"timeout": timeout}
    if implicit_tls:
        kwargs["context"] = context
    with smtp_class(host, port, **kwargs) as smtp:
        if starttls and not implicit_tls:
            smtp.starttls(context=context)
        if user:
            smtp.login(user, password)
        refused = smtp.send_message(message, from_addr=parseaddr(sender)[1], to_addrs=recipients)
    if refused:
        raise smtplib.SMTPRecipientsRefused(refused)
    return f"mail accepted by {host}:{port} for {len(recipients)} recipient(s)"


def mail_recipients(destination: str) -> list[str]:
    """The addresses of a mailto: URI (RFC 6068: comma-separated, percent-encoded)."""
    text = destination.split(":", 1)[1].split("?", 1)[0]
    recipients = []
    for part in text.split(","):
        address = urllib.parse.unquote(part).strip()
        if not address:
            continue
        name, parsed = parseaddr(address)
        if (parsed != address or parsed.count("@") != 1 or parsed.startswith("@") or parsed.endswith("@")
                or any(c in parsed for c in "\r\n <>")):
            raise ValueError(f"not an email address in {destination!r}: {address!r}")
        recipients.append(parsed)
    if not recipients:
        raise ValueError(f"no address in {destination!r}")
    return recipients


def _describe(exc: BaseException, destination: str, env: Mapping[str, str]) -> str:
    if isinstance(exc, urllib.error.HTTPError):
        text = f"HTTP {exc.code} {exc.reason}"
    elif isinstance(exc, urllib.error.URLError):
        text = f"cannot reach the webhook: {exc.reason}"
    elif isinstance(exc, smtplib.SMTPAuthenticationError):
        text = f"SMTP login refused ({exc.smtp_code})"
    elif isinstance(exc, smtplib.SMTPRecipientsRefused):
        text = "SMTP server refused the recipient(s): " + ", ".join(sorted(exc.recipients))
    elif isinstance(exc, (TimeoutError, socket.timeout)):
        text = "timed out"
    else:
        text = f"{type(exc).__name__}: {exc}"
    # Never echo a secret, whatever the library put into its message.
    text = text.replace(destination, display_destination(destination))
    password = env.get("LINKCRAWLER_SMTP_PASSWORD") or ""
    if len(password) > 3:
        text = text.replace(password, "***")
    return text


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


def _iso(value: dt.datetime | None) -> str | None:
    return value.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z") if value else None
