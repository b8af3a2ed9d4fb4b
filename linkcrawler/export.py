"""The export of a run: one row per backlink in the schema of DESIGN §5 (contract)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, TextIO

from sqlalchemy import select
from sqlalchemy.orm import Session

from linkcrawler.db import Backlink, Result

# Single-link columns of the CSV describe the best link (links[0]), like follow and reason do.
CSV_COLUMNS = [
    "run_id", "backlink_id", "source_url", "target", "status", "reason", "follow", "indexable",
    "googlebot_allowed", "http_status", "final_url", "redirects", "link_count", "link_url",
    "link_href", "anchor_text", "img_alt", "rel", "position", "hidden", "match",
    "context_before", "context_after", "path", "target_status", "target_final_url",
    "target_redirects", "page_title", "noindex", "canonical", "unmet", "error", "attempts",
    "checked_at",
]


def _iso(value: dt.datetime) -> str:
    return value.replace(tzinfo=dt.UTC).isoformat().replace("+00:00", "Z")


def export_record(result: Result, backlink: Backlink) -> dict[str, Any]:
    return {
        "run_id": result.run_id,
        "backlink_id": result.backlink_id,
        "source_url": backlink.source_url,
        "target": backlink.target,
        "status": result.status,
        "reason": result.reason,
        "follow": result.follow,
        "indexable": result.indexable,
        "googlebot_allowed": result.googlebot_allowed,
        "http_status": result.http_status,
        "final_url": result.final_url,
        "redirects": result.redirects or [],
        "links": result.links or [],
        "page": result.page,
        "unmet": result.unmet or [],
        "error": result.error,
        "attempts": result.attempts,
        "checked_at": _iso(result.checked_at),
    }


def iter_records(session: Session, run_id: int) -> Iterator[dict[str, Any]]:
    query = (
        select(Result, Backlink)
        .join(Backlink, Backlink.id == Result.backlink_id)
        .where(Result.run_id == run_id)
        .order_by(Result.backlink_id)
        .execution_options(yield_per=1000)
    )
    for result, backlink in session.execute(query):
        yield export_record(result, backlink)


def _chain(hops: list[dict[str, Any]]) -> str:
    return " ".join(f"{h['status']} {h['url']}" for h in hops)


def csv_row(record: dict[str, Any]) -> list[Any]:
    best = record["links"][0] if record["links"] else {}
    page = record["page"] or {}
    values = {
        **{k: record[k] for k in ("run_id", "backlink_id", "source_url", "target", "status", "reason",
                                  "follow", "indexable", "googlebot_allowed", "http_status",
                                  "final_url", "error", "attempts", "checked_at")},
        "redirects": _chain(record["redirects"]),
        "link_count": len(record["links"]),
        "link_url": best.get("url"),
        "link_href": best.get("href"),
        "anchor_text": best.get("anchor_text"),
        "img_alt": best.get("img_alt"),
        "rel": " ".join(best.get("rel", [])),
        "position": best.get("position"),
        "hidden": best.get("hidden"),
        "match": best.get("match"),
        "context_before": best.get("context_before"),
        "context_after": best.get("context_after"),
        "path": best.get("path"),
        "target_status": best.get("target_status"),
        "target_final_url": best.get("target_final_url"),
        "target_redirects": _chain(best.get("target_redirects", [])),
        "page_title": page.get("title"),
        "noindex": page.get("noindex"),
        "canonical": page.get("canonical"),
        "unmet": ";".join(record["unmet"]),
    }
    return [_cell(values[c]) for c in CSV_COLUMNS]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def write_records(records: Iterator[dict[str, Any]], fmt: str, out: TextIO) -> int:
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    elif fmt == "json":
        out.write("[")
        for record in records:
            out.write(("," if count else "") + "\n" + json.dumps(record, ensure_ascii=False))
            count += 1
        out.write("\n]\n")
    else:
        from linkcrawler.csvsafe import writer

        w = writer(out)
        w.writerow(CSV_COLUMNS)
        for record in records:
            w.writerow(csv_row(record))
            count += 1
    return count
