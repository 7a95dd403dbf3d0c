"""Writing many rows at once: one statement per table and batch, not one per row.

The ORM's ``bulk_create`` spends ~20 µs per value preparing SQL; at 100,000 persons × 60
columns that is two minutes of a 60-second import budget, and ``save()`` costs a statement per
row. The writers here take plain rows (tuples in the order of the columns, dicts or objects by
attname), convert each value once per field type exactly as the ORM would store it, and send
them in one statement per batch: ``COPY … FROM STDIN`` on PostgreSQL, ``executemany`` (a
prepared statement run per row inside the library) on SQLite. No signals, no ``save()``: as
with ``bulk_create``, and as the house style wants (no rules in ``save()``).

Everything runs in the caller's transaction, constraints and triggers as for an INSERT. The
ledger (``core.ledger.ledger_append_many``) and the domain apps' batch writers write through
these functions; a single record is a batch of one.
"""

from __future__ import annotations

import functools
import json
import operator
import uuid
from collections.abc import Iterable, Sequence
from contextlib import contextmanager
from types import SimpleNamespace

from django.db import connection
from django.db.models.base import ModelState
from django.utils import timezone

__all__ = ["executemany", "fast_insert", "field_defaults", "insert_ignore", "insert_returning",
           "insert_rows", "insertable", "row", "row_dict", "saved_instance", "sqlite_cache"]

# Field types whose Python values the drivers take as they are (the values come from the
# services' cleaning functions and their own code, already of the right type).
_PLAIN = frozenset({"CharField", "TextField", "PositiveIntegerField",
                    "PositiveSmallIntegerField", "PositiveBigIntegerField", "IntegerField",
                    "BooleanField", "BigIntegerField"})


def _file_name(v):
    return str(v or "")


def _converter(field):
    """A function turning a Python value of ``field`` into what the database driver takes, or
    ``None`` when the value passes as it is (strings, integers, booleans; UUIDs and foreign
    keys to them on PostgreSQL). JSON becomes its text exactly as Django's
    ``adapt_json_value`` writes it on SQLite (on PostgreSQL the text goes to a ``jsonb``
    column, which parses it); the rest goes through Django's own ``get_db_prep_save``
    (dates, times), so the stored form is the ORM's."""
    internal = field.get_internal_type()
    if getattr(field, "encrypted", False):  # core.fields.EncryptedTextField: sealed per value
        def seal(v, prep=field.get_db_prep_save):
            return prep(v, connection)

        return seal
    if internal in _PLAIN:
        return None
    if internal == "FileField":
        return _file_name
    if internal == "JSONField":
        encoder = field.encoder

        def convert_json(v):
            # None is SQL NULL, as JSONField.get_db_prep_save makes it; empty lists and
            # objects (most languages, vulnerabilities, details) need no encoder
            if not v and (type(v) is list or type(v) is dict):
                return "[]" if type(v) is list else "{}"
            return None if v is None else json.dumps(v, cls=encoder)

        return convert_json
    target = field.target_field if field.is_relation else field
    if target.get_internal_type() == "UUIDField":
        if connection.vendor == "postgresql":
            return None
        # SQLite stores a UUID as its 32 hex digits (what get_db_prep_save returns), and a
        # million persons carry millions of them: skip the per-value dispatch
        last_uuid: list = [object(), None]

        def convert_uuid(v):
            # rows of one person follow each other (16 matching keys): convert once
            if v is not last_uuid[0]:
                last_uuid[0] = v
                last_uuid[1] = v.hex if type(v) is uuid.UUID else target.get_db_prep_save(
                    v, connection)
            return last_uuid[1]

        return convert_uuid
    last: list = [object(), None]

    def convert(v):
        # rows written together share their timestamps: convert a repeated value once
        if v is not last[0]:
            last[0], last[1] = v, target.get_db_prep_save(v, connection)
        return last[1]

    return convert


_COLUMNS: dict = {}


def _columns(model, attnames: tuple[str, ...]):
    """The quoted column list of ``attnames`` and a function converting a row of their values
    for the driver (``None`` when every value passes as it is); made once per model, columns
    and database."""
    key = (model, attnames, connection.vendor)
    found = _COLUMNS.get(key)
    if found is None:
        by_attname = {f.attname: f for f in model._meta.concrete_fields}
        qn = connection.ops.quote_name
        converters = [_converter(by_attname[a]) for a in attnames]
        found = _COLUMNS[key] = (", ".join(qn(by_attname[a].column) for a in attnames),
                                 _row_function(converters))
    return found


def _row_function(converters: list):
    """``lambda r: (c0(r[0]), r[1], c2(r[2]), …)`` for the converters given (``None``: the
    value as it is), or ``None`` when no value needs converting. Written out as one tuple
    expression: a loop over the columns would cost more than the conversions, once per row
    of millions."""
    if not any(converters):
        return None
    names = {f"c{i}": c for i, c in enumerate(converters) if c is not None}
    cells = ", ".join(f"c{i}(r[{i}])" if c is not None else f"r[{i}]"
                      for i, c in enumerate(converters))
    return eval(f"lambda r: ({cells},)", names)  # noqa: S307 — built from positions only


def insertable(model) -> tuple[str, ...]:
    """Attnames of the columns an INSERT gives: auto-increment ids (ledger rows, name keys)
    are left to the database."""
    return tuple(f.attname for f in model._meta.concrete_fields
                 if f.get_internal_type() not in ("AutoField", "BigAutoField"))


def _as_statement(cur, sql: str, run):
    """Run ``run()`` as the statement ``sql`` through the connection's execute wrappers
    (``connection.execute_wrapper``), which Django applies to ``execute`` and
    ``executemany`` only, so that instrumentation sees a COPY like any other statement.
    (Django's debug cursor already logs a COPY: ``django_assert_num_queries`` counts it.)"""

    def executor(sql, params, many, context):
        return run()

    for wrapper in reversed(connection.execute_wrappers):
        executor = functools.partial(wrapper, executor)
    return executor(sql, None, True, {"connection": connection, "cursor": cur})


def _converted(model, attnames: Sequence[str], rows: Iterable, converted: bool):
    cols, transform = _columns(model, tuple(attnames))
    if converted or transform is None:
        return cols, rows
    return cols, (transform(r) for r in rows)


def insert_rows(model, attnames: Sequence[str], rows: Iterable, *, converted: bool = False,
                batch: int = 5000) -> int:
    """INSERT ``rows`` (sequences of values in the order of ``attnames``) into ``model``'s
    table in one statement per ``batch`` rows; returns how many were written.

    The values are converted for the driver here unless ``converted`` says they already are.
    On PostgreSQL the rows go through ``COPY … FROM STDIN``: one statement for the whole
    iterable, no SQL parsed per row (``executemany`` runs an INSERT per row on the server).
    On SQLite through ``executemany``. ``rows`` may be a generator: memory holds one batch
    at most."""
    cols, values = _converted(model, attnames, rows, converted)
    table = connection.ops.quote_name(model._meta.db_table)
    n = 0

    def counted():
        nonlocal n
        for r in values:
            n += 1
            yield r

    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            sql = f"COPY {table} ({cols}) FROM STDIN"

            def copy_rows():
                # driver errors (a unique key taken meanwhile) as Django's, like execute's
                with connection.wrap_database_errors, cur.copy(sql) as copy:
                    write = copy.write_row
                    for r in counted():
                        write(r)

            _as_statement(cur, sql, copy_rows)
        else:
            sql = (f"INSERT INTO {table} ({cols}) VALUES ("  # noqa: S608
                   + ", ".join(["%s"] * len(attnames)) + ")")
            chunk: list = []
            for r in counted():
                chunk.append(r)
                if len(chunk) >= batch:
                    cur.executemany(sql, chunk)
                    chunk = []
            if chunk:
                cur.executemany(sql, chunk)
    return n


def _values_chunks(rows: list, width: int, limit: int):
    size = max(1, limit // max(1, width))
    for start in range(0, len(rows), size):
        yield rows[start:start + size]


def insert_ignore(model, attnames: Sequence[str], rows: Iterable, *,
                  converted: bool = False) -> int:
    """INSERT ``rows`` skipping those that collide with a unique key already stored
    (``ON CONFLICT DO NOTHING``); returns how many were inserted. On PostgreSQL a row whose
    key another transaction is inserting waits for it: skipped if it commits.

    SQLite: one ``executemany``. PostgreSQL: multi-row ``VALUES`` statements of up to 60,000
    parameters (COPY cannot skip conflicts)."""
    cols, values = _converted(model, attnames, rows, converted)
    values = list(values)
    if not values:
        return 0
    table = connection.ops.quote_name(model._meta.db_table)
    one = "(" + ", ".join(["%s"] * len(attnames)) + ")"
    n = 0
    with connection.cursor() as cur:
        if connection.vendor != "postgresql":
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES {one} "  # noqa: S608
                            "ON CONFLICT DO NOTHING", values)
            return max(cur.rowcount, 0)
        for chunk in _values_chunks(values, len(attnames), 60_000):
            cur.execute(f"INSERT INTO {table} ({cols}) VALUES "  # noqa: S608
                        + ", ".join([one] * len(chunk)) + " ON CONFLICT DO NOTHING",
                        [x for r in chunk for x in r])
            n += cur.rowcount
    return n


def insert_returning(model, attnames: Sequence[str], rows: Iterable, *, column: str = "id",
                     converted: bool = False) -> list:
    """INSERT ``rows`` and return the value of ``column`` (an auto-increment id) of each, in
    order: multi-row ``VALUES … RETURNING`` statements within the database's parameter
    limit (for the few rows whose ids a caller needs; large batches use ``insert_rows``)."""
    cols, values = _converted(model, attnames, rows, converted)
    values = list(values)
    table = connection.ops.quote_name(model._meta.db_table)
    one = "(" + ", ".join(["%s"] * len(attnames)) + ")"
    limit = connection.features.max_query_params or 60_000
    out: list = []
    with connection.cursor() as cur:
        for chunk in _values_chunks(values, len(attnames), limit):
            cur.execute(f"INSERT INTO {table} ({cols}) VALUES "  # noqa: S608
                        + ", ".join([one] * len(chunk))
                        + f" RETURNING {connection.ops.quote_name(column)}",
                        [x for r in chunk for x in r])
            out += [r[0] for r in cur.fetchall()]
    return out


def fast_insert(model, objs: list, *, batch: int = 5000) -> None:
    """INSERT model instances, plain rows (``row``) or dicts by attname, skipping the ORM's
    per-value compiler: values are read straight from each object's ``__dict__`` (or the
    dict), ``auto_now``/``auto_now_add`` fields left empty are stamped now, and the rows are
    written by ``insert_rows``."""
    if not objs:
        return
    attnames = insertable(model)
    auto_now = [f.attname for f in model._meta.concrete_fields
                if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    if auto_now:
        now = timezone.now()
        for o in objs:
            for a in auto_now:
                if isinstance(o, dict):
                    if o.get(a) is None:
                        o[a] = now
                elif getattr(o, a) is None:
                    setattr(o, a, now)
    get = operator.itemgetter(*attnames) if len(attnames) > 1 else (
        lambda d: (d[attnames[0]],))

    def values(o):
        d = o if isinstance(o, dict) else o.__dict__
        try:
            return get(d)
        except KeyError:  # an attribute kept elsewhere than the instance's __dict__
            return tuple(d[a] if a in d else getattr(o, a) for a in attnames)

    insert_rows(model, attnames, (values(o) for o in objs), batch=batch)


@contextmanager
def sqlite_cache(mb: int = 64):
    """On SQLite, a page cache of ``mb`` MB while a large write runs, then the previous size.

    A 100,000-row import adds millions of index entries (name keys, matching keys) in one
    transaction; with SQLite's default 2 MB cache their B-tree pages are evicted and read
    back again and again (~40 % more CPU for the matching keys). The cache is a fixed bound,
    not a function of the file. Elsewhere this does nothing."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cur:
        cur.execute("PRAGMA cache_size")
        before = int(cur.fetchone()[0])
        cur.execute(f"PRAGMA cache_size = {-int(mb) * 1024}")
    try:
        yield
    finally:
        if connection.connection is not None:
            with connection.cursor() as cur:
                cur.execute(f"PRAGMA cache_size = {before}")


def executemany(sql: str, params: list) -> None:
    """One prepared statement run for many parameter rows (the driver's batch loop)."""
    if params:
        with connection.cursor() as cur:
            cur.executemany(sql, params)


_DEFAULTS: dict = {}


def field_defaults(model) -> tuple[dict, list]:
    """The model's field defaults by attname: (constant ones, [(attname, callable)])."""
    found = _DEFAULTS.get(model)
    if found is None:
        constant, per_row = {}, []
        for f in model._meta.concrete_fields:
            if f.get_internal_type() in ("AutoField", "BigAutoField"):
                continue
            if f.has_default() and callable(f.default):
                per_row.append((f.attname, f.get_default))
            else:
                constant[f.attname] = f.get_default()
        found = _DEFAULTS[model] = (constant, per_row)
    return found


def row_dict(model, values: dict) -> dict:
    """A plain row for ``fast_insert`` as a dict: the model's field defaults, then ``values``
    (by attname, e.g. ``person_id``). Callable defaults (``list``, ``uuid7``) are called per
    row, only for the attributes ``values`` does not give."""
    constant, per_row = field_defaults(model)
    out = {**constant, **values}
    for attname, make in per_row:
        if attname not in values:
            out[attname] = make()
    return out


def row(model, **values) -> SimpleNamespace:
    """A plain row for ``fast_insert``: the model's field defaults, then ``values`` (by
    attname, e.g. ``person_id``). Cheaper than a model instance when writing 100,000s."""
    return SimpleNamespace(**row_dict(model, values))


def saved_instance(model, values: dict, db: str | None = None, **related):
    """An instance of ``model`` as it stands once ``values`` (by attname, every concrete field)
    are stored: not ``adding``, bound to ``db``, ``related`` objects cached. Built without
    ``Model.__init__``, which sets the 70 attributes of a person one by one through their
    descriptors (a fifth of the write's CPU at 100,000 persons); models whose instances need
    ``__init__`` or its signals (image dimensions) are not built this way."""
    obj = model.__new__(model)
    obj.__dict__.update(values)
    state = obj._state = ModelState()
    state.adding, state.db = False, db or connection.alias
    state.fields_cache.update(related)
    return obj
