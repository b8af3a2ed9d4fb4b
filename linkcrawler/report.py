"""The HTML report of a run (DESIGN §4): one self-contained file with charts and a table.

Two halves. `gather_report` is the repository function: it reads a run's aggregates (small,
whatever the run's size) and returns them with a lazy iterator of table rows, so a 100k-result
run is never held in memory. `write_report` / `render_report` are pure: data in, HTML out.

Everything shown comes from crawled pages or imported files and is untrusted (RELIABILITY
SEC-2): every value is escaped, control and bidi characters are neutralised, only http(s)
URLs become links, the page carries a Content-Security-Policy that allows exactly our one
inline script and style block (by hash), and no element has an event-handler attribute.
Charts are inline SVG drawn here, so the file needs no network and no other file.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import html
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from io import StringIO
from typing import Any, TextIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from linkcrawler.db import Backlink, Page, Result, Run
from linkcrawler.enums import Status

DEFAULT_MAX_ROWS = 5000
DEFAULT_MAX_EVENTS = 500
DEFAULT_TREND_RUNS = 30
TOP_DOMAINS = 10

STATUS_ORDER = (Status.LIVE.value, Status.LOST.value, Status.UNVERIFIED.value)
STATUS_COLORS = {"live": "#2e7d32", "lost": "#c62828", "unverified": "#b7791f"}
OTHER_COLOR = "#6b7280"
# Lighter shades per status, so the reason chart reads as "which status" at a glance.
REASON_SHADES = {
    "live": ("#2e7d32", "#66bb6a", "#a5d6a7"),
    "lost": ("#c62828", "#e57373", "#ef9a9a", "#8e1c1c", "#d84343", "#f4b4b4"),
    "unverified": ("#b7791f", "#d69e2e", "#ecc94b", "#975a16", "#f6e05e", "#c05621"),
}
FOLLOW_COLORS = {
    "follow": "#2e7d32", "nofollow": "#6b7280", "sponsored": "#7b4bb7", "ugc": "#2b6cb0",
    "page nofollow": "#9ca3af", "unknown": "#d1d5db",
}
CHANGE_KINDS = ("lost", "recovered", "changed", "new")


# --- data -------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class RunInfo:
    id: int
    state: str
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    tag: str | None


@dataclass(frozen=True, slots=True)
class TrendPoint:
    run_id: int
    started_at: dt.datetime | None
    live: int
    lost: int
    unverified: int
    events: tuple[tuple[str, int], ...] = ()  # (kind, count) since the run before, when known


@dataclass(frozen=True, slots=True)
class EventRow:
    backlink_id: int
    source_url: str
    target: str
    kind: str
    field: str | None
    before: Any
    after: Any


@dataclass(frozen=True, slots=True)
class ChangesSummary:
    from_run: int
    counts: tuple[tuple[str, int], ...]  # (kind, count) in CHANGE_KINDS order
    events: tuple[EventRow, ...]  # the first few of each kind, lost first
    shown_cap: int  # events per kind kept for the page

    @property
    def total(self) -> int:
        return sum(n for _, n in self.counts)


@dataclass(frozen=True, slots=True)
class TableRow:
    backlink_id: int
    source_url: str
    target: str
    status: str
    reason: str
    follow: bool | None
    rel: str | None
    position: str | None
    anchor_text: str | None
    link_url: str | None
    http_status: int | None
    final_url: str | None
    unmet: tuple[str, ...]
    error: str | None
    change: str | None  # "lost", "recovered", "changed: rel, position", ...


@dataclass(frozen=True, slots=True)
class ReportData:
    run: RunInfo
    database: str  # already masked (SEC-5); masked again when rendered
    generated_at: dt.datetime
    status_counts: tuple[tuple[str, int], ...]
    reason_counts: tuple[tuple[str, str, int], ...]  # (status, reason, count), biggest first
    follow_shares: tuple[tuple[str, int], ...]  # live results only
    positions: tuple[tuple[str, int], ...]  # live results only
    referring_domains: int  # distinct registrable domains with a live link
    top_domains: tuple[tuple[str, int], ...]  # (domain, live backlinks)
    trend: tuple[TrendPoint, ...]  # oldest first, ending with this run
    changes: ChangesSummary | None
    changes_note: str  # why there is no comparison, when there is none
    table_rows: int  # rows the table will hold (<= max_rows)
    max_rows: int
    anchor_classes: tuple[tuple[str, int], ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return sum(n for _, n in self.status_counts)

    def count(self, status: str) -> int:
        return dict(self.status_counts).get(status, 0)


# --- untrusted text ---------------------------------------------------------------------------

# Bidi embeddings, overrides and isolates reorder what follows them (a URL can be made to
# read as another); shown as visible code points instead.
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069]")
# C0/C1 controls (tab and newline kept: they are whitespace in HTML), DEL, lone surrogates
# (not encodable as UTF-8) and noncharacters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def clean_text(value: Any, limit: int | None = None) -> str:
    """`value` as text safe to place in HTML once escaped: bidi controls made visible,
    other controls and lone surrogates replaced, cut to `limit` characters."""
    text = "" if value is None else str(value)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "…"
    text = _BIDI.sub(lambda m: f"<U+{ord(m.group()):04X}>", text)
    return _CONTROL.sub("\ufffd", text)


def esc(value: Any, limit: int | None = None) -> str:
    """Escaped for text content and double-quoted attribute values alike."""
    return html.escape(clean_text(value, limit), quote=True)


# An href is produced only from an http(s) URL with nothing a browser would strip or fold
# before reading the scheme (tabs, newlines, controls, spaces, backslashes): "java\tscript:"
# and " javascript:" never qualify, whatever their case.
_SAFE_HREF = re.compile(r"https?://[^\x00-\x20\x7f-\x9f\\\"'<>`\u202a-\u202e\u2066-\u2069\ud800-\udfff]+", re.I)
MAX_HREF = 4096


def safe_href(url: Any) -> str | None:
    """The URL if it may become an href (http/https with a host), else None."""
    if not isinstance(url, str) or len(url) > MAX_HREF or not _SAFE_HREF.fullmatch(url):
        return None
    rest = url.split("://", 1)[1]
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    return url if host and not host.startswith((":", "@")) else None


def mask_password(text: str) -> str:
    from linkcrawler.commands import mask_secrets

    return mask_secrets(text)


def database_label(url: str) -> str:
    """How the report names the database: the URL without its password (SEC-5)."""
    try:
        from sqlalchemy.engine import make_url

        text = make_url(url).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001 - an unparsable URL is still shown, masked by pattern
        text = url
    return mask_password(text)


# --- SVG charts -------------------------------------------------------------------------------

def _num(n: int) -> str:
    return f"{n:,}"


def _compact(n: int) -> str:
    """Axis labels: 950, 12k, 1.5M (a full "1,000,000" does not fit beside a chart)."""
    for size, suffix in ((1_000_000, "M"), (1_000, "k")):
        if n >= size:
            value = n / size
            return f"{value:.1f}".rstrip("0").rstrip(".") + suffix if value < 10 else f"{value:.0f}{suffix}"
    return str(n)


def _pct(n: int, total: int) -> str:
    if not total:
        return "0%"
    p = 100 * n / total
    return f"{p:.0f}%" if p >= 10 or p == 0 else f"{p:.1f}%"


def _svg_start(title: str, width: int, height: int) -> list[str]:
    return [f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">'
            f"<title>{esc(title)}</title>"]


def _svg_empty(out: list[str], width: int, height: int, text: str) -> str:
    out.append(f'<text x="{width / 2}" y="{height / 2 + 4}" text-anchor="middle" class="muted">'
               f"{esc(text)}</text></svg>")
    return "".join(out)


def svg_donut(title: str, segments: Iterable[tuple[str, int, str]]) -> str:
    """A donut with a legend; segments are (label, value, colour)."""
    items = [(label, value, color) for label, value, color in segments if value > 0]
    total = sum(v for _, v, _ in items)
    r, cx, cy, width = 62.0, 90.0, 90.0, 26.0
    circ = 2 * math.pi * r
    legend_h = 22 * len(items)
    height = max(180, legend_h + 20)
    out = _svg_start(title, 440, height)
    if not total:
        out.append(f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="#e5e7eb" stroke-width="{width}"/>'
                   f'<text x="{cx}" y="{cy + 5}" text-anchor="middle" class="muted">no data</text></svg>')
        return "".join(out)
    offset = 0.0
    for label, value, color in items:
        dash = circ * value / total
        out.append(
            f'<circle cx="{cx}" cy="{cy}" r="{r}" fill="none" stroke="{color}" stroke-width="{width}" '
            f'stroke-dasharray="{dash:.3f} {circ - dash:.3f}" stroke-dashoffset="{-offset:.3f}" '
            f'transform="rotate(-90 {cx} {cy})"><title>{esc(label)}: {_num(value)} '
            f"({_pct(value, total)})</title></circle>"
        )
        offset += dash
    size = "big" if total < 100_000 else "mid"  # long numbers would touch the ring
    out.append(f'<text x="{cx}" y="{cy + 2}" text-anchor="middle" class="{size}">{_num(total)}</text>'
               f'<text x="{cx}" y="{cy + 20}" text-anchor="middle" class="muted">total</text>')
    y0 = max(12, (height - legend_h) / 2 + 4)
    for i, (label, value, color) in enumerate(items):
        y = y0 + 22 * i
        out.append(f'<rect x="190" y="{y}" width="14" height="14" rx="3" fill="{color}"/>'
                   f'<text x="212" y="{y + 12}">{esc(label, 24)}</text>'
                   f'<text x="430" y="{y + 12}" text-anchor="end" class="num">{_num(value)} '
                   f'<tspan class="muted">{_pct(value, total)}</tspan></text>')
    out.append("</svg>")
    return "".join(out)


def svg_bars(title: str, items: Iterable[tuple[str, int, str]], *, label_chars: int = 26) -> str:
    """Horizontal bars with labels on the left and counts on the right."""
    rows = list(items)
    total_ref = max((v for _, v, _ in rows), default=0)
    row_h, top = 24, 6
    height = max(40, top * 2 + row_h * len(rows))
    left, right, width = 180, 70, 440
    span = width - left - right
    out = _svg_start(title, width, height)
    if not rows:
        return _svg_empty(out, width, height, "no data")
    for i, (label, value, color) in enumerate(rows):
        y = top + row_h * i
        w = 0 if not total_ref else max(2.0, span * value / total_ref) if value else 0
        out.append(
            f'<g><title>{esc(label, 300)}: {_num(value)}</title>'
            f'<text x="{left - 8}" y="{y + 16}" text-anchor="end">{esc(label, label_chars)}</text>'
            f'<rect x="{left}" y="{y + 4}" width="{w:.1f}" height="16" rx="3" fill="{color}"/>'
            f'<text x="{left + w + 6:.1f}" y="{y + 16}" class="num">{_num(value)}</text></g>'
        )
    out.append("</svg>")
    return "".join(out)


def nice_ceiling(n: int) -> int:
    """The smallest of 1, 2, 4, 5, 10, 20, 40, 50... (times a power of ten) that is >= n, so
    the axis's middle tick is a whole number too."""
    if n <= 2:
        return 2
    magnitude = 10 ** (len(str(n)) - 1)
    for step in (1, 2, 4, 5, 10):
        if step * magnitude >= n:
            return step * magnitude
    return 10 * magnitude


def _trend_tip(p: TrendPoint) -> str:
    tip = f"run {p.run_id}: {_num(p.live)} live, {_num(p.lost)} lost, {_num(p.unverified)} unverified"
    if p.events:
        tip += "; events: " + ", ".join(f"{_num(n)} {kind}" for kind, n in p.events)
    return tip


def svg_trend(title: str, points: Iterable[TrendPoint]) -> str:
    """Stacked columns per run: live at the bottom, then unverified, then lost."""
    pts = list(points)
    width, height, left, bottom, top = 440, 220, 44, 34, 24
    out = _svg_start(title, width, height)
    if not pts:
        return _svg_empty(out, width, height, "no runs")
    peak = nice_ceiling(max(p.live + p.lost + p.unverified for p in pts))
    plot_h = height - top - bottom
    slot = (width - left - 8) / len(pts)
    bar = max(2.0, min(36.0, slot * 0.7))
    for frac in (0, 0.5, 1):
        y = top + plot_h * (1 - frac)
        out.append(f'<line x1="{left}" x2="{width - 4}" y1="{y:.1f}" y2="{y:.1f}" class="grid"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="muted">'
                   f"{_compact(round(peak * frac))}</text>")
    label_every = max(1, math.ceil(len(pts) / 12))
    for i, p in enumerate(pts):
        x = left + slot * i + (slot - bar) / 2
        y = top + plot_h
        for status, value in (("live", p.live), ("unverified", p.unverified), ("lost", p.lost)):
            h = plot_h * value / peak
            y -= h
            if value:
                out.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                           f'fill="{STATUS_COLORS[status]}"><title>{esc(_trend_tip(p))}</title></rect>')
        if i % label_every == 0 or i == len(pts) - 1:
            out.append(f'<text x="{x + bar / 2:.1f}" y="{height - bottom + 16}" text-anchor="middle" '
                       f'class="muted">#{p.run_id}</text>')
    lx = left
    for status in STATUS_ORDER:
        out.append(f'<rect x="{lx}" y="4" width="12" height="12" rx="2" fill="{STATUS_COLORS[status]}"/>'
                   f'<text x="{lx + 16}" y="14">{status}</text>')
        lx += 90
    out.append("</svg>")
    return "".join(out)


# --- page -------------------------------------------------------------------------------------

STYLE = """
:root{color-scheme:light;--fg:#1f2937;--muted:#6b7280;--line:#e5e7eb;--bg:#f8fafc;--card:#fff}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
header,main,footer{max-width:1240px;margin:0 auto;padding:0 20px}
header{padding-top:20px}
h1{font-size:24px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px}
h3{font-size:14px;margin:0 0 6px;color:#374151}
.meta{color:var(--muted);margin:0}
.meta span{margin-right:14px;white-space:nowrap}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:12px;margin-top:16px}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px}
.card .n{font-size:26px;font-weight:650;font-variant-numeric:tabular-nums}
.card .l{color:var(--muted)}
.card.live .n{color:#2e7d32}.card.lost .n{color:#c62828}.card.unverified .n{color:#975a16}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(460px,1fr));gap:12px}
.panel{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:12px 14px;min-width:0}
svg.chart{width:100%;height:auto;display:block;max-width:560px}
svg text{font:12px system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;fill:#1f2937}
svg text.muted,svg tspan.muted{fill:#6b7280}
svg text.big{font-size:22px;font-weight:650}
svg text.mid{font-size:16px;font-weight:650}
svg text.num{font-variant-numeric:tabular-nums}
svg line.grid{stroke:#e5e7eb}
table{border-collapse:collapse;width:100%;background:var(--card)}
th,td{border-bottom:1px solid var(--line);padding:5px 7px;text-align:left;vertical-align:top}
td{unicode-bidi:isolate;overflow-wrap:anywhere;word-break:break-word}
th{position:sticky;top:0;background:#f1f5f9;z-index:1;white-space:nowrap}
th button{font:inherit;font-weight:600;border:0;background:none;padding:0;cursor:pointer;color:inherit}
th button::after{content:" \\2195";color:#9ca3af}
th[aria-sort=ascending] button::after{content:" \\2191";color:inherit}
th[aria-sort=descending] button::after{content:" \\2193";color:inherit}
table.small{font-size:12.5px}
.wrap{overflow-x:auto;border:1px solid var(--line);border-radius:8px;max-height:80vh;overflow-y:auto}
table#results{min-width:1100px}
td.url{min-width:150px;max-width:300px}
td.anchor{min-width:120px;max-width:240px}
td.err{min-width:160px;max-width:280px}
td.val{max-width:260px}
td.nw{white-space:nowrap}
.badge{display:inline-block;padding:1px 7px;border-radius:10px;font-size:12px;font-weight:600;color:#fff;white-space:nowrap}
.badge.live{background:#2e7d32}.badge.lost{background:#c62828}.badge.unverified{background:#975a16}.badge.other{background:#6b7280}
.chg{font-size:12px}
.chg.lost{color:#c62828}.chg.recovered{color:#2e7d32}.chg.changed{color:#2b6cb0}
.sub{display:block;color:var(--muted);font-size:12px}
.controls{display:flex;gap:10px;align-items:center;flex-wrap:wrap;margin:8px 0}
.controls input{font:inherit;padding:5px 8px;min-width:280px;border:1px solid #cbd5e1;border-radius:6px}
.controls select{font:inherit;padding:4px 6px;border:1px solid #cbd5e1;border-radius:6px}
.note{background:#fffbeb;border:1px solid #fcd34d;border-radius:8px;padding:8px 12px;margin:8px 0}
.muted{color:var(--muted)}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
a{color:#1d4ed8}
[hidden]{display:none!important}
footer{color:var(--muted);padding:24px 20px 40px}
"""

# Our only script. Data never goes into it (it reads the table), so its hash is a constant.
SCRIPT = r"""
(function () {
  "use strict";
  var table = document.getElementById("results");
  if (!table) { return; }
  var body = table.tBodies[0];
  var items = Array.prototype.map.call(body.rows, function (row, i) {
    return { row: row, rank: i, text: row.textContent.toLowerCase(), status: row.getAttribute("data-status") };
  });
  var query = document.getElementById("q");
  var status = document.getElementById("status-filter");
  var shown = document.getElementById("shown");
  function applyFilter() {
    var q = query.value.trim().toLowerCase();
    var s = status.value;
    var n = 0;
    items.forEach(function (it) {
      var ok = (!s || it.status === s) && (!q || it.text.indexOf(q) !== -1);
      it.row.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = n.toLocaleString("en-US");
  }
  function key(it, col, type) {
    var cell = it.row.cells[col];
    var v = cell ? (cell.getAttribute("data-v") || cell.textContent) : "";
    if (type === "num") {
      var f = parseFloat(v);
      return isNaN(f) ? -Infinity : f;
    }
    return v.toLowerCase();
  }
  var headers = Array.prototype.slice.call(table.tHead.rows[0].cells);
  headers.forEach(function (th, col) {
    var button = th.querySelector("button");
    if (!button) { return; }
    button.addEventListener("click", function () {
      var type = button.getAttribute("data-type");
      var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
      headers.forEach(function (h) { h.removeAttribute("aria-sort"); });
      th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      var keyed = items.map(function (it) { return { it: it, k: key(it, col, type) }; });
      keyed.sort(function (a, b) {
        if (a.k < b.k) { return -dir; }
        if (a.k > b.k) { return dir; }
        return a.it.rank - b.it.rank;
      });
      var frag = document.createDocumentFragment();
      keyed.forEach(function (e) { frag.appendChild(e.it.row); });
      body.appendChild(frag);
      items = keyed.map(function (e) { return e.it; });
    });
  });
  query.addEventListener("input", applyFilter);
  status.addEventListener("change", applyFilter);
  // A link to report.html#sort=9-desc opens the table sorted (column 9, descending).
  var m = /^#sort=(\d{1,2})(-desc)?$/.exec(window.location.hash);
  if (m && headers[+m[1]] && headers[+m[1]].querySelector("button")) {
    var b = headers[+m[1]].querySelector("button");
    b.click();
    if (m[2]) { b.click(); }
  }
  document.documentElement.setAttribute("data-script", "ready");
})();
"""


def csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


CSP = (
    "default-src 'none'; "
    f"style-src {csp_hash(STYLE)}; "
    f"script-src {csp_hash(SCRIPT)}; "
    "img-src data:; base-uri 'none'; form-action 'none'"
)

# (header, css class of the cell, sort type)
COLUMNS = (
    ("ID", "n", "num"), ("Status", "", "text"), ("Reason / error", "err", "text"), ("Change", "", "text"),
    ("Source / final URL", "url", "text"), ("Target / linked URL", "url", "text"),
    ("Anchor", "anchor", "text"), ("Follow / rel", "", "text"), ("Position", "", "text"),
    ("HTTP", "n", "num"), ("Unmet", "", "text"),
)
URL_CHARS, ANCHOR_CHARS, ERROR_CHARS, TITLE_CHARS = 160, 160, 240, 2000


def link(url: Any, limit: int = URL_CHARS) -> str:
    """An outbound link if `url` is http(s), else the value as plain text."""
    if url is None or url == "":
        return ""
    href = safe_href(url)
    text = esc(url, limit)
    title = f' title="{esc(url, TITLE_CHARS)}"' if len(str(url)) > limit else ""
    if href is None:
        return f'<span class="nolink"{title}>{text}</span>'
    return (f'<a href="{esc(href)}" rel="noopener noreferrer nofollow" target="_blank"'
            f' referrerpolicy="no-referrer"{title}>{text}</a>')


def _text_cell(value: Any, limit: int) -> str:
    if value is None:
        return ""
    title = f' title="{esc(value, TITLE_CHARS)}"' if len(str(value)) > limit else ""
    return f"<span{title}>{esc(value, limit)}</span>" if title else esc(value, limit)


def _status_class(status: str) -> str:
    return status if status in STATUS_COLORS else "other"


def _follow_text(follow: bool | None, rel: str | None) -> str:
    base = "follow" if follow else "nofollow" if follow is False else ""
    if rel:
        return f"{base} ({rel})" if base else rel
    return base


def table_row_html(row: TableRow) -> str:
    """One <tr> of the results table; every value escaped."""
    status_cls = _status_class(row.status)
    change = ""
    if row.change:
        kind = row.change.split(":", 1)[0]
        cls = kind if kind in CHANGE_KINDS else ""
        change = f'<span class="chg {cls}">{esc(row.change, 120)}</span>'
    target = link(row.target) if safe_href(row.target) else _text_cell(row.target, URL_CHARS)
    if row.link_url and row.link_url != row.target:
        target += f'<span class="sub">linked: {link(row.link_url)}</span>'
    source = link(row.source_url)
    error = ""
    if row.error:
        error = f'<span class="sub">{_text_cell(mask_password(row.error), ERROR_CHARS)}</span>'
    if row.final_url and row.final_url != row.source_url:
        source += f'<span class="sub">final: {link(row.final_url)}</span>'
    cells = (
        f'<td class="n">{row.backlink_id}</td>',
        f'<td data-v="{esc(row.status)}"><span class="badge {status_cls}">{esc(row.status, 40)}</span></td>',
        f'<td class="err" data-v="{esc(row.reason, 60)}">{esc(row.reason, 60)}{error}</td>',
        f"<td>{change}</td>",
        f'<td class="url" data-v="{esc(row.source_url, 300)}">{source}</td>',
        f'<td class="url">{target}</td>',
        f'<td class="anchor" dir="auto">{_text_cell(row.anchor_text, ANCHOR_CHARS)}</td>',
        f"<td>{esc(_follow_text(row.follow, row.rel), 80)}</td>",
        f'<td class="nw">{esc(row.position, 40)}</td>',
        f'<td class="n">{esc(row.http_status) if row.http_status is not None else ""}</td>',
        f"<td>{esc(', '.join(row.unmet), 80)}</td>",
    )
    return f'<tr data-status="{esc(status_cls)}">' + "".join(cells) + "</tr>\n"


def _fmt_time(value: dt.datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "—"


def _reason_items(data: ReportData) -> list[tuple[str, int, str]]:
    used: dict[str, int] = {}
    items = []
    for status, reason, count in data.reason_counts:
        shades = REASON_SHADES.get(status, (OTHER_COLOR,))
        color = shades[used.get(status, 0) % len(shades)]
        used[status] = used.get(status, 0) + 1
        items.append((f"{reason}", count, color))
    return items


def _header(data: ReportData) -> str:
    run = data.run
    tag = f"<span>tag: {esc(run.tag, 100)}</span>" if run.tag else ""
    return (
        "<header>"
        f"<h1>Backlink report — run #{run.id}</h1>"
        '<p class="meta">'
        f"<span>state: {esc(run.state)}</span>"
        f"<span>started: {_fmt_time(run.started_at)}</span>"
        f"<span>finished: {_fmt_time(run.finished_at)}</span>{tag}"
        f"<span>database: {esc(mask_password(data.database), 200)}</span>"
        "</p></header>"
    )


def _cards(data: ReportData) -> str:
    total = data.total
    follow = dict(data.follow_shares).get("follow", 0)
    live = data.count("live")
    cards = [
        ("", _num(total), "backlinks checked"),
        ("live", _num(live), f"live · {_pct(live, total)}"),
        ("lost", _num(data.count("lost")), f"lost · {_pct(data.count('lost'), total)}"),
        ("unverified", _num(data.count("unverified")), f"unverified · {_pct(data.count('unverified'), total)}"),
        ("", _num(data.referring_domains), "referring domains (live)"),
        ("", _pct(follow, live), "of live links follow"),
    ]
    return '<section class="cards" id="summary">' + "".join(
        f'<div class="card {cls}"><div class="n">{n}</div><div class="l">{esc(label)}</div></div>'
        for cls, n, label in cards
    ) + "</section>"


def _summary_table(data: ReportData) -> str:
    rows = "".join(
        f'<tr><td><span class="badge {_status_class(s)}">{esc(s)}</span></td><td>{esc(r)}</td>'
        f'<td class="n">{_num(n)}</td><td class="n">{_pct(n, data.total)}</td></tr>'
        for s, r, n in data.reason_counts
    )
    return (
        '<table class="small" id="reason-counts"><thead><tr><th>Status</th><th>Reason</th>'
        '<th class="n">Backlinks</th><th class="n">Share</th></tr></thead>'
        f"<tbody>{rows}</tbody></table>"
    )


def _charts(data: ReportData) -> str:
    status_items = [(s, data.count(s), STATUS_COLORS[s]) for s in STATUS_ORDER]
    follow_items = [(k, n, FOLLOW_COLORS.get(k, OTHER_COLOR)) for k, n in data.follow_shares]
    position_items = [(k or "unknown", n, "#2b6cb0") for k, n in data.positions]
    domain_items = [(d, n, "#4b5563") for d, n in data.top_domains]
    panels = [
        ("Status", svg_donut("Backlinks by status", status_items)),
        ("Reasons", svg_bars("Backlinks by reason", _reason_items(data))),
        ("Live links: follow, nofollow, sponsored, ugc", svg_donut("Live links by rel", follow_items)),
        ("Live links: position on the page", svg_bars("Live links by position", position_items)),
        (f"Top {TOP_DOMAINS} referring domains (live backlinks)",
         svg_bars("Top referring domains", domain_items, label_chars=24)),
        ("Run history" + (f" (last {len(data.trend)} runs)" if len(data.trend) > 1 else ""), svg_trend("Live, lost and unverified per run", data.trend)),
    ]
    if data.anchor_classes:
        panels.append(("Live links: anchor text classes",
                       svg_bars("Anchor text classes", [(k, n, "#7b4bb7") for k, n in data.anchor_classes])))
    return '<section class="grid2" id="charts">' + "".join(
        f'<div class="panel"><h3>{esc(title)}</h3>{svg}</div>' for title, svg in panels
    ) + "</section>"


def _changes(data: ReportData) -> str:
    head = "<h2>Changes since the previous run</h2>"
    ch = data.changes
    if ch is None:
        return f'<section id="changes">{head}<p class="muted">{esc(data.changes_note)}</p></section>'
    counts = "".join(
        f'<div class="card {"lost" if k == "lost" else "live" if k == "recovered" else ""}">'
        f'<div class="n">{_num(n)}</div><div class="l">{esc(k)}</div></div>'
        for k, n in ch.counts
    )
    intro = (f'<p class="meta">run #{ch.from_run} → run #{data.run.id}: {_num(ch.total)} events. '
             "Unverified results never count as lost or recovered.</p>")
    if not ch.events:
        return f'<section id="changes">{head}{intro}<div class="cards">{counts}</div></section>'
    rows = "".join(
        f'<tr><td><span class="chg {esc(e.kind if e.kind in CHANGE_KINDS else "")}">{esc(e.kind)}</span></td>'
        f'<td class="nw">{esc(e.field or "")}</td><td class="val">{_value_cell(e.before)}</td>'
        f'<td class="val">{_value_cell(e.after)}</td>'
        f'<td class="url">{link(e.source_url)}</td><td class="url">{_text_cell(e.target, URL_CHARS)}</td></tr>'
        for e in ch.events
    )
    shown = len(ch.events)
    cap_note = ""
    if shown < ch.total:
        cap_note = (f'<p class="note">Showing {_num(shown)} of {_num(ch.total)} events (at most '
                    f"{_num(ch.shown_cap)} of each kind); <code>linkcrawler changes</code> lists them all.</p>")
    return (
        f'<section id="changes">{head}{intro}<div class="cards">{counts}</div>{cap_note}'
        '<div class="wrap"><table class="small" id="events"><thead><tr><th>Event</th><th>Field</th>'
        "<th>Before</th><th>After</th><th>Source</th><th>Target</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _value_cell(value: Any) -> str:
    if value is None:
        return '<span class="muted">—</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and safe_href(value):
        return link(value)
    return _text_cell(value, ANCHOR_CHARS)


def _table_head(data: ReportData) -> str:
    total, shown = data.total, data.table_rows
    note = ""
    if shown < total:
        note = (f'<p class="note" id="cap-note">This run has {_num(total)} results; the table shows the '
                f"{_num(shown)} most important: lost first, then unverified, then changed, then the rest. "
                "<code>linkcrawler export</code> writes every result.</p>")
    options = "".join(f'<option value="{s}">{s}</option>' for s in STATUS_ORDER)
    ths = "".join(
        f'<th{" class=n" if cls == "n" else ""}><button type="button" data-type="{typ}">{esc(name)}</button></th>'
        for name, cls, typ in COLUMNS
    )
    return (
        f'<section id="results-section"><h2>Results</h2>{note}'
        '<div class="controls"><label>Filter <input type="search" id="q" placeholder="text in any column"'
        ' autocomplete="off"></label>'
        f'<label>Status <select id="status-filter"><option value="">all</option>{options}</select></label>'
        f'<span class="muted"><span id="shown">{_num(shown)}</span> of {_num(shown)} rows shown; '
        "click a column heading to sort</span></div>"
        '<div class="wrap"><table class="small" id="results">'
        f"<thead><tr>{ths}</tr></thead><tbody>\n"
    )


def write_report(data: ReportData, rows: Iterable[TableRow], out: TextIO) -> int:
    """Write the report to `out`, streaming the table rows; returns the number of rows written."""
    notes = "".join(f'<p class="note">{esc(n)}</p>' for n in data.notes)
    out.write(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">\n'
        '<meta name="referrer" content="no-referrer">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Backlink report — run #{data.run.id}</title>\n"
        f"<style>{STYLE}</style>\n</head><body>\n"
    )
    out.write(_header(data))
    out.write("<main>")
    out.write(notes)
    out.write(_cards(data))
    out.write(f'<h2>Summary by status and reason</h2><div class="panel">{_summary_table(data)}</div>')
    out.write("<h2>Charts</h2>")
    out.write(_charts(data))
    out.write(_changes(data))
    out.write(_table_head(data))
    written = 0
    for row in rows:
        out.write(table_row_html(row))
        written += 1
    out.write("</tbody></table></div></section></main>\n")
    out.write(f"<footer>Generated by linkcrawler on {_fmt_time(data.generated_at)}. "
              "Self-contained: no external resources.</footer>\n")
    out.write(f"<script>{SCRIPT}</script>\n</body></html>\n")
    return written


def render_report(data: ReportData, rows: Iterable[TableRow]) -> str:
    buffer = StringIO()
    write_report(data, rows, buffer)
    return buffer.getvalue()


# --- gathering the data (repository functions: session first, never commit) ------------------

def _optional(module: str) -> Any:
    """A sibling module that may not exist yet in this checkout (stats, changes)."""
    import importlib

    try:
        return importlib.import_module(f"linkcrawler.{module}")
    except ImportError:
        return None


def follow_class(follow: bool | None, rel: str | None) -> str:
    """One class per live link for the follow chart: sponsored/ugc/nofollow by rel, else
    follow, else a page-level nofollow (follow is false with no rel token)."""
    tokens = set((rel or "").lower().split())
    for token in ("sponsored", "ugc", "nofollow"):
        if token in tokens:
            return token
    if follow:
        return "follow"
    if follow is False:
        return "page nofollow"
    return "unknown"


def _status_reason_counts(session: Session, run_id: int) -> list[tuple[str, str, int]]:
    rows = session.execute(
        select(Result.status, Result.reason, func.count())
        .where(Result.run_id == run_id)
        .group_by(Result.status, Result.reason)
    ).all()
    order = {s: i for i, s in enumerate(STATUS_ORDER)}
    return sorted(((s, r, n) for s, r, n in rows), key=lambda t: (order.get(t[0], 9), -t[2], t[1]))


def _follow_shares(session: Session, run_id: int) -> list[tuple[str, int]]:
    counts: dict[str, int] = {}
    for follow, rel, n in session.execute(
        select(Result.follow, Result.rel, func.count())
        .where(Result.run_id == run_id, Result.status == Status.LIVE.value)
        .group_by(Result.follow, Result.rel)
    ):
        key = follow_class(follow, rel)
        counts[key] = counts.get(key, 0) + n
    order = list(FOLLOW_COLORS)
    return sorted(counts.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)


def _positions(session: Session, run_id: int) -> list[tuple[str, int]]:
    rows = session.execute(
        select(Result.position, func.count())
        .where(Result.run_id == run_id, Result.status == Status.LIVE.value)
        .group_by(Result.position)
    ).all()
    return sorted(((p or "unknown", n) for p, n in rows), key=lambda t: (-t[1], t[0]))


def _domains(session: Session, run_id: int) -> tuple[int, list[tuple[str, int]]]:
    from linkcrawler.urls import registrable_domain

    counts: dict[str, int] = {}
    # Grouped by host in SQL (a few rows per site), folded to registrable domains here.
    for host, n in session.execute(
        select(Page.host, func.count())
        .select_from(Result)
        .join(Backlink, Backlink.id == Result.backlink_id)
        .join(Page, Page.id == Backlink.page_id)
        .where(Result.run_id == run_id, Result.status == Status.LIVE.value)
        .group_by(Page.host)
    ):
        domain = registrable_domain(host) or host or "unknown"
        counts[domain] = counts.get(domain, 0) + n
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:TOP_DOMAINS]
    return len(counts), top


def _trend(session: Session, run: Run, limit: int) -> list[TrendPoint]:
    runs = list(session.execute(
        select(Run.id, Run.started_at)
        .where(Run.kind == run.kind, Run.id <= run.id)
        .order_by(Run.id.desc())
        .limit(limit)
    ).all())
    if not runs:
        return []
    ids = [r[0] for r in runs]
    counts: dict[int, dict[str, int]] = {i: {} for i in ids}
    for run_id, status, n in session.execute(
        select(Result.run_id, Result.status, func.count())
        .where(Result.run_id.in_(ids))
        .group_by(Result.run_id, Result.status)
    ):
        counts[run_id][status] = n
    return [
        TrendPoint(rid, started, counts[rid].get("live", 0), counts[rid].get("lost", 0),
                   counts[rid].get("unverified", 0))
        for rid, started in reversed(runs)
    ]


def _changes_since_previous(
    session: Session, run: Run, max_events: int
) -> tuple[ChangesSummary | None, str, dict[int, str]]:
    """Change events since the previous completed run, and what changed per backlink (for the
    table's ordering and Change column; "new" events are left out: on a first comparison
    every backlink is new)."""
    changes = _optional("changes")
    if changes is None or not hasattr(changes, "compute_changes"):
        return None, "Run comparison is not available in this installation.", {}
    previous = changes.previous_run_id(session, run.id)
    if previous is None:
        return None, "There is no earlier completed run to compare with.", {}
    counts = {k: 0 for k in CHANGE_KINDS}
    kept: dict[str, list[EventRow]] = {k: [] for k in CHANGE_KINDS}
    per_backlink: dict[int, str] = {}
    for event in changes.compute_changes(session, previous, run.id):
        kind = str(getattr(event.kind, "value", event.kind))
        fld = getattr(event.field, "value", event.field)
        counts[kind] = counts.get(kind, 0) + 1
        bucket = kept.setdefault(kind, [])
        if len(bucket) < max_events:
            bucket.append(EventRow(event.backlink_id, event.source_url, event.target, kind, fld,
                                   event.before, event.after))
        if kind == "new":
            continue
        if kind == "changed":
            earlier = per_backlink.get(event.backlink_id)
            per_backlink[event.backlink_id] = f"{earlier}, {fld}" if earlier else f"changed: {fld}"
        else:
            per_backlink[event.backlink_id] = kind
    events = tuple(e for k in CHANGE_KINDS for e in kept.get(k, []))
    summary = ChangesSummary(previous, tuple((k, counts.get(k, 0)) for k in CHANGE_KINDS), events, max_events)
    return summary, "", per_backlink


def _row_query(run_id: int):  # noqa: ANN202 - a SQLAlchemy select
    # The links JSON (the bulk of a result) is never read: the best link's columns suffice.
    return (
        select(Result.backlink_id, Backlink.source_url, Backlink.target, Result.status, Result.reason,
               Result.follow, Result.rel, Result.position, Result.anchor_text, Result.link_url,
               Result.http_status, Result.final_url, Result.unmet, Result.error)
        .join(Backlink, Backlink.id == Result.backlink_id)
        .where(Result.run_id == run_id)
    )


def iter_table_rows(
    session: Session, run_id: int, changed: Mapping[int, str], limit: int
) -> Iterator[TableRow]:
    """The table's rows, most important first: lost, unverified, live with a change, the rest;
    at most `limit`. Streams from the database."""
    emitted = 0

    def make(row: Any) -> TableRow:
        (bid, source, target, status, reason, follow, rel, position, anchor, link_url,
         http_status, final_url, unmet, error) = row
        return TableRow(bid, source, target, status, reason, follow, rel, position, anchor,
                        link_url, http_status, final_url, tuple(str(u) for u in (unmet or ())),
                        error, changed.get(bid))

    for status in (Status.LOST.value, Status.UNVERIFIED.value):
        if emitted >= limit:
            return
        query = (_row_query(run_id).where(Result.status == status).order_by(Result.backlink_id)
                 .limit(limit - emitted).execution_options(yield_per=1000))
        for row in session.execute(query):
            emitted += 1
            yield make(row)
    live_changed = sorted(changed)
    for start in range(0, len(live_changed), 900):
        if emitted >= limit:
            return
        chunk = live_changed[start:start + 900]
        query = (_row_query(run_id)
                 .where(Result.status == Status.LIVE.value, Result.backlink_id.in_(chunk))
                 .order_by(Result.backlink_id).limit(limit - emitted))
        for row in session.execute(query):
            emitted += 1
            yield make(row)
    if emitted >= limit:
        return
    query = (_row_query(run_id).where(Result.status == Status.LIVE.value)
             .order_by(Result.backlink_id).execution_options(yield_per=1000))
    result = session.execute(query)
    try:
        for row in result:
            if row[0] in changed:
                continue
            if emitted >= limit:
                return
            emitted += 1
            yield make(row)
    finally:
        result.close()


def gather_report(
    session: Session,
    run_id: int,
    *,
    database: str = "",
    max_rows: int = DEFAULT_MAX_ROWS,
    max_events: int = DEFAULT_MAX_EVENTS,
    trend_runs: int = DEFAULT_TREND_RUNS,
    now: dt.datetime | None = None,
) -> tuple[ReportData, Iterator[TableRow]]:
    """The report's data for run `run_id` and a lazy iterator of its table rows.

    The iterator reads from `session`: consume it before the session ends. `database` is
    how the database is named in the page; it is masked again when rendered (SEC-5).
    """
    run = session.get(Run, run_id)
    if run is None:
        raise LookupError(f"no run {run_id}")
    reason_counts = _status_reason_counts(session, run_id)
    by_status: dict[str, int] = {}
    for status, _reason, n in reason_counts:
        by_status[status] = by_status.get(status, 0) + n
    status_counts = tuple((s, by_status.get(s, 0)) for s in STATUS_ORDER) + tuple(
        (s, n) for s, n in by_status.items() if s not in STATUS_ORDER
    )
    total = sum(by_status.values())
    notes: list[str] = []
    figures = _figures_from_stats(session, run, trend_runs, notes) or _figures(session, run, trend_runs)
    changes, changes_note, per_backlink = _changes_since_previous(session, run, max_events)
    data = ReportData(
        run=RunInfo(run.id, run.state, run.started_at, run.finished_at, run.tag),
        database=database,
        generated_at=now or dt.datetime.now(dt.UTC).replace(tzinfo=None),
        status_counts=status_counts,
        reason_counts=tuple(reason_counts),
        follow_shares=tuple(_follow_shares(session, run_id)),
        positions=figures.positions,
        referring_domains=figures.referring_domains,
        top_domains=figures.top_domains,
        trend=figures.trend,
        changes=changes,
        changes_note=changes_note,
        table_rows=min(total, max_rows),
        max_rows=max_rows,
        anchor_classes=figures.anchor_classes,
        notes=tuple(notes),
    )
    return data, iter_table_rows(session, run_id, per_backlink, max_rows)


@dataclass(frozen=True, slots=True)
class Figures:
    """The shares and series the charts show (besides status and reason counts)."""

    positions: tuple[tuple[str, int], ...]
    referring_domains: int
    top_domains: tuple[tuple[str, int], ...]
    trend: tuple[TrendPoint, ...]
    anchor_classes: tuple[tuple[str, int], ...] = ()


def _figures(session: Session, run: Run, trend_runs: int) -> Figures:
    """The figures from a few grouped queries (no anchor classes): used when linkcrawler.stats
    is not installed, so the report never depends on it."""
    referring, top = _domains(session, run.id)
    return Figures(tuple(_positions(session, run.id)), referring, tuple(top),
                   tuple(_trend(session, run, trend_runs)))


def _figures_from_stats(session: Session, run: Run, trend_runs: int, notes: list[str]) -> Figures | None:
    """The figures from linkcrawler.stats, so that `report` and `stats` show the same numbers
    (anchor classes, and new/lost/recovered per run in the trend). None when that module is
    missing or fails; the caller then computes them itself."""
    stats = _optional("stats")
    run_stats = getattr(stats, "run_stats", None)
    if run_stats is None or run.kind != "verify":
        return None
    try:
        st = run_stats(session, run.id, top=TOP_DOMAINS)
        positions = tuple(sorted(((str(k), int(n)) for k, n in st.positions.items() if n),
                                 key=lambda t: (-t[1], t[0])))
        anchors = tuple(sorted(((str(k), int(n)) for k, n in st.anchors.items() if n),
                               key=lambda t: (-t[1], t[0])))
        trend = tuple(
            TrendPoint(p.run_id, p.started_at, p.live, p.lost, p.unverified,
                       (("new", p.new), ("lost", p.lost_events), ("recovered", p.recovered)))
            for p in st.over_time[-trend_runs:]
        )
        return Figures(positions, int(st.referring_domains),
                       tuple((str(d), int(n)) for d, n in st.top_domains), trend, anchors)
    except Exception as exc:  # noqa: BLE001 - the report must still render without stats
        # Only reads happened; a failed statement would leave a PostgreSQL transaction
        # unusable for the fallback queries.
        session.rollback()
        notes.append(f"Some figures come from a simpler computation: linkcrawler.stats failed "
                     f"({type(exc).__name__}).")
        return None
