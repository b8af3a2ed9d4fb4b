"""Benchmark link positions against the labelled eval pages (issue 4).

Runs the classifier over every page of the eval set (gzip'd HTML read as bytes with its URL),
writes one prediction row per link in the scorer's format, scores it with the eval set's own
score_positions.py and prints body precision, recall, F1, the median milliseconds per page
(parsing included) and the share of pages without any labelled body link where some link is
still called body.

    python bench/position.py [--eval DIR] [--pred FILE] [--direct] [--errors N]

--eval defaults to ../shared/eval relative to the repository root, then /work/shared/eval.
--direct parses with lxml.html and calls classify_positions itself instead of going through
linkcrawler.extract_links (used while extraction was not there yet; it also isolates the
classifier's own cost).
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import importlib.util
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_EVAL_DIRS = (REPO.parent / "shared" / "eval", Path("/work/shared/eval"))


@dataclass(frozen=True, slots=True)
class Row:
    href: str
    anchor_text: str
    position: str
    path: str
    signal: str


@dataclass(frozen=True, slots=True)
class EvalPage:
    page_id: str
    url: str
    html: bytes
    n_body: int


def find_eval_dir(given: str | None) -> Path:
    candidates = [Path(given)] if given else list(DEFAULT_EVAL_DIRS)
    for c in candidates:
        if (c / "links.jsonl").exists():
            return c
    raise SystemExit(f"no eval set (links.jsonl) in {', '.join(map(str, candidates))}")


def load_pages(eval_dir: Path) -> Iterator[EvalPage]:
    with open(eval_dir / "pages.jsonl", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                html = gzip.decompress((eval_dir / r["html_path"]).read_bytes())
                yield EvalPage(r["page_id"], r["url"], html, int(r.get("n_body", 0)))


def rows_via_extraction(html: bytes, url: str) -> list[Row]:
    from linkcrawler import extract_links

    return [
        Row(link.href, link.anchor_text, str(link.position), link.path, link.position_signal)
        for link in extract_links(html, url)
        if link.element == "a"
    ]


def rows_direct(html: bytes, url: str) -> list[Row]:
    import lxml.html

    from linkcrawler.position import classify_positions

    root = lxml.html.document_fromstring(html)
    anchors = [el for el in root.iter("a", "area") if el.get("href") is not None]
    decisions = classify_positions(root, anchors)
    return [
        Row(a.get("href"), " ".join(a.text_content().split()), str(d.position), d.path, d.signal)
        for a, d in zip(anchors, decisions, strict=True)
        if a.tag == "a"
    ]


def load_scorer(eval_dir: Path):  # noqa: ANN201
    spec = importlib.util.spec_from_file_location("score_positions", eval_dir / "score_positions.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run(eval_dir: Path, pred_path: Path, extract: Callable[[bytes, str], list[Row]]) -> dict:
    times: list[float] = []
    no_body_pages = no_body_with_body = 0
    with open(pred_path, "w", encoding="utf-8") as out:
        for page in load_pages(eval_dir):
            t0 = time.perf_counter()
            rows = extract(page.html, page.url)
            times.append(time.perf_counter() - t0)
            if page.n_body == 0:
                no_body_pages += 1
                no_body_with_body += any(r.position == "body" for r in rows)
            for r in rows:
                out.write(json.dumps({
                    "page_id": page.page_id, "link_href": r.href, "anchor_text": r.anchor_text,
                    "position": r.position, "path": r.path, "signal": r.signal,
                }, ensure_ascii=False) + "\n")
    return {
        "median_ms": 1000 * statistics.median(times),
        "no_body_pages": no_body_pages,
        "no_body_with_body": no_body_with_body,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--eval", help="eval directory (default ../shared/eval, /work/shared/eval)")
    ap.add_argument("--pred", default=str(Path(tempfile.gettempdir()) / "linkcrawler-position-pred.jsonl"))
    ap.add_argument("--direct", action="store_true", help="lxml + classify_positions only")
    ap.add_argument("--errors", type=int, default=0, help="show N sample errors per kind")
    args = ap.parse_args(argv)
    eval_dir = find_eval_dir(args.eval)
    extract = rows_direct if args.direct else rows_via_extraction
    stats = run(eval_dir, Path(args.pred), extract)
    scorer = load_scorer(eval_dir)
    score_args = ["--gold", str(eval_dir / "links.jsonl"), "--pred", args.pred, "--match", "key"]
    if args.errors:
        score_args += ["--errors", str(args.errors)]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        res = scorer.main(score_args)
    print(buf.getvalue().rstrip())
    m = res["pooled"]
    share = stats["no_body_with_body"] / stats["no_body_pages"] if stats["no_body_pages"] else 0.0
    print()
    print(f"mode: {'direct (lxml + classify_positions)' if args.direct else 'extract_links'}")
    print(f"body precision {m['precision']:.3f}  recall {m['recall']:.3f}  F1 {m['f1']:.3f}"
          f"  coverage {m['coverage']:.3f}")
    print(f"median ms per page (parsing included): {stats['median_ms']:.2f}")
    print(f"pages without a labelled body link where some link is called body: "
          f"{stats['no_body_with_body']}/{stats['no_body_pages']} = {share:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
