"""A synthetic web for the verify benchmark: the model, the pages, and a fast loopback server.

    python bench/webgen.py serve --pages N --hosts H --zipf S --seed X --latency MIN-MAX
    python bench/webgen.py sample --pages 20            # print a page's size and link count

The model (`Web`) is a pure function of its parameters, so the benchmark process and the
server process build the same one without exchanging it:

- referring sites `www.site{h}.test` (slot `site{h}.test`), h < hosts; page i belongs to the
  host drawn from a Zipf(s) distribution over hosts (host 0 the most populous), pages shuffled
  so every host's pages are spread over the whole id range (the import order);
- client sites `www.client{c}.test` with target URLs `/landing-{k}.html` (the backlinks'
  targets) and `/other-{k}.html` (what a `target_changed` page links to instead);
- every page has a planted truth (KINDS): the status, reason and follow flag linkcrawler must
  report, and whether the exact target URL appears on the page (what a body search sees).

Pages are 20-60 KB of HTML with a header, nav, an article, a sidebar and a footer and 50-150
links, assembled from pre-rendered chunks chosen by a per-page hash, so serving one costs a
few string joins. The server is asyncio with a hand-written HTTP/1.1 protocol (keep-alive, no
pipelining needed), optional per-response latency (uniform MIN-MAX seconds, slept without
blocking), and it records per slot: requests, most in flight at once, smallest gap between two
request starts. `GET /__stats` on host `control.bench` returns those figures plus the server's
own CPU seconds as JSON and resets them; `GET /__quit` ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import hashlib
import json
import os
import random
import resource
import sys
import time
from array import array
from dataclasses import dataclass

# kind: (share, status, reason, follow, present-in-body)
KINDS: dict[str, tuple[float, str, str, bool | None, bool]] = {
    "found": (0.70, "live", "found", True, True),
    "nofollow": (0.08, "live", "found", False, True),
    "target_changed": (0.06, "live", "target_changed", True, False),
    "link_removed": (0.06, "lost", "link_removed", None, False),
    "not_found": (0.04, "lost", "page_not_found", None, False),
    "gone": (0.02, "lost", "page_gone", None, False),
    "redirected": (0.02, "lost", "page_redirected", None, False),
    "blocked": (0.02, "unverified", "blocked", None, False),
}
KIND_NAMES = list(KINDS)
LOST_KINDS = {k for k, v in KINDS.items() if v[1] == "lost"}
CLIENTS = 20
TARGETS_PER_CLIENT = 5

WORDS = (
    "link building guide review garden coffee travel budget family recipe winter market local "
    "history science photo update news tips season city bike music health design camera book "
    "school energy river mountain weekend market story project community online simple quick"
).split()


def _zipf_weights(n: int, s: float) -> list[float]:
    return [1.0 / (k ** s) for k in range(1, n + 1)]


@dataclass(frozen=True)
class Page:
    id: int
    host: int
    kind: str
    client: int
    target: int

    @property
    def truth(self) -> tuple[str, str, bool | None, bool]:
        _share, status, reason, follow, present = KINDS[self.kind]
        return status, reason, follow, present


class Web:
    def __init__(self, pages: int, hosts: int, zipf: float, seed: int = 7, port: int = 0) -> None:
        self.n_pages, self.n_hosts, self.zipf, self.seed, self.port = pages, hosts, zipf, seed, port
        rng = random.Random(seed)
        weights = _zipf_weights(hosts, zipf)
        # Every host gets at least one page when there are enough pages; the rest by Zipf.
        base = list(range(hosts)) if pages >= hosts else []
        rest = rng.choices(range(hosts), weights=weights, k=pages - len(base))
        hosts_of = base + rest
        rng.shuffle(hosts_of)
        cum, acc = [], 0.0
        for name in KIND_NAMES:
            acc += KINDS[name][0]
            cum.append(acc)
        # Compact storage: a million pages stay a few tens of MB in both processes.
        self._host = array("I", hosts_of)
        self._kind = bytearray(bisect.bisect_left(cum, rng.random() * acc) for _ in range(pages))
        self._client = bytearray(rng.randrange(CLIENTS) for _ in range(pages))
        self._target = bytearray(rng.randrange(TARGETS_PER_CLIENT) for _ in range(pages))

    # --- the model -------------------------------------------------------------------------

    def page(self, i: int) -> Page:
        return Page(i, self._host[i], KIND_NAMES[self._kind[i]], self._client[i], self._target[i])

    def pages(self):  # noqa: ANN201 - iterator of Page
        return (self.page(i) for i in range(self.n_pages))

    def host_name(self, h: int) -> str:
        return f"www.site{h}.test"

    def page_url(self, p: Page) -> str:
        return f"http://{self.host_name(p.host)}:{self.port}/articles/{p.id}-{WORDS[p.id % len(WORDS)]}.html"

    def target_url(self, p: Page) -> str:
        return f"http://www.client{p.client}.test:{self.port}/landing-{p.target}.html"

    def other_url(self, p: Page) -> str:
        return f"http://www.client{p.client}.test:{self.port}/other-{p.target}.html"

    def host_counts(self) -> list[int]:
        counts = [0] * self.n_hosts
        for h in self._host:
            counts[h] += 1
        return counts


# --- pages ------------------------------------------------------------------------------------


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(n))


class Chunks:
    """Pre-rendered HTML pieces; a page is a hash-chosen assembly of them."""

    def __init__(self, hosts: int, seed: int = 11) -> None:
        rng = random.Random(seed)
        # "@@" becomes the page id when a page is served: outbound URLs differ from page to page,
        # as on the real web, so no cache of the crawler sees the same URL again and again.
        ext = lambda: f"http://www.site{rng.randrange(hosts)}.test/articles/{rng.randrange(10**6)}@@.html"  # noqa: E731
        news = lambda: f"https://news{rng.randrange(500)}.example/{_words(rng, 1)}/{rng.randrange(10**5)}-@@"  # noqa: E731

        def nav(n: int) -> str:
            items = "".join(f'<li><a href="/category/{_words(rng, 1)}-{k}/">{_words(rng, 2).title()}</a></li>'
                            for k in range(n))
            return f'<nav class="main-nav" aria-label="Main"><ul class="menu">{items}</ul></nav>'

        self.headers = [
            '<header class="site-header"><div class="logo"><a href="/"><img src="/logo.png" alt="Home">'
            f'</a></div><div class="tagline">{_words(rng, 6)}</div>{nav(rng.randint(8, 20))}'
            '<form class="search" action="/search"><input name="q"></form></header>'
            for _ in range(16)
        ]
        self.paragraphs = []
        for _ in range(400):
            parts = []
            for _s in range(rng.randint(4, 9)):
                sentence = _words(rng, rng.randint(8, 18)).capitalize()
                r = rng.random()
                if r < 0.18:
                    sentence += f' <a href="{ext()}">{_words(rng, 3)}</a>'
                elif r < 0.30:
                    sentence += f' <a href="{news()}" rel="noopener">{_words(rng, 2)}</a>'
                elif r < 0.36:
                    sentence += f' <a href="/tag/{_words(rng, 1)}">{_words(rng, 1)}</a>'
                parts.append(sentence + ".")
            self.paragraphs.append("<p>" + " ".join(parts) + "</p>")
        self.para_links = [p.count("<a ") for p in self.paragraphs]
        self.plain = ["<p>" + " ".join(_words(rng, rng.randint(8, 18)).capitalize() + "."
                                       for _s in range(rng.randint(4, 9))) + "</p>" for _ in range(400)]
        self.sidebars = []
        for _ in range(16):
            n = rng.randint(10, 30)
            items = "".join(f'<li><a href="{ext() if rng.random() < 0.5 else news()}">{_words(rng, 4)}</a></li>'
                            for _k in range(n))
            self.sidebars.append(
                f'<aside class="sidebar widget-area"><h3>Related</h3><ul>{items}</ul>'
                f'<div class="widget"><h3>About</h3><p>{_words(rng, 40)}</p></div></aside>')
        self.footers = []
        for _ in range(16):
            n = rng.randint(8, 20)
            items = "".join(f'<li><a href="/{_words(rng, 1)}-{k}">{_words(rng, 2)}</a></li>' for k in range(n))
            self.footers.append(
                f'<footer class="site-footer"><ul class="footer-links">{items}</ul>'
                f'<p class="copyright">&copy; 2024 {_words(rng, 3)} &middot; '
                '<a href="/privacy">Privacy</a> &middot; <a href="/contact">Contact</a></p></footer>')
        self.link_counts = {
            "header": [h.count("<a ") for h in self.headers],
            "sidebar": [s.count("<a ") for s in self.sidebars],
            "footer": [f.count("<a ") for f in self.footers],
        }


def _hash(i: int, salt: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{i}:{salt}".encode(), digest_size=8).digest(), "big")


def render_page(web: Web, chunks: Chunks, p: Page) -> bytes:
    """The HTML of a referring page (status 200 kinds only)."""
    h = _hash(p.id, web.seed)
    header = h % 16
    sidebar = (h >> 4) % 16
    footer = (h >> 8) % 16
    size = 20_000 + (h >> 12) % 40_000
    first = (h >> 30) % 400
    links = chunks.link_counts["header"][header] + chunks.link_counts["sidebar"][sidebar] \
        + chunks.link_counts["footer"][footer] + 1
    want_links = 50 + (h >> 40) % 101
    planted_at = 1 + (h >> 50) % 3
    anchor = WORDS[(h >> 20) % len(WORDS)] + " " + WORDS[(h >> 25) % len(WORDS)]
    if p.kind in ("found", "nofollow"):
        rel = ' rel="nofollow"' if p.kind == "nofollow" else ""
        planted = f'<p>We recommend <a href="{web.target_url(p)}"{rel}>{anchor}</a> for more.</p>'
    elif p.kind == "target_changed":
        planted = f'<p>We recommend <a href="{web.other_url(p)}">{anchor}</a> for more.</p>'
    else:
        planted = f"<p>We used to recommend {anchor} here.</p>"
    title = f"{anchor.title()} - article {p.id}"
    head = (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{title}</title>'
            '<meta name="viewport" content="width=device-width"><link rel="stylesheet" href="/s.css">'
            "</head><body>")
    body: list[str] = [head, chunks.headers[header], f'<main><article class="post"><h1>{title}</h1>']
    length = sum(map(len, body)) + len(chunks.sidebars[sidebar]) + len(chunks.footers[footer]) + 200
    k = 0
    placed = False
    # Text up to the page's size, linked paragraphs while the link budget lasts, plain ones after.
    while length < size or (links < want_links and length < 60_000):
        if k == planted_at:
            body.append(planted)
            placed = True
        index = (first + k) % 400
        para = chunks.paragraphs[index]
        if links + chunks.para_links[index] > want_links:
            para = chunks.plain[index]
        else:
            links += chunks.para_links[index]
        body.append(para)
        length += len(para)
        k += 1
    if not placed:
        body.append(planted)
    body += ["</article></main>", chunks.sidebars[sidebar], chunks.footers[footer], "</body></html>"]
    return "".join(body).replace("@@", str(p.id)).encode()


# --- the server ---------------------------------------------------------------------------------

ROBOTS = b"User-agent: *\nDisallow: /private/\n"
TARGET_BODY = b"<!DOCTYPE html><html><head><title>Landing</title></head><body><h1>Welcome</h1></body></html>"


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.by_path: dict[str, int] = {}
        self.in_flight: dict[str, int] = {}
        self.max_in_flight: dict[str, int] = {}
        self.last_start: dict[str, float] = {}
        self.min_gap: dict[str, float] = {}
        self.count: dict[str, int] = {}
        self.first = None
        self.last = None
        self.cpu0 = _cpu()

    def start(self, slot: str) -> float:
        now = time.monotonic()
        self.requests += 1
        if self.first is None:
            self.first = now
        self.last = now
        prev = self.last_start.get(slot)
        if prev is not None:
            gap = now - prev
            if gap < self.min_gap.get(slot, 1e9):
                self.min_gap[slot] = gap
        self.last_start[slot] = now
        self.count[slot] = self.count.get(slot, 0) + 1
        n = self.in_flight.get(slot, 0) + 1
        self.in_flight[slot] = n
        if n > self.max_in_flight.get(slot, 0):
            self.max_in_flight[slot] = n
        return now

    def end(self, slot: str) -> None:
        self.in_flight[slot] -= 1

    def report(self) -> dict:
        most = max(self.count.items(), key=lambda kv: kv[1], default=("", 0))
        return {
            "requests": self.requests,
            "hosts": len(self.count),
            "max_in_flight_per_host": max(self.max_in_flight.values(), default=0),
            "min_gap_per_host": min(self.min_gap.values(), default=None),
            "busiest_host": most[0],
            "busiest_host_requests": most[1],
            "server_cpu_s": _cpu() - self.cpu0,
            "span_s": (self.last - self.first) if self.first is not None else 0.0,
        }


def _cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def slot_of(host: str) -> str:
    # www.site12.test -> site12.test (the crawler's registrable-domain slot)
    parts = host.split(".")
    return ".".join(parts[-2:]) if len(parts) >= 2 else host


class Server:
    def __init__(self, web: Web, latency: tuple[float, float]) -> None:
        self.web = web
        self.chunks = Chunks(web.n_hosts)
        self.latency = latency
        self.stats = Stats()
        self.rng = random.Random(5)
        self.done = asyncio.Event()

    def respond(self, host: str, path: str) -> tuple[int, bytes, list[tuple[str, str]]]:
        if path == "/robots.txt":
            return 200, ROBOTS, [("Content-Type", "text/plain")]
        if host.startswith("www.client"):
            if path.startswith("/landing-") or path.startswith("/other-"):
                return 200, TARGET_BODY, [("Content-Type", "text/html; charset=utf-8")]
            return 404, b"not here", [("Content-Type", "text/plain")]
        if path.startswith("/moved/"):
            return 200, b"<html><head><title>Moved</title></head><body><p>Nothing to see</p></body></html>", \
                [("Content-Type", "text/html; charset=utf-8")]
        if not path.startswith("/articles/"):
            return 404, b"not found", [("Content-Type", "text/plain")]
        try:
            pid = int(path[10:].split("-", 1)[0])
            p = self.web.page(pid)
        except (ValueError, IndexError):
            return 404, b"not found", [("Content-Type", "text/plain")]
        if self.web.host_name(p.host) != host:
            return 404, b"wrong host", [("Content-Type", "text/plain")]
        if p.kind == "not_found":
            return 404, b"<html><body>Not found</body></html>", [("Content-Type", "text/html")]
        if p.kind == "gone":
            return 410, b"<html><body>Gone</body></html>", [("Content-Type", "text/html")]
        if p.kind == "blocked":
            return 403, b"<html><body>Forbidden</body></html>", [("Content-Type", "text/html")]
        if p.kind == "redirected":
            return 301, b"", [("Location", f"/moved/{pid}.html")]
        return 200, render_page(self.web, self.chunks, p), [("Content-Type", "text/html; charset=utf-8")]


REASONS = {200: "OK", 301: "Moved Permanently", 403: "Forbidden", 404: "Not Found", 410: "Gone"}


class HttpProtocol(asyncio.Protocol):
    def __init__(self, server: Server) -> None:
        self.server = server
        self.buf = b""
        self.transport = None
        self.busy = False

    def connection_made(self, transport) -> None:  # noqa: ANN001
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        self._next()

    def _next(self) -> None:
        if self.busy:
            return
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head, self.buf = self.buf[:end].decode("latin-1"), self.buf[end + 4:]
        lines = head.split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            self.transport.close()
            return
        host = ""
        close = False
        for line in lines[1:]:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "host":
                host = value.strip().lower().rsplit(":", 1)[0] if not value.strip().startswith("[") else value
            elif name == "connection" and value.strip().lower() == "close":
                close = True
        if "://" in target:  # absolute-form
            target = "/" + target.split("://", 1)[1].split("/", 1)[-1]
        srv = self.server
        if host == "control.bench":
            self._control(target)
            return
        slot = slot_of(host)
        srv.stats.start(slot)
        status, body, headers = srv.respond(host, target)
        out = [f"HTTP/1.1 {status} {REASONS.get(status, 'X')}", f"Content-Length: {len(body)}"]
        out += [f"{k}: {v}" for k, v in headers]
        if close:
            out.append("Connection: close")
        data = ("\r\n".join(out) + "\r\n\r\n").encode("latin-1") + (body if method != "HEAD" else b"")
        lo, hi = srv.latency
        if hi > 0:
            self.busy = True
            asyncio.get_running_loop().call_later(lo + (hi - lo) * srv.rng.random(), self._send, slot, data, close)
        else:
            self._send(slot, data, close)

    def _send(self, slot: str, data: bytes, close: bool) -> None:
        self.busy = False
        self.server.stats.end(slot)
        if self.transport.is_closing():
            return
        self.transport.write(data)
        if close:
            self.transport.close()
        elif self.buf:
            self._next()

    def _control(self, target: str) -> None:
        srv = self.server
        if target.startswith("/__stats"):
            body = json.dumps(srv.stats.report()).encode()
            srv.stats.reset()
        elif target.startswith("/__quit"):
            body = b"bye"
            srv.done.set()
        else:
            body = b"{}"
        self.transport.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: "
                             + str(len(body)).encode() + b"\r\nConnection: close\r\n\r\n" + body)
        self.transport.close()


async def serve(web_args: dict, latency: tuple[float, float], port: int) -> None:
    loop = asyncio.get_running_loop()
    web = Web(**web_args)
    server = Server(web, latency)
    srv = await loop.create_server(lambda: HttpProtocol(server), "127.0.0.1", port, backlog=1024)
    real_port = srv.sockets[0].getsockname()[1]
    web.port = real_port
    print(json.dumps({"port": real_port, "pid": os.getpid()}), flush=True)
    await server.done.wait()
    srv.close()


def parse_latency(text: str) -> tuple[float, float]:
    """"20-200" (milliseconds) or "0" -> (min, max) seconds."""
    lo, _, hi = text.partition("-")
    lo_f = float(lo) / 1000
    return lo_f, (float(hi) / 1000 if hi else lo_f)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["serve", "sample"])
    ap.add_argument("--pages", type=int, default=1000)
    ap.add_argument("--hosts", type=int, default=100)
    ap.add_argument("--zipf", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--latency", default="0", help="MIN-MAX milliseconds per response")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args(argv)
    web_args = {"pages": args.pages, "hosts": args.hosts, "zipf": args.zipf, "seed": args.seed}
    if args.command == "serve":
        asyncio.run(serve(web_args, parse_latency(args.latency), args.port))
        return 0
    web = Web(**web_args)
    chunks = Chunks(web.n_hosts)
    sizes, links = [], []
    t0 = time.perf_counter()
    for p in web.pages():
        html = render_page(web, chunks, p)
        sizes.append(len(html))
        links.append(html.count(b"<a "))
    dt_ = time.perf_counter() - t0
    print(f"{len(sizes)} pages: {min(sizes)}-{max(sizes)} bytes (mean {sum(sizes) / len(sizes):.0f}), "
          f"{min(links)}-{max(links)} links (mean {sum(links) / len(links):.0f}), "
          f"{dt_ / len(sizes) * 1e6:.0f} us per page rendered")
    return 0


if __name__ == "__main__":
    sys.exit(main())
