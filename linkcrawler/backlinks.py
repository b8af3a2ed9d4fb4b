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
import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Table, Text, bindparam, cast, exists, func, select
from sqlalchemy import column as sql_column
from sqlalchemy.orm import Session, aliased

from linkcrawler.db import Backlink, BacklinkSource, BacklinkTag, Page, Result, url_hash, utcnow

if TYPE_CHECKING:
    from linkcrawler.importers.rows import ImportRow

BATCH_SIZE = 20_000
# SQLite's default page cache (2 MiB) thrashes once the unique indexes of a large import
# outgrow it; a bigger one for the importing connection is worth ~10% of the time.
_SQLITE_IMPORT_CACHE_KIB = 128 * 1024
# SQLAlchemy 2 only keeps the rowcount of an INSERT when asked; it is how "added" is counted.
_ROWCOUNT = {"preserve_rowcount": True}

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


def _insert_ignore(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    conflict: Sequence[str],
    constants: Mapping[str, Any] | None = None,
) -> int:
    """INSERT rows .. ON CONFLICT DO NOTHING; returns how many were inserted.

    Per-row work in SQLAlchemy (parameter processing, multi-row VALUES rendering) and, on
    PostgreSQL, psycopg re-parsing each huge multi-row statement, took most of the time of a
    large import. So the statement is built with Core once per batch and the rows bypass
    per-row processing: on PostgreSQL the batch travels as one JSON document expanded by
    json_to_recordset (one statement), on SQLite through the driver's executemany (a loop
    in C).
    Values must therefore already be what the driver stores: str, int, None, dates as ISO
    text on SQLite, JSON as text. `constants` are the same for every row (import time...)."""
    if not rows:
        return 0
    constants = dict(constants or {})
    if session.get_bind().dialect.name == "postgresql":
        return _insert_ignore_pg(session, table, columns, rows, conflict, constants)
    from sqlalchemy.dialects.sqlite import insert

    stmt = insert(table).values({**{c: bindparam(c) for c in columns}, **{c: bindparam(c) for c in constants}})
    stmt = stmt.on_conflict_do_nothing(index_elements=list(conflict))
    connection = session.connection()
    compiled = stmt.compile(dialect=connection.dialect)
    order = compiled.positiontup or []
    fixed = {name: _sqlite_value(table.c[name].type, value) for name, value in constants.items()}
    positions = {name: i for i, name in enumerate(columns)}
    if list(order) == [*columns, *constants]:
        tail = tuple(fixed[name] for name in constants)
        params = [(*row, *tail) for row in rows] if tail else [tuple(row) for row in rows]
    else:  # never expected, but the order of parameters is the compiler's to decide
        params = [tuple(fixed[n] if n in fixed else row[positions[n]] for n in order) for row in rows]
    result = connection.exec_driver_sql(str(compiled), params, execution_options=_ROWCOUNT)
    return max(result.rowcount, 0)


def _insert_ignore_pg(
    session: Session,
    table: Table,
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    conflict: Sequence[str],
    constants: dict[str, Any],
) -> int:
    from sqlalchemy.dialects.postgresql import insert

    # The batch is one JSON document expanded by json_to_recordset: json.dumps and the
    # server's JSON parser are C, whereas psycopg's text dumper for array parameters quotes
    # every element in Python (it was most of the client's time).
    names = [f"c{i}" for i in range(len(columns))]
    is_json = [isinstance(table.c[n].type, JSON) for n in columns]
    payload = json.dumps(
        [dict(zip(names, row, strict=True)) for row in rows], default=_iso, ensure_ascii=False
    )
    source = (
        func.json_to_recordset(cast(bindparam(None, payload, type_=Text), JSON))
        .table_valued(
            *(sql_column(name, Text() if j else table.c[c].type) for name, c, j in zip(names, columns, is_json, strict=True))
        )
        .render_derived(name="src", with_types=True)
    )
    selected: list[Any] = [
        cast(source.c[name], JSON) if j else source.c[name] for name, j in zip(names, is_json, strict=True)
    ]
    selected += [bindparam(f"k_{name}", value, type_=table.c[name].type) for name, value in constants.items()]
    stmt = (
        insert(table)
        .from_select([*columns, *constants], select(*selected).select_from(source))
        .on_conflict_do_nothing(index_elements=list(conflict))
    )
    return max(session.execute(stmt, execution_options=_ROWCOUNT).rowcount, 0)


def _iso(value: Any) -> str:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def _sqlite_value(col_type: Any, value: Any) -> Any:
    # What SQLAlchemy's SQLite types would store: DateTime as "YYYY-MM-DD HH:MM:SS.ffffff".
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(col_type, JSON):
        return json.dumps(value)
    return value


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
    if session.get_bind().dialect.name == "sqlite":
        session.connection().exec_driver_sql(f"PRAGMA cache_size=-{_SQLITE_IMPORT_CACHE_KIB}")
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


_BACKLINK_COLUMNS = (
    "page_id", "source_url", "target", "target_kind", "target_norm", "target_key",
    "expected_anchor", "expected_rel", "expires", "notes",
)


def _add_batch(
    session: Session, rows: Sequence[ImportRow], tool: str, file_name: str, now: dt.datetime
) -> AddCounts:
    pg = session.get_bind().dialect.name == "postgresql"
    page_ids = _upsert_pages(session, rows)

    # Targets repeat a lot (one per site or page of the user's): derive their columns once.
    # Keyed by the text as written: a str hashes once, a Target dataclass on every lookup.
    targets: dict[str, tuple[str, str, str, str]] = {}
    keyed: list[tuple[tuple[int, str], ImportRow]] = []
    # Every distinct backlink of the batch is offered; the unique key drops those that exist,
    # and the rowcount says how many were new.
    pending: dict[tuple[int, str], tuple[Any, ...]] = {}
    for row in rows:
        target = targets.get(row.target.raw)
        if target is None:
            t = row.target
            target = targets[t.raw] = (url_hash(t.key), t.raw.strip(), t.kind.value, t.norm)
        tkey = target[0]
        key = (page_ids[row.page_url], tkey)
        keyed.append((key, row))
        if key in pending:
            continue
        expires = row.expires if pg or row.expires is None else row.expires.isoformat()
        pending[key] = (
            key[0], row.source_url, target[1], target[2], target[3], tkey, row.expected_anchor,
            row.expected_rel.value if row.expected_rel else None, expires, row.notes,
        )
    # In key order, every index of the batch is appended to instead of written at random
    # places (the same for tags and sources below): fewer pages touched per batch.
    added = _insert_ignore(
        session, _BACKLINKS, _BACKLINK_COLUMNS, [pending[k] for k in sorted(pending)],
        conflict=("page_id", "target_key"), constants={"created_at": now},
    )
    backlink_ids = _existing_backlinks(session, {page_id for page_id, _ in pending})

    tag_rows: dict[tuple[int, str], None] = {}
    source_rows: dict[int, tuple[Any, ...]] = {}
    for key, row in keyed:
        backlink_id = backlink_ids[key]
        for tag in row.tags:
            tag_rows[(backlink_id, tag)] = None
        if backlink_id not in source_rows:
            reported = json.dumps(dict(row.reported), ensure_ascii=False) if row.reported else "{}"
            source_rows[backlink_id] = (backlink_id, reported)
    tags_added = _insert_ignore(
        session, _TAGS, ("backlink_id", "tag"), sorted(tag_rows), conflict=("backlink_id", "tag")
    )
    sources_added = _insert_ignore(
        session, _SOURCES, ("backlink_id", "reported"), [source_rows[b] for b in sorted(source_rows)],
        conflict=("backlink_id", "tool"),
        constants={"tool": tool, "file_name": file_name, "imported_at": now},
    )
    return AddCounts(len(rows), added, len(rows) - added, sources_added, tags_added)


def _upsert_pages(session: Session, rows: Sequence[ImportRow]) -> dict[str, int]:
    """page URL -> page id for every row, creating the pages that do not exist yet."""
    by_key: dict[str, ImportRow] = {}
    for row in rows:
        by_key.setdefault(url_hash(row.page_url), row)
    # Hashes are random: inserting them in order touches each index page once per batch.
    _insert_ignore(
        session, _PAGES, ("url", "url_key", "host"),
        [(by_key[k].page_url, k, by_key[k].page_host) for k in sorted(by_key)], conflict=("url_key",),
    )
    stmt = select(_PAGES.c.id, _PAGES.c.url_key).where(_member_of(session, _PAGES.c.url_key, list(by_key)))
    found = {key: id_ for id_, key in session.execute(stmt).all()}
    return {row.page_url: found[key] for key, row in by_key.items()}


def _member_of(session: Session, column: Any, values: list[Any]) -> Any:
    """`column IN values` with the values as ONE parameter, a JSON array (read by SQLite's
    json_each, PostgreSQL's json_array_elements_text): an IN list of thousands of placeholders is rendered and
    bound one by one, which was a fifth of a large import."""
    values_json = bindparam(None, json.dumps(values), type_=Text)
    if session.get_bind().dialect.name == "postgresql":
        return column.in_(select(cast(func.json_array_elements_text(cast(values_json, JSON)), column.type)))
    members = func.json_each(values_json).table_valued("value")
    return column.in_(select(members.c.value))


def _existing_backlinks(session: Session, page_ids: Iterable[int]) -> dict[tuple[int, str], int]:
    """(page id, target key) -> backlink id for every backlink of these pages."""
    ids = list(page_ids)
    if not ids:
        return {}
    stmt = select(_BACKLINKS.c.id, _BACKLINKS.c.page_id, _BACKLINKS.c.target_key).where(
        _member_of(session, _BACKLINKS.c.page_id, ids)
    )
    return {(page_id, tkey): id_ for id_, page_id, tkey in session.execute(stmt).all()}


def add_tags(session: Session, backlink_ids: Iterable[int], tags: Iterable[str]) -> int:
    """Tag backlinks; tags they already have are left alone. Returns how many were added."""
    tags = list(dict.fromkeys(tags))
    rows = [(b, t) for b in dict.fromkeys(backlink_ids) for t in tags]
    return sum(
        _insert_ignore(session, _TAGS, ("backlink_id", "tag"), rows[i : i + BATCH_SIZE], conflict=("backlink_id", "tag"))
        for i in range(0, len(rows), BATCH_SIZE)
    )


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
