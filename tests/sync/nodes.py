"""Several installations in one test process, for the sync engine's tests.

Each node is its own SQLite database file (copied from a template migrated once per session),
its own key directory and var directory. ``with node.active():`` makes it *the* database
(``connections["default"]`` is swapped for the node's connection) and its directories the
settings, so services run exactly as on that installation. The real multi-process tests
(separate installations over HTTP, HQ on PostgreSQL) are fault17's ``test_field_ops``.

Test-only synced records ("test.note", kept in an arrival group's row) written through
``site_create`` / ``site_rename`` (which capture changes like a service) and replayed by the
appliers registered here.
"""

from __future__ import annotations

import datetime as dt
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from django.core.management import call_command
from django.db import connections
from django.db.utils import load_backend
from django.test.utils import override_settings

from mawa.core import keys as core_keys
from mawa.core.changes import (
    UniqueBroken,
    change_applier_register,
    change_record,
    change_travels_everywhere,
)
from mawa.core.changes_models import ChangeOp, Node, NodeRole
from mawa.core.errors import ValidationFailed
from mawa.core.models import Site, SiteKind
from mawa.reception.models import ArrivalGroup

RECORD = "test.note"
INSTALLATION = uuid.UUID("0190a000-0000-7000-8000-000000000001")
SITE_IDS = {code: uuid.uuid5(INSTALLATION, f"site/{code}") for code in ("HQ", "QAM", "TAL")}
USER_ID = 4242


def _wrapper(path: Path):
    """A SQLite connection to ``path``, configured like the project's (WAL, IMMEDIATE)."""
    settings_dict = connections.configure_settings({"default": {
        "ENGINE": "django.db.backends.sqlite3", "NAME": str(path),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 30,
                    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                                    "PRAGMA foreign_keys=ON;"},
        "TEST": {"NAME": str(path)}}})["default"]
    return load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, "default")


@contextmanager
def _as_default(wrapper, var_dir: Path, key_dir: Path) -> Iterator[None]:
    holder = connections._connections
    before = getattr(holder, "default", None)
    holder.default = wrapper
    try:
        with override_settings(VAR_DIR=var_dir, KEY_DIR=key_dir):
            yield
    finally:
        if before is None:
            del holder.default
        else:
            holder.default = before


_template: list[Path] = []


def template_database(directory: Path) -> Path:
    """A migrated, empty database file to copy for each node (made once per process)."""
    if _template:
        return _template[0]
    path = directory / "template.sqlite3"
    wrapper = _wrapper(path)
    with _as_default(wrapper, directory / "var", directory / "keys"):
        call_command("migrate", verbosity=0)
    wrapper.close()
    _template.append(path)
    return path


class TestNode:
    """One installation: ``code``, its database, keys and var directory."""

    def __init__(self, code: str, role: str, directory: Path, template: Path) -> None:
        self.code, self.role = code, role
        self.directory = directory / code
        self.directory.mkdir(parents=True)
        self.db = self.directory / "mawa.sqlite3"
        shutil.copy(template, self.db)
        self.var, self.keys = self.directory / "var", self.directory / "keys"
        self.var.mkdir()
        self.wrapper = _wrapper(self.db)
        self.public = ""

    @contextmanager
    def active(self) -> Iterator[TestNode]:
        with _as_default(self.wrapper, self.var, self.keys):
            yield self

    def close(self) -> None:
        self.wrapper.close()


def nodes_make(tmp_path: Path, template: Path, codes=("HQ", "QAM")) -> dict[str, TestNode]:
    """Nodes of one installation that know each other: HQ and posts, a pair key between HQ
    and each post, the same sites and the same administrator everywhere."""
    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.sync.keys import pair_key_store

    made = {code: TestNode(code, NodeRole.HQ if code == "HQ" else NodeRole.POST, tmp_path,
                           template) for code in codes}
    for node in made.values():
        with node.active():
            key = core_keys.signing_key(node.code)
            node.public = core_keys.public_key_bytes(key.public_key()).hex()
    pair = {code: bytes(uuid.uuid4().bytes + uuid.uuid4().bytes) for code in codes}
    for node in made.values():
        with node.active():
            for code in codes:
                Site.objects.create(id=SITE_IDS[code], code=code, name_en=code, name_ar=code,
                                    kind=SiteKind.HQ if code == "HQ" else SiteKind.CROSSING)
                Node.objects.create(id=uuid.uuid5(INSTALLATION, f"node/{code}"), code=code,
                                    role=made[code].role, is_self=code == node.code,
                                    installation=INSTALLATION, public_key=made[code].public,
                                    site_id=SITE_IDS[code])
            if node.code == "HQ":
                for code in codes:
                    if code != "HQ":
                        pair_key_store(code, pair[code])
            else:
                pair_key_store("HQ", pair[node.code])
            admin = User(id=USER_ID, username="admin", role=Role.ADMINISTRATOR, all_sites=True)
            admin.set_password("correct horse battery staple")
            admin.save()
    return made


def admin():
    from mawa.accounts.models import User

    return User.objects.get(username="admin")


# --- a test-only synced record: a note, kept in an arrival group's row ----------------------
# (not a type any app syncs, and not reference data: HQ's reference snapshot leaves it alone)

WHEN = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


def site_create(code: str, name: str, *, at: str, record_id=None) -> ArrivalGroup:
    """Create a record: ``code`` must be unique (its short code), ``name`` is its value."""
    record_id = record_id or uuid.uuid4()
    record = ArrivalGroup.objects.create(
        id=record_id, site_id=SITE_IDS[at], short_code=code, notes=name, arrived_at=WHEN,
        reported_count=1, client_key=uuid.uuid5(INSTALLATION, str(record_id)),
        created_by=admin())
    change_record(record_type=RECORD, record_id=record.id, op=ChangeOp.CREATE,
                  fields={"code": code, "name": name}, actor=admin(), site=record.site)
    return record


def site_rename(record_id, name: str, *, at: str, actor=None) -> None:
    if name == "REFUSE":
        raise ValidationFailed(fields={"name": ["not this name"]})
    ArrivalGroup.objects.filter(pk=record_id).update(notes=name)
    change_record(record_type=RECORD, record_id=record_id, op=ChangeOp.UPDATE,
                  fields={"name": name}, actor=actor or admin(),
                  site=Site.objects.get(pk=SITE_IDS[at]))


def _apply_create(change, actor) -> None:
    fields = change.fields
    if ArrivalGroup.objects.filter(short_code=fields["code"]).exclude(
            pk=change.record_id).exists() and change.state != "decided":
        raise UniqueBroken()
    site_create(fields["code"], fields["name"], at=change.site, record_id=change.record_id)


def _apply_rename(change, actor) -> None:
    site_rename(change.record_id, change.fields["name"], at=change.site, actor=actor)


def appliers_register() -> None:
    change_travels_everywhere(RECORD)
    change_applier_register(RECORD, ChangeOp.CREATE, _apply_create)
    change_applier_register(RECORD, ChangeOp.UPDATE, _apply_rename)


def site_names(ids) -> dict:
    return dict(ArrivalGroup.objects.filter(pk__in=list(ids)).values_list("id", "notes"))
