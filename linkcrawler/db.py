"""Storage models (SQLAlchemy 2.0) and opening a database, SQLite or PostgreSQL alike.

Repository functions live in the modules that use them (backlinks, runs, changes...): they
take the session first and never commit; the CLI command or the pipeline owns the transaction.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    select,
)
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

DEFAULT_DB_URL = "sqlite:///data/linkcrawler.db"
SCHEMA_VERSION = 1

# Integer primary keys that autoincrement on SQLite and are 64-bit on PostgreSQL.
BigId = BigInteger().with_variant(Integer, "sqlite")


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def url_hash(text: str) -> str:
    """Key for unique indexes on URLs: PostgreSQL btree entries cannot hold 64 KB URLs."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Meta(Base):
    __tablename__ = "lc_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Page(Base):
    """A distinct referring page: fetched once per run however many backlinks point at it."""

    __tablename__ = "pages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    url: Mapped[str] = mapped_column(Text)  # normalised source URL, the URL we fetch
    url_key: Mapped[str] = mapped_column(String(64), unique=True)  # url_hash(url)
    host: Mapped[str] = mapped_column(Text, default="")


class Backlink(Base):
    """An expected backlink: this referring page should link to this target."""

    __tablename__ = "backlinks"
    __table_args__ = (UniqueConstraint("page_id", "target_key", name="uq_backlink_page_target"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("pages.id"), index=True)
    source_url: Mapped[str] = mapped_column(Text)  # as imported
    target: Mapped[str] = mapped_column(Text)  # as imported: URL, prefix ending in *, or domain
    target_kind: Mapped[str] = mapped_column(String(16))  # enums.TargetKind
    target_norm: Mapped[str] = mapped_column(Text)  # normalised URL / prefix / registrable domain
    target_key: Mapped[str] = mapped_column(String(64))  # url_hash(target_kind + target_norm)
    expected_anchor: Mapped[str | None] = mapped_column(Text, default=None)
    expected_rel: Mapped[str | None] = mapped_column(String(16), default=None)  # enums.ExpectedRel
    expires: Mapped[dt.date | None] = mapped_column(Date, default=None)
    notes: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class BacklinkTag(Base):
    __tablename__ = "backlink_tags"
    backlink_id: Mapped[int] = mapped_column(ForeignKey("backlinks.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(200), primary_key=True, index=True)


class BacklinkSource(Base):
    """What an importing tool reported about a backlink (kept to compare with the live page)."""

    __tablename__ = "backlink_sources"
    __table_args__ = (UniqueConstraint("backlink_id", "tool", name="uq_backlink_source_tool"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    backlink_id: Mapped[int] = mapped_column(ForeignKey("backlinks.id"), index=True)
    tool: Mapped[str] = mapped_column(String(32))  # csv, urls, ahrefs, semrush, gsc, ...
    file_name: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    reported: Mapped[dict[str, Any]] = mapped_column(default=dict)  # anchor, nofollow, first_seen...


class Run(Base):
    """One verification (or prospect) run. What is still to check is derived from it:
    backlinks with id <= max_backlink_id matching `tag` that have no Result in this run."""

    __tablename__ = "runs"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), default="verify")
    state: Mapped[str] = mapped_column(String(16))  # enums.RunState
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    heartbeat_at: Mapped[dt.datetime | None] = mapped_column(DateTime, default=None)
    owner: Mapped[str] = mapped_column(Text, default="")  # host:pid of the process running it
    tag: Mapped[str | None] = mapped_column(String(200), default=None)
    max_backlink_id: Mapped[int] = mapped_column(BigInteger, default=0)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, default=None)


class Result(Base):
    """One verified result per backlink per run (DESIGN §5). The best link's fields are
    columns so run comparison needs no JSON parsing; the full link list is JSON."""

    __tablename__ = "results"
    __table_args__ = (
        UniqueConstraint("run_id", "backlink_id", name="uq_result_run_backlink"),
        Index("ix_results_backlink_run", "backlink_id", "run_id"),
        # Run comparison carries the last conclusive state over: "latest live/lost result of
        # this backlink at or before run R" is then one index seek, however long the history.
        Index("ix_results_backlink_status_run", "backlink_id", "status", "run_id"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    backlink_id: Mapped[int] = mapped_column(ForeignKey("backlinks.id"))
    status: Mapped[str] = mapped_column(String(16))  # enums.Status
    reason: Mapped[str] = mapped_column(String(32))  # enums.Reason
    follow: Mapped[bool | None] = mapped_column(Boolean, default=None)
    indexable: Mapped[bool | None] = mapped_column(Boolean, default=None)
    googlebot_allowed: Mapped[bool | None] = mapped_column(Boolean, default=None)
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    final_url: Mapped[str | None] = mapped_column(Text, default=None)
    redirects: Mapped[list[Any]] = mapped_column(default=list)
    links: Mapped[list[Any]] = mapped_column(default=list)
    page: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    unmet: Mapped[list[Any]] = mapped_column(default=list)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    # The best link (links[0]), denormalised for run comparison and stats.
    link_url: Mapped[str | None] = mapped_column(Text, default=None)
    anchor_text: Mapped[str | None] = mapped_column(Text, default=None)
    rel: Mapped[str | None] = mapped_column(Text, default=None)  # space-joined tokens
    position: Mapped[str | None] = mapped_column(String(16), default=None)
    hidden: Mapped[bool | None] = mapped_column(Boolean, default=None)
    match: Mapped[str | None] = mapped_column(String(16), default=None)


class ProspectPage(Base):
    """A resource page fetched by a prospect run (once per run)."""

    __tablename__ = "prospect_pages"
    __table_args__ = (UniqueConstraint("run_id", "url_key", name="uq_prospect_page_run_url"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64))  # url_hash(url)
    depth: Mapped[int] = mapped_column(Integer, default=0)
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    final_url: Mapped[str | None] = mapped_column(Text, default=None)
    title: Mapped[str | None] = mapped_column(Text, default=None)
    outbound: Mapped[int] = mapped_column(Integer, default=0)  # outbound links found on it
    error: Mapped[str | None] = mapped_column(Text, default=None)
    fetched_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class ProspectLink(Base):
    """One outbound link on a resource page (each occurrence, in document order)."""

    __tablename__ = "prospect_links"
    __table_args__ = (
        UniqueConstraint("run_id", "page_key", "ordinal", name="uq_prospect_link_run_page_ordinal"),
        Index("ix_prospect_links_run_url", "run_id", "url_key"),
    )
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    page_url: Mapped[str] = mapped_column(Text)
    page_key: Mapped[str] = mapped_column(String(64))
    page_domain: Mapped[str] = mapped_column(Text)  # registrable domain of the page
    ordinal: Mapped[int] = mapped_column(Integer)  # index among the page's links
    url: Mapped[str] = mapped_column(Text)  # the normalised link URL: what is checked
    url_key: Mapped[str] = mapped_column(String(64))
    href: Mapped[str] = mapped_column(Text, default="")
    anchor_text: Mapped[str] = mapped_column(Text, default="")
    img_alt: Mapped[str] = mapped_column(Text, default="")
    rel: Mapped[str] = mapped_column(Text, default="")  # space-joined tokens
    nofollow: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[str] = mapped_column(String(16), default="body")
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    context_before: Mapped[str] = mapped_column(Text, default="")
    context_after: Mapped[str] = mapped_column(Text, default="")
    path: Mapped[str] = mapped_column(Text, default="")


class ProspectCheck(Base):
    """The check of one distinct outbound URL in a prospect run (once per run)."""

    __tablename__ = "prospect_checks"
    __table_args__ = (UniqueConstraint("run_id", "url_key", name="uq_prospect_check_run_url"),)
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id"))
    url: Mapped[str] = mapped_column(Text)
    url_key: Mapped[str] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16), index=True)  # prospects.Verdict
    kind: Mapped[str] = mapped_column(String(32))  # prospects.DeadKind, or why not dead
    http_status: Mapped[int | None] = mapped_column(Integer, default=None)
    final_url: Mapped[str | None] = mapped_column(Text, default=None)
    redirects: Mapped[list[Any]] = mapped_column(default=list)
    method: Mapped[str] = mapped_column(String(8), default="HEAD")  # the request that decided
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    error: Mapped[str | None] = mapped_column(Text, default=None)
    checked_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


@dataclass(frozen=True)
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def display_url(self) -> str:
        """The URL with any password masked: safe for logs, reports and messages."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"


def database_url(cli_value: str | None) -> str:
    return cli_value or os.environ.get("LINKCRAWLER_DB") or DEFAULT_DB_URL


def open_database(url: str | None = None, *, create: bool = True) -> Database:
    """Open (and on first use create) the database at `url`, SQLite or PostgreSQL."""
    url = database_url(url)
    parsed = make_url(url)
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and create:
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        # One writer at a time: a busy writer makes others wait instead of failing at once.
        kwargs["connect_args"] = {"timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if create:
        Base.metadata.create_all(engine)
        with Session(engine) as session, session.begin():
            if session.get(Meta, "schema_version") is None:
                session.add(Meta(key="schema_version", value=str(SCHEMA_VERSION)))
    return Database(engine, sessionmaker(engine, expire_on_commit=False))


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # noqa: ANN001
    cursor = dbapi_connection.cursor()
    # WAL lets readers (export, changes) run while a verify run writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def storable(value: Any) -> Any:
    """`value` with every string made storable: NUL removed (PostgreSQL text cannot hold it)
    and lone surrogates replaced (no UTF-8 database can), recursively through lists and dicts."""
    if isinstance(value, str):
        if "\x00" in value:
            value = value.replace("\x00", "")
        if value.isascii():  # most strings: no copy made to find out
            return value
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
        return value
    if isinstance(value, dict):
        return {k: storable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [storable(v) for v in value]
    return value


def insert_ignoring_conflicts(session: Session, model: type[Base], rows: list[dict[str, Any]]) -> None:
    """INSERT rows, skipping those that collide with a unique constraint.

    Both dialects support ON CONFLICT DO NOTHING, which makes imports idempotent and makes a
    resumed run unable to write a second result for a backlink.
    """
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # A Core INSERT on the table: the ORM's bulk path adds a third to the cost of each batch
    # (365 against 235 ms CPU for 10,000 result rows) for nothing these plain rows need.
    session.connection().execute(insert(model.__table__).on_conflict_do_nothing(), rows)


def schema_version(session: Session) -> int:
    value = session.scalar(select(Meta.value).where(Meta.key == "schema_version"))
    return int(value) if value else 0
