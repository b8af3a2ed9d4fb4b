"""bench/position.py's list of the pages that hold a set's errors (issue 4)."""

from __future__ import annotations

import gzip
import json
import math
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.position import load_scorer, worst_pages

REPO = Path(__file__).resolve().parents[1]
SHARED_EVAL = next((p for p in (Path(__file__).parents[2] / "shared" / "eval",
                                Path("/work/shared/eval"))
                    if (p / "score_positions.py").exists()), None)


def _jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_worst_pages(tmp_path: Path) -> None:
    if SHARED_EVAL is None:
        pytest.skip("the shared eval set (its scorer) is not beside the repository")
    labels = {"wiki": ["body", "body", "body", "boilerplate"],  # 1 TP, 2 FN, 1 FP below
              "news": ["body", "boilerplate", "boilerplate"],  # all right
              "blog": ["body", "boilerplate"]}  # 1 FN, and 1 FP: no prediction
    predicted = {"wiki": ["body", "nav", "footer", "body"], "news": ["body", "nav", "footer"],
                 "blog": ["sidebar"]}
    _jsonl(tmp_path / "links.jsonl", [
        {"page_id": page, "source": "t", "link_index": i, "link_href": f"/{i}",
         "anchor_text": f"link {i}", "label": label}
        for page, page_labels in labels.items() for i, label in enumerate(page_labels)])
    pred = tmp_path / "pred.jsonl"
    _jsonl(pred, [{"page_id": page, "link_index": i, "position": p}
                  for page, ps in predicted.items() for i, p in enumerate(ps)])
    lines = worst_pages(load_scorer(SHARED_EVAL), tmp_path, str(pred), "auto", 2)
    assert lines == [
        "page                                            TP    FP    FN  F1 of the set without "
        "it and those above",
        # without the wiki: TP 1, FP 1, FN 1 (the blog's missing prediction counts as wrong:
        # a false positive)
        "wiki                                             1     1     2  0.500",
        "blog                                             0     1     1  1.000",
    ]


# --- --leave-site-out: every page judged by a model that never saw its site -----------------

# two sites, two pages each: site a's links are 1 body in 4, site b's 3 in 4, so a model's base
# (the log-odds of its training labels) tells which site it was trained on
_SITE_LABELS = {"a": ["body", "boilerplate", "boilerplate", "boilerplate"],
                "b": ["body", "body", "body", "boilerplate"]}


def _tiny_eval_set(root: Path) -> Path:
    (root / "pages").mkdir(parents=True)
    pages, links = [], []
    for site, labels in _SITE_LABELS.items():
        for n in (1, 2):
            page_id, url = f"{site}{n}", f"https://{site}.example/story-{n}"
            html = ("<html><body><nav><a href='/x'>Home</a><a href='/y'>News</a></nav><main>"
                    + "".join(f"<p>Some running text that goes on for a while, and then <a "
                              f"href='https://elsewhere.example/{i}'>a link {i}</a> in it.</p>"
                              for i in range(2)) + "</main></body></html>")
            (root / "pages" / f"{page_id}.html.gz").write_bytes(gzip.compress(html.encode()))
            pages.append({"page_id": page_id, "source": "t", "url": url,
                          "html_path": f"pages/{page_id}.html.gz",
                          "n_body": labels.count("body"), "charset": "utf-8"})
            hrefs = ["/x", "/y", "https://elsewhere.example/0", "https://elsewhere.example/1"]
            anchors = ["Home", "News", "a link 0", "a link 1"]
            links += [{"page_id": page_id, "source": "t", "url": url, "link_index": i,
                       "link_href": hrefs[i], "anchor_text": anchors[i], "label": label}
                      for i, label in enumerate(labels)]
    _jsonl(root / "pages.jsonl", pages)
    _jsonl(root / "links.jsonl", links)
    return root


def test_leave_site_out_judges_each_page_with_a_model_trained_without_its_site(
        tmp_path: Path) -> None:
    from bench.position import judged_without_own_site
    from linkcrawler import position

    shipped = position._shipped_model()
    seen: list[tuple[str, float, float]] = []

    def record(html: bytes, url: str) -> list:
        model = position._shipped_model()
        seen.append((url, round(model.base, 6), model.cutoff))
        return []

    extract, cutoff = judged_without_own_site(_tiny_eval_set(tmp_path), 2, 0, record)
    for page in ("https://a.example/story-1", "https://b.example/story-2",
                 "https://a.example/story-2"):
        extract(b"<html></html>", page)
    on_b, on_a = round(math.log(3 / 1), 6), round(math.log(1 / 3), 6)
    assert seen == [("https://a.example/story-1", on_b, cutoff),
                    ("https://b.example/story-2", on_a, cutoff),
                    ("https://a.example/story-2", on_b, cutoff)]
    assert position._shipped_model() is not shipped  # loaded again: the shipped one is back
    assert position._shipped_model().base == shipped.base


def test_leave_site_out_runs_from_the_command_line(tmp_path: Path) -> None:
    if SHARED_EVAL is None:
        pytest.skip("the shared eval set (its scorer) is not beside the repository")
    eval_dir = _tiny_eval_set(tmp_path / "eval")
    shutil.copy(SHARED_EVAL / "score_positions.py", eval_dir)
    run = subprocess.run([sys.executable, str(REPO / "bench" / "position.py"), "--eval",
                          str(eval_dir), "--leave-site-out", "2", "--pred",
                          str(tmp_path / "pred.jsonl")],
                         capture_output=True, text=True, timeout=120, check=False)
    assert run.returncode == 0, run.stderr
    assert "each page judged by a model trained without its site: 2 folds grouped by site, " \
           "seed 0, cutoff " in run.stdout
    assert len((tmp_path / "pred.jsonl").read_text().splitlines()) == 16
    assert re.search(r"^machine reference \(lxml parse \+ an empty loop over the elements\): "
                     r"median \d+\.\d\d ms per page; the median CPU above is \d+\.\dx that$",
                     run.stdout, re.M), run.stdout


def test_machine_reference_times_a_parse_and_an_empty_walk() -> None:
    from bench.position import machine_reference

    body = b"<div><p>text <a href='/x'>link</a></p></div>" * 2000
    page = b"<html><body>%s</body></html>" % body
    small, big = machine_reference(b"<p>one</p>"), machine_reference(page)
    assert 0 < small < big
    assert machine_reference(b"") >= 0  # lxml rejects an empty document: no error here


@pytest.mark.parametrize("folds", ["1", "-3"])
def test_leave_site_out_needs_two_folds(folds: str) -> None:
    run = subprocess.run([sys.executable, str(REPO / "bench" / "position.py"),
                          f"--leave-site-out={folds}"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert run.returncode == 2
    assert f"--leave-site-out needs at least 2 folds, not {folds}" in run.stderr
