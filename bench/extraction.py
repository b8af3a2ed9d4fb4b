"""How long parse_page takes per real page (bytes in, links and page facts out).

Reads the gzip'd pages of the eval set with their URLs (pages.jsonl), runs parse_page on each
(as bytes, as fetched) a few times, and prints the median and p95 milliseconds per page, also
split into the position classifier's share, plus pages and links per second.

    python bench/extraction.py [--eval DIR] [--repeat N] [--no-positions]

--no-positions replaces the position classifier by a constant, to show extraction's own cost.
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from linkcrawler import extraction, position  # noqa: E402
from linkcrawler.enums import Position  # noqa: E402

DEFAULT_EVAL_DIRS = (REPO.parent / "shared" / "eval", Path("/work/shared/eval"))


def _pages(eval_dir: Path) -> list[tuple[str, bytes]]:
    pages = []
    with (eval_dir / "pages.jsonl").open(encoding="utf-8") as rows:
        for line in rows:
            row = json.loads(line)
            pages.append((row["url"], gzip.decompress((eval_dir / row["html_path"]).read_bytes())))
    return pages


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def _constant_positions(root, anchors):  # noqa: ANN001, ANN202
    return [position.PositionDecision(Position.BODY, "", "bench constant") for _ in anchors]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval", type=Path, default=None, help="eval set directory")
    parser.add_argument("--repeat", type=int, default=3, help="runs per page; the best counts")
    parser.add_argument("--no-positions", action="store_true", help="stub the classifier")
    args = parser.parse_args(argv)
    eval_dir = args.eval or next((d for d in DEFAULT_EVAL_DIRS if d.is_dir()), None)
    if eval_dir is None:
        parser.error("no eval set found; pass --eval")
    pages = _pages(eval_dir)

    classify = position.classify_positions
    classify_ms: list[float] = []

    def timed_classify(root, anchors, *rest, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        t0 = time.perf_counter()
        try:
            if args.no_positions:
                return _constant_positions(root, anchors)
            return classify(root, anchors, *rest, **kwargs)
        finally:
            classify_ms.append((time.perf_counter() - t0) * 1000)

    position.classify_positions = timed_classify
    extraction.parse_page(pages[0][1], pages[0][0])  # warm-up: imports, model loading
    totals: list[float] = []
    cpu: list[float] = []
    positions: list[float] = []
    links = 0
    for url, body in pages:
        best = best_classify = best_cpu = float("inf")
        for _ in range(max(args.repeat, 1)):
            classify_ms.clear()
            c0, t0 = time.process_time(), time.perf_counter()
            parsed = extraction.parse_page(body, url)
            elapsed = (time.perf_counter() - t0) * 1000
            best_cpu = min(best_cpu, (time.process_time() - c0) * 1000)
            if elapsed < best:
                best, best_classify = elapsed, sum(classify_ms)
        totals.append(best)
        cpu.append(best_cpu)
        positions.append(best_classify)
        links += len(parsed.links)
    position.classify_positions = classify
    own = [t - p for t, p in zip(totals, positions, strict=True)]
    sizes = sorted(len(b) for _, b in pages)
    print(f"pages: {len(pages)} (median {sizes[len(sizes) // 2] / 1024:.0f} KiB), links: {links}")
    print(f"parse_page ms/page: median {statistics.median(totals):.2f}, "
          f"p95 {_percentile(totals, 0.95):.2f}, max {max(totals):.2f}")
    print(f"parse_page CPU ms/page: median {statistics.median(cpu):.2f}, "
          f"p95 {_percentile(cpu, 0.95):.2f}")
    print(f"  of which classify_positions: median {statistics.median(positions):.2f}, "
          f"p95 {_percentile(positions, 0.95):.2f}")
    print(f"  extraction without positions: median {statistics.median(own):.2f}, "
          f"p95 {_percentile(own, 0.95):.2f}")
    small = [(t, c) for (_, body), t, c in zip(pages, totals, cpu, strict=True) if len(body) <= 64 * 1024]
    if small:
        print(f"pages <= 64 KiB ({len(small)}): median {statistics.median(t for t, _ in small):.2f} ms, "
              f"CPU {statistics.median(c for _, c in small):.2f} ms")
    print(f"throughput: {len(pages) / (sum(totals) / 1000):.0f} pages/s, "
          f"{links / (sum(totals) / 1000):.0f} links/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
