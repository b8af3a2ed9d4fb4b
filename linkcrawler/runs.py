"""Runs and their results: creating and resuming runs, streaming what is left to check,
storing results. Repository functions take the session first and never commit.

A run does not copy the backlink list: what it still has to check is derived as the
backlinks with id <= run.max_backlink_id (matching run.tag) that have no result in the run.
The unique (run_id, backlink_id) constraint plus ON CONFLICT DO NOTHING means a resumed or
re-delivered page can never write a second result for a backlink.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, null, select, update
from sqlalchemy.orm import Session, sessionmaker

from linkcrawler.db import (
    Backlink,
    BacklinkTag,
    Page,
    Result,
    Run,
    insert_ignoring_conflicts,
    storable,
    utcnow,
)
from linkcrawler.enums import ExpectedRel, RunState, Status, TargetKind
from linkcrawler.errors import UsageError
from linkcrawler.urls import Target
from linkcrawler.verification import BacklinkSpec, PageJob, VerifiedResult

# A run whose owner has not written a heartbeat for this long is considered dead.
STALE_AFTER = dt.timedelta(seconds=120)


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _owner_alive(run: Run, now: dt.datetime) -> bool:
    host, _, pid = run.owner.rpartition(":")
    if host == socket.gethostname() and pid.isdigit():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True
    return run.heartbeat_at is not None and now - run.heartbeat_at < STALE_AFTER


def active_run(session: Session, kind: str = "verify") -> Run | None:
    """A run of `kind` that is running right now in a live process, if any."""
    now = utcnow()
    for run in session.scalars(
        select(Run).where(Run.kind == kind, Run.state == RunState.RUNNING).order_by(Run.id.desc())
    ):
        if _owner_alive(run, now):
            return run
    return None


def mark_dead_runs_interrupted(session: Session, kind: str = "verify") -> list[int]:
    now = utcnow()
    dead = [
        run
        for run in session.scalars(select(Run).where(Run.kind == kind, Run.state == RunState.RUNNING))
        if not _owner_alive(run, now)
    ]
    for run in dead:
        run.state = RunState.INTERRUPTED
        run.error = run.error or "the process running it stopped without finishing"
    return [run.id for run in dead]


def create_run(session: Session, *, tag: str | None, options: dict[str, Any], kind: str = "verify") -> Run:
    max_id = session.scalar(select(func.max(Backlink.id))) or 0
    run = Run(
        kind=kind,
        state=RunState.RUNNING,
        tag=tag,
        max_backlink_id=max_id,
        options=options,
        owner=owner_id(),
        heartbeat_at=utcnow(),
    )
    session.add(run)
    session.flush()
    return run


def resumable_run(session: Session, run_id: int | None = None, kind: str = "verify") -> Run:
    """The run `verify --resume` continues: the given one, or the newest unfinished one."""
    if run_id is not None:
        run = session.get(Run, run_id)
        if run is None or run.kind != kind:
            raise UsageError(f"there is no {kind} run {run_id}")
    else:
        run = session.scalars(
            select(Run)
            .where(Run.kind == kind, Run.state != RunState.COMPLETED)
            .order_by(Run.id.desc())
            .limit(1)
        ).first()
        if run is None:
            raise UsageError("there is no unfinished run to resume; start one with `linkcrawler verify`")
    if run.state == RunState.COMPLETED:
        raise UsageError(f"run {run.id} is already complete")
    return run


def claim_run(session: Session, run: Run) -> None:
    run.state = RunState.RUNNING
    run.owner = owner_id()
    run.heartbeat_at = utcnow()
    run.finished_at = None
    run.error = None


def heartbeat(session: Session, run_id: int) -> None:
    session.execute(update(Run).where(Run.id == run_id).values(heartbeat_at=utcnow()))


def finish_run(session: Session, run_id: int, state: RunState, error: str | None = None) -> None:
    session.execute(
        update(Run)
        .where(Run.id == run_id)
        .values(state=state, finished_at=utcnow(), heartbeat_at=utcnow(), error=error)
    )


def _pending_backlinks(run: Run):  # noqa: ANN202 - a SQLAlchemy select
    done = select(Result.id).where(Result.run_id == run.id, Result.backlink_id == Backlink.id)
    query = select(Backlink).where(Backlink.id <= run.max_backlink_id, ~done.exists())
    if run.tag:
        query = query.where(
            select(BacklinkTag.tag)
            .where(BacklinkTag.backlink_id == Backlink.id, BacklinkTag.tag == run.tag)
            .exists()
        )
    return query


def count_pending(session: Session, run: Run) -> tuple[int, int]:
    """(distinct pages, backlinks) the run still has to check."""
    sub = _pending_backlinks(run).with_only_columns(Backlink.id, Backlink.page_id).subquery()
    backlinks = session.scalar(select(func.count()).select_from(sub)) or 0
    pages = session.scalar(select(func.count(func.distinct(sub.c.page_id)))) or 0
    return pages, backlinks


def backlink_spec(backlink: Backlink, was_live: bool = False) -> BacklinkSpec:
    return BacklinkSpec(
        id=backlink.id,
        source_url=backlink.source_url,
        target=Target(raw=backlink.target, kind=TargetKind(backlink.target_kind), norm=backlink.target_norm),
        expected_anchor=backlink.expected_anchor,
        expected_rel=ExpectedRel(backlink.expected_rel) if backlink.expected_rel else None,
        expires=backlink.expires,
        was_live=was_live,
    )


def _latest_run_with(status: Status, before_run: int):  # noqa: ANN202 - a correlated scalar subquery
    """The backlink's latest earlier run with a result of `status`: one seek in the index
    ix_results_backlink_status_run, however long the history."""
    return (
        select(func.max(Result.run_id))
        .where(Result.backlink_id == Backlink.id, Result.status == status.value, Result.run_id < before_run)
        .correlate(Backlink)
        .scalar_subquery()
    )


def iter_pending_jobs(sessions: sessionmaker[Session], run_id: int, batch: int = 500,
                      after_page: int = 0, *, history: bool = False) -> Iterator[PageJob]:
    """Stream the pages left to fetch, each with its pending backlinks, in page id order,
    starting after page id `after_page` (so a reader interrupted by an outage can go on).
    `history`: also say which backlinks were last seen live (BacklinkSpec.was_live).

    Each batch uses its own short transaction, so readers and the result writer are never
    blocked by a long-lived read, and memory stays bounded by `batch` pages.
    """
    last_page = after_page
    while True:
        with sessions() as session:
            run = session.get(Run, run_id)
            assert run is not None
            pending = _pending_backlinks(run).subquery()
            page_ids = list(
                session.scalars(
                    select(pending.c.page_id)
                    .where(pending.c.page_id > last_page)
                    .group_by(pending.c.page_id)
                    .order_by(pending.c.page_id)
                    .limit(batch)
                )
            )
            if not page_ids:
                return
            live, lost = ((_latest_run_with(Status.LIVE, run.id), _latest_run_with(Status.LOST, run.id))
                          if history else (null(), null()))
            rows = session.execute(
                _pending_backlinks(run)
                .add_columns(Page.url, live, lost)
                .join(Page, Page.id == Backlink.page_id)
                .where(Backlink.page_id.in_(page_ids))
                .order_by(Backlink.page_id, Backlink.id)
            ).all()
        jobs: dict[int, tuple[str, list[BacklinkSpec]]] = {}
        for backlink, url, live_run, lost_run in rows:
            was_live = live_run is not None and (lost_run is None or live_run > lost_run)
            jobs.setdefault(backlink.page_id, (url, []))[1].append(backlink_spec(backlink, was_live))
        for page_id in page_ids:
            if page_id in jobs:
                url, specs = jobs[page_id]
                yield PageJob(page_id=page_id, url=url, backlinks=tuple(specs))
        last_page = page_ids[-1]


def result_row(run_id: int, result: VerifiedResult, checked_at: dt.datetime) -> dict[str, Any]:
    best = result.links[0] if result.links else None
    return {
        "run_id": run_id,
        "backlink_id": result.backlink_id,
        "status": result.status.value,
        "reason": result.reason.value,
        "follow": result.follow,
        "indexable": result.indexable,
        "googlebot_allowed": result.googlebot_allowed,
        "http_status": result.http_status,
        "final_url": result.final_url,
        "redirects": list(result.redirects),
        "links": list(result.links),
        "page": result.page,
        "unmet": list(result.unmet),
        "error": result.error,
        "attempts": result.attempts,
        "checked_at": checked_at,
        "link_url": best["url"] if best else None,
        "anchor_text": best["anchor_text"] if best else None,
        "rel": " ".join(best["rel"]) if best else None,
        "position": best["position"] if best else None,
        "hidden": best["hidden"] if best else None,
        "match": best["match"] if best else None,
    }


def save_results(session: Session, run_id: int, results: list[VerifiedResult]) -> None:
    """Store results; a backlink that already has a result in the run keeps the first one."""
    now = utcnow()
    insert_ignoring_conflicts(session, Result, [storable(result_row(run_id, r, now)) for r in results])


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    reason: str
    count: int


def status_counts(session: Session, run_id: int) -> list[StatusCount]:
    rows = session.execute(
        select(Result.status, Result.reason, func.count())
        .where(Result.run_id == run_id)
        .group_by(Result.status, Result.reason)
        .order_by(Result.status, func.count().desc())
    )
    return [StatusCount(s, r, c) for s, r, c in rows]


def latest_run(session: Session, kind: str = "verify", *, completed_only: bool = False) -> Run | None:
    query = select(Run).where(Run.kind == kind)
    if completed_only:
        query = query.where(Run.state == RunState.COMPLETED)
    return session.scalars(query.order_by(Run.id.desc()).limit(1)).first()
