"""bench/position.py's list of the pages that hold a set's errors (issue 4)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.position import load_scorer, worst_pages

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
