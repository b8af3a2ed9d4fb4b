"""Runs and results in the database, on SQLite and PostgreSQL: what is pending, one result per
backlink whatever is written twice, and hostile strings stored and read back (SEC-4)."""

from __future__ import annotations

from linkcrawler.db import Backlink, Page, Result, Run, open_database, url_hash
from linkcrawler.enums import Reason, RunState, Status
from linkcrawler.export import iter_records
from linkcrawler.runs import (
    count_pending,
    create_run,
    finish_run,
    iter_pending_jobs,
    save_results,
    status_counts,
)
from linkcrawler.verification import VerifiedResult

HOSTILE = [
    "quote ' \" and %_ wildcards",
    "NUL\x00inside",
    "emoji 🔗🚀 and ünïcödé",
    "x" * 65536,
    "lone \ud800 surrogate",
]


def seed(session, pages: int = 3, per_page: int = 2) -> None:  # noqa: ANN001
    for p in range(pages):
        url = f"https://site{p}.test/page"
        page = Page(url=url, url_key=url_hash(url), host=f"site{p}.test")
        session.add(page)
        session.flush()
        for t in range(per_page):
            session.add(Backlink(page_id=page.id, source_url=url, target=f"https://t{t}.test/",
                                 target_kind="url", target_norm=f"https://t{t}.test/",
                                 target_key=url_hash(f"url:https://t{t}.test/")))


def test_pending_jobs_group_backlinks_by_page_and_shrink_as_results_land(db_url: str) -> None:
    db = open_database(db_url)
    with db.sessions.begin() as session:
        seed(session)
        run_id = create_run(session, tag=None, options={}).id
    jobs = list(iter_pending_jobs(db.sessions, run_id, batch=2))
    assert [(j.url, [b.id for b in j.backlinks]) for j in jobs] == [
        ("https://site0.test/page", [1, 2]), ("https://site1.test/page", [3, 4]),
        ("https://site2.test/page", [5, 6])]
    with db.sessions.begin() as session:
        save_results(session, run_id, [VerifiedResult(backlink_id=3, status=Status.LIVE, reason=Reason.FOUND)])
        # A second result for the same backlink is ignored, never stored twice.
        save_results(session, run_id, [VerifiedResult(backlink_id=3, status=Status.LOST,
                                                       reason=Reason.LINK_REMOVED)])
    with db.sessions() as session:
        run = session.get(Run, run_id)
        assert count_pending(session, run) == (3, 5)
        assert [(c.status, c.reason, c.count) for c in status_counts(session, run_id)] == [("live", "found", 1)]
    jobs = list(iter_pending_jobs(db.sessions, run_id))
    assert [(j.url, [b.id for b in j.backlinks]) for j in jobs] == [
        ("https://site0.test/page", [1, 2]), ("https://site1.test/page", [4]),
        ("https://site2.test/page", [5, 6])]
    with db.sessions.begin() as session:
        finish_run(session, run_id, RunState.INTERRUPTED, "stopped")
    db.engine.dispose()


def test_hostile_strings_round_trip(db_url: str) -> None:
    db = open_database(db_url)
    with db.sessions.begin() as session:
        seed(session, pages=1, per_page=1)
        run_id = create_run(session, tag=None, options={}).id
        links = tuple({"href": s, "url": s, "anchor_text": s, "rel": [], "position": "body", "hidden": False,
                       "match": "exact"} for s in HOSTILE)
        save_results(session, run_id, [VerifiedResult(backlink_id=1, status=Status.LIVE, reason=Reason.FOUND,
                                                      links=links, error=HOSTILE[1], page={"title": HOSTILE[4]})])
    with db.sessions() as session:
        (record,) = iter_records(session, run_id)
        stored = session.query(Result).one()
    expected = [s.replace("\x00", "") for s in HOSTILE[:4]] + ["lone \ufffd surrogate"]
    assert [link["anchor_text"] for link in record["links"]] == expected
    assert stored.anchor_text == expected[0] and record["error"] == "NULinside"
    assert record["page"] == {"title": "lone \ufffd surrogate"}
    db.engine.dispose()
