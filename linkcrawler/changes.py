"""Change events between runs (DESIGN §6): lost, recovered, new and changed backlinks.

Trust before alarm. Each backlink has, at every run R, an *effective state* derived from its
results in runs <= R (run ids grow with time):

- ``unknown``: never seen live. Nothing can be lost that was never seen, so a backlink that is
  missing from its very first check produces no event (it shows up in `export` and `stats`).
- ``live``: the latest live result, with at most ``confirm - 1`` conclusive misses after it.
  While misses are pending the state stays live with the fields of that last live result.
- ``lost``: at least ``confirm`` lost results since the latest live one (``--confirm N``).

Only conclusive results move the state: an unverified result (blocked, timeout, robots...)
and a run that did not check the backlink at all neither count as a miss nor reset the count
of misses, so found -> timeout -> found produces no event and found -> lost -> timeout -> lost
is two consecutive misses.

Events between runs F and T compare the effective states at F and at T:

| at F | at T | event |
|---|---|---|
| unknown | live | ``new`` (before None, after the live reason) |
| unknown | lost | ``lost`` (seen live in between, before None) |
| live | lost | ``lost`` (before the live reason, after the lost reason) |
| lost | live | ``recovered`` (before the lost reason, after the live reason) |
| live | live | one ``changed`` event per field that differs between the two last live results |

Field comparison: ``rel`` as a set of tokens (order and duplicates are not a change);
``target_url`` (the best link's URL) and ``final_url`` after RFC 3986 normalisation (case of
scheme and host, default port, percent-encoding, dot segments, fragment), so that only a
different address is a change, while http->https or a new tracking parameter is one;
``follow``/``indexable``/``hidden`` only when both sides know the value (null means "could not
tell", not a change); ``anchor_text`` and ``position`` as stored.

`compute_changes` streams: one query walks the two runs' results joined by backlink id in
backlink order, and the carry-over for results that are not live is looked up per chunk with a
few grouped queries (one index seek per backlink, see ix_results_backlink_status_run), never
one query per row. Memory stays bounded by the chunk size.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, not_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from linkcrawler.db import Backlink, Result, Run
from linkcrawler.enums import RunState, Status
from linkcrawler.errors import UsageError
from linkcrawler.urls import normalize_url


class ChangeKind(enum.StrEnum):
    LOST = "lost"
    RECOVERED = "recovered"
    NEW = "new"
    CHANGED = "changed"


class ChangeField(enum.StrEnum):
    """The fields whose changes are reported, in the order events for one backlink appear."""

    FOLLOW = "follow"
    REL = "rel"
    POSITION = "position"
    ANCHOR_TEXT = "anchor_text"
    INDEXABLE = "indexable"
    TARGET_URL = "target_url"
    FINAL_URL = "final_url"
    HIDDEN = "hidden"


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    backlink_id: int
    source_url: str
    target: str
    kind: ChangeKind
    field: ChangeField | None  # only for CHANGED
    before: Any  # the field's value, or for lost/recovered/new the reason (None if none)
    after: Any
    from_run: int | None  # None only in a history's first entry (no earlier run)
    to_run: int

    def as_dict(self) -> dict[str, Any]:
        """The DESIGN §6 JSON object, keys in contract order."""
        return {
            "backlink_id": self.backlink_id,
            "source_url": self.source_url,
            "target": self.target,
            "kind": self.kind.value,
            "field": self.field.value if self.field is not None else None,
            "before": self.before,
            "after": self.after,
            "from_run": self.from_run,
            "to_run": self.to_run,
        }


EVENT_KEYS = ("backlink_id", "source_url", "target", "kind", "field", "before", "after",
              "from_run", "to_run")

# The result columns a comparison needs, in this order in every query below: status, reason,
# then one column per ChangeField (links JSON is never read: it is the bulk of a row).
_FIELD_COLUMNS: tuple[tuple[ChangeField, Any], ...] = (
    (ChangeField.FOLLOW, Result.follow),
    (ChangeField.REL, Result.rel),
    (ChangeField.POSITION, Result.position),
    (ChangeField.ANCHOR_TEXT, Result.anchor_text),
    (ChangeField.INDEXABLE, Result.indexable),
    (ChangeField.TARGET_URL, Result.link_url),
    (ChangeField.FINAL_URL, Result.final_url),
    (ChangeField.HIDDEN, Result.hidden),
)
_SNAP_WIDTH = 2 + len(_FIELD_COLUMNS)
_LIVE = Status.LIVE.value
_LOST = Status.LOST.value
_CHUNK = 5000  # rows per streamed chunk; also the size of the IN lists of the carry-over lookups

# A snapshot is (status, reason, follow, rel, position, anchor_text, indexable, link_url,
# final_url, hidden): plain tuples, because a million of them pass through the hot loop.
Snapshot = tuple[Any, ...]


def _snap_columns(table: Any) -> list[Any]:
    return [table.status, table.reason] + [getattr(table, col.key) for _, col in _FIELD_COLUMNS]


# --- the state machine ------------------------------------------------------------------------

class StateKind(enum.IntEnum):
    UNKNOWN = 0
    LIVE = 1
    LOST = 2


@dataclass(frozen=True, slots=True)
class BacklinkState:
    """Effective state of a backlink at a run (see the module docstring)."""

    kind: StateKind
    snapshot: Snapshot | None = None  # LIVE: the last live result's snapshot
    lost_reason: str | None = None  # LOST: the latest lost result's reason
    misses: int = 0  # conclusive misses since the last live result (LIVE only)


UNKNOWN = BacklinkState(StateKind.UNKNOWN)


def advance(state: BacklinkState, snapshot: Snapshot | None, confirm: int) -> BacklinkState:
    """The state after one more run whose result for the backlink is `snapshot` (None when the
    run did not check it). The reference definition: `compute_changes` gets the same states
    from indexed lookups instead of replaying history."""
    status = snapshot[0] if snapshot is not None else None
    if status == _LIVE:
        return BacklinkState(StateKind.LIVE, snapshot)
    if status != _LOST or state.kind is StateKind.UNKNOWN:
        return state  # unverified or unchecked: the last conclusive state carries over
    if state.kind is StateKind.LOST:
        return BacklinkState(StateKind.LOST, lost_reason=snapshot[1])
    misses = state.misses + 1
    if misses >= confirm:
        return BacklinkState(StateKind.LOST, lost_reason=snapshot[1])
    return BacklinkState(StateKind.LIVE, state.snapshot, misses=misses)


def diff_states(before: BacklinkState, after: BacklinkState) -> list[tuple[ChangeKind, ChangeField | None, Any, Any]]:
    """The events (kind, field, before, after) between two effective states of one backlink."""
    b, a = before.kind, after.kind
    if a is StateKind.LIVE:
        assert after.snapshot is not None
        if b is StateKind.UNKNOWN:
            return [(ChangeKind.NEW, None, None, after.snapshot[1])]
        if b is StateKind.LOST:
            return [(ChangeKind.RECOVERED, None, before.lost_reason, after.snapshot[1])]
        assert before.snapshot is not None
        return changed_fields(before.snapshot, after.snapshot)
    if a is StateKind.LOST:
        if b is StateKind.LIVE:
            assert before.snapshot is not None
            return [(ChangeKind.LOST, None, before.snapshot[1], after.lost_reason)]
        if b is StateKind.UNKNOWN:
            return [(ChangeKind.LOST, None, None, after.lost_reason)]
    return []


def changed_fields(old: Snapshot, new: Snapshot) -> list[tuple[ChangeKind, ChangeField | None, Any, Any]]:
    if old[2:] == new[2:]:
        return []  # the common case, decided without looking at single fields
    events: list[tuple[ChangeKind, ChangeField | None, Any, Any]] = []
    for i, (field, _) in enumerate(_FIELD_COLUMNS, start=2):
        x, y = old[i], new[i]
        if x == y or not _differs(field, x, y):
            continue
        events.append((ChangeKind.CHANGED, field, x, y))
    return events


_BOOL_FIELDS = frozenset({ChangeField.FOLLOW, ChangeField.INDEXABLE, ChangeField.HIDDEN})
_URL_FIELDS = frozenset({ChangeField.TARGET_URL, ChangeField.FINAL_URL})


def _differs(field: ChangeField, x: Any, y: Any) -> bool:
    if field in _BOOL_FIELDS:
        return x is not None and y is not None  # null is "could not tell", not a change
    if field is ChangeField.REL:
        return set((x or "").lower().split()) != set((y or "").lower().split())
    if field in _URL_FIELDS:
        return _url_key(x) != _url_key(y)
    return (x or "") != (y or "")


def _url_key(url: str | None) -> str:
    if not url:
        return ""
    return normalize_url(url) or url


# --- runs -------------------------------------------------------------------------------------

def get_run(session: Session, run_id: int) -> Run:
    """The verify run `run_id`, or UsageError naming the known range."""
    run = session.get(Run, run_id)
    if run is None or run.kind != "verify":
        span = session.execute(
            select(func.min(Run.id), func.max(Run.id), func.count()).where(Run.kind == "verify")
        ).one()
        known = f"runs {span[0]}..{span[1]}" if span[2] else "no runs yet"
        raise UsageError(f"no verify run with id {run_id} ({known})")
    return run


def completed_runs(session: Session, *, before: int | None = None, after: int | None = None,
                   limit: int | None = None, newest_first: bool = True) -> list[Run]:
    query = select(Run).where(Run.kind == "verify", Run.state == RunState.COMPLETED.value)
    if before is not None:
        query = query.where(Run.id < before)
    if after is not None:
        query = query.where(Run.id > after)
    query = query.order_by(Run.id.desc() if newest_first else Run.id).limit(limit)
    return list(session.scalars(query))


def latest_two_runs(session: Session) -> tuple[Run, Run] | None:
    """The last two completed verify runs, older first; None if there are fewer."""
    runs = completed_runs(session, limit=2)
    return (runs[1], runs[0]) if len(runs) == 2 else None


def previous_run_id(session: Session, run_id: int) -> int | None:
    """The latest completed verify run before `run_id`: what a finished run is compared with."""
    runs = completed_runs(session, before=run_id, limit=1)
    return runs[0].id if runs else None


def resolve_run_pair(session: Session, from_id: int | None, to_id: int | None) -> tuple[Run, Run]:
    """The runs to compare for `changes`: explicit ids (any state), else completed neighbours.

    Defaults: --to is the latest completed run (after --from if given), --from the latest
    completed run before --to. Raises UsageError with the reason when there is no such pair.
    """
    to_run = get_run(session, to_id) if to_id is not None else None
    from_run = get_run(session, from_id) if from_id is not None else None
    if to_run is None and from_run is None:
        pair = latest_two_runs(session)
        if pair is None:
            count = len(completed_runs(session, limit=2))
            raise UsageError(
                f"changes needs two completed runs to compare, found {count}; "
                "run `linkcrawler verify` again or give --from ID --to ID"
            )
        return pair
    if to_run is None:
        assert from_run is not None
        newer = completed_runs(session, after=from_run.id, limit=1)
        if not newer:
            raise UsageError(f"no completed run after run {from_run.id}; give --to ID")
        to_run = newer[0]
    if from_run is None:
        older = completed_runs(session, before=to_run.id, limit=1)
        if not older:
            raise UsageError(
                f"no completed run before run {to_run.id} to compare with; give --from ID"
            )
        from_run = older[0]
    if from_run.id >= to_run.id:
        raise UsageError(f"--from ({from_run.id}) must be an earlier run than --to ({to_run.id})")
    return from_run, to_run


# --- comparison -------------------------------------------------------------------------------

def compute_changes(session: Session, from_run_id: int, to_run_id: int, *,
                    confirm: int = 1) -> Iterator[ChangeEvent]:
    """Stream the change events between two runs, in backlink id order (DESIGN §6).

    Backlinks not checked in any run after `from_run_id` up to `to_run_id` cannot have changed
    and are not looked at. The caller owns the session and must exhaust (or close) the iterator
    before it ends the transaction.
    """
    if confirm < 1:
        raise ValueError("confirm must be >= 1")
    if from_run_id >= to_run_id:
        raise ValueError("from_run_id must be less than to_run_id")
    conn = session.connection()
    stmt = _pair_query(conn, from_run_id, to_run_id, confirm)
    result = conn.execution_options(stream_results=True, yield_per=_CHUNK).execute(stmt)
    try:
        for chunk in result.partitions(_CHUNK):
            yield from _chunk_events(conn, chunk, from_run_id, to_run_id, confirm)
    finally:
        result.close()


def _pair_query(conn: Connection, from_run_id: int, to_run_id: int, confirm: int) -> Any:
    t = Result.__table__.alias("t")
    f = Result.__table__.alias("f")
    t_status = func.coalesce(t.c.status, "")
    f_status = func.coalesce(f.c.status, "")
    # Live in both runs with the same stored fields cannot produce an event whatever happened
    # in between; on a normal night that is nearly every row, so SQLite skips it instead of
    # Python (building a million rows of strings costs more than the whole comparison).
    same_live = and_(t_status == _LIVE, f_status == _LIVE,
                     *[getattr(t.c, col.key).is_not_distinct_from(getattr(f.c, col.key))
                       for _, col in _FIELD_COLUMNS])
    candidates = [not_(same_live)]
    between = conn.execute(
        select(Result.run_id)
        .where(Result.run_id > from_run_id, Result.run_id < to_run_id)
        .limit(1)
    ).first()
    if between is None:
        # Consecutive runs (the nightly case): the driving rows are run T's results, read in
        # (run_id, backlink_id) index order, each joined to its row in run F. With nothing in
        # between, an unverified result at T leaves the state of F, and so does a second
        # conclusive miss when one miss is enough.
        candidates.append(t_status != Status.UNVERIFIED.value)
        if confirm == 1:
            candidates.append(not_(and_(t_status == _LOST, f_status == _LOST)))
        return (
            select(t.c.backlink_id, *_snap_columns(t.c), *_snap_columns(f.c))
            .select_from(t.outerjoin(f, and_(f.c.run_id == from_run_id,
                                             f.c.backlink_id == t.c.backlink_id)))
            .where(t.c.run_id == to_run_id, *candidates)
            .order_by(t.c.backlink_id)
        )
    # Runs in between checked some backlinks: any backlink checked after F may have changed.
    ids = (
        select(Result.backlink_id.label("backlink_id"))
        .where(Result.run_id > from_run_id, Result.run_id <= to_run_id)
        .distinct()
        .subquery("d")
    )
    return (
        select(ids.c.backlink_id, *_snap_columns(t.c), *_snap_columns(f.c))
        .select_from(
            ids.outerjoin(t, and_(t.c.run_id == to_run_id, t.c.backlink_id == ids.c.backlink_id))
            .outerjoin(f, and_(f.c.run_id == from_run_id, f.c.backlink_id == ids.c.backlink_id))
        )
        .where(*candidates)
        .order_by(ids.c.backlink_id)
    )


def _chunk_events(conn: Connection, rows: Sequence[Any], from_run: int, to_run: int,
                  confirm: int) -> Iterator[ChangeEvent]:
    s = _SNAP_WIDTH
    need_from = [row[0] for row in rows if row[1 + s] != _LIVE]
    need_to = [row[0] for row in rows if row[1] != _LIVE]
    history_from = carried_states(conn, need_from, from_run, confirm) if need_from else {}
    history_to = carried_states(conn, need_to, to_run, confirm) if need_to else {}
    found: list[tuple[int, list[tuple[ChangeKind, ChangeField | None, Any, Any]]]] = []
    for row in rows:
        backlink_id = row[0]
        t_snap = tuple(row[1:1 + s])
        f_snap = tuple(row[1 + s:1 + 2 * s])
        if t_snap[0] == _LIVE and f_snap[0] == _LIVE:
            events = changed_fields(f_snap, t_snap)  # the hot path: no carry-over involved
        else:
            before = (BacklinkState(StateKind.LIVE, f_snap) if f_snap[0] == _LIVE
                      else history_from.get(backlink_id, UNKNOWN))
            after = (BacklinkState(StateKind.LIVE, t_snap) if t_snap[0] == _LIVE
                     else history_to.get(backlink_id, UNKNOWN))
            events = diff_states(before, after)
        if events:
            found.append((backlink_id, events))
    if not found:
        return
    names = dict(
        (bid, (src, tgt)) for bid, src, tgt in conn.execute(
            select(Backlink.id, Backlink.source_url, Backlink.target)
            .where(Backlink.id.in_([bid for bid, _ in found]))
        )
    )
    for backlink_id, events in found:
        source_url, target = names.get(backlink_id, ("", ""))
        for kind, field, before_value, after_value in events:
            yield ChangeEvent(backlink_id, source_url, target, kind, field, before_value,
                              after_value, from_run, to_run)


def carried_states(conn: Connection | Session, backlink_ids: Sequence[int], run_id: int,
                   confirm: int) -> dict[int, BacklinkState]:
    """Effective state at `run_id` of each backlink (absent: UNKNOWN), from a few grouped
    queries: latest live result, latest lost result and (confirm > 1) the misses since."""
    if not backlink_ids:
        return {}
    ids = list(backlink_ids)

    def latest(status: str) -> Any:
        return (
            select(Result.backlink_id.label("backlink_id"), func.max(Result.run_id).label("run_id"))
            .where(Result.backlink_id.in_(ids), Result.status == status, Result.run_id <= run_id)
            .group_by(Result.backlink_id)
            .subquery()
        )

    live = latest(_LIVE)
    last_live: dict[int, tuple[int, Snapshot]] = {}
    for row in conn.execute(
        select(Result.backlink_id, Result.run_id, *_snap_columns(Result))
        .join(live, and_(Result.backlink_id == live.c.backlink_id, Result.run_id == live.c.run_id))
    ):
        last_live[row[0]] = (row[1], tuple(row[2:]))
    if not last_live:
        return {}  # never seen live: unknown, whatever else happened
    lost = latest(_LOST)
    last_lost: dict[int, tuple[int, str]] = {
        bid: (rid, reason) for bid, rid, reason in conn.execute(
            select(Result.backlink_id, Result.run_id, Result.reason)
            .join(lost, and_(Result.backlink_id == lost.c.backlink_id,
                             Result.run_id == lost.c.run_id))
        )
    }
    misses: dict[int, int] = {}
    if confirm > 1:
        # Only misses after the latest live result count; index-only range scans.
        misses = dict(conn.execute(
            select(live.c.backlink_id, func.count())
            .join(Result, and_(Result.backlink_id == live.c.backlink_id,
                               Result.status == _LOST,
                               Result.run_id > live.c.run_id,
                               Result.run_id <= run_id))
            .group_by(live.c.backlink_id)
        ).all())
    states: dict[int, BacklinkState] = {}
    for bid, (live_run, snapshot) in last_live.items():
        lost_run, reason = last_lost.get(bid, (-1, None))
        if confirm == 1:
            missed = 1 if lost_run > live_run else 0
        else:
            missed = misses.get(bid, 0)
        if missed >= confirm:
            states[bid] = BacklinkState(StateKind.LOST, lost_reason=reason)
        else:
            states[bid] = BacklinkState(StateKind.LIVE, snapshot, misses=missed)
    return states


# --- one backlink's history -------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class TimelineEntry:
    run_id: int
    run_state: str
    started_at: Any  # datetime
    status: str | None  # None: the run did not check this backlink
    reason: str | None
    checked_at: Any
    state: StateKind  # effective state after this run
    events: tuple[ChangeEvent, ...]


@dataclass(frozen=True, slots=True)
class Timeline:
    backlink_id: int
    source_url: str
    target: str
    entries: tuple[TimelineEntry, ...]


def backlink_timeline(session: Session, backlink_id: int, *, confirm: int = 1) -> Timeline:
    """Every run that checked the backlink, in order, with the events since the previous one.

    The events are those `compute_changes` reports between consecutive runs (runs that did
    not check the backlink change nothing, so they are left out)."""
    backlink = session.get(Backlink, backlink_id)
    if backlink is None:
        raise UsageError(f"no backlink with id {backlink_id}")
    rows = session.execute(
        select(Run.id, Run.state, Run.started_at, Result.checked_at, *_snap_columns(Result))
        .join(Run, Run.id == Result.run_id)
        .where(Result.backlink_id == backlink_id)
        .order_by(Result.run_id)
    ).all()
    first_run = rows[0][0] if rows else None
    previous_run = None
    if first_run is not None:
        previous_run = session.scalar(
            select(func.max(Run.id)).where(Run.kind == "verify", Run.id < first_run)
        )
    state = UNKNOWN
    entries: list[TimelineEntry] = []
    for run_id, run_state, started_at, checked_at, *snap in rows:
        snapshot = tuple(snap)
        new_state = advance(state, snapshot, confirm)
        events = tuple(
            ChangeEvent(backlink_id, backlink.source_url, backlink.target, kind, field, b, a,
                        previous_run, run_id)
            for kind, field, b, a in diff_states(state, new_state)
        )
        entries.append(TimelineEntry(run_id, run_state, started_at, snapshot[0], snapshot[1],
                                     checked_at, new_state.kind, events))
        state, previous_run = new_state, run_id
    return Timeline(backlink_id, backlink.source_url, backlink.target, tuple(entries))


def count_events(events: Iterable[ChangeEvent]) -> dict[str, int]:
    counts = {kind.value: 0 for kind in ChangeKind}
    for event in events:
        counts[event.kind.value] += 1
    return counts
