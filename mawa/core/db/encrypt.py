"""SQLCipher for an installation (protection.md R10): the database key and the conversion of a
plain SQLite database.

``mawa keys create-db-key`` writes the key file (64 hex digits, 0600) where ``mawa.settings``
looks for it (``MAWA_DB_KEY_FILE``, else ``KEY_DIR/database.key``) before there is a database:
``mawa migrate`` / ``mawa setup`` then make an encrypted one. It refuses when the key file
exists (a key is never replaced) and when a database exists (a plain one is converted with
``mawa db-encrypt``; an encrypted one needs its own key back from the escrow).

``mawa db-encrypt`` converts the plain database in place, with the service stopped:

1. it refuses on PostgreSQL, without a database, on a database that is not plain SQLite, and
   when the new file (``mawa.sqlite3.encrypted``) exists already (a conversion running or
   interrupted);
2. it uses the configured key file, or creates it (removed again if the conversion fails);
3. it copies the database into the new file with ``sqlcipher_export`` through ``ATTACH …
   KEY``, holding the write lock meanwhile;
4. it checks the new file: not readable as plain SQLite, ``PRAGMA integrity_check`` holds with
   the key, every table has as many rows as in the original, and the ledger verifies on it
   (the check of ``mawa verify``, run on the new file);
5. it refuses if anything wrote to the original meanwhile, or if another process still has it
   open (its WAL is still there), then renames the new file over the original.

A failure at any step deletes the new file (and the key if this run made it) and leaves the
original as it was. The plain file is unlinked by the rename; its blocks may survive on the
disk until overwritten, and backups made before the conversion hold the database as it was
(under the backup key): replace them with new backups.
"""

from __future__ import annotations

import os
import secrets
from contextlib import contextmanager
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connection, connections
from django.db.backends.sqlite3 import base as sqlite_base
from django.utils.translation import gettext as _

from mawa.core.errors import MawaError
from mawa.core.files import dir_fsync

SQLITE_HEADER = b"SQLite format 3\x00"
KEY_FILE = "database.key"


class DatabaseEncryptionRefused(MawaError):
    code = "database_encryption_refused"


def key_path() -> Path:
    """Where the database key is (or will be) read from."""
    configured = settings.DATABASES["default"].get("OPTIONS", {}).get("key_file") \
        or os.environ.get("MAWA_DB_KEY_FILE")
    return Path(configured) if configured else Path(settings.KEY_DIR) / KEY_FILE


def live_path() -> Path:
    return Path(settings.DATABASES["default"]["NAME"])


def _require_sqlite() -> None:
    if connection.vendor != "sqlite":
        raise DatabaseEncryptionRefused(_(
            "This Mawa uses PostgreSQL: SQLCipher encrypts the embedded SQLite database only. "
            "Keep PostgreSQL's data on an encrypted volume instead."))


def _exists(path: Path) -> bool:
    return path.exists() and path.stat().st_size > 0


def is_plain(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER


def _write_key(path: Path) -> str:
    key = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.parent == Path(settings.KEY_DIR):
        os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    dir_fsync(path.parent)
    return key


def db_key_create() -> Path:
    """Create the database key file for a new installation; return its path."""
    _require_sqlite()
    path = key_path()
    if path.exists():
        raise DatabaseEncryptionRefused(_("%(file)s exists already: a database key is never "
                                          "replaced.") % {"file": path})
    live = live_path()
    if _exists(live):
        if is_plain(live):
            raise DatabaseEncryptionRefused(_(
                "The database %(file)s exists and is not encrypted: convert it with `mawa "
                "db-encrypt`, which creates the key.") % {"file": live})
        raise DatabaseEncryptionRefused(_(
            "The database %(file)s is encrypted with a key that is not here: restore its key "
            "from the key escrow.") % {"file": live})
    _write_key(path)
    return path


def _table_counts(conn) -> dict[str, int]:
    names = [row[0] for row in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name")]
    # the names come from sqlite_master and are quoted as identifiers
    return {name: conn.execute('SELECT count(*) FROM "{}"'.format(  # noqa: S608
        name.replace('"', '""'))).fetchone()[0] for name in names}


def _check_copy(target: Path, key: str, counts: dict[str, int]) -> None:
    from mawa.core.db.sqlcipher.base import Database, apply_key

    different = DatabaseEncryptionRefused(_(
        "The encrypted copy does not match the database: nothing was changed."))
    if is_plain(target):
        raise different
    conn = Database.connect(str(target))
    try:
        apply_key(conn, key)
        sqlite_base.register_functions(conn)
        if conn.execute("PRAGMA integrity_check").fetchone()[0] != "ok" \
                or _table_counts(conn) != counts:
            raise different
    except Database.DatabaseError:
        raise different
    finally:
        conn.close()


@contextmanager
def default_connection_on(path: Path, key_file: Path):
    """Within the block, the default connection is SQLCipher on ``path`` with ``key_file``
    (for a process that started before the database was encrypted or restored)."""
    from mawa.core.db.sqlcipher.base import DatabaseWrapper

    original = connections["default"]
    original.close()
    stand_in = DatabaseWrapper({
        **original.settings_dict, "ENGINE": "mawa.core.db.sqlcipher", "NAME": str(path),
        "OPTIONS": {**original.settings_dict.get("OPTIONS", {}), "key_file": str(key_file)},
    }, alias="default")
    connections["default"] = stand_in
    try:
        yield
    finally:
        stand_in.close()
        connections["default"] = original


def needs_stand_in() -> bool:
    """True when the SQLite database is encrypted but this process opened it as plain."""
    live = live_path()
    return (connection.vendor == "sqlite" and _exists(live) and not is_plain(live)
            and not settings.DATABASES["default"].get("OPTIONS", {}).get("key_file"))


def _verify_ledger(target: Path, key_file: Path) -> None:
    """Run the ledger verification of ``mawa verify`` on the new file."""
    from mawa.core.ledger import ledger_verify

    with default_connection_on(target, key_file):
        report = ledger_verify()
    if not report.ok:
        raise DatabaseEncryptionRefused(_(
            "The ledger does not verify on the encrypted copy (%(failure)s): nothing was "
            "changed. Run `mawa verify` and resolve that first.")
            % {"failure": report.first_failure})


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def db_encrypt() -> Path:
    """Convert the plain SQLite database to SQLCipher in place (see the module docstring);
    return the key file."""
    from mawa.core.db.sqlcipher.base import Database, read_key

    _require_sqlite()
    connections.close_all()
    live = live_path()
    if not _exists(live):
        raise DatabaseEncryptionRefused(_("There is no database at %(file)s to encrypt.")
                                        % {"file": live})
    if not is_plain(live):
        raise DatabaseEncryptionRefused(_("The database %(file)s is already encrypted (or is "
                                          "not a SQLite database).") % {"file": live})
    target = live.with_name(live.name + ".encrypted")
    if any(Path(f"{target}{suffix}").exists() for suffix in ("", "-wal", "-journal")):
        raise DatabaseEncryptionRefused(_(
            "%(file)s exists already: a conversion is running or was interrupted. Delete it "
            "and run the command again.") % {"file": target})
    key_file = key_path()
    created = not key_file.exists()
    try:
        key = _write_key(key_file) if created else read_key(key_file)
    except ImproperlyConfigured:
        raise DatabaseEncryptionRefused(_("%(file)s is not a database key (64 hex digits).")
                                        % {"file": key_file})
    changed = DatabaseEncryptionRefused(_(
        "The database changed or is still open in another process: stop the Mawa service and "
        "run the command again. Nothing was changed."))
    try:
        source = Database.connect(str(live), isolation_level=None)  # no key: plain SQLite
        sqlite_base.register_functions(source)  # CHECK constraints use Django's REGEXP
        try:
            source.execute("BEGIN IMMEDIATE")  # no other writer while the copy is made
            version = int(source.execute("PRAGMA user_version").fetchone()[0])
            source.execute("ATTACH DATABASE ? AS encrypted KEY ?", (str(target), f"x'{key}'"))
            source.execute("SELECT sqlcipher_export('encrypted')")
            source.execute(f"PRAGMA encrypted.user_version = {version}")
            source.execute("COMMIT")
            source.execute("DETACH DATABASE encrypted")
            counts = _table_counts(source)
            seen = source.execute("PRAGMA data_version").fetchone()[0]
            _check_copy(target, key, counts)
            _verify_ledger(target, key_file)
            if source.execute("PRAGMA data_version").fetchone()[0] != seen:
                raise changed
        except Database.Error as exc:
            raise DatabaseEncryptionRefused(_(
                "The encrypted copy could not be made (%(error)s): nothing was changed.")
                % {"error": exc})
        finally:
            source.close()  # the last connection: SQLite folds the WAL back and deletes it
        if any(Path(f"{live}{suffix}").exists() for suffix in ("-wal", "-shm")) \
                or any(Path(f"{target}{suffix}").exists() for suffix in ("-wal", "-shm")):
            raise changed
        before = live.stat()
        os.chmod(target, before.st_mode & 0o777)
        try:
            os.chown(target, before.st_uid, before.st_gid)
        except PermissionError:
            pass
        with open(target, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(target, live)
    except BaseException:
        _remove(target)
        if created:  # the original is still the plain database: the key must not stay
            key_file.unlink(missing_ok=True)
        raise
    dir_fsync(live.parent)
    return key_file
