"""Position semantics on small fixtures: every decision of every page, position and path."""

from __future__ import annotations

import json
import math
from pathlib import Path

import lxml.html
import pytest

from linkcrawler.enums import Position
from linkcrawler.position import PositionDecision, classify_positions, element_path

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "position"

B, H, N, F, S, C = (Position.BODY, Position.HEADER, Position.NAV, Position.FOOTER,
                    Position.SIDEBAR, Position.COMMENTS)

EXPECTED: dict[str, list[tuple[Position, str]]] = {
    "landmarks": [
        (H, "html/body/header/a"),
        (N, "html/body/nav/ul/li[1]/a"),
        (N, "html/body/nav/ul/li[2]/a"),
        (B, "html/body/main/p[1]/a"),
        (S, "html/body/aside/a"),
        (F, "html/body/footer/a"),
    ],
    "aria": [
        (H, "html/body/div[1]/a"),
        (N, "html/body/div[2]/a"),
        (B, "html/body/div[3]/p[1]/a"),
        (S, "html/body/div[3]/div/a"),
        (F, "html/body/div[4]/a"),
    ],
    "class_names": [
        (H, "html/body/div[1]/a"),
        (N, "html/body/div[2]/a"),
        (H, "html/body/div[3]/a"),
        (B, "html/body/div[4]/p[1]/a"),
        (S, "html/body/div[5]/a"),
        (F, "html/body/div[6]/a"),
    ],
    "outermost_wins": [
        (H, "html/body/header/aside/a"),
        (S, "html/body/div/div/a"),
        (B, "html/body/article/p[1]/a"),
    ],
    "nav_in_footer": [
        (B, "html/body/article/p[1]/a"),
        (F, "html/body/footer/nav/ul/li[1]/a"),
        (F, "html/body/footer/nav/ul/li[2]/a"),
        (F, "html/body/footer/nav/ul/li[3]/a"),
    ],
    "comments_wordpress": [
        (B, "html/body/div/article/div/p[1]/a"),
        (C, "html/body/div/div/ol/li/div/a"),
        (C, "html/body/div/div/ol/li/p/a"),
        (C, "html/body/div/ol/li/a"),
    ],
    "comments_disqus": [
        (B, "html/body/div[1]/p[1]/a"),
        (C, "html/body/div[2]/noscript/a"),
    ],
    # `commented` on the <article> is a state of the post, not a thread; a commentator is an
    # author; the thread after the article is still one
    "comment_state_classes": [
        (B, "html/body/div/article/div/p[1]/a"),
        (B, "html/body/div/article/div/p[2]/a"),
        (C, "html/body/div/div/ol/li/div/a"),
        (C, "html/body/div/div/ol/li/p/a"),
    ],
    "comments_drupal": [
        (B, "html/body/div/div/p[1]/a"),
        (C, "html/body/section/article/div/a"),
    ],
    "article_related_comments": [
        (B, "html/body/article/p[1]/a"),
        (S, "html/body/article/div/ul/li[1]/a"),
        (S, "html/body/article/div/ul/li[2]/a"),
        (C, "html/body/article/section/div/a"),
    ],
    "content_with_sidebar": [
        (B, "html/body/div/div[1]/p[1]/a"),
        (S, "html/body/div/div[2]/a"),
    ],
    "no_main": [
        (H, "html/body/div[1]/a"),
        (N, "html/body/div[2]/a"),
        (B, "html/body/div[3]/div/p[1]/a"),
        (F, "html/body/div[4]/a"),
    ],
    # running text in <p>, <li>, a table cell and <blockquote> of the main text: body even
    # where the paragraph is short ("Read the plan before the meeting.": 24 characters of prose)
    "running_text_blocks": [
        (N, "html/body/nav/ul/li[1]/a"),
        (N, "html/body/nav/ul/li[2]/a"),
        (B, "html/body/div/p[2]/a"),
        (B, "html/body/div/ul/li[1]/a"),
        (B, "html/body/div/table/tr/td[2]/a"),
        (B, "html/body/div/blockquote/a"),
        (F, "html/body/footer/a"),
    ],
    "sidebar_wrapper_most_text": [
        (N, "html/body/div[1]/a"),
        (B, "html/body/div[2]/p[1]/a"),
    ],
    # a region name on an ancestor of the main text block marks no region, even when the
    # wrapper holds less than half the page's text; a widget inside it still does
    "sidebar_name_around_main_text": [
        (N, "html/body/div[1]/a"),
        (B, "html/body/div[2]/div[1]/p[1]/a"),
        (S, "html/body/div[2]/div[2]/a"),
        *[(F, f"html/body/footer/ul/li[{i}]/a") for i in range(1, 7)],
    ],
    # running text in <p> is body unless the model is nearly certain it is not (test below);
    # in lists, cells and quotes (running_text_blocks) the rule stands
    "running_text_model_certain": [
        (N, "html/body/nav/a"),
        (B, "html/body/article/p[1]/a"),
        (B, "html/body/article/p[3]/a"),
    ],
    # a short block stating a legal notice is footer even as running text in the article, and
    # so is a link named like a legal page in a longer one; a longer paragraph that mentions a
    # privacy policy is article text
    "legal_notices": [
        (N, "html/body/nav/a"),
        (B, "html/body/article/p[1]/a"),
        (B, "html/body/article/p[3]/a"),
        (F, "html/body/article/p[4]/a[1]"),
        (F, "html/body/article/p[4]/a[2]"),
        (F, "html/body/article/p[5]/a"),
        (F, "html/body/article/p[6]/a[1]"),
        (F, "html/body/article/p[6]/a[2]"),
        (F, "html/body/article/p[7]/a"),
    ],
    # links with no block element above them (<noscript> in <head>, common on older
    # templates) get the root as their block instead of failing the whole page
    "head_noscript_links": [
        (S, "html/head/noscript/a[1]"),
        (S, "html/head/noscript/a[2]"),
        (B, "html/body/div/p[1]/a"),
    ],
    # a list of links after the story's last paragraph, inside its container (a 2005 layout
    # table in a <form>), is boilerplate; a list between paragraphs is left to the model
    "closing_link_list": [
        (N, "html/body/div[1]/a"),
        (B, "html/body/div[2]/form/p[1]/a"),
        (S, "html/body/div[2]/form/ul/li[1]/a"),
        (S, "html/body/div[2]/form/ul/li[2]/a"),
        (S, "html/body/div[2]/form/ul/li[3]/a"),
        (B, "html/body/div[2]/form/p[4]/a"),
        (S, "html/body/div[2]/form/table/tr/td/ul/li[1]/a"),
        (S, "html/body/div[2]/form/table/tr/td/ul/li[2]/a"),
        (S, "html/body/div[2]/form/table/tr/td/ul/li[3]/a"),
        (S, "html/body/div[2]/form/table/tr/td/ul/li[4]/a"),
        (F, "html/body/div[3]/a"),
    ],
    # "comment" as the tone of a story (an opinion piece) names no thread; the thread below does
    "opinion_tone_classes": [
        (H, "html/body/header/a"),
        (B, "html/body/article/div/p[1]/a"),
        (B, "html/body/article/div/p[2]/a"),
        (C, "html/body/div/ol/li/p/a"),
    ],
    # a story whose text has no link: its promo line is no body link (the model agrees; with
    # an uncertain model, see the tests of few uncertain body calls)
    "lone_uncertain_body_call": [
        (N, "html/body/nav/a[1]"),
        (N, "html/body/nav/a[2]"),
        (S, "html/body/article/p[4]/a"),
        (F, "html/body/footer/a"),
    ],
    "three_uncertain_body_calls": [
        (N, "html/body/nav/a[1]"),
        (N, "html/body/nav/a[2]"),
        *[(S, f"html/body/article/p[{i}]/a") for i in (4, 5, 6)],
        (F, "html/body/footer/a"),
    ],
    # an article split into chunks by a product card and a related box: running text in every
    # chunk is body (the text region, see test_position_text_region_*), the boxes between the
    # chunks are boxes within it
    "article_split_into_chunks": [
        (H, "html/body/header/a"),
        (N, "html/body/nav/a[1]"),
        (N, "html/body/nav/a[2]"),
        (B, "html/body/main/div/div[1]/div/p[1]/a"),
        (S, "html/body/main/div/div[2]/a"),
        (B, "html/body/main/div/div[3]/div/p[1]/a"),
        (S, "html/body/main/div/div[4]/ul/li[1]/a"),
        (S, "html/body/main/div/div[4]/ul/li[2]/a"),
        (S, "html/body/main/div/div[4]/ul/li[3]/a"),
        (B, "html/body/main/div/div[5]/div/p[1]/a"),
        (F, "html/body/footer/a"),
    ],
    # an infinite-scroll river: the next stories in the same <ul> are no chunks of this one
    "story_river": [
        (N, "html/body/nav/a"),
        (B, "html/body/ul/li[1]/div/div/p[1]/a"),
        (F, "html/body/ul/li[2]/div/div/p[1]/a"),
        (F, "html/body/ul/li[3]/div/div/p[1]/a"),
    ],
    # a 2005 layout table: the cell holding the article is the main text block, and the link
    # lines after the story in that cell are no running text (see test_position_layout_cell_*)
    "layout_table_article": [
        (H, "html/body/table[1]/tr/td/a"),
        *[(S, f"html/body/table[2]/tr/td[1]/a[{i}]") for i in (1, 2, 3)],
        (B, "html/body/table[2]/tr/td[2]/span[3]/a"),
        *[(S, f"html/body/table[2]/tr/td[2]/a[{i}]") for i in (1, 2, 3, 4)],
        *[(S, f"html/body/table[2]/tr/td[3]/a[{i}]") for i in (1, 2)],
        (F, "html/body/table[3]/tr/td/a[1]"),
        (F, "html/body/table[3]/tr/td/a[2]"),
    ],
    # the cell holding the article is the main text block; the other cells of its row are the
    # page's columns, whose promo boxes (a headline link and a teaser sentence) are no running
    # text of the story (see test_position_layout_columns_*)
    "layout_table_columns": [
        (H, "html/body/table[1]/tr/td/a"),
        (S, "html/body/table[2]/tr/td[1]/table/tr/td/b/a"),
        (B, "html/body/table[2]/tr/td[2]/span[3]/a"),
        (S, "html/body/table[2]/tr/td[3]/table[1]/tr/td/b/a"),
        (S, "html/body/table[2]/tr/td[3]/table[2]/tr/td/b/a"),
        (F, "html/body/table[3]/tr/td/a[1]"),
        (F, "html/body/table[3]/tr/td/a[2]"),
    ],
    # the cell holds the story's <div> (the main text block), a byline, a last sentence written
    # in the cell and the link lines: only the sentence's link is running text
    "layout_cell_holding_the_story": [
        (H, "html/body/table[1]/tr/td/a"),
        *[(H, f"html/body/table[2]/tr/td[1]/a[{i}]") for i in (1, 2, 3)],
        (S, "html/body/table[2]/tr/td[2]/b/a"),
        (B, "html/body/table[2]/tr/td[2]/div/p[2]/a"),
        (B, "html/body/table[2]/tr/td[2]/a[1]"),
        *[(S, f"html/body/table[2]/tr/td[2]/a[{i}]") for i in (2, 3, 4)],
        *[(F, f"html/body/table[2]/tr/td[3]/a[{i}]") for i in (1, 2)],
        (F, "html/body/table[3]/tr/td/a[1]"),
        (F, "html/body/table[3]/tr/td/a[2]"),
    ],
    # a tweet and an Instagram post embedded in a story are the networks' boxes, decided before
    # the model; a plain quotation is the story's (test_position_embedded_posts_*)
    "embedded_posts": [
        (N, "html/body/nav/a[1]"),
        (N, "html/body/nav/a[2]"),
        (B, "html/body/article/p[1]/a"),
        (S, "html/body/article/blockquote[1]/p/a[1]"),
        (S, "html/body/article/blockquote[1]/p/a[2]"),
        (S, "html/body/article/blockquote[1]/a"),
        (S, "html/body/article/blockquote[2]/div/p/a"),
        (B, "html/body/article/blockquote[3]/p/a"),
        (F, "html/body/footer/a"),
    ],
    # the main text block is never inside a comment thread, however long the discussion
    "comments_outweigh_article": [
        (H, "html/body/header/a"),
        (B, "html/body/article/p[1]/a"),
        (C, "html/body/div/ol/li[1]/div/p[1]/a"),
        (C, "html/body/div/ol/li[2]/div/p[1]/a"),
    ],
}


def _decide(case: str) -> list[PositionDecision]:
    root = lxml.html.document_fromstring((FIXTURES / f"{case}.html").read_bytes())
    anchors = [el for el in root.iter("a", "area") if el.get("href") is not None]
    return classify_positions(root, anchors)


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_position_fixture(case: str) -> None:
    got = [(d.position, d.path) for d in _decide(case)]
    assert got == EXPECTED[case]


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_position_only_gives_the_same_decisions(case: str) -> None:
    """Asking about one link (`only`; then the children of only the parents on its path are
    counted) gives it exactly its decision among all; the others are not classified."""
    _assert_only_gives_the_same_decisions(case)


def _assert_only_gives_the_same_decisions(case: str) -> None:
    from linkcrawler.position import NOT_CLASSIFIED

    full = _decide(case)
    root = lxml.html.document_fromstring((FIXTURES / f"{case}.html").read_bytes())
    anchors = [el for el in root.iter("a", "area") if el.get("href") is not None]
    for k in range(len(anchors)):
        got = classify_positions(root, anchors, only={k})
        assert got[k] == full[k]
        assert all(d is NOT_CLASSIFIED for i, d in enumerate(got) if i != k)


def test_position_every_fixture_has_expectations() -> None:
    assert sorted(p.stem for p in FIXTURES.glob("*.html")) == sorted(EXPECTED)


def _names_where(signal: str) -> bool:
    """A signal of a link that is not body says where the decider is: an element's path (the
    root's, "html", when no block is above the link) or, on the bounded path, its block's tag."""
    return " at html/" in signal or " at html " in signal or "(block <" in signal


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_position_signal_names_the_decider(case: str) -> None:
    for d in _decide(case):
        assert d.signal, d
        if d.position is not Position.BODY:
            assert _names_where(d.signal), d


def test_position_no_anchors() -> None:
    root = lxml.html.document_fromstring("<html><body><p>x</p></body></html>")
    assert classify_positions(root, []) == []


def test_position_path_format_svg_and_index() -> None:
    root = lxml.html.document_fromstring(
        "<html><body><div><a href='/1'>1</a><a href='/2'>2</a><span>s</span></div>"
        "<svg><a href='/s'><text>t</text></a></svg></body></html>"
    )
    links = [el for el in root.iter() if isinstance(el.tag, str) and el.tag.endswith("a")
             and el.get("href")]
    assert [element_path(a) for a in links] == [
        "html/body/div/a[1]", "html/body/div/a[2]", "html/body/svg/a",
    ]


def test_position_shipped_model_matches_features() -> None:
    from linkcrawler import position

    model = position.load_model()
    assert model is not None, "linkcrawler/models/position.json must ship with the package"
    assert model.feature.max() < len(position.FEATURE_NAMES)


# Where the rules alone decide otherwise: outside every region container they default to body
RULES_ALONE: dict[str, list[tuple[Position, str]]] = {
    # the list between paragraphs is the model's to place; the closing list is the rule's
    "closing_link_list": [(B if "/form/ul/" in path else pos, path)
                          for pos, path in EXPECTED["closing_link_list"]],
    # no model, no calls to weigh: outside every region the promo lines default to body
    **{case: [(B if "/article/" in path else pos, path) for pos, path in EXPECTED[case]]
       for case in ("lone_uncertain_body_call", "three_uncertain_body_calls")},
    **{case: [(B if path.startswith(("html/body/main/", "html/body/ul/")) else pos, path)
              for pos, path in EXPECTED[case]]
       for case in ("article_split_into_chunks", "story_river")},
    # no model, no region: every link defaults to body
    **{case: [(B, path) for _, path in EXPECTED[case]]
       for case in ("layout_table_article", "layout_cell_holding_the_story",
                    "layout_table_columns")},
    "head_noscript_links": [
        (B, "html/head/noscript/a[1]"),
        (B, "html/head/noscript/a[2]"),
        (B, "html/body/div/p[1]/a"),
    ],
}


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_position_rules_alone_agree(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without the model (file missing) the rule layer gives the same fixture decisions."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", None)
    got = [(d.position, d.path) for d in _decide(case)]
    assert got == RULES_ALONE.get(case, EXPECTED[case])


def test_position_features_one_row_per_link() -> None:
    from linkcrawler.position import FEATURE_NAMES, page_features

    root = lxml.html.document_fromstring((FIXTURES / "landmarks.html").read_bytes())
    anchors = [el for el in root.iter("a") if el.get("href") is not None]
    rows = page_features(root, anchors)
    assert len(rows) == len(anchors)
    assert all(len(r) == len(FEATURE_NAMES) for r in rows)


def test_position_no_body_invented_on_a_link_farm() -> None:
    """A page of navigation lists and no running text gets no body link."""
    items = "".join(f"<li><a href='/c{i}'>Category {i}</a></li>" for i in range(30))
    html = f"<html><body><div class='x'><ul>{items}</ul></div><div><ul>{items}</ul></div></body></html>"
    root = lxml.html.document_fromstring(html)
    anchors = [el for el in root.iter("a")]
    assert all(d.position is not Position.BODY for d in classify_positions(root, anchors))


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_position_bounded_path_agrees(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The streaming path for huge pages gives the same fixture decisions."""
    from linkcrawler import position

    monkeypatch.setattr(position, "MAX_MODEL_LINKS", 0)
    decisions = _decide(case)
    assert [(d.position, d.path) for d in decisions] == EXPECTED[case]
    assert all("bounded path" in d.signal for d in decisions)
    for d in decisions:
        if d.position is not Position.BODY:
            assert _names_where(d.signal), d


def test_position_bounded_path_on_many_links() -> None:
    """Above MAX_MODEL_LINKS: prose links are body, a link list is not, paths stay exact."""
    from linkcrawler import position

    n = position.MAX_MODEL_LINKS + 1
    prose = "".join(
        f"<p>Some running text about item {i} that goes on for a while, see "
        f"<a href='/p{i}'>this item</a> for more.</p>" for i in range(n // 2 + 1)
    )
    menu = "".join(f"<li><a href='/m{i}'>M{i}</a></li>" for i in range(n // 2))
    root = lxml.html.document_fromstring(
        f"<html><body><div><ul>{menu}</ul></div><article>{prose}</article></body></html>"
    )
    anchors = [el for el in root.iter("a")]
    assert len(anchors) > position.MAX_MODEL_LINKS
    decisions = classify_positions(root, anchors)
    menu_d, prose_d = decisions[: n // 2], decisions[n // 2:]
    assert all(d.position is not Position.BODY for d in menu_d)
    assert all(d.position is Position.BODY for d in prose_d)
    assert prose_d[0].path == "html/body/article/p[1]/a"
    assert menu_d[1].path == "html/body/div/ul/li[2]/a"
    assert decisions[-1].path == element_path(anchors[-1])


def test_position_sentence_on_a_page_without_main_text_block() -> None:
    """One short sentence in <main><article>: no main text block, the link is still body."""
    root = lxml.html.document_fromstring(
        "<html><body><header><a href='/'>Home</a></header><main><article><h1>Moved</h1>"
        "<p>See <a href='/old-product'>their product page</a> for details.</p></article></main>"
        "<aside class='sidebar'><ul><li><a href='https://friend.example/'>A friend</a></li></ul>"
        "</aside><footer><p>&copy; 2026 <a href='/imprint'>Imprint</a></p></footer></body></html>"
    )
    decisions = classify_positions(root, list(root.iter("a")))
    assert [d.position for d in decisions] == [H, B, S, F]
    assert "sentence" in decisions[1].signal


class _ConstantModel:
    """A stand-in for the shipped model: every link gets the same P(body)."""

    cutoff = 0.5

    def __init__(self, p: float) -> None:
        self.p = p

    def probabilities(self, rows: list) -> list[float]:
        return [self.p] * len(rows)


@pytest.mark.parametrize(("p", "expected"), [
    (0.2, [(N, "html/body/nav/a"), (B, "html/body/article/p[1]/a"),
           (B, "html/body/article/p[3]/a")]),
    (0.01, [(N, "html/body/nav/a"), (S, "html/body/article/p[1]/a"),
            (S, "html/body/article/p[3]/a")]),
])
def test_position_running_text_yields_to_a_certain_model(
        p: float, expected: list, monkeypatch: pytest.MonkeyPatch) -> None:
    """Running text in <p> is body below the model's cutoff, but not when the model gives it
    P(body) under _RUNNING_FLOOR (sign-offs and promo lines written as sentences): then it is
    placed like any boilerplate link, and the signal says the model overruled the rule."""
    from linkcrawler import position

    assert 0.01 < position._RUNNING_FLOOR < 0.2
    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(p))
    decisions = _decide("running_text_model_certain")
    assert [(d.position, d.path) for d in decisions] == expected
    for d in decisions[1:]:
        assert d.signal.startswith("running text in <p>") == (p > position._RUNNING_FLOOR), d
        assert ("overrules running text" in d.signal) == (p < position._RUNNING_FLOOR), d


_PROMO = "html/body/article/p[4]/a"
_PROMO_BOX = "block at html/body/article/p[4] (link density 1.00), a box within the main text block"


@pytest.mark.parametrize(("p", "promo"), [
    (0.7, (S, f"{_PROMO_BOX}; model 0.70, but the page's only body calls are few and uncertain")),
    (0.95, (B, "model 0.95: in <p>, block link density 1.00, inside main text block at "
               "html/body/article")),
])
def test_position_few_uncertain_body_calls_are_not_body(
        p: float, promo: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    """A page whose only body calls are at most _LONE_BODY_LINKS, all under _LONE_BODY_P and
    none running text, gets no body link (issue 4, item 3); a sure call stays body."""
    from linkcrawler import position

    assert position._LONE_BODY_P == 0.9
    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(p))
    decisions = _decide("lone_uncertain_body_call")
    assert [(d.position, d.path) for d in decisions] == [
        (N, "html/body/nav/a[1]"), (N, "html/body/nav/a[2]"), (promo[0], _PROMO),
        (F, "html/body/footer/a"),
    ]
    assert decisions[2].signal == promo[1]


def test_position_few_uncertain_body_calls_fail_with_the_gate_off(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: with the gate off the uncertain promo line is body."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.7))
    monkeypatch.setattr(position, "_LONE_BODY_LINKS", 0)
    assert _decide("lone_uncertain_body_call")[2].position is B


def test_position_more_uncertain_body_calls_than_the_gate_stay_body(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Three uncertain calls (more than _LONE_BODY_LINKS) are the model's to make; so are two
    uncertain calls beside running text (running_text_model_certain: both links are sure)."""
    from linkcrawler import position

    assert position._LONE_BODY_LINKS == 2
    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.7))
    got = [(d.position, d.path) for d in _decide("three_uncertain_body_calls")]
    assert got[2:5] == [(B, f"html/body/article/p[{i}]/a") for i in (4, 5, 6)]
    running = _decide("running_text_model_certain")
    assert [d.position for d in running] == [N, B, B]


@pytest.mark.parametrize("case", ["lone_uncertain_body_call", "three_uncertain_body_calls"])
def test_position_only_judges_the_whole_page_for_the_gate(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Asking about one link gives it its decision among all, when the gate fires too."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.7))
    _assert_only_gives_the_same_decisions(case)


_CHUNK_LINKS = ["html/body/main/div/div[3]/div/p[1]/a", "html/body/main/div/div[5]/div/p[1]/a"]


def _positions(case: str) -> dict[str, Position]:
    return {d.path: d.position for d in _decide(case)}


def test_position_text_region_running_text_is_body(monkeypatch: pytest.MonkeyPatch) -> None:
    """An article split into chunks: with a model that calls every link boilerplate, running
    text in the chunks after the main text block is body as in the block itself, and the
    signal names the text region; the product card and the related list between the chunks
    are boxes within the text region."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    decisions = {d.path: d for d in _decide("article_split_into_chunks")}
    for path in _CHUNK_LINKS:
        assert decisions[path].position is B
        assert decisions[path].signal == (
            f"running text in <p> (link density {0.09 if 'div[3]' in path else 0.12:.2f}) in "
            "the text region at html/body/main/div; model 0.20")
    assert decisions["html/body/main/div/div[1]/div/p[1]/a"].position is B
    card = decisions["html/body/main/div/div[2]/a"]
    assert (card.position, card.signal) == (S, (
        "block at html/body/main/div/div[2] (link density 1.00), a box within the text region "
        "at html/body/main/div; model 0.20"))
    assert all(decisions[f"html/body/main/div/div[4]/ul/li[{i}]/a"].position is S
               for i in (1, 2, 3))


def test_position_text_region_fails_with_the_region_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: asking for more chunks than the article has, the later chunks' links
    are placed after the main text."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    monkeypatch.setattr(position, "_REGION_CHUNKS", 3)
    got = _positions("article_split_into_chunks")
    assert [got[path] for path in _CHUNK_LINKS] == [F, F]


def test_position_text_region_yields_to_a_certain_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Below _RUNNING_FLOOR the model overrules running text in the text region too."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.01))
    decisions = {d.path: d for d in _decide("article_split_into_chunks")}
    for path in _CHUNK_LINKS:
        assert decisions[path].position is S
        assert decisions[path].signal.endswith(
            "a box within the text region at html/body/main/div; model 0.01 (overrules running "
            "text in <p>)")


def test_position_text_region_is_never_a_list(monkeypatch: pytest.MonkeyPatch) -> None:
    """The stories after this one in an infinite-scroll <ul> are no chunks of it: with a model
    that calls every link boilerplate they are not body, and they would be if a list could be
    the region."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    river = ["html/body/ul/li[2]/div/div/p[1]/a", "html/body/ul/li[3]/div/div/p[1]/a"]
    assert [_positions("story_river")[path] for path in river] == [F, F]
    monkeypatch.setattr(position, "_LIST_TAGS", frozenset())
    assert [_positions("story_river")[path] for path in river] == [B, B]


# per layout fixture: the link in a sentence written in the cell, its running-text signal on
# the full path (model 0.20) and on the bounded path, and the link lines after the story
_LAYOUT_CASES = {
    "layout_table_article": (
        "html/body/table[2]/tr/td[2]/span[3]/a",
        "running text in a table cell (link density 0.15) in the main text block; model 0.20",
        "running text in a table cell (link density 0.15) in the main text block at "
        "html/body/table[2]/tr/td[2]; bounded path (13 links)",
        [f"html/body/table[2]/tr/td[2]/a[{i}]" for i in (1, 2, 3, 4)]),
    "layout_cell_holding_the_story": (
        "html/body/table[2]/tr/td[2]/a[1]",
        "running text in a table cell (link density 0.19) in the main text block; model 0.20",
        "running text in a table cell (link density 0.19) in the main text block at "
        "html/body/table[2]/tr/td[2]/div; bounded path (14 links)",
        [f"html/body/table[2]/tr/td[2]/a[{i}]" for i in (2, 3, 4)]),
}


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("case", sorted(_LAYOUT_CASES))
def test_position_layout_cell_needs_words_beside_the_link(
        case: str, bounded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cell that is the main text block, or holds it, has the article's link density and
    plain text: there a link is running text only with words on both sides. With a model that
    calls every link boilerplate, the link in a sentence is body and the headline lines after
    the story, in the same cell, are not; the streaming path for huge pages agrees."""
    from linkcrawler import position

    sentence, signal, bounded_signal, lines = _LAYOUT_CASES[case]
    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    if bounded:
        monkeypatch.setattr(position, "MAX_MODEL_LINKS", 0)
    decisions = {d.path: d for d in _decide(case)}
    assert (decisions[sentence].position, decisions[sentence].signal) == (
        B, bounded_signal if bounded else signal)
    assert [decisions[path].position for path in lines] == [S] * len(lines)


@pytest.mark.parametrize("bounded", [False, True])
@pytest.mark.parametrize("case", sorted(_LAYOUT_CASES))
def test_position_layout_cell_fails_without_words_beside_the_link(
        case: str, bounded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: if every link had words on both sides, the headline lines in the cell
    holding the article would be body as running text."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    monkeypatch.setattr(position, "_text_beside", lambda a: ("words", "words"))
    if bounded:
        monkeypatch.setattr(position, "MAX_MODEL_LINKS", 0)
    got = _positions(case)
    lines = _LAYOUT_CASES[case][3]
    assert [got[path] for path in lines] == [B] * len(lines)


@pytest.mark.parametrize("case", sorted(_LAYOUT_CASES))
def test_position_layout_cell_lines_overrule_the_model(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The model reads the layout cell's measures (the whole article's) for a link line in it
    too: with a model that calls every link body, the lines after the story in the cell are
    still sidebar, and the signal says why; the link in a sentence stays body."""
    from linkcrawler import position

    sentence, _, _, lines = _LAYOUT_CASES[case]
    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.99))
    decisions = {d.path: d for d in _decide(case)}
    assert decisions[sentence].position is B
    cell = lines[0].rsplit("/", 1)[0]
    density = {"layout_table_article": "0.15", "layout_cell_holding_the_story": "0.19"}[case]
    assert [(decisions[path].position, decisions[path].signal) for path in lines] == [
        (S, f"block at {cell} (link density {density}), a box within the main text block; "
            "model 0.99 (a link line in the layout cell holding the article)")] * len(lines)


@pytest.mark.parametrize("case", sorted(_LAYOUT_CASES))
def test_position_layout_cell_lines_fail_without_the_rule(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: without the rule, a model that calls every link body has its way with
    the link lines in the cell holding the article."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.99))
    monkeypatch.setattr(position, "_layout_cell_line", lambda a, facts, page: False)
    got = _positions(case)
    lines = _LAYOUT_CASES[case][3]
    assert [got[path] for path in lines] == [B] * len(lines)


_COLUMN_PROMOS = ["html/body/table[2]/tr/td[1]/table/tr/td/b/a",
                  "html/body/table[2]/tr/td[3]/table[1]/tr/td/b/a",
                  "html/body/table[2]/tr/td[3]/table[2]/tr/td/b/a"]


@pytest.mark.parametrize("bounded", [False, True])
def test_position_layout_columns_are_beside_the_main_text_block(
        bounded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """When the main text block is a layout table's cell, the other cells of its row are the
    page's columns: a promo box there (a headline link and a teaser sentence) is sidebar, not
    running text of the story, while the story's own sentence stays body. With a model that
    calls every link boilerplate, on the full path and on the streaming path for huge pages."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    if bounded:
        monkeypatch.setattr(position, "MAX_MODEL_LINKS", 0)
    beside = "a column beside the main text block (a layout table's cell)"
    densities = ("0.15", "0.20", "0.21")
    if bounded:
        story_signal = ("running text in a table cell (link density 0.07) in the main text block "
                        "at html/body/table[2]/tr/td[2]; bounded path (7 links)")
        promo_signals = [f"no prose around the link (block <td>, link density {density}), "
                         f"{beside}; bounded path (7 links)" for density in densities]
    else:
        story_signal = ("running text in a table cell (link density 0.07) in the main text block; "
                        "model 0.20")
        promo_signals = [f"block at {path.removesuffix('/b/a')} (link density {density}), {beside}; "
                         "model 0.20" for path, density in zip(_COLUMN_PROMOS, densities, strict=True)]
    decisions = {d.path: d for d in _decide("layout_table_columns")}
    story = decisions["html/body/table[2]/tr/td[2]/span[3]/a"]
    assert (story.position, story.signal) == (B, story_signal)
    assert [(decisions[path].position, decisions[path].signal) for path in _COLUMN_PROMOS] == [
        (S, signal) for signal in promo_signals]


@pytest.mark.parametrize("bounded", [False, True])
def test_position_layout_columns_fail_without_the_rule(
        bounded: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: if the cell's row counted as the main text block's container, the
    promo boxes in the other columns would be body as running text."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    monkeypatch.setattr(position, "_CELL_TAGS", frozenset())
    if bounded:
        monkeypatch.setattr(position, "MAX_MODEL_LINKS", 0)
    got = _positions("layout_table_columns")
    assert [got[path] for path in _COLUMN_PROMOS] == [B, B, B]


_TWEET_TEXT_LINKS = ["html/body/article/blockquote[1]/p/a[1]",
                     "html/body/article/blockquote[1]/p/a[2]"]


@pytest.mark.parametrize("p", [0.2, 0.99])
def test_position_embedded_posts_decide_whatever_the_model_says(
        p: float, monkeypatch: pytest.MonkeyPatch) -> None:
    """The links of an embedded tweet are sidebar, named by the embed's class and element,
    even where the model or the running-text rule would call them body."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(p))
    decisions = {d.path: d for d in _decide("embedded_posts")}
    for path in [*_TWEET_TEXT_LINKS, "html/body/article/blockquote[1]/a"]:
        assert (decisions[path].position, decisions[path].signal) == (
            S, 'embedded post (class "twitter-tweet") at html/body/article/blockquote[1]')


def test_position_embedded_posts_below_regions() -> None:
    """A region that decides wins over an embedded post below it (an <aside>, a comment
    thread); one that leaves its links to the model (a <header> wrapping the whole page) does
    not."""
    tweet = ("<blockquote class='twitter-tweet'><p>A post about the storm and the harbour wall "
             "<a href='https://t.co/x'>pic.twitter.com/x</a></p></blockquote>")
    prose = "<p>" + "The coast road stays closed tonight after the storm. " * 12 + "</p>"
    root = lxml.html.document_fromstring(
        f"<html><body><header><article>{prose}{tweet}{prose}</article></header>"
        f"<aside>{tweet}</aside><div id='comments'>{tweet}</div></body></html>")
    decisions = classify_positions(root, list(root.iter("a")))
    assert [(d.position, d.signal) for d in decisions] == [
        (S, 'embedded post (class "twitter-tweet") at html/body/header/article/blockquote'),
        (S, "landmark <aside> at html/body/aside"),
        (C, 'id "comments" at html/body/div'),
    ]


def test_position_embedded_posts_fail_without_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: without the embed classes, the tweet's text is running text in the
    story and its links are body."""
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _ConstantModel(0.2))
    monkeypatch.setattr(position, "_EMBEDDED_POSTS", frozenset())
    got = _positions("embedded_posts")
    assert [got[path] for path in _TWEET_TEXT_LINKS] == [B, B]


def test_position_landmark_wrapping_most_text_is_left_to_the_model() -> None:
    """A small landmark decides alone; one holding half the page's text is judged by the model."""
    from linkcrawler import position

    prose = "<p>" + "Plenty of article text here, sentence after sentence. " * 8 + "</p>"
    root = lxml.html.document_fromstring(
        f"<html><body><aside><p>Intro <a href='/a'>a</a></p>{prose}</aside>"
        "<div><nav><a href='/n'>n</a></nav></div></body></html>"
    )
    page = position._measure(root)
    aside_link, nav_link = root.iter("a")
    assert not position._region_decides(position._region_above(aside_link, page), page)
    assert position._region_decides(position._region_above(nav_link, page), page)
    decisions = classify_positions(root, [aside_link, nav_link])
    assert "model" in decisions[0].signal and "model" not in decisions[1].signal


def _model_saying(tmp_path: Path, p_body: float) -> object:
    """A model file whose every answer is P(body) = p_body: the rules around the model, seen
    with a model that calls everything body."""
    from linkcrawler import position

    spec = {"features": list(position.FEATURE_NAMES), "max_depth": 1, "cutoff": 0.5,
            "base": math.log(p_body / (1 - p_body)),
            "trees": [{"feature": [-1], "threshold": [0.0], "left": [0], "right": [0],
                       "value": [0.0]}]}
    path = tmp_path / "model.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return position.load_model(path)


def test_position_closing_list_overrules_the_model(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from linkcrawler import position

    monkeypatch.setitem(position._MODEL_CACHE, "model", _model_saying(tmp_path, 0.6))
    closing = [f"html/body/div[2]/form/table/tr/td/ul/li[{i}]/a" for i in range(1, 5)]
    got = [(d.position, d.path) for d in _decide("closing_link_list")]
    assert got == [(B, path) if path not in closing else (S, path)
                   for _p, path in EXPECTED["closing_link_list"]]
    for d in _decide("closing_link_list"):
        if d.path in closing:
            assert d.signal == (f"block at {d.path[:-2]} (link density 1.00), a box within the "
                                "main text block, in a list of links closing the main text; "
                                "model 0.60")
    # negative control: without the rule the model's word stands
    monkeypatch.setattr(position, "_CLOSING_LIST_ITEMS", math.inf)
    assert {d.position for d in _decide("closing_link_list")} == {B}


def test_position_legal_notices_need_the_rule(monkeypatch: pytest.MonkeyPatch) -> None:
    """Negative control: without the legal-notice rule only the links named like legal pages
    ("Terms of Use", "Impressum") stay footer, not "All rights reserved"; without both rules
    every link in the article is body."""
    from linkcrawler import position

    monkeypatch.setattr(position, "_LEGAL_NOTICE_MAX", -1)
    assert [d.position for d in _decide("legal_notices")] == [N, B, B, F, F, B, F, F, F]
    monkeypatch.setattr(position, "_LEGAL_PHRASE_SET", frozenset())
    assert [d.position for d in _decide("legal_notices")] == [N, B, B, B, B, B, B, B, B]


@pytest.mark.parametrize("bounded", [False, True])
def test_position_legal_link_in_a_long_block(bounded: bool,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """A newsletter box too long to be a legal notice: its "User Agreement" and "Privacy
    Policy." links are footer by their anchors; "its privacy policy is short", a common noun in
    a review, stays body."""
    from linkcrawler import position

    if bounded:
        monkeypatch.setattr(position, "MAX_MODEL_LINKS", 0)
    decisions = {d.path: d for d in _decide("legal_notices")}
    note = "bounded path (9 links)" if bounded else "model"
    for path, name in (("html/body/article/p[6]/a[1]", "user agreement"),
                       ("html/body/article/p[6]/a[2]", "privacy policy")):
        assert decisions[path].position is F
        assert decisions[path].signal.startswith(f'legal link ("{name}") at {path}; {note}')
    assert decisions["html/body/article/p[3]/a"].position is B


SITE_FIXTURES = FIXTURES.parent / "page_site"
# page URL given to the classifier, then href_other_site of each link with that URL and without
# any (1: leaves the page's site, 0: stays, 0.5: unknown; a relative link is never "absolute")
SITE_EXPECTED = {
    # no canonical link or og:url: the site is the fetched URL's registrable domain
    "no_canonical": ("https://blog.example.co.uk/post",
                     [0.0, 0.0, 0.0, 0.0, 1.0, 1.0], [0.0, 0.5, 0.5, 0.5, 0.5, 0.5]),
    # the page names its site: the canonical link outranks og:url and the fetched URL
    "canonical_elsewhere": ("https://mirror.example.net/copy/1",
                            [0.0, 1.0, 1.0], [0.0, 1.0, 1.0]),
    # a relative canonical link names no host, so og:url does
    "og_url_only": ("https://mirror.example.net/copy/2", [0.0, 1.0], [0.0, 1.0]),
    # an address or a single-label host is its own site
    "ip_address": ("http://127.0.0.1:8080/", [0.0, 1.0, 1.0], [0.5, 0.5, 0.5]),
    # an IPv6 literal is a host of its own, colons and all
    "ipv6_address": ("http://[2001:DB8::1]/", [0.0, 1.0, 1.0], [0.5, 0.5, 0.5]),
}


@pytest.mark.parametrize("case", sorted(SITE_EXPECTED))
def test_position_page_site(case: str) -> None:
    """Whether a link leaves the page's site: the site is the registrable domain the page
    names in <head>, else that of the URL it was fetched from (pages before ~2010 name none)."""
    from linkcrawler.position import FEATURE_NAMES, page_features

    page_url, with_url, without_url = SITE_EXPECTED[case]
    root = lxml.html.document_fromstring((SITE_FIXTURES / f"{case}.html").read_bytes())
    anchors = list(root.iter("a"))
    column = FEATURE_NAMES.index("href_other_site")
    assert [row[column] for row in page_features(root, anchors, page_url)] == with_url
    assert [row[column] for row in page_features(root, anchors)] == without_url


def test_position_page_site_fixtures_have_expectations() -> None:
    assert sorted(p.stem for p in SITE_FIXTURES.glob("*.html")) == sorted(SITE_EXPECTED)
