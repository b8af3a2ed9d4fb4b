"""Notifiers against real local servers: an HTTP receiver (http.server) and an SMTP server
(aiosmtpd) on 127.0.0.1. A failing notifier returns a failed outcome and never raises."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from linkcrawler.changes import ChangeEvent, ChangeField, ChangeKind
from linkcrawler.notify import MAX_EVENTS, RunSummary, display_destination, notify, summarize_run
from tests.test_changes import History

SUMMARY = RunSummary(
    run_id=7, state="completed", started_at=dt.datetime(2025, 3, 1, 2, 0),
    finished_at=dt.datetime(2025, 3, 1, 2, 9), total=10,
    by_status={"live": 7, "lost": 2, "unverified": 1},
    by_reason={"found": 7, "link_removed": 1, "page_not_found": 1, "timeout": 1},
)
EVENTS = [
    ChangeEvent(3, "https://a.example/post", "https://mysite.test/", ChangeKind.LOST, None,
                "found", "link_removed", 6, 7),
    ChangeEvent(5, "https://b.example/", "mysite.test", ChangeKind.CHANGED, ChangeField.FOLLOW,
                True, False, 6, 7),
    ChangeEvent(9, "https://c.example/=cmd", "https://mysite.test/*", ChangeKind.NEW, None,
                None, "found", 6, 7),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- HTTP webhook ---------------------------------------------------------------------------

class Receiver:
    def __init__(self, status: int = 200, delay: float = 0.0, location: str | None = None) -> None:
        self.requests: list[dict[str, Any]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                time.sleep(delay)
                self.send_response(status)
                if location:
                    self.send_header("Location", location)
                self.send_header("Content-Length", "2")
                self.end_headers()
                try:
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (the timeout test)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver_factory() -> Iterator[Any]:
    made: list[Receiver] = []

    def make(**kwargs: Any) -> Receiver:
        made.append(Receiver(**kwargs))
        return made[-1]

    yield make
    for r in made:
        r.close()


def test_webhook_posts_json_summary(receiver_factory: Any) -> None:
    receiver = receiver_factory()
    url = receiver.url + "/services/T000/B000/SECRETTOKEN"
    outcome = notify(url, SUMMARY, EVENTS, env={})
    assert outcome.ok, outcome
    assert outcome.message == "HTTP 200"
    assert "SECRETTOKEN" not in str(outcome)
    assert outcome.destination == receiver.url + "/..."
    [request] = receiver.requests
    assert request["path"] == "/services/T000/B000/SECRETTOKEN"
    assert request["headers"]["Content-Type"] == "application/json; charset=utf-8"
    assert request["headers"]["User-Agent"].startswith("linkcrawler/")
    document = json.loads(request["body"])
    assert document == {
        "text": (
            "linkcrawler run 7 completed: 10 backlinks, 7 live, 2 lost, 1 unverified. "
            "Changes since run 6: 1 lost, 0 recovered, 1 new, 1 changed\n"
            '• lost: https://a.example/post → https://mysite.test/ ("found" → "link_removed")\n'
            "• changed: https://b.example/ → mysite.test (follow true → false)\n"
            '• new: https://c.example/=cmd → https://mysite.test/* (null → "found")'
        ),
        "run": {"id": 7, "state": "completed", "started_at": "2025-03-01T02:00:00Z",
                "finished_at": "2025-03-01T02:09:00Z", "total": 10,
                "status": {"live": 7, "lost": 2, "unverified": 1},
                "reasons": {"found": 7, "link_removed": 1, "page_not_found": 1, "timeout": 1}},
        "changes": {"from_run": 6, "to_run": 7,
                    "counts": {"lost": 1, "recovered": 0, "new": 1, "changed": 1}},
        "events": [e.as_dict() for e in EVENTS],
        "events_truncated": False,
    }


def test_webhook_without_events_and_truncation(receiver_factory: Any) -> None:
    receiver = receiver_factory()
    assert notify(receiver.url, SUMMARY, [], env={}).ok
    assert json.loads(receiver.requests[0]["body"])["text"].endswith("No changes.")
    many = [EVENTS[0]] * (MAX_EVENTS + 5)
    assert notify(receiver.url, SUMMARY, many, env={}).ok
    document = json.loads(receiver.requests[1]["body"])
    assert len(document["events"]) == MAX_EVENTS and document["events_truncated"] is True
    assert document["changes"]["counts"]["lost"] == MAX_EVENTS + 5
    assert document["text"].endswith(f"… and {MAX_EVENTS + 5 - 20} more (linkcrawler changes --to 7)")


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"status": 500}, "HTTP 500 Internal Server Error"),
    ({"status": 404}, "HTTP 404 Not Found"),
    ({"status": 302, "location": "http://127.0.0.1:9/elsewhere"}, "HTTP 302 Found"),
])
def test_webhook_failures_are_reported(receiver_factory: Any, kwargs: dict[str, Any], message: str) -> None:
    receiver = receiver_factory(**kwargs)
    outcome = notify(receiver.url + "/hook/SECRET", SUMMARY, EVENTS, env={})
    assert not outcome.ok
    assert outcome.message == message
    assert "SECRET" not in str(outcome)


def test_webhook_timeout(receiver_factory: Any) -> None:
    receiver = receiver_factory(delay=3)
    started = time.monotonic()
    outcome = notify(receiver.url, SUMMARY, EVENTS, env={"LINKCRAWLER_NOTIFY_TIMEOUT": "0.5"})
    assert time.monotonic() - started < 2.5
    assert not outcome.ok and "timed out" in outcome.message


def test_webhook_unreachable() -> None:
    outcome = notify(f"http://127.0.0.1:{free_port()}/x", SUMMARY, EVENTS, env={})
    assert not outcome.ok and outcome.message.startswith("cannot reach the webhook")


@pytest.mark.parametrize("destination", ["ftp://example.test/", "mailto:", "mailto:not-an-address",
                                         "mailto:a@b.test%0d%0aBcc:x@y.test", "slack"])
def test_bad_destinations(destination: str) -> None:
    outcome = notify(destination, SUMMARY, EVENTS, env={"LINKCRAWLER_SMTP_PORT": str(free_port())})
    assert not outcome.ok


def test_display_destination() -> None:
    assert display_destination("https://hooks.slack.com/services/T/B/X") == "https://hooks.slack.com/..."
    assert display_destination("https://h.test/?token=x") == "https://h.test/..."
    assert display_destination("https://h.test") == "https://h.test/"
    assert display_destination("mailto:ops@example.test?subject=x") == "mailto:ops@example.test"


# --- SMTP -----------------------------------------------------------------------------------

class Mailbox:
    def __init__(self, refuse: bool = False) -> None:
        self.messages: list[Any] = []
        self.refuse = refuse

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,  # noqa: N802
                          rcpt_options: Any) -> str:
        if self.refuse:
            return "550 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 Message accepted"


@pytest.fixture
def smtp_factory() -> Iterator[Any]:
    from aiosmtpd.controller import Controller

    started: list[Any] = []

    def start(mailbox: Mailbox, **kwargs: Any) -> int:
        port = free_port()
        controller = Controller(mailbox, hostname="127.0.0.1", port=port, **kwargs)
        controller.start()
        started.append(controller)
        return port

    yield start
    for controller in started:
        controller.stop()


def test_mail_is_sent(smtp_factory: Any) -> None:
    mailbox = Mailbox()
    port = smtp_factory(mailbox)
    env = {"LINKCRAWLER_SMTP_HOST": "127.0.0.1", "LINKCRAWLER_SMTP_PORT": str(port),
           "LINKCRAWLER_SMTP_FROM": "linkcrawler@ops.example.test"}
    outcome = notify("mailto:seo@example.test,boss%40example.test", SUMMARY, EVENTS, env=env)
    assert outcome.ok, outcome
    assert outcome.message == f"mail accepted by 127.0.0.1:{port} for 2 recipient(s)"
    [envelope] = mailbox.messages
    assert envelope.mail_from == "linkcrawler@ops.example.test"
    assert envelope.rcpt_tos == ["seo@example.test", "boss@example.test"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert message["Subject"] == "linkcrawler run 7 completed: 1 lost, 0 recovered, 1 new, 1 changed"
    assert message["To"] == "seo@example.test, boss@example.test"
    body = message.get_body(("plain",)).get_content()
    assert body.startswith("linkcrawler run 7 completed: 10 backlinks, 7 live, 2 lost, 1 unverified.")
    assert "• changed: https://b.example/ → mysite.test (follow true → false)" in body
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "linkcrawler-run-7.json"
    document = json.loads(attachment.get_content())
    assert document["events"] == [e.as_dict() for e in EVENTS]


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    ok = auth_data.login == b"robot" and auth_data.password == b"s3cret-pw"
    return AuthResult(success=ok, handled=False)  # handled=False: the server sends the 535


def test_mail_with_login(smtp_factory: Any) -> None:
    mailbox = Mailbox()
    port = smtp_factory(mailbox, authenticator=_authenticator, auth_require_tls=False)
    env = {"LINKCRAWLER_SMTP_HOST": "127.0.0.1", "LINKCRAWLER_SMTP_PORT": str(port),
           "LINKCRAWLER_SMTP_USER": "robot", "LINKCRAWLER_SMTP_PASSWORD": "s3cret-pw"}
    assert notify("mailto:seo@example.test", SUMMARY, EVENTS, env=env).ok
    outcome = notify("mailto:seo@example.test", SUMMARY, EVENTS,
                     env={**env, "LINKCRAWLER_SMTP_PASSWORD": "wrong-pw"})
    assert not outcome.ok and outcome.message.startswith("SMTP login refused")
    assert len(mailbox.messages) == 1


def test_mail_over_starttls(smtp_factory: Any, tmp_path: Path) -> None:
    import ssl

    cert, key = _self_signed(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    mailbox = Mailbox()
    port = smtp_factory(mailbox, tls_context=context, require_starttls=True,
                        authenticator=_authenticator)
    env = {"LINKCRAWLER_SMTP_HOST": "127.0.0.1", "LINKCRAWLER_SMTP_PORT": str(port),
           "LINKCRAWLER_SMTP_STARTTLS": "true", "LINKCRAWLER_SMTP_CAFILE": str(cert),
           "LINKCRAWLER_SMTP_USER": "robot", "LINKCRAWLER_SMTP_PASSWORD": "s3cret-pw"}
    outcome = notify("mailto:seo@example.test", SUMMARY, EVENTS, env=env)
    assert outcome.ok, outcome
    assert len(mailbox.messages) == 1
    # without the CA the certificate is not trusted: reported, not raised
    outcome = notify("mailto:seo@example.test", SUMMARY, EVENTS,
                     env={k: v for k, v in env.items() if k != "LINKCRAWLER_SMTP_CAFILE"})
    assert not outcome.ok and "CERTIFICATE_VERIFY_FAILED" in outcome.message
    # and without STARTTLS the server will not take the mail
    outcome = notify("mailto:seo@example.test", SUMMARY, EVENTS,
                     env={k: v for k, v in env.items() if not k.endswith(("STARTTLS", "USER"))})
    assert not outcome.ok
    assert len(mailbox.messages) == 1


def test_mail_failures_are_reported(smtp_factory: Any) -> None:
    port = smtp_factory(Mailbox(refuse=True))
    env = {"LINKCRAWLER_SMTP_HOST": "127.0.0.1", "LINKCRAWLER_SMTP_PORT": str(port)}
    outcome = notify("mailto:nobody@example.test", SUMMARY, EVENTS, env=env)
    assert not outcome.ok
    assert outcome.message == "SMTP server refused the recipient(s): nobody@example.test"
    outcome = notify("mailto:a@example.test", SUMMARY, EVENTS,
                     env={**env, "LINKCRAWLER_SMTP_PORT": str(free_port())})
    assert not outcome.ok and "ConnectionRefusedError" in outcome.message
    # a password is never sent in clear text to a remote server (checked before connecting)
    outcome = notify("mailto:a@example.test", SUMMARY, EVENTS,
                     env={"LINKCRAWLER_SMTP_HOST": "smtp.example.invalid", "LINKCRAWLER_SMTP_USER": "u",
                          "LINKCRAWLER_SMTP_PASSWORD": "hunter22"})
    assert not outcome.ok and "unencrypted" in outcome.message and "hunter22" not in outcome.message


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                       critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


# --- the run summary, and results survive a failing notifier ----------------------------------

def test_summarize_run_and_results_survive_a_failing_notifier(db_url: str) -> None:
    history = History(db_url)
    a = history.backlink("https://a.example/")
    b = history.backlink("https://b.example/")
    c = history.backlink("https://c.example/")
    history.run({a: "found", b: "found", c: "found"})
    r2 = history.run({a: "found", b: "page_not_found", c: "blocked"})
    with history.db.sessions() as session:
        summary = summarize_run(session, r2)
        events = list(history.changes(r2 - 1, r2))
        outcome = notify(f"http://127.0.0.1:{free_port()}/", summary, events, env={})
    assert not outcome.ok
    assert summary.run_id == r2 and summary.state == "completed" and summary.total == 3
    assert summary.by_status == {"live": 1, "lost": 1, "unverified": 1}
    assert summary.by_reason == {"blocked": 1, "found": 1, "page_not_found": 1}
    with history.db.sessions() as session:
        assert summarize_run(session, r2) == summary
