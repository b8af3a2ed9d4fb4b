"""The eval set's label rule (shared/eval/README.md) as bench/label_positions.py applies it."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

from bench.label_positions import (
    SourcePage,
    covered,
    from_ir_research,
    from_readability,
    label_page,
    main,
    undo_wayback,
    words,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "labels"

ARTICLE = ("The council voted on Tuesday to extend the programme for another three years. "
           "Critics said it reached too few households in rural areas. Read more about it.")


def test_words_are_lowercased_runs_of_word_characters() -> None:
    assert words("Barron's  Top-10, Ünïcode") == ["barron", "s", "top", "10", "ünïcode"]


def test_a_word_is_covered_only_inside_a_shared_five_word_run() -> None:
    page = words("x the council voted on tuesday y council voted")
    assert covered(page, words(ARTICLE)) == [False, True, True, True, True, True, False,
                                             False, False]


def test_article_with_boilerplate() -> None:
    html = (FIXTURES / "article_with_boilerplate.html").read_bytes()
    page = SourcePage("p1", "https://example.org/story", html, ARTICLE, "utf-8")
    rows, meta = label_page(page, "fixture")
    got = [(r["link_index"], r["link_href"], r["label"], r["evidence"]["covered_share"])
           for r in rows]
    assert got == [
        (0, "/", "boilerplate", 0.0),
        (1, "/news", "boilerplate", 0.0),
        # fragments and javascript: are no links (indexes 2, 3)
        (4, "https://example.org/plan", "body", 1.0),
        # two words, judged with their neighbours: "it reached too few households"
        (5, "https://example.org/rural", "body", 1.0),
        # "more about" is in the article, the rest of the anchor is not: 2/7, left out (6)
        # mailto: is no link (7); an image link without words is left out (8)
        (9, "/about", "boilerplate", 0.0),
    ]
    assert meta == {
        "page_id": "p1", "source": "fixture", "url": "https://example.org/story",
        "charset": "utf-8", "n_links": 10, "n_body": 2, "n_boilerplate": 3,
        # 22 of the article's 23 five-word runs are in the page; "areas read more about it"
        # is not
        "gold_tokens": 27, "gold_found": round(22 / 23, 3),
    }


def test_readability_checkout() -> None:
    pages = list(from_readability(FIXTURES / "readability_checkout"))
    assert [(p.page_id, p.url, p.text, p.charset) for p in pages] == [
        ("with-canonical", "https://news.example.org/council-vote",
         "The council voted on Tuesday to extend the programme for three years.", ""),
        # a relative canonical is no address: the page gets a name that is no real site
        ("without-canonical", "http://without-canonical.test/", "Short notes\n on nothing.",
         ""),
    ]
    assert pages[0].html == (
        FIXTURES / "readability_checkout" / "test" / "test-pages" / "with-canonical"
        / "source.html").read_bytes()


WAYBACK = FIXTURES / "ir_research_checkout" / "Extraction" / "big5-05" / "html" / "council (1).htm"


def test_undo_wayback_gives_the_page_as_served() -> None:
    html, url = undo_wayback(WAYBACK.read_bytes())
    assert url == "http://news.example.com/2005/04/council.html"
    text = html.decode()
    assert "archive.org" not in text
    assert "/web/2005" not in text
    assert "wbhack" not in text and "wmtbURL" not in text
    assert '<a href="http://news.example.com/">Home</a>' in text
    assert '<a href="http://news.example.com/plan.html">the plan</a>' in text
    assert '<img src="http://img.example.com/x.gif">' in text


def test_undo_wayback_leaves_other_pages_alone() -> None:
    page = b"<html><body><a href='/web/20050409130612/x'>x</a></body></html>"
    assert undo_wayback(page) == (page, None)


def test_ir_research_checkout() -> None:
    pages = list(from_ir_research(FIXTURES / "ir_research_checkout"))
    assert [(p.source, p.page_id, p.url, p.text, p.charset) for p in pages] == [
        # the address the Wayback toolbar names
        ("big5-05", "council (1)", "http://news.example.com/2005/04/council.html",
         "Council extends the programme\n\nThe council voted on Tuesday to extend the programme "
         "for another three years, and the plan is online.\n", ""),
        # a page saved from the site itself: its canonical; a Windows-1252 article text
        ("chaos-all", "council (1)", "https://city.example.org/council",
         "Critics said the programme reached too few households in rural areas, and the map "
         "shows where. Caf\u00e9 owners agreed.\n", ""),
    ]


def test_ir_research_sets_are_sources_and_their_ids_do_not_collide(tmp_path: Path) -> None:
    out = tmp_path / "ir"
    assert main(["--ir-research-data", str(FIXTURES / "ir_research_checkout"),
                 "--out", str(out)]) == 0
    pages = [json.loads(line) for line in (out / "pages.jsonl").read_text().splitlines()]
    links = [json.loads(line) for line in (out / "links.jsonl").read_text().splitlines()]
    assert [(p["page_id"], p["source"], p["n_body"], p["n_boilerplate"]) for p in pages] == [
        ("big5-05/council (1)", "big5-05", 1, 1),
        ("chaos-all/council (1)", "chaos-all", 1, 1),
    ]
    assert [(r["page_id"], r["link_href"], r["label"]) for r in links] == [
        ("big5-05/council (1)", "http://news.example.com/", "boilerplate"),
        ("big5-05/council (1)", "http://news.example.com/plan.html", "body"),
        ("chaos-all/council (1)", "/", "boilerplate"),
        ("chaos-all/council (1)", "/map", "body"),
    ]
    # one stored page each, not the second over the first
    assert len({p["html_path"] for p in pages}) == 2
    stored = gzip.decompress((out / pages[0]["html_path"]).read_bytes())
    assert b"archive.org" not in stored


def test_an_empty_page_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "empty.html").write_bytes(b"")
    story = (FIXTURES / "article_with_boilerplate.html").read_bytes()
    (tmp_path / "story.html").write_bytes(story)
    manifest = tmp_path / "corpus.jsonl"
    manifest.write_text("".join(json.dumps(r) + "\n" for r in (
        {"url": "https://example.org/empty", "html_path": "empty.html", "text": ARTICLE},
        {"url": "https://example.org/story", "html_path": "story.html", "text": ARTICLE},
    )))
    assert main(["--manifest", str(manifest), "--out", str(tmp_path / "out")]) == 0
    out = tmp_path / "out"
    pages = [json.loads(line) for line in (out / "pages.jsonl").read_text().splitlines()]
    assert [p["url"] for p in pages] == ["https://example.org/story"]
    assert "1 empty pages skipped" in (out / "README.md").read_text()
