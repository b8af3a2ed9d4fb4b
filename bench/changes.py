"""Benchmark: `linkcrawler changes` between two runs of 1,000,000 results on SQLite.

Targets (issue 6): under 10 s wall time and under 500 MiB peak RSS for the whole command.

    python bench/changes.py                      # builds /tmp/lc-bench-changes.db once, then times
    python bench/changes.py --n 200000 --rebuild

The database is built with bulk inserts through the sqlite3 module (the schema comes from
linkcrawler.db). The second run differs from the first the way a bad night does: ~3% lost,
~1% recovered, ~1% new, ~4% with a changed field, ~5% unverified (carried over), ~2% lost in
both runs; the rest unchanged. The timed part is the real CLI in a fresh process
(`python -m linkcrawler changes --format jsonl > /dev/null`), so start-up, the queries, the
Python loop and the JSON output are all in the figure; peak RSS is that process's.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

LIVE_ROW = ("live", "found", 1, "", "body", "Best running shoes", 1, 0)


def kind_of(i: int) -> str:
    """A deterministic, well-mixed category for backlink i (no random module: reproducible)."""
    h = (i * 2654435761) % 1000
    if h < 30:
        return "lost"  # live -> lost
    if h < 40:
        return "recovered"  # lost -> live (after an earlier live run... see build)
    if h < 50:
        return "new"  # unverified -> live, never live before
    if h < 90:
        return "changed"
    if h < 140:
        return "unverified"  # live -> timeout: carried over, no event
    if h < 160:
        return "still_lost"
    return "same"


def build(path: Path, n: int) -> None:
    from linkcrawler.db import open_database

    if path.exists():
        path.unlink()
    for suffix in ("-wal", "-shm"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    open_database(f"sqlite:///{path}").engine.dispose()  # the schema, with every index
    con = sqlite3.connect(path)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-200000")
    now = dt.datetime(2025, 1, 1).isoformat(sep=" ")
    t0 = time.perf_counter()
    with con:
        con.executemany(
            "INSERT INTO pages (id, url, url_key, host) VALUES (?, ?, ?, ?)",
            ((i, f"https://site{i % 50000}.example/page/{i}", f"{i:064x}", f"site{i % 50000}.example")
             for i in range(1, n + 1)),
        )
        con.executemany(
            "INSERT INTO backlinks (id, page_id, source_url, target, target_kind, target_norm,"
            " target_key, created_at) VALUES (?, ?, ?, ?, 'url', ?, ?, ?)",
            ((i, i, f"https://site{i % 50000}.example/page/{i}", "https://mysite.test/shoes",
              "https://mysite.test/shoes", f"{i:064x}", now) for i in range(1, n + 1)),
        )
        # run 1 is preceded by a small run 0 in which the "recovered" backlinks were live, so
        # their lost result in run 1 is a real loss and run 2's live result a recovery.
        for run_id in (1, 2, 3):
            con.execute("INSERT INTO runs (id, kind, state, started_at, max_backlink_id, owner, options)"
                        " VALUES (?, 'verify', 'completed', ?, ?, '', '{}')", (run_id, now, n))
        con.executemany(_INSERT, (_row(1, i, _live(i)) for i in range(1, n + 1)
                                  if kind_of(i) == "recovered"))
        con.executemany(_INSERT, (_row(2, i, _first(i)) for i in range(1, n + 1)))
        con.executemany(_INSERT, (_row(3, i, _second(i)) for i in range(1, n + 1)))
    con.close()
    print(f"built {path} ({n} backlinks, 2 runs of {n} results) in {time.perf_counter() - t0:.1f} s",
          file=sys.stderr)


_INSERT = ("INSERT INTO results (run_id, backlink_id, status, reason, follow, rel, position,"
           " anchor_text, indexable, hidden, link_url, final_url, http_status, redirects, links,"
           " unmet, attempts, checked_at, match) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
           " '[]', '[]', '[]', 1, '2025-01-01 00:00:00', ?)")


def _live(i: int) -> tuple:
    return LIVE_ROW


def _lost(reason: str = "link_removed") -> tuple:
    return ("lost", reason, None, None, None, None, None, None)


def _first(i: int) -> tuple:
    kind = kind_of(i)
    if kind in ("recovered", "still_lost"):
        return _lost()
    if kind == "new":
        return ("unverified", "timeout", None, None, None, None, None, None)
    return LIVE_ROW


def _second(i: int) -> tuple:
    kind = kind_of(i)
    if kind in ("lost", "still_lost"):
        return _lost("page_not_found")
    if kind == "unverified":
        return ("unverified", "timeout", None, None, None, None, None, None)
    if kind == "changed":
        status, reason, follow, rel, position, anchor, indexable, hidden = LIVE_ROW
        which = i % 4
        if which == 0:
            return (status, reason, 0, "nofollow", position, anchor, indexable, hidden)
        if which == 1:
            return (status, reason, follow, rel, "footer", anchor, indexable, hidden)
        if which == 2:
            return (status, reason, follow, rel, position, "click here", indexable, hidden)
        return (status, reason, follow, rel, position, anchor, 0, hidden)
    return LIVE_ROW


def _row(run_id: int, i: int, values: tuple) -> tuple:
    status, reason, follow, rel, position, anchor, indexable, hidden = values
    live = status == "live"
    return (run_id, i, status, reason, follow, rel, position, anchor, indexable, hidden,
            "https://mysite.test/shoes" if live else None,
            f"https://site{i % 50000}.example/page/{i}" if status != "unverified" else None,
            200 if status != "unverified" else None, "exact" if live else None)


def time_cli(path: Path) -> tuple[float, float, int]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "changes", "--db", f"sqlite:///{path}",
         "--from", "2", "--to", "3", "--format", "jsonl"],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )
    if proc.returncode != 0:
        sys.exit(f"changes failed ({proc.returncode}):\n{proc.stderr.decode(errors='replace')}")
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.stdout.count(b"\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="backlinks (results per run)")
    parser.add_argument("--db", type=Path, default=Path("/tmp/lc-bench-changes.db"))
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    marker = Path(str(args.db) + f".n{args.n}")
    if args.rebuild or not args.db.exists() or not marker.exists():
        for old in args.db.parent.glob(args.db.name + ".n*"):
            old.unlink()
        build(args.db, args.n)
        marker.touch()
    best = None
    for _ in range(args.repeat):
        wall, cpu, events = time_cli(args.db)
        best = wall if best is None else min(best, wall)
        print(f"changes run 2 -> run 3: {events} events in {wall:.2f} s wall, {cpu:.2f} s CPU "
              f"({events / wall:,.0f} events/s, {args.n / wall:,.0f} results/s per side)")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    # The wall time is what the target is about; the CPU time shows what it would be on an
    # idle machine when other work competes for the cores.
    print(f"best wall {best:.2f} s (target < 10 s); peak RSS {peak_mib:.0f} MiB (target < 500 MiB); "
          f"cpus {os.cpu_count()}, load {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
