"""CLI commands, one module each (discovered by linkcrawler.cli)."""

from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from linkcrawler.enums import ExitStatus

if TYPE_CHECKING:
    from linkcrawler.db import Database

_PASSWORD_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://[^:/@\s]*):[^@\s]*@", re.I)


def mask_secrets(text: str) -> str:
    """Mask passwords in any URL inside `text` (SEC-5)."""
    return _PASSWORD_IN_URL.sub(r"\g<scheme>:***@", text)


def describe_failure(exc: BaseException) -> tuple[str, ExitStatus]:
    """A one-line message and exit status for an unexpected failure of a command."""
    try:
        from sqlalchemy.exc import DBAPIError, OperationalError
    except ImportError:  # pragma: no cover
        DBAPIError = OperationalError = ()  # type: ignore[assignment,misc]
    if isinstance(exc, (OperationalError, DBAPIError)):
        detail = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
        return mask_secrets(f"database unavailable: {detail}"), ExitStatus.RUN_FAILED
    return mask_secrets(f"{type(exc).__name__}: {exc}"), ExitStatus.RUN_FAILED


def open_db(args: argparse.Namespace) -> Database:
    from linkcrawler.db import open_database

    return open_database(getattr(args, "db", None))
