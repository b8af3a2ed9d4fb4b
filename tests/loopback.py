"""A scripted loopback HTTP/1.1 server that measures what a crawler does to it.

    from tests.loopback import LoopbackServer, Reply, Replies

    with LoopbackServer() as server:
        server.route("a.test", "/robots.txt", Reply(200, "User-agent: *\\nDisallow: /private\\n"))
        server.route("a.test", "/p1", Reply(200, "<a href=...>", delay=0.05))
        server.route("b.test", "/flaky", Replies(Reply(503), Reply(503), Reply(200, "ok")))
        server.route("*", "/slow", lambda rec: Reply(200, delay=1.0 if rec.index > 5 else 0.05))
        settings = server.crawl_settings()   # LINKCRAWLER_RESOLVE + allowed endpoint
        url = server.url("a.test", "/p1")    # http://a.test:PORT/p1
        ...
        server.count("a.test"), server.max_in_flight(), server.start_gaps()

Routing is by Host header (without port, lower case; "*" matches any host) and path (with
query). Unrouted requests get `server.default` (404). A handler is a `Reply`, or a callable
taking the `RequestRecord` and returning one (`Replies` returns its replies in order, the last
one repeated; an element may be a callable too). `Reply` can delay before the status line,
drip the body in chunks, stall after the headers, or close without answering.

Every request is recorded server-side (`records`) with wall-clock `start` (request line and
headers read) and `end` (response written or connection lost), host, port, path, method and
headers. Helpers group records by site slot (registrable domain, like the crawler) by default.
The server listens on 127.0.0.1, port 0 (chosen by the OS), one thread per connection.
`Canary` is a bare TCP listener that only counts connections (SEC-1).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from linkcrawler.urls import registrable_domain


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes | str = b""
    headers: tuple[tuple[str, str], ...] | dict[str, str] = ()
    delay: float = 0.0  # seconds before the status line
    drip: float = 0.0  # seconds between body chunks
    chunk: int = 0  # bytes per chunk when dripping (0: one chunk)
    stall: bool = False  # send the headers, then nothing until the client goes away
    close: bool = False  # close the connection without any response

    def body_bytes(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body

    def header_items(self) -> list[tuple[str, str]]:
        items = self.headers.items() if isinstance(self.headers, dict) else self.headers
        return list(items)


@dataclass(frozen=True)
class RequestRecord:
    index: int  # position among all requests to this server, from 0
    host: str  # Host header without the port, lower case
    port: int | None
    path: str
    method: str
    headers: dict[str, str]  # lower-case names
    start: float  # time.time() when the request had been read
    end: float | None = None  # time.time() when the response was written (None: unfinished)

    @property
    def user_agent(self) -> str:
        return self.headers.get("user-agent", "")


class Replies:
    """A handler answering with each reply in turn, then repeating the last one.

    An element may itself be a handler (a callable taking the RequestRecord), e.g. to compute
    a header at request time.
    """

    def __init__(self, *replies: Reply | Callable[[RequestRecord], Reply]) -> None:
        self._replies = list(replies)
        self._lock = threading.Lock()
        self._n = 0

    def __call__(self, record: RequestRecord) -> Reply:
        with self._lock:
            reply = self._replies[min(self._n, len(self._replies) - 1)]
            self._n += 1
        return reply(record) if callable(reply) else reply


Handler = Reply | Callable[[RequestRecord], Reply]


def default_slot(host: str) -> str:
    return registrable_domain(host) or host


class LoopbackServer:
    def __init__(self, routes: dict[tuple[str, str], Handler] | None = None) -> None:
        self.routes: dict[tuple[str, str], Handler] = dict(routes or {})
        self.default: Handler = Reply(404, "not found")
        # Seconds every new connection waits before its first request is read, as a TLS
        # handshake holds a request the client has already written.
        self.handshake_delay = 0.0
        self._records: list[RequestRecord] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------------

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def start(self) -> LoopbackServer:
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- scripting -----------------------------------------------------------------------------

    def route(self, host: str, path: str, handler: Handler) -> None:
        self.routes[(host.lower(), path)] = handler

    def url(self, host: str, path: str = "/", scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def resolve_entries(self, hosts: Iterable[str] | None = None) -> list[str]:
        """curl-style "HOST:PORT:127.0.0.1" entries (LINKCRAWLER_RESOLVE) for these hosts."""
        return [f"{h}:{self.port}:127.0.0.1" for h in (hosts if hosts is not None else ["*"])]

    def resolve_args(self, hosts: Iterable[str] | None = None) -> list[str]:
        """The same as command-line arguments: ["--resolve", "HOST:PORT:127.0.0.1", ...]."""
        return [a for entry in self.resolve_entries(hosts) for a in ("--resolve", entry)]

    def crawl_settings(self, hosts: Iterable[str] | None = None, **extra: Any) -> dict[str, Any]:
        """Settings that send these hosts (default: every name) to this server, and let the
        address guard allow exactly this server's endpoint."""
        return {
            "LINKCRAWLER_RESOLVE": self.resolve_entries(hosts),
            "LINKCRAWLER_ALLOWED_ENDPOINTS": [f"127.0.0.1:{self.port}"],
            **extra,
        }

    # --- measurements --------------------------------------------------------------------------

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def requests(self, host: str | None = None, path: str | None = None) -> list[RequestRecord]:
        return [
            r
            for r in self.records
            if (host is None or r.host == host.lower()) and (path is None or r.path == path)
        ]

    def count(self, host: str | None = None, path: str | None = None) -> int:
        return len(self.requests(host, path))

    def by_slot(
        self, slot: Callable[[str], str] = default_slot, *, exclude_robots: bool = False
    ) -> dict[str, list[RequestRecord]]:
        groups: dict[str, list[RequestRecord]] = defaultdict(list)
        for r in sorted(self.records, key=lambda r: r.start):
            if exclude_robots and r.path == "/robots.txt":
                continue
            groups[slot(r.host)].append(r)
        return dict(groups)

    def max_in_flight(self, slot: Callable[[str], str] = default_slot) -> dict[str, int]:
        """Most requests open at the same moment, per slot."""
        return {key: _max_overlap(recs) for key, recs in self.by_slot(slot).items()}

    def max_in_flight_total(self) -> int:
        return _max_overlap(self.records)

    def start_gaps(
        self, slot: Callable[[str], str] = default_slot, *, exclude_robots: bool = False
    ) -> dict[str, list[float]]:
        """Seconds between consecutive request starts, per slot."""
        return {
            key: [b.start - a.start for a, b in zip(recs, recs[1:], strict=False)]
            for key, recs in self.by_slot(slot, exclude_robots=exclude_robots).items()
        }

    # --- serving (called from the handler threads) ---------------------------------------------

    def _record(self, **fields: Any) -> RequestRecord:
        with self._lock:
            record = RequestRecord(index=len(self._records), **fields)
            self._records.append(record)
            return record

    def _finish(self, record: RequestRecord) -> None:
        with self._lock:
            done = RequestRecord(**{**record.__dict__, "end": time.time()})
            self._records[record.index] = done

    def _handler_for(self, record: RequestRecord) -> Handler:
        for key in ((record.host, record.path), ("*", record.path)):
            if key in self.routes:
                return self.routes[key]
        return self.default


def _max_overlap(records: Iterable[RequestRecord]) -> int:
    events: list[tuple[float, int]] = []
    for r in records:
        events.append((r.start, 1))
        events.append((r.end if r.end is not None else float("inf"), -1))
    best = current = 0
    for _, delta in sorted(events):  # at equal times the end (-1) sorts first
        current += delta
        best = max(best, current)
    return best


def _split_host(value: str) -> tuple[str, int | None]:
    if value.startswith("["):
        host, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port = value.partition(":")
    return host.lower(), int(port) if port.isdigit() else None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    # A crawl opens a connection per host at once, all to this one port. With socketserver's
    # listen backlog of 5, Linux drops the SYNs past it and the client resends them only after
    # 1 s: a test with a 1 s download timeout then sees a connect timeout that no real server
    # caused.
    request_queue_size = 128
    owner: LoopbackServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; with Nagle on, the body would wait for
        # the client's delayed ACK (40 ms) and every timing would carry that noise.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.server.owner.handshake_delay:
            self.server.owner._stopping.wait(self.server.owner.handshake_delay)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        pass

    def _serve(self) -> None:
        owner = self.server.owner
        host, port = _split_host(self.headers.get("Host", ""))
        record = owner._record(
            host=host,
            port=port,
            path=self.path,
            method=self.command,
            headers={k.lower(): v for k, v in self.headers.items()},
            start=time.time(),
        )
        if int(self.headers.get("Content-Length") or 0):
            self.rfile.read(int(self.headers["Content-Length"]))
        handler = owner._handler_for(record)
        reply = handler(record) if callable(handler) else handler
        try:
            self._write(reply, owner)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, OSError):
            self.close_connection = True
        finally:
            owner._finish(record)

    def _write(self, reply: Reply, owner: LoopbackServer) -> None:
        if reply.delay:
            owner._stopping.wait(reply.delay)
        if reply.close:
            self.close_connection = True
            return
        body = reply.body_bytes()
        self.send_response(reply.status)
        names = {name.lower() for name, _ in reply.header_items()}
        for name, value in reply.header_items():
            self.send_header(name, value)
        if "content-length" not in names:
            self.send_header("Content-Length", str(len(body)))
        if "content-type" not in names:
            self.send_header("Content-Type", "text/html; charset=utf-8")
        self.end_headers()
        self.wfile.flush()
        if reply.stall:
            self.close_connection = True
            self.connection.settimeout(0.2)
            deadline = time.time() + 120
            while not owner._stopping.is_set() and time.time() < deadline:
                try:
                    if self.connection.recv(1, socket.MSG_PEEK) == b"":
                        return  # the client went away
                except TimeoutError:
                    continue
            return
        if self.command == "HEAD":
            return
        if reply.drip:
            step = reply.chunk or len(body) or 1
            for i in range(0, len(body), step):
                self.wfile.write(body[i : i + step])
                self.wfile.flush()
                if owner._stopping.wait(reply.drip):
                    return
        else:
            self.wfile.write(body)
        self.wfile.flush()

    do_GET = do_HEAD = do_POST = do_PUT = do_DELETE = do_OPTIONS = _serve  # noqa: N815


@dataclass
class Canary:
    """A TCP listener on 127.0.0.1 that only counts the connections it accepts."""

    connections: int = 0
    _sock: socket.socket = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    @property
    def port(self) -> int:
        return int(self._sock.getsockname()[1])

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (TimeoutError, OSError):
                continue
            self.connections += 1
            conn.close()

    def __enter__(self) -> Canary:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def free_port() -> int:
    """A loopback port nothing listens on (connections to it are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])
