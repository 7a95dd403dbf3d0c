"""Is the database whole? The checks behind ``/healthz``, ``mawa verify`` and ``mawa backup``.

On SQLite a file can be damaged under a running Mawa (a disk error, a power cut on a card
without write barriers, a copy taken mid-write): most pages still read, so a ``SELECT 1``
answers while the next registration fails. SQLite's own checks find it: ``PRAGMA
quick_check`` (every page and b-tree, no index contents; fast enough for a health probe, run at
most once a minute per process) and ``PRAGMA integrity_check`` (everything, before a backup is
written). On PostgreSQL the server keeps its own files: a simple query tells whether it
answers.

A check never raises: it returns ``None`` when the database holds, otherwise a ``Problem``
with its kind (``damaged`` or ``unreachable``) and a short technical detail for the operator.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from dataclasses import dataclass

from django.db import DatabaseError, connection

QUICK_CHECK_SECONDS = 60.0

# Exit codes of `mawa verify` (README, Operating): 0 everything holds, 1 a ledger chain or
# checkpoint does not hold, 2 refused (a wrong option or file), 3 the database is damaged or
# cannot be read at all (`mawa backup` exits 3 too when it refuses a damaged database).
EXIT_LEDGER_BROKEN = 1
EXIT_DATABASE_DAMAGED = 3


@dataclass(frozen=True)
class Problem:
    kind: str  # "damaged" | "unreachable"
    detail: str


def _raw_database_errors() -> tuple[type[Exception], ...]:
    """sqlite3's DatabaseError, and SQLCipher's, which is its own class."""
    try:
        from sqlcipher3 import dbapi2
    except ImportError:  # pragma: no cover - sqlcipher3 is a dependency
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, dbapi2.DatabaseError)


def database_errors() -> tuple[type[Exception], ...]:
    """Every exception that means the database could not be read: Django's and the drivers'
    (a raw ``sqlite3`` connection raises its own)."""
    return (DatabaseError, *_raw_database_errors())


def _kind(message: str) -> str:
    lowered = message.lower()
    damaged = ("malformed", "not a database", "corrupt", "disk i/o", "integrity")
    return "damaged" if any(word in lowered for word in damaged) else "unreachable"


def problem_from(exc: BaseException) -> Problem:
    """A ``Problem`` for an exception raised while reading the database."""
    detail = " ".join(str(exc).split())[:200] or exc.__class__.__name__
    return Problem(_kind(detail), detail)


def sqlite_check_rows(rows: list) -> Problem | None:
    """The answer of ``PRAGMA quick_check``/``integrity_check``: ``ok``, or the problems."""
    found = [str(row[0]) for row in rows]
    if found == ["ok"]:
        return None
    return Problem("damaged", " ".join("; ".join(found[:3]).split())[:200] or "not ok")


def database_check(*, full: bool = False) -> Problem | None:
    """Check the database through Django's connection, now (no cache).

    SQLite: ``PRAGMA quick_check`` (``full``: ``integrity_check``); PostgreSQL: ``SELECT 1``.
    """
    try:
        with connection.cursor() as cur:
            if connection.vendor == "sqlite":
                cur.execute("PRAGMA integrity_check" if full else "PRAGMA quick_check")
                return sqlite_check_rows(cur.fetchall())
            cur.execute("SELECT 1")
            cur.fetchone()
    except database_errors() as exc:
        return problem_from(exc)
    return None


def database_reachable() -> Problem | None:
    """A simple query: does the database answer at all?"""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except database_errors() as exc:
        return problem_from(exc)
    return None


_cache: dict[tuple, tuple[float, Problem | None]] = {}
_cache_lock = threading.Lock()


def database_health() -> Problem | None:
    """What ``/healthz`` reports: the database answers (every call) and, on SQLite, its quick
    check holds (run at most once every ``QUICK_CHECK_SECONDS`` per process and database
    file)."""
    problem = database_reachable()
    if problem is not None or connection.vendor != "sqlite":
        return problem
    key = (connection.vendor, str(connection.settings_dict.get("NAME")))
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None and now - cached[0] < QUICK_CHECK_SECONDS:
            return cached[1]
    problem = database_check()
    with _cache_lock:
        _cache[key] = (now, problem)
    return problem


def database_health_forget() -> None:
    """Drop the cached quick-check results (tests; after a restore)."""
    with _cache_lock:
        _cache.clear()
