"""A small web of planted pages served on loopback, for `linkcrawler demo`.

Every hostname is served by one threaded HTTP server on 127.0.0.1 and reached through
`--resolve`, so the demo needs no network and no DNS. Each planted page produces a known
status/reason, and `EXPECTED` says which, so the demo doubles as a smoke test.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

MYSITE = "mysite.test"


@dataclass(frozen=True, slots=True)
class Route:
    status: int = 200
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


def _page(title: str, body: str, head: str = "", footer: str = "") -> Route:
    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title>{head}</head>
<body>
<header class="site-header"><a href="/">Home</a> <nav><a href="/about">About</a></nav></header>
<main><article><h1>{title}</h1>{body}</article></main>
<aside class="sidebar"><h2>Friends</h2><ul><li><a href="https://friend.example/">A friend</a></li></ul></aside>
<footer class="site-footer"><p>&copy; 2026 <a href="/imprint">Imprint</a></p>{footer}</footer>
</body></html>"""
    return Route(body=html.encode())


def _redirect(status: int, location: str) -> Route:
    return Route(status=status, headers=(("Location", location),), body=b"")


# (host, path) -> response. Hosts are joined with the server's port at run time.
ROUTES: dict[tuple[str, str], Route] = {
    # --- the site being linked to ---------------------------------------------------------
    (MYSITE, "/"): _page("My site", "<p>Welcome.</p>"),
    (MYSITE, "/product"): _page("Product", "<p>Our product.</p>"),
    (MYSITE, "/old-product"): _redirect(301, "/product"),
    (MYSITE, "/blog/launch"): _page("Launch", "<p>We launched.</p>"),
    # --- referring pages --------------------------------------------------------------------
    ("blog.example.test", "/review"): _page(
        "A review",
        '<p>We tried many tools, and <a href="http://mysite.test:PORT/product">the best widget maker</a> '
        "won our test by a mile. Highly recommended for small shops.</p>",
    ),
    ("blog.example.test", "/sponsored"): _page(
        "Partners", "<p>Our partners this month.</p>",
        footer='<a rel="Sponsored NoFollow" href="http://mysite.test:PORT/">My Site</a>',
    ),
    ("blog.example.test", "/moved-target"): _page(
        "Moved", '<p>See <a href="http://mysite.test:PORT/old-product">their product page</a> for details.</p>'),
    ("news.example.test", "/story"): _page(
        "News story", '<p>Read more about <a href="http://www.mysite.test:PORT/blog/launch?utm_source=news">'
        "the launch</a> on their blog.</p>"),
    ("news.example.test", "/other-page"): _page(
        "Other page", '<p>They link elsewhere now: <a href="http://mysite.test:PORT/">home page</a>.</p>'),
    ("news.example.test", "/no-link"): _page("No link", "<p>This page no longer links anywhere.</p>"),
    ("news.example.test", "/deleted"): Route(status=404, body=b"<h1>Not found</h1>"),
    ("news.example.test", "/gone"): Route(status=410, body=b"<h1>Gone</h1>"),
    ("news.example.test", "/forbidden"): Route(status=403, body=b"<h1>Forbidden</h1>"),
    ("news.example.test", "/report.pdf"): Route(body=b"%PDF-1.4 demo", content_type="application/pdf"),
    ("news.example.test", "/old-url"): _redirect(301, "/new-home"),
    ("news.example.test", "/new-home"): _page("New home", "<p>Nothing to see here.</p>"),
    ("news.example.test", "/hop1"): _redirect(302, "/hop2"),
    ("news.example.test", "/hop2"): _redirect(307, "/story"),
    ("news.example.test", "/loop-a"): _redirect(302, "/loop-b"),
    ("news.example.test", "/loop-b"): _redirect(302, "/loop-a"),
    ("news.example.test", "/robots.txt"): Route(
        body=b"User-agent: *\nDisallow: /private/\n", content_type="text/plain"),
    ("news.example.test", "/private/page"): _page(
        "Private", '<p><a href="http://mysite.test:PORT/">mysite</a></p>'),
    ("forum.example.test", "/thread"): _page(
        "Thread",
        "<p>Question about widgets.</p>"
        '<div id="comments" class="comments-area"><ol class="comment-list"><li class="comment">'
        '<p>Try <a rel="ugc nofollow" href="http://mysite.test:PORT/product">this one</a>.</p></li></ol></div>',
        head='<meta name="robots" content="noindex">',
    ),
}

# The backlinks the demo imports (our CSV), with the result each must get.
BACKLINKS: list[tuple[str, str, str, str]] = [
    # source path on its host, target, expected status, expected reason
    ("http://blog.example.test:PORT/review", "http://mysite.test:PORT/product", "live", "found"),
    ("http://blog.example.test:PORT/sponsored", MYSITE, "live", "found"),
    ("http://blog.example.test:PORT/moved-target", "http://mysite.test:PORT/old-product", "live", "found"),
    ("http://news.example.test:PORT/story", "http://mysite.test:PORT/blog/*", "live", "found"),
    ("http://news.example.test:PORT/hop1", "http://mysite.test:PORT/blog/launch", "live", "found"),
    ("http://forum.example.test:PORT/thread", "http://mysite.test:PORT/product", "live", "found"),
    ("http://news.example.test:PORT/other-page", "http://mysite.test:PORT/product", "live", "target_changed"),
    ("http://news.example.test:PORT/no-link", "http://mysite.test:PORT/", "lost", "link_removed"),
    ("http://news.example.test:PORT/deleted", "http://mysite.test:PORT/", "lost", "page_not_found"),
    ("http://news.example.test:PORT/gone", "http://mysite.test:PORT/", "lost", "page_gone"),
    ("http://news.example.test:PORT/old-url", "http://mysite.test:PORT/", "lost", "page_redirected"),
    ("http://news.example.test:PORT/forbidden", "http://mysite.test:PORT/", "unverified", "blocked"),
    ("http://news.example.test:PORT/private/page", "http://mysite.test:PORT/", "unverified", "robots_disallowed"),
    ("http://news.example.test:PORT/report.pdf", "http://mysite.test:PORT/", "unverified", "not_html"),
    ("http://news.example.test:PORT/loop-a", "http://mysite.test:PORT/", "unverified", "redirect_loop"),
]

HOSTS = sorted({host for host, _ in ROUTES})


class _Handler(BaseHTTPRequestHandler):
    server_version = "linkcrawler-demo"
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def _respond(self, include_body: bool) -> None:
        host = (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()
        path = self.path.split("?", 1)[0]
        route = ROUTES.get((host, path)) or ROUTES.get((host.removeprefix("www."), path))
        if route is None:
            route = Route(status=404, body=b"<h1>Not found</h1>")
        port = str(self.server.server_address[1])
        body = route.body.replace(b":PORT", f":{port}".encode())
        self.send_response(route.status)
        self.send_header("Content-Type", route.content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in route.headers:
            self.send_header(name, value.replace(":PORT", f":{port}"))
        self.end_headers()
        if include_body:
            self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        self._respond(True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._respond(False)


class DemoWeb:
    """The demo web on 127.0.0.1 at an ephemeral port, in a background thread."""

    def __init__(self) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> DemoWeb:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    def resolve_entries(self) -> list[str]:
        return [f"{host}:{self.port}:127.0.0.1" for host in HOSTS] + [
            f"www.{MYSITE}:{self.port}:127.0.0.1"
        ]

    def url(self, url: str) -> str:
        """`url` with the PORT placeholder replaced by the server's port."""
        return url.replace(":PORT", f":{self.port}")
