"""`stats`: anchor classes, target keywords, run figures and the series over time."""

from __future__ import annotations

import json

import pytest

from linkcrawler.stats import AnchorClass, classify_anchor, run_stats, target_keywords
from tests.test_changes import History
from tests.test_changes_cli import cli

TARGET = "https://www.acme-shoes.test/running-shoes/trail.html"


@pytest.mark.parametrize(("anchor", "img_alt", "expected"), [
    ("", "Acme logo", AnchorClass.IMAGE),
    ("  ", "", AnchorClass.EMPTY),
    (None, None, AnchorClass.EMPTY),
    ("https://www.acme-shoes.test/", "", AnchorClass.NAKED_URL),
    ("www.acme-shoes.test", "", AnchorClass.NAKED_URL),
    ("acme-shoes.test/running", "", AnchorClass.NAKED_URL),
    ("Acme", "", AnchorClass.BRANDED),
    ("the ACME store", "", AnchorClass.BRANDED),
    ("Click here", "", AnchorClass.GENERIC),
    ("Read more »", "", AnchorClass.GENERIC),
    ("hier klicken", "", AnchorClass.GENERIC),
    ("En savoir plus", "", AnchorClass.GENERIC),
    ("Leer más", "", AnchorClass.GENERIC),
    ("klik hier", "", AnchorClass.GENERIC),
    ("saiba mais", "", AnchorClass.GENERIC),
    ("Running shoes trail", "", AnchorClass.EXACT),
    ("trail running shoes", "", AnchorClass.EXACT),
    ("the best trail shoes for winter", "", AnchorClass.PARTIAL),
    ("a lovely blog about cats", "", AnchorClass.OTHER),
])
def test_classify_anchor(anchor: str | None, img_alt: str | None, expected: AnchorClass) -> None:
    assert classify_anchor(anchor, img_alt, TARGET, brands=["Acme"]) is expected


def test_brand_is_whole_words_and_optional() -> None:
    assert classify_anchor("Acmeville news", "", TARGET, brands=["Acme"]) is AnchorClass.OTHER
    # without --brand the domain name's words are keywords: partial, not branded
    assert classify_anchor("acme store", "", TARGET) is AnchorClass.PARTIAL
    assert classify_anchor("Acme Shoes", "", TARGET, brands=["acme shoes"]) is AnchorClass.BRANDED


def test_target_keywords() -> None:
    keywords = target_keywords(TARGET)
    assert keywords.exact == {"running", "shoes", "trail"}
    assert keywords.any == {"running", "shoes", "trail", "acme"}
    domain = target_keywords("best-coffee.co.uk")
    assert domain.exact == domain.any == {"best", "coffee"}
    assert target_keywords("https://mysite.test/blog/*").exact == {"blog"}
    assert classify_anchor("Best Coffee", "", "best-coffee.co.uk") is AnchorClass.EXACT


def test_run_stats(db_url: str) -> None:
    h = History(db_url)
    t = "https://www.acme-shoes.test/running-shoes"
    a = h.backlink("https://blog.one.example/a", t)
    b = h.backlink("https://www.one.example/b", t)
    c = h.backlink("https://two.example.co.uk/c", t)
    d = h.backlink("https://three.example/d", t)
    e = h.backlink("https://four.example/e", t)
    r1 = h.run({a: "found", b: "found", c: "found", d: "found", e: "timeout"})
    r2 = h.run({
        a: {"reason": "found", "anchor_text": "Acme", "rel": "noopener"},
        b: {"reason": "found", "anchor_text": "", "links": [{"img_alt": "Acme logo"}], "follow": False,
            "rel": "nofollow sponsored", "position": "footer"},
        c: {"reason": "found", "anchor_text": "running shoes", "follow": False, "rel": "ugc",
            "position": "comments"},
        d: "link_removed",
        e: "blocked",
    })
    with h.db.sessions() as session:
        stats = run_stats(session, r2, brands=["Acme"])
    assert (stats.run_id, stats.total) == (r2, 5)
    assert stats.by_status == {"live": 3, "lost": 1, "unverified": 1}
    assert stats.by_reason == {"found": 3, "link_removed": 1, "blocked": 1}
    assert (stats.referring_domains, stats.referring_domains_all) == (2, 4)
    assert stats.top_domains == (("one.example", 2), ("example.co.uk", 1))
    assert stats.rel == {"follow": 1, "nofollow": 1, "sponsored": 1, "ugc": 1}
    assert stats.positions["body"] == 1 and stats.positions["footer"] == 1 and stats.positions["comments"] == 1
    assert {k: v for k, v in stats.anchors.items() if v} == {"branded": 1, "image": 1, "exact": 1}
    assert [(p.run_id, p.live, p.lost, p.unverified, p.new, p.lost_events, p.recovered)
            for p in stats.over_time] == [(r1, 4, 0, 1, 4, 0, 0), (r2, 3, 1, 1, 0, 1, 0)]
    document = stats.as_dict()
    assert document["rel"]["follow"] == {"count": 1, "share": 0.3333}
    assert document["anchors"]["other"] == {"count": 0, "share": 0.0}


def test_stats_cli_json_and_text(sqlite_url: str) -> None:
    h = History(sqlite_url)
    a = h.backlink("https://one.example/a")
    h.run({a: "found"})
    r2 = h.run({a: {"reason": "found", "anchor_text": "Click here"}})
    done = cli("stats", "--db", sqlite_url, "--format", "json")
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["run"]["id"] == r2
    assert document["status"] == {"live": 1, "lost": 0, "unverified": 0}
    assert document["anchors"]["generic"] == {"count": 1, "share": 1.0}
    assert [p["run_id"] for p in document["over_time"]] == [1, 2]
    text = cli("stats", "--db", sqlite_url, "--run", "1")
    assert text.returncode == 0, text.stderr
    assert text.stdout.startswith("run 1 (completed, started 2025-01-02T02:00:00Z): 1 backlinks\n")
    assert "referring domains: 1 with a live link (of 1 checked)" in text.stdout
    missing = cli("stats", "--db", sqlite_url, "--run", "7")
    assert missing.returncode == 2 and "there is no verify run 7" in missing.stderr


def test_stats_without_runs(sqlite_url: str) -> None:
    done = cli("stats", "--db", sqlite_url)
    assert done.returncode == 2
    assert "there are no runs yet" in done.stderr
