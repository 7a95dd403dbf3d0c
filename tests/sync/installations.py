"""Several Mawa installations on this machine, each a separate process tree, for the field
operation tests (issue 17) and the merge benchmark.

Each installation has its own var dir (``MAWA_VAR_DIR``: database, keys, secret key), its own
database (headquarters on PostgreSQL: a database of its own in the throwaway cluster named by
``DATABASE_URL``; posts on SQLite in their var dir) and, when served, its own loopback port. It
is driven from outside exactly as an operator would: the ``mawa`` command line run with the
installation's environment, and HTTP on its port.

The clock: ``clock_offset`` (a ``timedelta``, negative for a clock set back) shifts
``django.utils.timezone.now`` of every process of the installation — the command line, the
read-only queries and the served process — through ``MAWA_TEST_CLOCK_OFFSET`` (seconds), read
by this file when it runs as the wrapper::

    python tests/sync/installations.py mawa sync export --output F   # the mawa CLI
    python tests/sync/installations.py py "result = Person.objects.count()"

The offset is applied before Django loads anything, so ``from django.utils.timezone import
now`` sees it too. A test moves a post's days forward (a partition of simulated days: the clock
moved, never waited) or back.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
WRAPPER = Path(__file__).resolve()
OFFSET_ENV = "MAWA_TEST_CLOCK_OFFSET"

# what a read-only query sees by name (``py`` mode): the models the scenarios count
_PRELUDE = """
from django.apps import apps as _apps
Person = _apps.get_model("reception", "Person")
ArrivalGroup = _apps.get_model("reception", "ArrivalGroup")
Item = _apps.get_model("custody", "Item")
RollCall = _apps.get_model("camp", "RollCall")
MatchPair = _apps.get_model("matching", "MatchPair")
from mawa.core.changes_models import Change, Node, PeerState, RecordHead, SyncConflict
from mawa.accounts.models import User
from mawa.core.models import Site
"""

# the state of a node the scenarios compare: ids of the synced records, changes and queues
SNAPSHOT = """
def _ids(model, **filters):
    return sorted(str(i) for i in model.objects.filter(**filters).values_list("id", flat=True))
result = {
    "persons": _ids(Person),
    "groups": _ids(ArrivalGroup),
    "items": _ids(Item),
    "rollcalls": _ids(RollCall),
    "changes": Change.objects.count(),
    "change_ids": sorted(str(i) for i in Change.objects.values_list("id", flat=True)),
    "conflicts_open": SyncConflict.objects.filter(decided_at__isnull=True).count(),
    "conflicts": SyncConflict.objects.count(),
    "pairs": sorted([str(a), str(b)] for a, b in MatchPair.objects.filter(
        kind="duplicate").values_list("person_a_id", "person_b_id")),
}
"""


RNG = random.Random(17)  # the same names on every run
ARABIC = "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"
LATIN = "bdfghjklmnprstvz"


def _word(alphabet: str, n: int) -> str:
    return "".join(RNG.choice(alphabet) for _ in range(n))


def persons_csv(path: Path, n: int, *, rows: list[list[str]] | None = None) -> list[list[str]]:
    """A CSV of ``n`` soldiers whose names look like no one else's (or the given rows)."""
    header = ["given_ar", "given_lat", "family_ar", "family_lat", "sex", "birth",
              "service_number"]
    if rows is None:
        rows = []
        for _ in range(n):
            rows.append([_word(ARABIC, 5), _word(LATIN, 4).title() + "o",
                         _word(ARABIC, 6), _word(LATIN, 5).title() + "i", "male",
                         f"{RNG.randint(1965, 2004)}-{RNG.randint(1, 12):02d}-"
                         f"{RNG.randint(1, 28):02d}", f"S-{RNG.randint(10**6, 10**7)}"])
    path.write_text("\n".join(",".join(r) for r in [header, *rows]) + "\n", encoding="utf-8")
    return rows



class MawaFailed(AssertionError):
    """A ``mawa`` command that should have succeeded did not: its output in the message."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_listening(port: int, *, timeout: float = 60.0, process=None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the server on port {port} stopped (status {process.returncode})")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


# --- PostgreSQL: one database per installation in the throwaway cluster -------------------
def postgres_url() -> str | None:
    """The cluster of the PostgreSQL run (``make test-postgres`` exports DATABASE_URL), or
    None in the SQLite run."""
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _with_db(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def postgres_database_create(base_url: str, name: str) -> str:
    import psycopg

    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    return _with_db(base_url, name)


def postgres_database_drop(base_url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(_with_db(base_url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Installation:
    """One Mawa installation: ``run`` its command line, ``query`` its database read-only,
    ``serve`` it on a loopback port. ``clock_offset`` shifts its clock (every process started
    after it is set; a served process takes it when (re)started)."""

    def __init__(self, name: str, root: Path, *, postgres: str | None = None,
                 clock_offset: dt.timedelta = dt.timedelta(0)) -> None:
        self.name = name
        self.var = (root / name).resolve()
        self.var.mkdir(parents=True, exist_ok=True)
        self.clock_offset = clock_offset
        self._pg_base = postgres
        self._pg_name = f"mawa_fo_{name.lower()}_{uuid.uuid4().hex[:8]}" if postgres else ""
        self.database_url = (postgres_database_create(postgres, self._pg_name)
                             if postgres else None)
        self.port: int | None = None
        self.server: subprocess.Popen | None = None
        self.log = self.var / "server.log"

    def __repr__(self) -> str:
        return f"<Installation {self.name} {self.var}>"

    # --- environment ---------------------------------------------------------------------
    def env(self, clock_offset: dt.timedelta | None = None,
            extra: dict[str, str] | None = None) -> dict[str, str]:
        """The installation's environment: nothing of the test process's Django settings."""
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("MAWA_", "DJANGO_", "DATABASE_URL", "PYTEST"))}
        env.update(MAWA_VAR_DIR=str(self.var), DJANGO_SETTINGS_MODULE="mawa.settings",
                   PYTHONPATH=str(REPO), PYTHONUNBUFFERED="1")
        if self.database_url:
            env["DATABASE_URL"] = self.database_url
        offset = self.clock_offset if clock_offset is None else clock_offset
        if offset:
            env[OFFSET_ENV] = str(offset.total_seconds())
        env.update(extra or {})
        return env

    def command(self, *args: str) -> list[str]:
        return [PYTHON, str(WRAPPER), "mawa", *args]

    # --- the command line ----------------------------------------------------------------
    def run(self, *args: str, check: bool = True, timeout: float = 600,
            clock_offset: dt.timedelta | None = None,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
        """``mawa ARGS`` for this installation (``env``: more variables, e.g. a token);
        raises MawaFailed (with its output) when it exits non-zero and ``check``."""
        done = subprocess.run(self.command(*args), env=self.env(clock_offset, env), cwd=self.var,
                              capture_output=True, text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise MawaFailed(f"[{self.name}] mawa {' '.join(args)} → exit {done.returncode}\n"
                             f"--- stdout\n{done.stdout[-4000:]}\n--- stderr\n"
                             f"{done.stderr[-6000:]}")
        return done

    def start(self, *args: str, clock_offset: dt.timedelta | None = None,
              env: dict[str, str] | None = None) -> subprocess.Popen:
        """``mawa ARGS`` in the background (a test may SIGKILL it)."""
        return subprocess.Popen(self.command(*args), env=self.env(clock_offset, env),
                                cwd=self.var,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    def query(self, code: str, *, timeout: float = 300) -> Any:
        """Run ``code`` with Django set up for this installation (the models of _PRELUDE by
        name); it sets ``result``, which comes back through JSON."""
        done = subprocess.run([PYTHON, str(WRAPPER), "py", code], env=self.env(), cwd=self.var,
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise MawaFailed(f"[{self.name}] query failed ({done.returncode}):\n{code}\n"
                             f"--- stderr\n{done.stderr[-6000:]}")
        return json.loads(done.stdout.strip().splitlines()[-1])

    def snapshot(self, *, verify: bool = False) -> dict:
        """The ids and queues of SNAPSHOT; with ``verify``, ``mawa verify`` first in the same
        process (it fails the query when a chain does not hold)."""
        return self.query(("from django.core.management import call_command\n"
                           "call_command('verify')\n" if verify else "") + SNAPSHOT)

    # --- serving ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self.port is not None, f"{self.name} is not served"
        return f"http://127.0.0.1:{self.port}"

    def serve(self, port: int | None = None) -> str:
        """Serve the installation on a loopback port (Django's server, threaded, no reloader:
        one process, which a test may SIGKILL); the same port when served again."""
        self.stop()
        self.port = port or self.port or free_port()
        log = open(self.log, "a")  # noqa: SIM115 (the server's lifetime)
        self.server = subprocess.Popen(
            self.command("runserver", "--noreload", "--skip-checks", f"127.0.0.1:{self.port}"),
            env=self.env(), cwd=self.var, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        wait_listening(self.port, process=self.server)
        return self.url

    def stop(self, *, kill: bool = False) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.server.kill()
                self.server.wait()
        self.server = None

    def destroy(self) -> None:
        self.stop()
        if self._pg_base:
            try:
                postgres_database_drop(self._pg_base, self._pg_name)
            except Exception:  # noqa: BLE001 (the cluster is thrown away anyway)
                pass
        shutil.rmtree(self.var, ignore_errors=True)


# --- the wrapper: run as a script by Installation ------------------------------------------
def _clock_shift() -> None:
    seconds = float(os.environ.get(OFFSET_ENV) or 0)
    if not seconds:
        return
    from django.utils import timezone

    delta = dt.timedelta(seconds=seconds)
    wall = timezone.now

    def shifted() -> dt.datetime:
        return wall() + delta

    timezone.now = shifted


def _main(argv: list[str]) -> int:
    _clock_shift()
    if argv and argv[0] == "mawa":
        from mawa.cli import main

        return main(["mawa", *argv[1:]]) or 0
    if argv and argv[0] == "py":
        import django

        django.setup()
        scope: dict[str, Any] = {}
        exec(_PRELUDE, scope)  # noqa: S102 (the test's own code)
        exec(argv[1], scope)  # noqa: S102
        print(json.dumps(scope.get("result"), default=str))
        return 0
    print("usage: installations.py mawa ARGS… | py CODE", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    sys.exit(_main(sys.argv[1:]))
