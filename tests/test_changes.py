"""Change events between runs (DESIGN §6, RELIABILITY DAT-5), on histories written through the
models: the state machine, every event kind and changed field, carry-over and --confirm."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from linkcrawler.changes import (
    BacklinkState,
    ChangeEvent,
    ChangeField,
    ChangeKind,
    StateKind,
    UNKNOWN,
    advance,
    backlink_timeline,
    compute_changes,
    diff_states,
    latest_two_runs,
    previous_run_id,
    resolve_run_pair,
)
from linkcrawler.db import Backlink, Page, Result, Run, open_database, url_hash
from linkcrawler.enums import Reason
from linkcrawler.errors import UsageError

LIVE_DEFAULTS: dict[str, Any] = {
    "follow": True, "rel": "", "position": "body", "anchor_text": "Example link",
    "indexable": True, "hidden": False, "match": "exact", "http_status": 200,
}


class History:
    """Builds run histories directly through the models (no crawl involved)."""

    def __init__(self, url: str) -> None:
        self.db = open_database(url)
        self._clock = dt.datetime(2025, 1, 1, 2, 0)

    def backlink(self, source: str, target: str = "https://mysite.test/") -> int:
        with self.db.sessions() as session, session.begin():
            page = session.scalar(select(Page).where(Page.url_key == url_hash(source)))
            if page is None:
                page = Page(url=source, url_key=url_hash(source), host=source.split("/")[2])
                session.add(page)
                session.flush()
            backlink = Backlink(page_id=page.id, source_url=source, target=target,
                                target_kind="url", target_norm=target,
                                target_key=url_hash("url" + target + source))
            session.add(backlink)
            session.flush()
            return backlink.id

    def run(self, results: dict[int, str | dict[str, Any]], state: str = "completed") -> int:
        """One run; each backlink's result is a reason ("found", "timeout"...) or a dict of
        column overrides with at least "reason"."""
        self._clock += dt.timedelta(days=1)
        with self.db.sessions() as session, session.begin():
            run = Run(kind="verify", state=state, started_at=self._clock,
                      finished_at=self._clock + dt.timedelta(minutes=5))
            session.add(run)
            session.flush()
            targets = dict(session.execute(select(Backlink.id, Backlink.target)).all())
            sources = dict(session.execute(select(Backlink.id, Backlink.source_url)).all())
            for backlink_id, spec in results.items():
                spec = {"reason": spec} if isinstance(spec, str) else dict(spec)
                reason = Reason(spec.pop("reason"))
                row: dict[str, Any] = {"status": reason.status.value, "reason": reason.value,
                                       "final_url": sources[backlink_id], "attempts": 1}
                if reason.status.value == "live":
                    row.update(LIVE_DEFAULTS, link_url=targets[backlink_id])
                    row["links"] = [{"url": targets[backlink_id], "img_alt": ""}]
                elif reason.status.value == "lost":
                    row["http_status"] = 200
                else:
                    row["final_url"] = None
                row.update(spec)
                session.add(Result(run_id=run.id, backlink_id=backlink_id, **row))
            return run.id

    def changes(self, from_run: int, to_run: int, confirm: int = 1) -> list[ChangeEvent]:
        with self.db.sessions() as session:
            return list(compute_changes(session, from_run, to_run, confirm=confirm))


def brief(events: list[ChangeEvent]) -> list[tuple[Any, ...]]:
    return [(e.backlink_id, e.kind.value, e.field.value if e.field else None, e.before, e.after)
            for e in events]


@pytest.fixture
def history(sqlite_url: str) -> History:
    return History(sqlite_url)


# --- every kind ---------------------------------------------------------------------------------

def test_each_event_kind(history: History) -> None:
    stays = history.backlink("https://a.example/stays")
    goes = history.backlink("https://b.example/goes")
    comes_back = history.backlink("https://c.example/back")
    appears = history.backlink("https://d.example/new")
    never = history.backlink("https://e.example/never")
    r1 = history.run({stays: "found", goes: "found", comes_back: "link_removed",
                      appears: "timeout", never: "page_not_found"})
    r2 = history.run({stays: "found", goes: "page_not_found", comes_back: "found",
                      appears: "found", never: "link_removed"})
    events = history.changes(r1, r2)
    assert brief(events) == [
        (goes, "lost", None, "found", "page_not_found"),
        # comes_back was never seen live before r2: its first live result is "new"
        (comes_back, "new", None, None, "found"),
        (appears, "new", None, None, "found"),
    ]
    assert all(e.from_run == r1 and e.to_run == r2 for e in events)
    assert events[0].source_url == "https://b.example/goes"
    assert events[0].target == "https://mysite.test/"


def test_recovered_after_lost(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: "found"})
    r2 = history.run({b: "link_removed"})
    r3 = history.run({b: "target_changed"})
    assert brief(history.changes(r1, r2)) == [(b, "lost", None, "found", "link_removed")]
    assert brief(history.changes(r2, r3)) == [(b, "recovered", None, "link_removed", "target_changed")]
    assert history.changes(r1, r3) == []  # live at both ends, same fields


@pytest.mark.parametrize(
    ("field", "column", "before", "after"),
    [
        (ChangeField.FOLLOW, "follow", True, False),
        (ChangeField.REL, "rel", "noopener", "nofollow noopener"),
        (ChangeField.POSITION, "position", "body", "footer"),
        (ChangeField.ANCHOR_TEXT, "anchor_text", "Best shoes", "Click here"),
        (ChangeField.INDEXABLE, "indexable", True, False),
        (ChangeField.TARGET_URL, "link_url", "https://mysite.test/", "https://mysite.test/shoes"),
        (ChangeField.FINAL_URL, "final_url", "https://a.example/", "https://a.example/moved"),
        (ChangeField.HIDDEN, "hidden", False, True),
    ],
)
def test_each_changed_field(history: History, field: ChangeField, column: str, before: Any,
                            after: Any) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: {"reason": "found", column: before}})
    r2 = history.run({b: {"reason": "found", column: after}})
    assert brief(history.changes(r1, r2)) == [(b, "changed", field.value, before, after)]


def test_several_fields_in_contract_order(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: "found"})
    r2 = history.run({b: {"reason": "found", "hidden": True, "follow": False, "rel": "sponsored",
                          "anchor_text": "Sponsored"}})
    assert [e.field for e in history.changes(r1, r2)] == [
        ChangeField.FOLLOW, ChangeField.REL, ChangeField.ANCHOR_TEXT, ChangeField.HIDDEN]


def test_what_is_not_a_change(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: {"reason": "found", "rel": "nofollow noopener", "follow": None,
                          "link_url": "HTTPS://MySite.test:443/a/../#top",
                          "final_url": "https://a.example/"}})
    # rel order, an unknown boolean, URL spelling differences that normalise away
    r2 = history.run({b: {"reason": "found", "rel": "noopener  NOFOLLOW", "follow": False,
                          "link_url": "https://mysite.test/", "final_url": "https://A.example:443/"}})
    assert history.changes(r1, r2) == []
    # ...but http -> https of the link is a different address
    r3 = history.run({b: {"reason": "found", "rel": "nofollow noopener", "follow": False,
                          "link_url": "http://mysite.test/", "final_url": "https://a.example/"}})
    assert brief(history.changes(r2, r3)) == [
        (b, "changed", "target_url", "https://mysite.test/", "http://mysite.test/")]


# --- trust before alarm (DAT-5) -----------------------------------------------------------------

def test_found_timeout_found_produces_no_event(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: "found"})
    r2 = history.run({b: "timeout"})
    r3 = history.run({b: "found"})
    assert history.changes(r1, r2) == []
    assert history.changes(r2, r3) == []
    assert history.changes(r1, r3) == []


@pytest.mark.parametrize("unverified", [r.value for r in Reason if r.status.value == "unverified"])
def test_unverified_never_lost_or_recovered(history: History, unverified: str) -> None:
    live = history.backlink("https://a.example/")
    lost = history.backlink("https://b.example/")
    r1 = history.run({live: "found", lost: "found"})
    r2 = history.run({live: "found", lost: "page_gone"})
    r3 = history.run({live: unverified, lost: unverified})
    r4 = history.run({live: unverified, lost: unverified})
    assert brief(history.changes(r1, r2)) == [(lost, "lost", None, "found", "page_gone")]
    assert history.changes(r2, r3) == []
    assert history.changes(r3, r4) == []
    assert history.changes(r2, r4) == []


def test_confirm_two_needs_two_consecutive_misses(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: "found"})
    r2 = history.run({b: "link_removed"})
    r3 = history.run({b: "link_removed"})
    r4 = history.run({b: "link_removed"})
    pairs = [(r1, r2), (r2, r3), (r3, r4)]
    events = [e for f, t in pairs for e in history.changes(f, t, confirm=2)]
    assert brief(events) == [(b, "lost", None, "found", "link_removed")]
    assert events[0].from_run == r2 and events[0].to_run == r3
    # with the default every miss is conclusive at once
    assert brief(history.changes(r1, r2)) == [(b, "lost", None, "found", "link_removed")]


def test_confirm_unverified_neither_counts_nor_resets(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: "found"})
    r2 = history.run({b: "link_removed"})
    r3 = history.run({b: "timeout"})
    r4 = history.run({b: "page_not_found"})
    assert history.changes(r1, r2, confirm=2) == []
    assert history.changes(r2, r3, confirm=2) == []
    assert brief(history.changes(r3, r4, confirm=2)) == [(b, "lost", None, "found", "page_not_found")]
    assert history.changes(r1, r4, confirm=3) == []


def test_confirm_a_live_result_resets_the_misses(history: History) -> None:
    b = history.backlink("https://a.example/")
    runs = [history.run({b: reason}) for reason in
            ["found", "link_removed", "found", "link_removed", "found"]]
    for f, t in itertools.pairwise(runs):
        assert history.changes(f, t, confirm=2) == []


def test_pending_miss_keeps_the_last_live_fields(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: {"reason": "found", "position": "body"}})
    r2 = history.run({b: "link_removed"})
    r3 = history.run({b: {"reason": "found", "position": "footer"}})
    assert history.changes(r1, r2, confirm=2) == []
    assert brief(history.changes(r2, r3, confirm=2)) == [(b, "changed", "position", "body", "footer")]


def test_lost_stays_lost_without_repeating(history: History) -> None:
    b = history.backlink("https://a.example/")
    r1 = history.run({b: "found"})
    r2 = history.run({b: "link_removed"})
    r3 = history.run({b: "page_gone"})
    assert len(history.changes(r1, r2)) == 1
    assert history.changes(r2, r3) == []


def test_backlink_not_checked_in_the_later_run_carries_over(history: History) -> None:
    a = history.backlink("https://a.example/")
    b = history.backlink("https://b.example/")
    r1 = history.run({a: "found", b: "found"})
    r2 = history.run({a: "found"})  # a --tag run: b not checked
    r3 = history.run({a: "found", b: "link_removed"})
    assert history.changes(r1, r2) == []
    assert brief(history.changes(r2, r3)) == [(b, "lost", None, "found", "link_removed")]
    # non-consecutive runs: what happened in between counts
    r4 = history.run({a: "found"})
    assert brief(history.changes(r1, r4)) == [(b, "lost", None, "found", "link_removed")]


# --- runs -------------------------------------------------------------------------------------

def test_run_selection(history: History) -> None:
    b = history.backlink("https://a.example/")
    with history.db.sessions() as session:
        assert latest_two_runs(session) is None
        with pytest.raises(UsageError, match="two completed runs.*found 0"):
            resolve_run_pair(session, None, None)
    r1 = history.run({b: "found"})
    with history.db.sessions() as session:
        with pytest.raises(UsageError, match="found 1"):
            resolve_run_pair(session, None, None)
    r2 = history.run({b: "found"}, state="aborted")
    r3 = history.run({b: "found"})
    with history.db.sessions() as session:
        pair = latest_two_runs(session)
        assert pair is not None and (pair[0].id, pair[1].id) == (r1, r3)
        assert previous_run_id(session, r3) == r1
        assert [r.id for r in resolve_run_pair(session, None, None)] == [r1, r3]
        assert [r.id for r in resolve_run_pair(session, r2, None)] == [r2, r3]
        assert [r.id for r in resolve_run_pair(session, None, r2)] == [r1, r2]
        with pytest.raises(UsageError, match="no verify run with id 99"):
            resolve_run_pair(session, 99, None)
        with pytest.raises(UsageError, match="earlier run"):
            resolve_run_pair(session, r3, r1)
        with pytest.raises(UsageError, match="no completed run after run 3"):
            resolve_run_pair(session, r3, None)


# --- streaming in chunks ------------------------------------------------------------------------

def test_many_backlinks_across_chunks(history: History) -> None:
    """More rows than one chunk, mixing the fast path with carry-over lookups."""
    n = 12_003
    with history.db.sessions() as session, session.begin():
        session.execute(Page.__table__.insert(), [
            {"id": i, "url": f"https://s{i}.example/", "url_key": url_hash(str(i)), "host": ""}
            for i in range(1, n + 1)])
        session.execute(Backlink.__table__.insert(), [
            {"id": i, "page_id": i, "source_url": f"https://s{i}.example/", "target": "https://t.test/",
             "target_kind": "url", "target_norm": "https://t.test/", "target_key": url_hash(str(i)),
             "created_at": dt.datetime(2025, 1, 1)} for i in range(1, n + 1)])
    first = {i: "found" for i in range(1, n + 1)}
    second = {i: ("timeout" if i % 3 == 0 else "link_removed" if i % 7 == 0 else "found")
              for i in range(1, n + 1)}
    r1 = history.run(first)
    r2 = history.run(second)
    events = history.changes(r1, r2)
    expected = [i for i in range(1, n + 1) if i % 3 != 0 and i % 7 == 0]
    assert [e.backlink_id for e in events] == expected
    assert {e.kind for e in events} == {ChangeKind.LOST}


# --- the state machine and the SQL agree ---------------------------------------------------------

REASONS = ["found", "target_changed", "link_removed", "page_not_found", "timeout", "blocked", None]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    histories=st.lists(st.lists(st.sampled_from(REASONS), min_size=4, max_size=4), min_size=1, max_size=6),
    anchors=st.lists(st.sampled_from(["a", "b"]), min_size=4, max_size=4),
    confirm=st.integers(min_value=1, max_value=3),
)
def test_compute_changes_agrees_with_replaying_history(tmp_path_factory: pytest.TempPathFactory,
                                                        histories: list[list[str | None]],
                                                        anchors: list[str], confirm: int) -> None:
    url = f"sqlite:///{tmp_path_factory.mktemp('h') / 'db.sqlite'}"
    history = History(url)
    ids = [history.backlink(f"https://s{i}.example/") for i in range(len(histories))]
    runs = []
    for n in range(4):
        results: dict[int, Any] = {}
        for bid, reasons in zip(ids, histories, strict=True):
            if reasons[n] is not None:
                results[bid] = {"reason": reasons[n], "anchor_text": anchors[n]}
        runs.append(history.run(results))
    with history.db.sessions() as session:
        timelines = {bid: backlink_timeline(session, bid, confirm=confirm) for bid in ids}
    for f, t in itertools.combinations(range(4), 2):
        got = brief(history.changes(runs[f], runs[t], confirm=confirm))
        want = []
        for bid, reasons in zip(ids, histories, strict=True):
            state_f = state_t = UNKNOWN
            for n in range(t + 1):
                snapshot = None
                if reasons[n] is not None:
                    snapshot = _snapshot(reasons[n], anchors[n])
                state_t = advance(state_t, snapshot, confirm)
                if n == f:
                    state_f = state_t
            want += [(bid, k.value, fl.value if fl else None, b, a)
                     for k, fl, b, a in diff_states(state_f, state_t)]
        assert got == want
        if t == f + 1:  # the timeline's events are the consecutive pairs' events
            from_timeline = [e for bid in ids for entry in timelines[bid].entries
                             if entry.run_id == runs[t] for e in entry.events]
            assert brief(from_timeline) == got


def _snapshot(reason: str, anchor: str) -> tuple[Any, ...]:
    status = Reason(reason).status.value
    if status != "live":
        return (status, reason) + (None,) * 8
    return (status, reason, True, "", "body", anchor, True, "https://mysite.test/",
            "https://s.example/", False)


def test_advance_pure() -> None:
    live = ("live", "found", True, "", "body", "x", True, "u", "f", False)
    lost = ("lost", "link_removed") + (None,) * 8
    timeout = ("unverified", "timeout") + (None,) * 8
    s = advance(UNKNOWN, lost, 1)
    assert s is UNKNOWN  # never seen live: nothing to lose
    s = advance(s, live, 2)
    assert s == BacklinkState(StateKind.LIVE, live)
    s = advance(s, lost, 2)
    assert s.kind is StateKind.LIVE and s.misses == 1
    s = advance(s, timeout, 2)
    assert s.misses == 1
    s = advance(s, lost, 2)
    assert s == BacklinkState(StateKind.LOST, lost_reason="link_removed")
