"""Verify benchmark: speed and politeness of `linkcrawler verify` on a synthetic web, against
two reference crawlers measured in the same run on the same pages.

    python bench/verify.py --mode throughput      # 10,000 pages, no delay, no latency
    python bench/verify.py --mode politeness      # delay 1 s, latency 20-200 ms, 500 hosts, Zipf
    python bench/verify.py --mode memory          # 100,000 backlinks, linkcrawler only
    python bench/verify.py --mode memory --pages 1000000
    options: [--pages N] [--hosts H] [--delay D] [--latency MIN-MAX (ms)] [--zipf S]
             [--concurrency N] [--crawlers linkcrawler,scrapy-sites,scrapy,requests] [--keep DIR] [--json FILE]
             [--recheck live|all|none]

The web (bench/webgen.py) is served on 127.0.0.1 by an asyncio server in its own process; host
names reach it through `--resolve '*:PORT:127.0.0.1'` (linkcrawler), a resolver answering
127.0.0.1 for every name (scrapy-sites) or a Host header (scrapy, requests), and `-s LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:PORT"]` lets linkcrawler's
address guard allow that one endpoint. One backlink per referring page, with planted truth:
found, found nofollow, target_changed, link_removed, 404, 410, 301 to a page without the link
(page_redirected), 403 (blocked).

Crawlers, each a subprocess whose peak RSS comes from wait4():
- linkcrawler: `python -m linkcrawler verify --db sqlite:///... --delay D --concurrency C
  --recheck-delay D --no-progress ...` after an untimed `import`; correct = export's
  (status, reason, follow) equal the planted truth for every backlink;
- scrapy-sites: bench/reference_scrapy.py (fetch + body search, concurrency C), each page from
  its own URL, every host name resolving to 127.0.0.1 at once (a warm DNS cache): what a real
  crawl of these sites must do, so it has one download slot and connection pool per site, as
  linkcrawler does; correct = "target present" equal the truth (only found/nofollow pages);
- scrapy: the same spider with every request sent to 127.0.0.1:PORT with a Host header, as this
  bench first measured it: Scrapy then sees one site (one slot, 32 connections reused for all
  pages), which no crawl of 1,000 real sites can do; 13% faster than scrapy-sites here;
- requests: bench/reference_requests.py (16 threads, requests + BeautifulSoup html.parser).

Printed per crawler: wall, pages/s (referring pages / wall), peak RSS, correct/total,
server-side requests, max in flight per host and smallest gap between two request starts to a
host, the server's CPU seconds during that crawl. For linkcrawler also: the ratios of its
pages/s to each reference's, and the politeness lower bound = max(busiest host's pages x
delay, pages / concurrency x mean latency) with efficiency = bound / wall. A second bound
counts the requests the busiest host must get (robots.txt, each lost page's in-run re-check,
redirect hops) — linkcrawler's real minimum under its own contract.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
# The checkout holding this script is what gets measured (cwd and PYTHONPATH), whatever is installed.

from webgen import KINDS, Web, parse_latency  # noqa: E402

PRESETS = {
    "throughput": {"pages": 10_000, "hosts": 1000, "delay": 0.0, "latency": "0", "zipf": 0.5,
                   "crawlers": "linkcrawler,scrapy-sites,scrapy,requests"},
    "politeness": {"pages": 2000, "hosts": 500, "delay": 1.0, "latency": "20-200", "zipf": 1.0,
                   "crawlers": "linkcrawler,scrapy-sites,scrapy,requests"},
    "memory": {"pages": 100_000, "hosts": 5000, "delay": 0.0, "latency": "0", "zipf": 0.5,
               "crawlers": "linkcrawler"},
}
# Requests a page of each kind costs linkcrawler: a 301 is two requests; a lost-looking page
# is fetched once more in the run (DESIGN §6) under `--recheck all` only, since every backlink
# of the bench's fresh database is new (the default re-checks links last seen live).
REQUEST_COST = {"redirected": 2}
RECHECKED_COST = {"link_removed": 2, "not_found": 2, "gone": 2, "redirected": 4}


def env_for(root: Path) -> dict:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")]))}


_PAGE = os.sysconf("SC_PAGE_SIZE")


def tree_rss(pid: int) -> int:
    """Resident bytes of `pid` and all its descendants now (a crawl with parse workers is
    several processes; ru_maxrss would give the largest one, not their sum)."""
    parent: dict[int, int] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                with open(f"/proc/{entry.name}/stat", "rb") as f:
                    parent[int(entry.name)] = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
    tree, frontier = {pid}, [pid]
    while frontier:
        frontier = [c for c, p in parent.items() if p in frontier and c not in tree]
        tree.update(frontier)
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/statm", "rb") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            pass
    return total


class RssSampler(threading.Thread):
    """Samples tree_rss(pid) every `every` seconds until the process ends."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.samples: list[tuple[float, int]] = []
        self.done = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self.done.wait(self.every):
            rss = tree_rss(self.pid)
            if rss:
                self.samples.append((time.perf_counter() - t0, rss))


def run_measured(cmd: list[str], *, stdout: int | None = subprocess.DEVNULL, root: Path = ROOT,
                 log: Path | None = None) -> tuple[float, float, int, float, list[tuple[float, int]]]:
    """Run cmd; (wall seconds, peak RSS MiB of the process tree, exit status, CPU seconds of
    the process and its reaped children, RSS samples) of that one command."""
    err = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=err, env=env_for(root), cwd=root)
    sampler = RssSampler(proc.pid)
    sampler.start()
    _pid, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    sampler.done.set()
    sampler.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if log:
        err.close()
    peak = max([usage.ru_maxrss * 1024] + [rss for _t, rss in sampler.samples]) / 2**20
    return wall, peak, proc.returncode, usage.ru_utime + usage.ru_stime, sampler.samples


class WebServer:
    def __init__(self, args: argparse.Namespace) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(HERE / "webgen.py"), "serve", "--pages", str(args.pages), "--hosts",
             str(args.hosts), "--zipf", str(args.zipf), "--seed", str(args.seed), "--latency", args.latency],
            stdout=subprocess.PIPE, text=True)
        info = json.loads(self.proc.stdout.readline())
        self.port = info["port"]

    def control(self, path: str) -> dict:
        req = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers={"Host": "control.bench"})
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(req, timeout=30) as response:
            body = response.read()
        return json.loads(body) if body.startswith(b"{") else {}

    def stats(self) -> dict:
        return self.control("/__stats")

    def stop(self) -> None:
        try:
            self.control("/__quit")
        except OSError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


# The crawl's -v log line (linkcrawler.parsing) saying how the parsing was split.
PARSE_SPLIT = re.compile(r"pages parsed: (?P<workers>\d+) by parse workers, (?P<inline>\d+) in the crawl "
                         r"process \((?P<cpu>[\d.]+) CPU s\)")


def lc(*args: str) -> list[str]:
    return [sys.executable, "-m", "linkcrawler", *args]


def run_linkcrawler(web: Web, server: WebServer, args: argparse.Namespace, work: Path, root: Path = ROOT,
                    label: str = "linkcrawler", attempt: int = 0) -> dict:
    """`label` "linkcrawler@DIR" measures the checkout in DIR (e.g. a worktree of the previous
    commit), so a before/after pair runs against the same server in the same run."""
    ENV = env_for(root)  # noqa: N806
    ROOT = root  # noqa: N806
    csv_path = work / "backlinks.csv"
    db = f"sqlite:///{work / (label.replace('/', '_') + f'-{attempt}.db')}"
    t0 = time.perf_counter()
    subprocess.run(lc("import", str(csv_path), "--db", db), check=True, stdout=subprocess.DEVNULL, env=ENV, cwd=ROOT)
    import_s = time.perf_counter() - t0
    server.stats()  # reset
    cmd = lc("verify", "--db", db, "--delay", str(args.delay), "--concurrency", str(args.concurrency),
             "--recheck-delay", str(args.delay), "--timeout", "30", "--no-progress", "-v",
             "--resolve", f"*:{web.port}:127.0.0.1",
             "-s", f'LINKCRAWLER_ALLOWED_ENDPOINTS=["127.0.0.1:{web.port}"]', *args.lc_arg)
    if args.recheck:
        cmd += ["--recheck", args.recheck]
    print("  $ " + " ".join(cmd[2:]), file=sys.stderr)
    # LCBENCH_WRAP="py-spy record --subprocesses -f raw -o /tmp/lc.txt --" profiles the crawl
    # (its figures then include the profiler's overhead).
    cmd = os.environ.get("LCBENCH_WRAP", "").split() + cmd
    wall, rss, code, cpu, samples = run_measured(cmd, root=root, log=work / f"{label.replace('/', '_')}.log")
    srv = server.stats()
    results = subprocess.run(lc("export", "--db", db, "--format", "jsonl"), check=True, env=ENV, cwd=ROOT,
                             capture_output=True, text=True).stdout.splitlines()
    got = {}
    for line in results:
        row = json.loads(line)
        got[row["source_url"]] = (row["status"], row["reason"], row["follow"] if row["status"] == "live" else None)
    correct, wrong = 0, []
    for p in web.pages():
        status, reason, follow, _present = p.truth
        want = (status, reason, follow)
        have = got.get(web.page_url(p))
        if have == want:
            correct += 1
        elif len(wrong) < 5:
            wrong.append((web.page_url(p), want, have))
    split = PARSE_SPLIT.search((work / f"{label.replace('/', '_')}.log").read_text(errors="replace"))
    return {"crawler": label, "wall": wall, "cpu": cpu, "rss": rss, "exit": code, "correct": correct,
            "results": len(got), "server": srv, "wrong": wrong, "import_s": import_s, "rss_samples": samples,
            "crawl_cpu": float(split["cpu"]) if split else None,
            "parsed": (int(split["workers"]), int(split["inline"])) if split else None}


def run_reference(name: str, web: Web, server: WebServer, args: argparse.Namespace, work: Path,
                  attempt: int = 0) -> dict:
    out = work / f"{name}-{attempt}.jsonl"
    script = HERE / f"reference_{name.split('-')[0]}.py"
    cmd = [sys.executable, str(script), str(work / "backlinks.csv"), str(out)]
    # scrapy-sites: each page from its own host (names resolved to the server, like linkcrawler's
    # --resolve); scrapy and requests: every page through one connection address + Host header.
    cmd += ["--resolve-to", "127.0.0.1"] if name == "scrapy-sites" else ["--connect", f"127.0.0.1:{web.port}"]
    if name.startswith("scrapy"):
        cmd += ["--concurrency", str(args.concurrency)]
    server.stats()
    print("  $ " + " ".join(cmd[1:]), file=sys.stderr)
    wall, rss, code, cpu, samples = run_measured(cmd, log=work / f"{name}.log")
    srv = server.stats()
    got = {}
    if out.exists():
        for line in out.read_text().splitlines():
            row = json.loads(line)
            got[row["source_url"]] = row["present"]
    correct, wrong = 0, []
    for p in web.pages():
        want = p.truth[3]
        have = got.get(web.page_url(p))
        if have == want:
            correct += 1
        elif len(wrong) < 5:
            wrong.append((web.page_url(p), want, have))
    return {"crawler": name, "wall": wall, "cpu": cpu, "rss": rss, "exit": code, "correct": correct, "results": len(got),
            "server": srv, "wrong": wrong, "rss_samples": samples}


def bounds(web: Web, args: argparse.Namespace) -> dict:
    counts = web.host_counts()
    busiest = max(range(len(counts)), key=counts.__getitem__)
    lo, hi = parse_latency(args.latency)
    mean_latency = (lo + hi) / 2
    spec = max(counts[busiest] * args.delay, web.n_pages / args.concurrency * mean_latency)
    requests = [1] * web.n_hosts  # robots.txt
    total_requests = web.n_hosts
    costs = RECHECKED_COST if args.recheck == "all" else REQUEST_COST
    for p in web.pages():
        cost = costs.get(p.kind, 1)
        requests[p.host] += cost
        total_requests += cost
    heaviest = max(requests)
    contract = max((heaviest - 1) * args.delay, total_requests / args.concurrency * mean_latency)
    return {"busiest_pages": counts[busiest], "bound": spec, "bound_requests": contract,
            "heaviest_requests": heaviest, "mean_latency": mean_latency}


def median_run(runs: list[dict]) -> dict:
    """The run with the median wall time (its figures stay consistent with each other), with
    the worst correctness and politeness figures of all the runs."""
    ordered = sorted(runs, key=lambda r: r["wall"])
    row = dict(ordered[(len(ordered) - 1) // 2])
    row["walls"] = [r["wall"] for r in runs]
    row["correct"] = min(r["correct"] for r in runs)
    row["wrong"] = next((r["wrong"] for r in runs if r["wrong"]), [])
    gaps = [r["server"]["min_gap_per_host"] for r in runs if r["server"]["min_gap_per_host"] is not None]
    row["server"] = {**row["server"], "min_gap_per_host": min(gaps, default=None),
                     "max_in_flight_per_host": max(r["server"]["max_in_flight_per_host"] for r in runs)}
    return row


def fmt_gap(value: float | None) -> str:
    return "-" if value is None else f"{value * 1000:.0f} ms"


def print_table(rows: list[dict], web: Web, args: argparse.Namespace, b: dict) -> None:
    n = web.n_pages
    print(f"\nmode {args.mode}: {n} pages on {web.n_hosts} hosts (zipf {args.zipf}, busiest host "
          f"{b['busiest_pages']} pages), delay {args.delay} s, latency {args.latency} ms, "
          f"concurrency {args.concurrency}")
    head = (f"{'crawler':<22} {'wall s':>8} {'CPU s':>7} {'pages/s':>8} {'pages/CPU s':>11} {'peak RSS':>9} {'correct':>13} {'requests':>8} "
            f"{'max infl/host':>13} {'min gap/host':>12} {'server CPU':>10}")
    print(head)
    print("-" * len(head))
    for r in rows:
        s = r["server"]
        print(f"{r['crawler'][:22]:<22} {r['wall']:>8.1f} {r['cpu']:>7.1f} {n / r['wall']:>8.1f} {n / r['cpu']:>11.1f} {r['rss']:>6.0f} MiB "
              f"{r['correct']:>6}/{n:<6} {s['requests']:>8} {s['max_in_flight_per_host']:>13} "
              f"{fmt_gap(s['min_gap_per_host']):>12} {s['server_cpu_s']:>8.1f} s")
    if len(rows[0].get("walls", ())) > 1:
        print(f"each row: the median of {len(rows[0]['walls'])} runs by wall time (order rotated each round; "
              "correct, max in flight and min gap: the worst run); walls: "
              + "; ".join(f"{r['crawler']} " + ", ".join(f"{w:.1f}" for w in r["walls"]) for r in rows))
    mine = next((r for r in rows if r["crawler"] == "linkcrawler"), None)
    if mine is None:
        return
    rate = n / mine["wall"]
    for r in rows:
        if r is not mine:
            print(f"linkcrawler / {r['crawler']}: {rate / (n / r['wall']):.2f}x pages/s, "
                  f"{r['cpu'] / mine['cpu']:.2f}x pages per CPU second")
    if mine.get("crawl_cpu") is not None:
        # The crawl process runs Scrapy and is the one that saturates first: its CPU per request
        # against a reference's whole CPU per request says how much of a gap is the framework.
        workers, inline = mine["parsed"]
        reqs = mine["server"]["requests"]
        print(f"linkcrawler crawl process: {mine['crawl_cpu']:.1f} CPU s = {1000 * mine['crawl_cpu'] / max(reqs, 1):.2f} ms "
              f"per request, {reqs / n:.2f} requests per page; parse workers {mine['cpu'] - mine['crawl_cpu']:.1f} CPU s; "
              f"pages parsed by workers / by the crawl process: {workers} / {inline}")
        for r in rows:
            if r is mine or not r["server"]["requests"]:
                continue
            # a reference is one process; another linkcrawler checkout counts its crawl process
            reference = r["crawler"] in ("scrapy", "scrapy-sites", "requests")
            cpu = r["cpu"] if reference else r.get("crawl_cpu")
            if cpu is not None:
                print(f"  {r['crawler']}: {1000 * cpu / r['server']['requests']:.2f} ms CPU per request"
                      f"{'' if reference else ' in the crawl process'}, "
                      f"{r['server']['requests'] / n:.2f} requests per page")
    print(f"politeness lower bound: {b['bound']:.1f} s (busiest host {b['busiest_pages']} pages x {args.delay} s; "
          f"{n} pages / {args.concurrency} x {b['mean_latency'] * 1000:.0f} ms) -> efficiency "
          f"{b['bound'] / mine['wall']:.2f}, wall / bound {mine['wall'] / b['bound']:.2f}"
          if b["bound"] > 0 else "politeness lower bound: 0 (no delay, no latency)")
    if b["bound_requests"] > 0:
        print(f"bound counting the busiest host's required requests ({b['heaviest_requests']}: robots.txt, "
              f"redirect hops, re-checks if any): {b['bound_requests']:.1f} s -> efficiency "
              f"{b['bound_requests'] / mine['wall']:.2f}")
    print(f"linkcrawler import (untimed above): {mine['import_s']:.1f} s; exit {mine['exit']}")
    samples = mine.get("rss_samples") or []
    if samples:
        # Memory that grows with the run shows here long before it shows in the peak.
        at = [samples[min(len(samples) - 1, int(len(samples) * q))][1] / 2**20 for q in (0.1, 0.25, 0.5, 0.75, 0.99)]
        print("linkcrawler RSS of the process tree at 10/25/50/75/99% of the run: "
              + " / ".join(f"{v:.0f}" for v in at) + " MiB")
    for r in rows:
        if r["wrong"]:
            print(f"{r['crawler']} wrong (first {len(r['wrong'])}): {r['wrong']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mode", choices=list(PRESETS), default="throughput")
    ap.add_argument("--pages", type=int)
    ap.add_argument("--hosts", type=int)
    ap.add_argument("--delay", type=float)
    ap.add_argument("--latency", help="MIN-MAX milliseconds per response, e.g. 20-200")
    ap.add_argument("--zipf", type=float)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--crawlers", help="comma-separated subset of linkcrawler,scrapy,scrapy-sites,requests (and linkcrawler@CHECKOUT)")
    ap.add_argument("--lc-arg", action="append", default=[], help="extra argument for linkcrawler verify")
    ap.add_argument("--recheck", choices=["live", "all", "none"], default=None,
                    help="linkcrawler verify --recheck (its default, live, re-checks nothing on the "
                         "bench's fresh database; all: every lost-looking page, as before)")
    ap.add_argument("--keep", help="work directory to keep (default: a temporary one)")
    ap.add_argument("--json", help="also write the figures as JSON here")
    ap.add_argument("--repeat", type=int, default=1,
                    help="run every crawler this many times, in rotated order, and report the median run")
    args = ap.parse_args(argv)
    for key, value in PRESETS[args.mode].items():
        if getattr(args, key) is None:
            setattr(args, key, value)

    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="lc-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    server = WebServer(args)
    try:
        web = Web(args.pages, args.hosts, args.zipf, args.seed, port=server.port)
        with (work / "backlinks.csv").open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["source_url", "target_url"])
            for p in web.pages():
                w.writerow([web.page_url(p), web.target_url(p)])
        mix = {k: 0 for k in KINDS}
        for p in web.pages():
            mix[p.kind] += 1
        print(f"planted truth: {mix}", file=sys.stderr)
        b = bounds(web, args)
        names = args.crawlers.split(",")
        runs: dict[str, list[dict]] = {name: [] for name in names}
        for attempt in range(args.repeat):
            # Rotate the order, so no crawler always runs when the shared machine is busiest.
            k = attempt % len(names)
            for name in names[k:] + names[:k]:
                print(f"running {name} ({attempt + 1}/{args.repeat}) ...", file=sys.stderr)
                if name == "linkcrawler":
                    row = run_linkcrawler(web, server, args, work, attempt=attempt)
                elif name.startswith("linkcrawler@"):
                    row = run_linkcrawler(web, server, args, work, Path(name.split("@", 1)[1]), name, attempt)
                else:
                    row = run_reference(name, web, server, args, work, attempt)
                runs[name].append(row)
        rows = [median_run(runs[name]) for name in names]
        print_table(rows, web, args, b)
        if args.json:
            Path(args.json).write_text(json.dumps({"args": vars(args), "bounds": b, "rows": rows}, indent=1))
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
