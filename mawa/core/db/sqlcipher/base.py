"""Django's SQLite backend on SQLCipher: the whole database file (and its WAL) encrypted.

Chosen by ``mawa.settings`` when a database key is configured (``MAWA_DB_KEY_FILE``, or
``KEY_DIR/database.key``); otherwise Mawa stays on plain SQLite. The key file holds 64 hex
digits (a raw 256-bit key, so SQLCipher skips its passphrase derivation) and is carried by the
key escrow, never by the backups (protection.md R10). ``mawa keys create-db-key`` makes it for
a new installation, ``mawa db-encrypt`` converts a plain database (``mawa.core.db.encrypt``).

``PRAGMA key`` must be the very first statement on every connection; a wrong key then fails
on the first read with "file is not a database" — a clean error, never partial plaintext
(attack 16). SQLCipher is the ``sqlcipher3`` wheel, which bundles the library.
"""

from __future__ import annotations

import datetime
import decimal
import re
from collections.abc import Mapping
from itertools import tee
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.db.backends.sqlite3 import base as sqlite_base

try:
    from sqlcipher3 import dbapi2 as Database
except ImportError as exc:  # pragma: no cover - sqlcipher3 is a dependency
    raise ImproperlyConfigured("A database key is configured but sqlcipher3 is not "
                               "installed (pip install sqlcipher3).") from exc

# the converters and adapters Django registers on the standard sqlite3 module
Database.register_converter("bool", b"1".__eq__)
for _name in ("date", "time", "datetime", "timestamp"):
    _parse = {"date": sqlite_base.parse_date, "time": sqlite_base.parse_time}.get(
        _name, sqlite_base.parse_datetime)
    Database.register_converter(_name, sqlite_base.decoder(_parse))
Database.register_adapter(decimal.Decimal, str)
Database.register_adapter(datetime.date, sqlite_base.adapt_date)
Database.register_adapter(datetime.datetime, sqlite_base.adapt_datetime)

KEY_PATTERN = re.compile(r"^[0-9a-fA-F]{64}$")


def read_key(path) -> str:
    """The 64 hex digits of a database key file."""
    text = Path(path).read_text(encoding="ascii").strip()
    if not KEY_PATTERN.match(text):
        raise ImproperlyConfigured(f"{path} is not a database key (64 hex digits).")
    return text


def apply_key(conn, key_hex: str) -> None:
    conn.execute(f"PRAGMA key = \"x'{key_hex}'\"")  # hex only, checked by read_key


class SQLCipherCursorWrapper(Database.Cursor):
    """Django's SQLiteCursorWrapper ("format"/"pyformat" → "qmark"/"named"), on the
    SQLCipher cursor (a connection accepts only cursors of its own module)."""

    convert_query = sqlite_base.SQLiteCursorWrapper.convert_query

    def execute(self, query, params=None):
        if params is None:
            return Database.Cursor.execute(self, query)
        names = list(params) if isinstance(params, Mapping) else None
        return Database.Cursor.execute(self, self.convert_query(query, param_names=names),
                                       params)

    def executemany(self, query, param_list):
        peekable, param_list = tee(iter(param_list))
        first = next(peekable, None)
        names = list(first) if first and isinstance(first, Mapping) else None
        return Database.Cursor.executemany(self, self.convert_query(query, param_names=names),
                                           param_list)


class DatabaseWrapper(sqlite_base.DatabaseWrapper):
    vendor = "sqlite"
    display_name = "SQLite (SQLCipher)"
    Database = Database

    def _key(self) -> str:
        path = self.settings_dict.get("OPTIONS", {}).get("key_file") or \
            self.settings_dict.get("KEY_FILE")
        if not path:
            raise ImproperlyConfigured("The SQLCipher backend needs OPTIONS['key_file'].")
        return read_key(path)

    def get_connection_params(self):
        params = super().get_connection_params()
        params.pop("key_file", None)
        return params

    def get_new_connection(self, conn_params):
        conn = Database.connect(**conn_params)
        apply_key(conn, self._key())  # before anything else touches the file
        sqlite_base.register_functions(conn)
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA legacy_alter_table = OFF")
        for init_command in self.init_commands:
            if init_command := init_command.strip():
                conn.execute(init_command)
        return conn

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=SQLCipherCursorWrapper)
