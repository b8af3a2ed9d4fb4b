"""Repository functions over expected backlinks: adding them in bulk, tags, listing, counting.

Every function takes the session first and never commits: the `import` command owns one
transaction for a whole file, so a refused or interrupted import leaves nothing behind.

Adding is Core `INSERT .. ON CONFLICT DO NOTHING` in batches (the dialect's own insert
construct, on SQLite and PostgreSQL alike) rather than ORM objects: a million rows must
import in well under a minute, and the unique keys (pages.url_key, backlinks (page_id,
target_key), backlink_sources (backlink_id, tool), backlink_tags' primary key) are what make
a re-import add nothing and the same backlink from two tools stay one backlink.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, exists, func, select
from sqlalchemy.orm import Session, aliased

from linkcrawler.db import Backlink, BacklinkSource, BacklinkTag, Page, Result, url_hash, utcnow

if TYPE_CHECKING:
    from linkcrawler.importers.rows import ImportRow

BATCH_SIZE = 5000

_PAGES: Table = Page.__table__  # type: ignore[assignment]
_BACKLINKS: Table = Backlink.__table__  # type: ignore[assignment]
_TAGS: Table = BacklinkTag.__table__  # type: ignore[assignment]
_SOURCES: Table = BacklinkSource.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class AddCounts:
    rows: int  # rows handed in
    added: int  # backlinks that did not exist before
    already_present: int  # rows whose backlink existed (before, or earlier in the same input)
    sources_added: int  # (backlink, tool) pairs noted for the first time
    tags_added: int

    def __add__(self, other: AddCounts) -> AddCounts:
        return AddCounts(*(a + b for a, b in zip(_astuple(self), _astuple(other), strict=True)))


def _astuple(c: AddCounts) -> tuple[int, ...]:
    return (c.rows, c.added, c.already_present, c.sources_added, c.tags_added)


NO_COUNTS = AddCounts(0, 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class BacklinkView:
    """An expected backlink with its expectations and its latest result (None: never checked)."""

    id: int
    source_url: str
    target: str
    target_kind: str
    expected_anchor: str | None
    expected_rel: str | None
    expires: dt.date | None
    notes: str | None
    tags: tuple[str, ...]
    sources: tuple[str, ...]  # the tools that reported it
    run_id: int | None
    status: str | None
    reason: str | None
    checked_at: dt.datetime | None


def _insert(session: Session, table: Table) -> Any:
    """The dialect's INSERT, which has on_conflict_do_nothing on both SQLite and PostgreSQL."""
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table)


def add_backlinks(
    session: Session,
    rows: Iterable[ImportRow],
    *,
    tool: str,
    file_name: str = "",
    batch_size: int = BATCH_SIZE,
    now: dt.datetime | None = None,
) -> AddCounts:
    """Add expected backlinks (pages first), their tags and what `tool` reported about them.

    Existing backlinks keep their expectations: importing never overwrites, it only adds
    what is missing (new backlinks, new tags, a first report from another tool)."""
    now = now or utcnow()
    total = NO_COUNTS
    batch: list[ImportRow] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= batch_size:
            total += _add_batch(session, batch, tool, file_name, now)
            batch = []
    if batch:
        total += _add_batch(session, batch, tool, file_name, now)
    return total


def _add_batch(
    session: Session, rows: Sequence[ImportRow], tool: str, file_name: str, now: dt.datetime
) -> AddCounts:
    page_ids = _upsert_pages(session, rows)

    target_keys: dict[str, str] = {}  # Target.key -> url_hash: targets repeat a lot
    keyed: list[tuple[tuple[int, str], ImportRow]] = []
    for row in rows:
        tkey = target_keys.get(row.target.key)
        if tkey is None:
            tkey = target_keys[row.target.key] = url_hash(row.target.key)
        keyed.append(((page_ids[row.page_url], tkey), row))

    backlink_ids = _existing_backlinks(session, {key[0] for key, _ in keyed} - page_ids.new)
    pending: dict[tuple[int, str], dict[str, Any]] = {}
    for (page_id, tkey), row in keyed:
        key = (page_id, tkey)
        if key in backlink_ids or key in pending:
            continue
        pending[key] = {
            "page_id": page_id,
            "source_url": row.source_url,
            "target": row.target.raw.strip(),
            "target_kind": row.target.kind.value,
            "target_norm": row.target.norm,
            "target_key": tkey,
            "expected_anchor": row.expected_anchor,
            "expected_rel": row.expected_rel.value if row.expected_rel else None,
            "expires": row.expires,
            "notes": row.notes,
            "created_at": now,
        }
    added = 0
    if pending:
        stmt = (
            _insert(session, _BACKLINKS)
            .on_conflict_do_nothing(index_elements=["page_id", "target_key"])
            .returning(_BACKLINKS.c.id, _BACKLINKS.c.page_id, _BACKLINKS.c.target_key)
        )
        for id_, page_id, tkey in session.execute(stmt, list(pending.values())):
            backlink_ids[(page_id, tkey)] = id_
            added += 1
        if added < len(pending):
            # Another import inserted some of them meanwhile: they exist, fetch their ids.
            backlink_ids.update(_existing_backlinks(session, {k[0] for k in pending if k not in backlink_ids}))

    tag_rows: dict[tuple[int, str], None] = {}
    source_rows: dict[int, dict[str, Any]] = {}
    for key, row in keyed:
        backlink_id = backlink_ids[key]
        for tag in row.tags:
            tag_rows[(backlink_id, tag)] = None
        if backlink_id not in source_rows:
            source_rows[backlink_id] = {
                "backlink_id": backlink_id,
                "tool": tool,
                "file_name": file_name,
                "imported_at": now,
                "reported": dict(row.reported),
            }
    tags_added = _insert_ignoring_duplicates(
        session, _TAGS, [{"backlink_id": b, "tag": t} for b, t in tag_rows], ["backlink_id", "tag"]
    )
    sources_added = _insert_ignoring_duplicates(
        session, _SOURCES, list(source_rows.values()), ["backlink_id", "tool"]
    )
    return AddCounts(len(rows), added, len(rows) - added, sources_added, tags_added)


class _PageIds(dict[str, int]):
    """page URL -> id, remembering which pages this batch created (they have no backlinks)."""

    new: set[int]


def _upsert_pages(session: Session, rows: Sequence[ImportRow]) -> _PageIds:
    by_key: dict[str, ImportRow] = {}
    for row in rows:
        by_key.setdefault(url_hash(row.page_url), row)
    ids = _PageIds()
    ids.new = set()
    stmt = (
        _insert(session, _PAGES)
        .on_conflict_do_nothing(index_elements=["url_key"])
        .returning(_PAGES.c.id, _PAGES.c.url_key)
    )
    params = [{"url": r.page_url, "url_key": k, "host": r.page_host} for k, r in by_key.items()]
    found: dict[str, int] = {}
    for id_, key in session.execute(stmt, params):
        found[key] = id_
        ids.new.add(id_)
    missing = [k for k in by_key if k not in found]
    for start in range(0, len(missing), 1000):
        chunk = missing[start : start + 1000]
        found.update(
            (key, id_)
            for id_, key in session.execute(
                select(_PAGES.c.id, _PAGES.c.url_key).where(_PAGES.c.url_key.in_(chunk))
            )
        )
    for key, row in by_key.items():
        ids[row.page_url] = found[key]
    return ids


def _existing_backlinks(session: Session, page_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    out: dict[tuple[int, str], int] = {}
    ids = list(page_ids)
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        stmt = select(_BACKLINKS.c.id, _BACKLINKS.c.page_id, _BACKLINKS.c.target_key).where(
            _BACKLINKS.c.page_id.in_(chunk)
        )
        for id_, page_id, tkey in session.execute(stmt):
            out[(page_id, tkey)] = id_
    return out


def _insert_ignoring_duplicates(
    session: Session, table: Table, params: list[dict[str, Any]], conflict: list[str]
) -> int:
    if not params:
        return 0
    stmt = (
        _insert(session, table)
        .on_conflict_do_nothing(index_elements=conflict)
        .returning(table.c[conflict[0]])
    )
    return len(session.execute(stmt, params).all())


def add_tags(session: Session, backlink_ids: Iterable[int], tags: Iterable[str]) -> int:
    """Tag backlinks; tags they already have are left alone. Returns how many were added."""
    tags = list(dict.fromkeys(tags))
    params = [{"backlink_id": b, "tag": t} for b in dict.fromkeys(backlink_ids) for t in tags]
    return _insert_ignoring_duplicates(session, _TAGS, params, ["backlink_id", "tag"])


def tags_of(session: Session, backlink_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    return _grouped(session, BacklinkTag.backlink_id, BacklinkTag.tag, backlink_ids)


def sources_of(session: Session, backlink_ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    return _grouped(session, BacklinkSource.backlink_id, BacklinkSource.tool, backlink_ids)


def _grouped(session: Session, key_col: Any, value_col: Any, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    out: dict[int, list[str]] = {}
    for start in range(0, len(ids), 1000):
        chunk = ids[start : start + 1000]
        stmt = select(key_col, value_col).where(key_col.in_(chunk)).order_by(key_col, value_col)
        for key, value in session.execute(stmt):
            out.setdefault(key, []).append(value)
    return {k: tuple(v) for k, v in out.items()}


def all_tags(session: Session) -> list[tuple[str, int]]:
    """Every tag with how many backlinks carry it, by tag."""
    stmt = select(BacklinkTag.tag, func.count()).group_by(BacklinkTag.tag).order_by(BacklinkTag.tag)
    return [(tag, n) for tag, n in session.execute(stmt)]


def _tag_filter(tag: str | None) -> list[Any]:
    if tag is None:
        return []
    return [exists().where(BacklinkTag.backlink_id == Backlink.id, BacklinkTag.tag == tag)]


def count_backlinks(session: Session, *, tag: str | None = None) -> int:
    stmt = select(func.count()).select_from(Backlink).where(*_tag_filter(tag))
    return int(session.scalar(stmt) or 0)


def iter_backlinks(
    session: Session, *, tag: str | None = None, chunk_size: int = 1000
) -> Iterator[BacklinkView]:
    """Backlinks by id with their latest result, read in chunks (keyset pagination), so a
    million of them stream without being held in memory."""
    newer = aliased(Result)
    # The newest result is the one of the highest run: an index lookup on
    # (backlink_id, run_id) per backlink instead of grouping the whole results table.
    latest_run = (
        select(func.max(newer.run_id)).where(newer.backlink_id == Backlink.id).scalar_subquery()
    )
    base = (
        select(
            Backlink.id,
            Backlink.source_url,
            Backlink.target,
            Backlink.target_kind,
            Backlink.expected_anchor,
            Backlink.expected_rel,
            Backlink.expires,
            Backlink.notes,
            Result.run_id,
            Result.status,
            Result.reason,
            Result.checked_at,
        )
        .outerjoin(Result, (Result.backlink_id == Backlink.id) & (Result.run_id == latest_run))
        .where(*_tag_filter(tag))
        .order_by(Backlink.id)
        .limit(chunk_size)
    )
    last_id = 0
    while True:
        page = session.execute(base.where(Backlink.id > last_id)).all()
        if not page:
            return
        ids = [r.id for r in page]
        tags = tags_of(session, ids)
        sources = sources_of(session, ids)
        for r in page:
            yield BacklinkView(
                id=r.id,
                source_url=r.source_url,
                target=r.target,
                target_kind=r.target_kind,
                expected_anchor=r.expected_anchor,
                expected_rel=r.expected_rel,
                expires=r.expires,
                notes=r.notes,
                tags=tags.get(r.id, ()),
                sources=sources.get(r.id, ()),
                run_id=r.run_id,
                status=r.status,
                reason=r.reason,
                checked_at=r.checked_at,
            )
        last_id = ids[-1]
