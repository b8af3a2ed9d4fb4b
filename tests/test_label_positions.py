"""The eval set's label rule (shared/eval/README.md) as bench/label_positions.py applies it."""

from __future__ import annotations

from pathlib import Path

from bench.label_positions import SourcePage, covered, from_readability, label_page, words

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
