"""`linkcrawler import FILE`: add expected backlinks from our CSV or any tool's export."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator

from linkcrawler.enums import ExitStatus
from linkcrawler.errors import UsageError
from linkcrawler.importers.formats import FORMATS, help_text

NAME = "import"
ORDER = 10
HELP = "add expected backlinks from a CSV/XLSX file or another tool's export"
DESCRIPTION = f"""\
Add expected backlinks from FILE. The format, encoding and delimiter are detected from the
content. Importing is idempotent: re-importing adds nothing, and the same backlink from two
tools stays one backlink, with what each tool reported kept beside it. A file with bad rows
is refused whole, naming each bad row's line number, unless --skip-bad-rows.

{help_text()}
"""
EXAMPLE = """\
linkcrawler import ahrefs-backlinks.csv --tag client-a
linkcrawler import latest-links.csv --format gsc --target example.com"""

class _Refused(Exception):
    """Raised inside the transaction so that it rolls back."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", metavar="FILE", help="CSV, TSV, text or XLSX file")
    parser.add_argument(
        "--format",
        default="auto",
        choices=["auto", *(f.name for f in FORMATS)],
        help="the file's format (default: detected from the header row)",
    )
    parser.add_argument(
        "--target",
        metavar="URL_OR_DOMAIN",
        help="the target for files that name none (URL lists, Search Console) and for rows "
        "whose target cell is empty: a URL, a URL prefix ending in *, or a bare domain",
    )
    parser.add_argument(
        "--tag", action="append", default=[], metavar="T", help="tag every imported backlink (repeatable)"
    )
    parser.add_argument(
        "--skip-bad-rows",
        action="store_true",
        help="import the good rows of a file with bad ones, listing the skipped lines",
    )


def run(args: argparse.Namespace) -> ExitStatus:
    from linkcrawler.backlinks import BATCH_SIZE, add_backlinks
    from linkcrawler.commands import open_db
    from linkcrawler.importers import BadRow, IgnoredRow, ImportRow, open_import
    from linkcrawler.importers.prefetch import prefetched

    source = open_import(args.file, format=args.format, target=args.target, tags=tuple(args.tag))
    bad: list[BadRow] = []
    ignored: list[IgnoredRow] = []
    read = 0

    def good_rows() -> Iterator[ImportRow]:
        nonlocal read
        # Enough read ahead to cover one whole storage batch, so reading never waits for it.
        items = prefetched(source.items(), chunk=2000, depth=max(8, 2 * BATCH_SIZE // 2000))
        for item in items:
            read += 1
            if isinstance(item, ImportRow):
                yield item
            elif isinstance(item, BadRow):
                bad.append(item)
                if not args.skip_bad_rows:
                    break
            else:
                ignored.append(item)
        # After the first bad row nothing more is stored, but every bad row is still named.
        for item in items:
            read += 1
            if isinstance(item, BadRow):
                bad.append(item)

    db = open_db(args)
    try:
        with db.sessions() as session, session.begin():
            counts = add_backlinks(session, good_rows(), tool=source.format.name, file_name=source.path.name)
            if bad and not args.skip_bad_rows:
                raise _Refused
    except _Refused:
        lines = "\n".join(f"  line {b.line}: {b.reason}" for b in bad)
        raise UsageError(
            f"{source.path}: refused, nothing imported: {len(bad)} bad row{'s' if len(bad) != 1 else ''}"
            f" ({source.format.title}, {source.layout}):\n{lines}\n"
            "fix these rows, or pass --skip-bad-rows to import the others"
        ) from None
    finally:
        db.engine.dispose()

    out = sys.stdout
    print(f"imported {source.path}", file=out)
    print(f"  format           {source.format.name}: {source.format.title}", file=out)
    print(f"  file             {source.layout}", file=out)
    print(f"  rows read        {read}", file=out)
    print(f"  backlinks added  {counts.added}", file=out)
    print(f"  already present  {counts.already_present}", file=out)
    print(f"  skipped          {len(bad)}", file=out)
    if ignored:
        print(f"  not backlinks    {len(ignored)} (e.g. line {ignored[0].line}: {ignored[0].reason})", file=out)
    if bad:
        print(f"skipped {len(bad)} bad row{'s' if len(bad) != 1 else ''}:", file=sys.stderr)
        for b in bad:
            print(f"  line {b.line}: {b.reason}", file=sys.stderr)
    return ExitStatus.OK
