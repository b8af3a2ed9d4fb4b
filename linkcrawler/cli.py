"""The `linkcrawler` command: a thin layer over the library.

Each command is a module in `linkcrawler.commands` exposing NAME, HELP, EXAMPLE, ORDER,
`add_arguments(parser)` and `run(args) -> ExitStatus`; they are discovered, so adding a
command never edits this file. Heavy imports (Scrapy, SQLAlchemy) happen inside `run`.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import pkgutil
import sys
from collections.abc import Sequence
from types import ModuleType

from linkcrawler import __version__
from linkcrawler.enums import ExitStatus
from linkcrawler.errors import UsageError

DESCRIPTION = """\
linkcrawler verifies that referring pages still link to your site: it fetches each page
politely, finds every link to the expected target and records rel, position, anchor,
context and redirect chains; runs are compared to report lost, recovered and changed links.
"""
EXAMPLE = """\
example:
  linkcrawler import backlinks.csv && linkcrawler verify && linkcrawler export --format jsonl
"""


class _ArgumentParser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 already; keep the message short
        self.print_usage(sys.stderr)
        self.exit(ExitStatus.USAGE, f"{self.prog}: error: {message}\n")


def _commands() -> list[ModuleType]:
    import linkcrawler.commands as package

    modules = []
    for info in pkgutil.iter_modules(package.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"linkcrawler.commands.{info.name}")
        if hasattr(module, "run") and hasattr(module, "NAME"):
            modules.append(module)
    return sorted(modules, key=lambda m: (getattr(m, "ORDER", 100), m.NAME))


def build_parser() -> argparse.ArgumentParser:
    parser = _ArgumentParser(
        prog="linkcrawler",
        description=DESCRIPTION,
        epilog=EXAMPLE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"linkcrawler {__version__}")
    db_parent = argparse.ArgumentParser(add_help=False)
    db_parent.add_argument(
        "--db",
        metavar="URL",
        help="SQLAlchemy database URL (env LINKCRAWLER_DB; default sqlite:///data/linkcrawler.db)",
    )
    db_parent.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_ArgumentParser)
    for module in _commands():
        command = sub.add_parser(
            module.NAME,
            help=module.HELP,
            description=getattr(module, "DESCRIPTION", module.HELP),
            epilog="example:\n" + "\n".join(f"  {line}" for line in module.EXAMPLE.splitlines()),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[db_parent],
        )
        module.add_arguments(command)
        command.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help(sys.stderr)
        return ExitStatus.USAGE
    level = logging.DEBUG if args.verbose > 1 else logging.INFO if args.verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Libraries may lower their loggers' levels (Scrapy does); the handler keeps ours.
    for handler in logging.root.handlers:
        handler.setLevel(level)
    try:
        return int(args._run(args))
    except UsageError as exc:
        print(f"linkcrawler {args.command}: error: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    except KeyboardInterrupt:
        print(f"linkcrawler {args.command}: interrupted", file=sys.stderr)
        return ExitStatus.RUN_FAILED
    except Exception as exc:  # noqa: BLE001 - last line of defence: classify, never leak secrets
        from linkcrawler.commands import describe_failure

        message, status = describe_failure(exc)
        print(f"linkcrawler {args.command}: error: {message}", file=sys.stderr)
        if args.verbose:
            import traceback

            traceback.print_exc()
        return status
