"""Running the real `linkcrawler` CLI in a subprocess, as the end-to-end tests do."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path


def linkcrawler(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """`python -m linkcrawler ARGS` with captured text output (never raises on exit status)."""
    return subprocess.run([sys.executable, "-m", "linkcrawler", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def import_backlinks(db: str, pairs: Iterable[tuple[str, str]], folder: Path) -> None:
    """Write (source_url, target) pairs as our CSV in `folder` and import them into `db`."""
    path = folder / "backlinks.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["source_url", "target_url"])
        w.writerows(pairs)
    done = linkcrawler("import", str(path), "--db", db)
    assert done.returncode == 0, done.stderr
