"""Label the links of pages whose article text is known, by the eval set's rule (issue 4).

    python bench/label_positions.py --manifest PAGES.jsonl --out DIR [--source NAME]
    python bench/label_positions.py --newspaper4k REPO --out DIR
    python bench/label_positions.py --readability REPO --out DIR
    python bench/label_positions.py --ir-research-data REPO --out DIR

Writes DIR in the layout of shared/eval (pages.jsonl, links.jsonl, pages/*.html.gz and a copy
of the scorer), so `python bench/position.py --eval DIR` scores the classifier on pages it was
never trained on, and `bench/train_position.py --eval DIR` can use them.

Input: --manifest is JSONL, one page a line: {"url", "html_path" (relative to the manifest),
"text" (the article as people wrote it down), optional "page_id", "charset"}.
--newspaper4k reads the layout of the newspaper4k article-extraction dataset (articles.json,
whose keys name html/<key>.html, with "url" and "articleBody"). --readability reads Mozilla
Readability's test pages (test/test-pages/<name>/source.html and expected.html): the article is
the text of Readability's own output, so the labels follow Readability, not a person's choices;
the URL is the page's canonical (or og:url), else http://<name>.test/. --ir-research-data reads
the Extraction sets of github.com/MSVCode/ir-research-data (Utomo and Leu: 9 news sites in 2005,
2009, 2013 and 2017, "big5-YY", and 360 pages of ~250 sites in 2017, "chaos-all"; each html/X.htm
with its article in gold/X.txt); most pages were saved from the Wayback Machine, so its toolbar,
scripts and URL rewriting are undone first (undo_wayback) and the URL is the archived one. Each
set is its own source, so the scorer prints one row per set.

The rule is the one shared/eval/README.md states: a link is `body` when at least 60% of its
anchor words lie in a 5-word run of the page's text that also occurs in the article text,
`boilerplate` when none do; links in between and links without words are left out. Words are
runs of \\w, lowercased; the page's text is every text node outside head, script, style,
noscript and template, in document order, so a short anchor is judged with its neighbours.

No page, label or text is kept in the repository: the data stays where it was fetched.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import shutil
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml import etree

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.position import find_eval_dir  # noqa: E402
from linkcrawler.charset import decode_html  # noqa: E402

RUN = 5
BODY_SHARE = 0.6
_WORD_RE = re.compile(r"\w+")
_SKIP = frozenset({"head", "script", "style", "noscript", "template"})


@dataclass(frozen=True, slots=True)
class SourcePage:
    page_id: str
    url: str
    html: bytes
    text: str
    charset: str
    source: str = ""  # "": the corpus's name


def words(text: str) -> list[str]:
    return _WORD_RE.findall(text.lower())


def decode(html: bytes, charset: str | None) -> tuple[str, str]:
    """The page's text and the Python codec it was read with: the given one, else the one the
    crawler would choose."""
    if charset:
        return charset, html.decode(charset, "replace")
    text, choice = decode_html(html)
    return choice.codec, text


def page_words(root) -> tuple[list[str], dict]:  # noqa: ANN001
    """Every word of the page in document order, and each element's [start, end) word span."""
    out: list[str] = []
    spans: dict = {}

    def walk(el) -> None:  # noqa: ANN001
        tag = el.tag if isinstance(el.tag, str) else ""
        if tag in _SKIP:
            return
        start = len(out)
        if isinstance(el.tag, str) and el.text:
            out.extend(words(el.text))
        for child in el:
            walk(child)
            if child.tail:
                out.extend(words(child.tail))
        spans[el] = (start, len(out))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 20000))
    walk(root)
    return out, spans


def covered(page: list[str], article: list[str]) -> list[bool]:
    runs = {tuple(article[i:i + RUN]) for i in range(len(article) - RUN + 1)}
    cov = [False] * len(page)
    for i in range(len(page) - RUN + 1):
        if tuple(page[i:i + RUN]) in runs:
            for j in range(i, i + RUN):
                cov[j] = True
    return cov


def _linkish(href: str, base: str) -> bool:
    # as the eval set: fragments and non-web schemes (javascript:, mailto:, tel:) are no links
    href = href.strip()
    if not href or href.startswith("#"):
        return False
    return urlsplit(urljoin(base, href)).scheme in ("http", "https")


def label_page(page: SourcePage, source: str) -> tuple[list[dict], dict]:
    charset, text = decode(page.html, page.charset)
    try:
        root = lxml.html.document_fromstring(text)
    except ValueError:
        root = lxml.html.document_fromstring(page.html)
    article = words(page.text)
    stream, spans = page_words(root)
    cov = covered(stream, article)
    tree = etree.ElementTree(root)
    rows: list[dict] = []
    anchors = [el for el in root.iter("a") if el.get("href") is not None]
    for index, a in enumerate(anchors):
        if not _linkish(a.get("href"), page.url):
            continue
        start, end = spans.get(a, (0, 0))
        n = end - start
        if n == 0:
            continue
        share = sum(cov[start:end]) / n
        if 0 < share < BODY_SHARE:
            continue
        rows.append({
            "page_id": page.page_id, "source": source, "url": page.url, "link_index": index,
            "xpath": tree.getpath(a), "link_href": a.get("href"),
            "anchor_text": " ".join(a.text_content().split()),
            "label": "body" if share >= BODY_SHARE else "boilerplate",
            "evidence": {"covered_share": round(share, 3), "anchor_tokens": n},
        })
    page_runs = {tuple(stream[i:i + RUN]) for i in range(len(stream) - RUN + 1)}
    article_runs = [tuple(article[i:i + RUN]) for i in range(len(article) - RUN + 1)]
    meta = {
        "page_id": page.page_id, "source": source, "url": page.url, "charset": charset,
        "n_links": len(anchors), "n_body": sum(r["label"] == "body" for r in rows),
        "n_boilerplate": sum(r["label"] == "boilerplate" for r in rows),
        "gold_tokens": len(article),
        # how much of the article the page's text holds: a low figure means the page
        # was saved without its article (a consent wall, a script-rendered body)
        "gold_found": round(sum(r in page_runs for r in article_runs) / len(article_runs), 3)
        if article_runs else 0.0,
    }
    return rows, meta


def from_manifest(path: Path) -> Iterator[SourcePage]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            r = json.loads(line)
            html = (path.parent / r["html_path"]).read_bytes()
            pid = r.get("page_id") or hashlib.sha256(r["url"].encode()).hexdigest()
            yield SourcePage(pid, r["url"], html, r["text"], r.get("charset") or "")


_WAYBACK_SCRIPTS = re.compile(
    rb"<script[^>]*/static/js/wbhack\.js.*?<!-- End Wayback Rewrite JS Include -->", re.S)
_WAYBACK_TOOLBAR = re.compile(
    rb"<!-- BEGIN WAYBACK TOOLBAR INSERT -->.*?<!-- END WAYBACK TOOLBAR INSERT -->", re.S)
_WAYBACK_URL = re.compile(rb'id="wmtbURL" value="(https?://[^"]+)"')
# absolute, scheme-relative or root-relative; "im_", "js_", "cs_"... name the resource's kind
_WAYBACK_PREFIX = re.compile(
    rb"(?:(?:https?:)?//web(?:-beta)?\.archive\.org)?/web/\d{4,14}(?:[a-z]{2}_)?/")


def undo_wayback(html: bytes) -> tuple[bytes, str | None]:
    """The page as its site served it, and its address, from a Wayback Machine capture (the
    page itself and no address when it is none): the toolbar and the replay scripts are
    removed, and every rewritten address is the original again, so the links and the landmarks
    are the site's own."""
    toolbar = _WAYBACK_TOOLBAR.search(html)
    if toolbar is None:
        return html, None
    found = _WAYBACK_URL.search(toolbar.group(0))
    html = _WAYBACK_TOOLBAR.sub(b"", html)
    html = _WAYBACK_SCRIPTS.sub(b"", html)
    html = _WAYBACK_PREFIX.sub(b"", html)
    return html, found.group(1).decode("ascii", "replace") if found else None


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:  # some gold files of ir-research-data are Windows-1252
        return data.decode("cp1252", "replace")


def from_ir_research(repo: Path) -> Iterator[SourcePage]:
    for folder in sorted((repo / "Extraction").iterdir()):
        if not (folder / "html").is_dir():
            continue
        for path in sorted((folder / "html").iterdir()):
            gold = folder / "gold" / f"{path.stem}.txt"
            if not gold.exists():
                continue
            html, url = undo_wayback(path.read_bytes())
            yield SourcePage(path.stem, url or _page_url(html, path.stem.replace(" ", "-")),
                             html, _read_text(gold), "", folder.name)


def from_newspaper4k(repo: Path) -> Iterator[SourcePage]:
    articles = json.loads((repo / "articles.json").read_text(encoding="utf-8"))
    for key, r in articles.items():
        html_path = repo / "html" / f"{key}.html"
        if html_path.exists() and r.get("articleBody"):
            yield SourcePage(key, r["url"], html_path.read_bytes(), r["articleBody"], "")


def _page_url(html: bytes, name: str) -> str:
    try:
        root = lxml.html.document_fromstring(html)
    except etree.ParserError:  # an empty page
        return f"http://{name}.test/"
    for xpath in ('//link[@rel="canonical"]/@href', '//meta[@property="og:url"]/@content'):
        found = [u.strip() for u in root.xpath(xpath) if u.strip().startswith(("http:", "https:"))]
        if found:
            return found[0]
    return f"http://{name}.test/"  # a name that can never be a real site


def from_readability(repo: Path) -> Iterator[SourcePage]:
    for d in sorted((repo / "test" / "test-pages").iterdir()):
        source, expected = d / "source.html", d / "expected.html"
        if source.exists() and expected.exists():
            html = source.read_bytes()
            text = lxml.html.fromstring(expected.read_bytes()).text_content()
            yield SourcePage(d.name, _page_url(html, d.name), html, text, "")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--manifest", type=Path)
    src.add_argument("--newspaper4k", type=Path, help="a checkout of the newspaper4k dataset")
    src.add_argument("--readability", type=Path, help="a checkout of mozilla/readability")
    src.add_argument("--ir-research-data", type=Path,
                     help="a checkout of MSVCode/ir-research-data (one source per set)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--source", default=None, help="source name in the rows")
    ap.add_argument("--title", default=None,
                    help="first line of DIR/README.md: what the pages are, their licence")
    ap.add_argument("--min-found", type=float, default=0.5,
                    help="skip pages whose text holds less of the article than this")
    args = ap.parse_args(argv)

    if args.manifest:
        pages, source = from_manifest(args.manifest), args.source or args.manifest.stem
    elif args.readability:
        pages, source = from_readability(args.readability), args.source or "readability"
    elif args.ir_research_data:
        pages, source = from_ir_research(args.ir_research_data), args.source or "ir-research"
    else:
        pages, source = from_newspaper4k(args.newspaper4k), args.source or "newspaper4k"
    out = args.out
    (out / "pages").mkdir(parents=True, exist_ok=True)
    shutil.copy(find_eval_dir(None) / "score_positions.py", out / "score_positions.py")
    kept = skipped = empty = links = body = 0
    with open(out / "pages.jsonl", "w", encoding="utf-8") as pf, \
            open(out / "links.jsonl", "w", encoding="utf-8") as lf:
        for page in pages:
            page_source = page.source or source
            try:
                rows, meta = label_page(page, page_source)
            except etree.ParserError:  # a page saved empty: no text, no links to label
                empty += 1
                continue
            if meta["gold_found"] < args.min_found:
                skipped += 1
                continue
            pid = f"{page_source}/{page.page_id}"
            # named after source and id: ids alone repeat across sources ("amd (1)")
            name = hashlib.sha256(pid.encode()).hexdigest()
            html_path = f"pages/{name}.html.gz"
            (out / html_path).write_bytes(gzip.compress(page.html))
            meta.update(page_id=pid, html_path=html_path)
            pf.write(json.dumps(meta, ensure_ascii=False) + "\n")
            for r in rows:
                r.update(page_id=pid, html_path=html_path)
                lf.write(json.dumps(r, ensure_ascii=False) + "\n")
            kept += 1
            links += len(rows)
            body += meta["n_body"]
    title = args.title or (f"{source} pages, labelled by bench/label_positions.py")
    (out / "README.md").write_text(
        f"# {title}\n\n{kept} pages, {links} links ({body} body), labelled by "
        f"bench/label_positions.py with the rule of shared/eval/README.md; "
        f"{skipped} pages skipped because their text holds less than {args.min_found:.0%} "
        f"of the article; {empty} empty pages skipped.\n", encoding="utf-8")
    print(f"{kept} pages labelled ({skipped} skipped: article not found in the page; "
          f"{empty} empty), {links} links, {body} body")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
