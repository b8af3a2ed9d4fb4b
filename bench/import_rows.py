"""Time `linkcrawler import` of a generated CSV (issue 5: 1,000,000 rows in under 60 s).

    python bench/import_rows.py                      # 1,000,000 rows into a fresh SQLite file
    python bench/import_rows.py --rows 100000 --pg postgresql+psycopg://postgres@127.0.0.1/test

Runs the real CLI in a subprocess (as a user would), then re-imports the same file to time
the "nothing new" path. Prints rows/s and the peak RSS of the import process.
"""

from __future__ import annotations

import argparse
import random
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path


def generate(path: Path, rows: int, seed: int = 1) -> None:
    rnd = random.Random(seed)
    hosts = [f"blog{i}.site{i % 5000}.example" for i in range(20000)]
    targets = ["https://www.mysite.test/", "https://www.mysite.test/pricing", "mysite.test",
               "https://www.mysite.test/blog/*"]
    rels = ["", "", "follow", "nofollow", "any"]
    with path.open("w", encoding="utf-8", newline="") as f:
        f.write("source_url,target_url,expected_anchor,expected_rel,tags,expires,notes\n")
        for i in range(rows):
            host = hosts[rnd.randrange(len(hosts))]
            f.write(
                f"https://{host}/posts/{i}/a-post-about-things?ref={i % 97},"
                f"{targets[i % len(targets)]},my site {i % 13},{rels[i % len(rels)]},"
                f"bench;batch{i % 10},{'2030-01-01' if i % 7 == 0 else ''},row {i}\n"
            )


def run_import(csv_path: Path, db_url: str) -> tuple[float, float, float, str]:
    """(seconds, CPU seconds, peak RSS MiB of the child, stdout) of one `linkcrawler import`.

    CPU time is printed too because wall time on a shared machine says more about the
    neighbours than about the import."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "linkcrawler", "import", str(csv_path), "--db", db_url],
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"import failed ({proc.returncode}):\n{proc.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss of children is the maximum over all children so far; the import is the
    # biggest process we start, so this is its peak (KiB on Linux).
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    return seconds, cpu, max(usage.ru_maxrss, before) / 1024, proc.stdout


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pg", metavar="ADMIN_URL", help="also time PostgreSQL (a scratch database is created)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="lc-bench-"))
    csv_path = tmp / "backlinks.csv"
    t = time.perf_counter()
    generate(csv_path, args.rows)
    print(f"generated {args.rows:,} rows ({csv_path.stat().st_size / 2**20:.0f} MiB) in {time.perf_counter() - t:.1f} s")

    targets = [("sqlite", f"sqlite:///{tmp / 'bench.db'}")]
    scratch = None
    if args.pg:
        from sqlalchemy import create_engine, text
        from sqlalchemy.engine import make_url

        scratch = f"lc_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(args.pg, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{scratch}"'))
        targets.append(("postgresql", make_url(args.pg).set(database=scratch).render_as_string(hide_password=False)))
    try:
        for name, url in targets:
            for label in ("first import", "re-import"):
                seconds, cpu, rss, out = run_import(csv_path, url)
                added = next((ln.split()[-1] for ln in out.splitlines() if "backlinks added" in ln), "?")
                print(f"{name}: {label:12}  {seconds:6.1f} s  {args.rows / seconds:9,.0f} rows/s  "
                      f"CPU {cpu:6.1f} s  peak RSS {rss:.0f} MiB  (added {added})", flush=True)
    finally:
        if scratch:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{scratch}" WITH (FORCE)'))
        if not args.keep:
            for p in tmp.iterdir():
                p.unlink()
            tmp.rmdir()
        else:
            print(f"files kept in {tmp}")


if __name__ == "__main__":
    main()
