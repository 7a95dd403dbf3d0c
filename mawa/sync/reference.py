"""Reference data that flows down from headquarters to a post (and its standby).

``reference_snapshot(node)`` (at headquarters) is what the post needs to work cut off: every
site, the short-code counter of the post's site (the post mints its codes from there on), the
accounts, the custody catalogue and the stores of the post's site, the entitlement rules (camp
item types) of the post's site, every node with its public key and the public
signing keys the ledger verifier needs. ``reference_apply(snapshot)`` (at the post) upserts it
with the ids headquarters gave, idempotently: applying the same snapshot twice changes nothing.
The engine puts a snapshot in every bundle from headquarters to a post and applies it first,
so that a change made at headquarters (an account's role, sites or deactivation, a new store)
reaches the post with the next bundle. Reference data is owned by headquarters: at a post it is
read-only (a local edit is overwritten by the next snapshot).

Accounts:
- those who work at the post (its site among theirs, or every site) and the administrators
  **sign in** at the post: their password hash and authenticator secret travel (the secret is
  opened with headquarters' field key and sealed again with the post's own on apply);
  recovery codes do not (they are keyed with the installation's secret: new ones are made at
  the post if needed);
- every other account travels **without** a password or authenticator (it cannot sign in at
  the post), so that changes made at headquarters under its name replay there as its own;
- accounts that reach the accountability compartment (investigators) do not travel at all;
- an account at the post that is no longer in the snapshot is deactivated there.

The snapshot holds plain values (password hashes, authenticator secrets): it only ever
travels inside the enrolment file or an encrypted bundle, never on its own.

Never the accountability compartment, watch lists included (they are compartment data:
screening of a post's arrivals runs at headquarters when their registrations arrive). Even
for a node with ``compartment_allowed`` nothing of it is sent yet.

The writes go straight to the rows (with an audit entry per record created or changed): the
accounts and site services decide *whether* a change may be made by a person here, and that
decision was made at headquarters; here it is mirrored with headquarters' ids and hashes,
which those services do not take.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext_lazy as _

from mawa.accounts.models import TOTPDevice, User
from mawa.accounts.roles import Role
from mawa.accounts.services import compartment_perms_of, totp_context
from mawa.camp.models import ItemType
from mawa.core.audit import audit
from mawa.core.changes_models import Node
from mawa.core.crypto import decrypt_text, encrypt_text
from mawa.core.errors import MawaError
from mawa.core.ids import short_code_make
from mawa.core.models import ShortCodeCounter, Site, SiteKey
from mawa.core.services import short_code_adopt
from mawa.custody.models import MaterielModel, Store
from mawa.sync.keys import peer_key_record

__all__ = ["REFERENCE_VERSION", "reference_apply", "reference_snapshot"]

REFERENCE_VERSION = 1
ACTOR = "system:sync"

_SITE_FIELDS = ("code", "kind", "name_ar", "name_en", "is_active")
_SITE_LOCATION = ("latitude", "longitude", "location_note")
_USER_FIELDS = ("username", "first_name", "last_name", "email", "language", "digits", "role",
                "all_sites", "is_active")
_MODEL_FIELDS = ("kind", "name", "name_ar", "make", "calibre", "calibre_mm", "iti_category",
                 "unroca_category", "country", "is_active")
_STORE_FIELDS = ("short_code", "name", "name_ar", "kind", "is_active")
# ``stock`` is the post's own count once the type is there: sent for a new type only
_ITEM_FIELDS = ("short_code", "name_ar", "name_en", "kind", "unit", "unit_cost",
                "per_person_per_day", "min_interval_hours", "max_per_day", "entitled_statuses",
                "requires_present", "is_active")
_NODE_FIELDS = ("role", "public_key", "installation", "compartment_allowed", "is_active")


def _json(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if hasattr(value, "hex") and not isinstance(value, (str, bytes)):  # UUID
        return str(value)
    return value


def _row(obj, fields) -> dict:
    return {f: _json(getattr(obj, f)) for f in fields}


# --- headquarters: what a post gets ------------------------------------------------------

def _signs_in(user: User, site_id) -> bool:
    if not user.is_active:
        return False
    if user.role == Role.ADMINISTRATOR or user.all_sites:
        return True
    return site_id is not None and site_id in {s.pk for s in user.sites.all()}


def _users(site_id) -> list[dict]:
    out = []
    for user in User.objects.prefetch_related("sites").order_by("username"):
        if compartment_perms_of(user.role):
            continue  # investigators never travel (nor does anything of the compartment)
        row = {"id": str(user.pk), **_row(user, _USER_FIELDS),
               "sites": sorted(str(s.pk) for s in user.sites.all()),
               "signs_in": _signs_in(user, site_id), "password": "", "totp": None}
        if not row["signs_in"]:
            row["email"] = ""  # an account that only replays here: no more than its name
        else:
            row["password"] = user.password if user.has_usable_password() else ""
            device = TOTPDevice.objects.filter(user=user, confirmed_at__isnull=False).first()
            if device is not None:
                secret = decrypt_text("accounts", device.secret_encrypted,
                                      context=totp_context(user.pk))
                row["totp"] = {"secret": secret, "confirmed_at": _json(device.confirmed_at),
                               "last_step": device.last_step}
        out.append(row)
    return out


def reference_snapshot(node: Node) -> dict:
    """The reference data for the post (or standby) ``node``, as JSON-ready values."""
    site_id = node.site_id
    sites = []
    for site in Site.objects.order_by("code"):
        row = {"id": str(site.pk), **_row(site, _SITE_FIELDS)}
        if site.pk == site_id:  # a camp's location is restricted: only the post's own travels
            row.update(_row(site, _SITE_LOCATION))
        sites.append(row)
    store_qs = Store.objects.filter(site_id=site_id) if site_id else Store.objects.none()
    stores = [{"id": str(s.pk), "site": str(s.site_id), **_row(s, _STORE_FIELDS)}
              for s in store_qs.order_by("short_code")]
    item_qs = ItemType.objects.filter(site_id=site_id) if site_id else ItemType.objects.none()
    items = [{"id": str(t.pk), "site": str(t.site_id), **_row(t, _ITEM_FIELDS),
              "stock": t.stock,
              "excludes": sorted(str(x.pk) for x in t.excludes.all())}
             for t in item_qs.prefetch_related("excludes").order_by("short_code")]
    # the post mints the short codes of its site from here on: it goes on after the last one
    # headquarters minted or received for it (never the same code twice)
    counter_qs = (ShortCodeCounter.objects.filter(site_id=site_id) if site_id
                  else ShortCodeCounter.objects.none())
    counters = {c.site.code: c.last_number for c in counter_qs.select_related("site")}
    nodes = [{"id": str(n.pk), "code": n.code, "site": str(n.site_id) if n.site_id else None,
              **_row(n, _NODE_FIELDS)} for n in Node.objects.order_by("code")]
    return {
        "version": REFERENCE_VERSION,
        "node": node.code,
        "sites": sites,
        "short_codes": counters,
        "users": _users(site_id),
        "materiel_models": [{"id": str(m.pk), **_row(m, _MODEL_FIELDS)}
                            for m in MaterielModel.objects.order_by("kind", "name")],
        "stores": stores,
        "item_types": items,
        "nodes": nodes,
        "site_keys": [{"site_code": k.site_code, "key_id": k.key_id,
                       "public_key": k.public_key} for k in SiteKey.objects.order_by("key_id")],
    }


# --- the post: applying it --------------------------------------------------------------

def _refuse(what, ident: str) -> MawaError:
    return MawaError(_("The reference data from headquarters does not fit this installation: "
                       "%(what)s %(ident)s exists here with another identity.")
                     % {"what": what, "ident": ident}, code="reference_conflict")


def _upsert(model, row_id, values: dict, *, label, unique: tuple[str, ...] = (),
            adopt: bool = False) -> tuple[Any, list[str]]:
    """Create the row with ``row_id`` or bring it to ``values``; returns (row, fields changed)
    (all fields for a new row). A unique value held by another row here is refused, unless
    ``adopt``: then that row, when nothing refers to it (the catalogue every installation
    seeds in its migrations, under its own ids), gives way to headquarters' row."""
    for name in unique:
        clash = model.objects.filter(**{name: values[name]}).exclude(pk=row_id)
        if not clash.exists():
            continue
        if adopt:
            try:
                with transaction.atomic():
                    clash.delete()
                continue
            except (ProtectedError, IntegrityError):
                pass
        raise _refuse(label, str(values[name]))
    obj = model.objects.filter(pk=row_id).first()
    if obj is None:
        obj = model(pk=row_id, **values)
        obj.save(force_insert=True)
        return obj, sorted(values)
    changed = sorted(k for k, v in values.items() if _json(getattr(obj, k)) != _json(v))
    if changed:
        for k in changed:
            setattr(obj, k, values[k])
        obj.save(update_fields=changed)
    return obj, changed


def _audit(obj, changed: list[str], created: bool) -> None:
    if changed:
        audit(actor=ACTOR, action="create" if created else "update", obj=obj,
              detail={"fields": changed, "from": "headquarters"})


def _apply_sites(rows: list[dict]) -> None:
    for row in rows:
        values = {k: row[k] for k in (*_SITE_FIELDS, *_SITE_LOCATION) if k in row}
        for k in ("latitude", "longitude"):
            if values.get(k) is not None:
                values[k] = Decimal(values[k])
        existed = Site.objects.filter(pk=row["id"]).exists()
        site, changed = _upsert(Site, row["id"], values, label=_("site"), unique=("code",))
        _audit(site, changed, not existed)


def _apply_users(rows: list[dict]) -> None:
    known = set()
    for row in rows:
        known.add(row["id"])
        clash = User.objects.filter(username__iexact=row["username"]).exclude(pk=row["id"])
        if clash.exists():
            raise _refuse(_("user"), row["username"])
        values = {k: row[k] for k in _USER_FIELDS}
        existed = User.objects.filter(pk=row["id"]).exists()
        user = User.objects.filter(pk=row["id"]).first()
        if user is None:
            user = User(pk=row["id"], **values)
            changed = sorted(values)
        else:
            changed = [k for k, v in values.items() if getattr(user, k) != v]
            for k in changed:
                setattr(user, k, values[k])
        if row["signs_in"] and row["password"]:
            if user.password != row["password"]:
                user.password = row["password"]
                changed.append("password")
        elif not existed or user.has_usable_password():
            user.set_unusable_password()
            changed.append("password")
        if not existed:
            user.save(force_insert=True)
        elif changed:
            user.save(update_fields=sorted(set(changed)))
        if sorted(str(s) for s in user.sites.values_list("pk", flat=True)) != row["sites"]:
            user.sites.set(row["sites"])
            changed.append("sites")
        if _apply_totp(user, row["totp"] if row["signs_in"] else None):
            changed.append("totp")
        _audit(user, sorted(set(changed)), not existed)
    for user in User.objects.exclude(pk__in=known).filter(is_active=True):
        user.is_active = False
        user.set_unusable_password()
        user.save(update_fields=["is_active", "password"])
        _audit(user, ["is_active", "password"], False)


def _apply_totp(user: User, totp: dict | None) -> bool:
    """Bring the user's authenticator to ``totp`` (sealed with this installation's own field
    key); returns whether anything changed."""
    device = TOTPDevice.objects.filter(user=user).first()
    if totp is None:
        if device is None:
            return False
        device.delete()
        return True
    context = totp_context(user.pk)
    if device is not None and decrypt_text("accounts", device.secret_encrypted,
                                           context=context) == totp["secret"]:
        if device.confirmed_at is None:
            device.confirmed_at = dt.datetime.fromisoformat(totp["confirmed_at"])
            device.save(update_fields=["confirmed_at"])
            return True
        return False  # the same secret: the post's own last step stands
    TOTPDevice.objects.update_or_create(user=user, defaults={
        "secret_encrypted": encrypt_text("accounts", totp["secret"], context=context),
        "confirmed_at": dt.datetime.fromisoformat(totp["confirmed_at"]),
        "last_step": totp["last_step"]})
    return True


def _apply_catalogue(snapshot: dict) -> None:
    for row in snapshot.get("materiel_models", []):
        values = {k: row[k] for k in _MODEL_FIELDS}
        if values["calibre_mm"] is not None:
            values["calibre_mm"] = Decimal(values["calibre_mm"])
        existed = MaterielModel.objects.filter(pk=row["id"]).exists()
        obj, changed = _upsert(MaterielModel, row["id"], values, label=_("materiel model"),
                               unique=("name",), adopt=True)
        _audit(obj, changed, not existed)
    for row in snapshot.get("stores", []):
        values = {"site_id": row["site"], **{k: row[k] for k in _STORE_FIELDS}}
        existed = Store.objects.filter(pk=row["id"]).exists()
        obj, changed = _upsert(Store, row["id"], values, label=_("store"),
                               unique=("short_code",), adopt=True)
        _audit(obj, changed, not existed)
    excludes: dict[str, list[str]] = {}
    for row in snapshot.get("item_types", []):
        values = {"site_id": row["site"], **{k: row[k] for k in _ITEM_FIELDS}}
        for k in ("unit_cost", "per_person_per_day"):
            values[k] = Decimal(values[k])
        existed = ItemType.objects.filter(pk=row["id"]).exists()
        if not existed:
            values["stock"] = row["stock"]
        obj, changed = _upsert(ItemType, row["id"], values, label=_("item type"),
                               unique=("short_code",), adopt=True)
        _audit(obj, changed, not existed)
        excludes[row["id"]] = row["excludes"]
    for type_id, wanted in excludes.items():
        item = ItemType.objects.get(pk=type_id)
        present = ItemType.objects.filter(pk__in=wanted)
        if (sorted(str(x) for x in item.excludes.values_list("pk", flat=True))
                != sorted(str(x) for x in present.values_list("pk", flat=True))):
            item.excludes.set(present)
            _audit(item, ["excludes"], False)


def _apply_nodes(snapshot: dict) -> None:
    self_code = Node.objects.filter(is_self=True).values_list("code", flat=True).first()
    for row in snapshot.get("nodes", []):
        values = {"code": row["code"], "site_id": row["site"],
                  **{k: row[k] for k in _NODE_FIELDS}}
        # a node is known by its code (bundles and changes name it so); the row's id is
        # local (a peer's state hangs on it): a node first known here keeps its own
        node = Node.objects.filter(code=row["code"]).first()
        if row["code"] == self_code:
            # this installation: its identity and key are its own (only HQ's flags are taken)
            values = {k: values[k] for k in ("compartment_allowed", "is_active")}
        existed = node is not None
        obj, changed = _upsert(Node, node.pk if node is not None else row["id"], values,
                               label=_("node"))
        _audit(obj, changed, not existed)
    for row in snapshot.get("site_keys", []):
        peer_key_record(row["site_code"], row["public_key"])


def reference_apply(snapshot: dict) -> None:
    """Upsert headquarters' reference data here (see the module docstring); idempotent."""
    if snapshot.get("version") != REFERENCE_VERSION:
        raise MawaError(_("The reference data from headquarters is of another version (%("
                          "version)s); update Mawa here first.")
                        % {"version": snapshot.get("version")}, code="reference_version")
    with transaction.atomic():
        _apply_sites(snapshot.get("sites", []))
        for code, number in snapshot.get("short_codes", {}).items():
            site = Site.objects.filter(code=code).first()
            if site is not None and number > 0:
                short_code_adopt(site=site, code=short_code_make(code, number))
        _apply_users(snapshot.get("users", []))
        _apply_catalogue(snapshot)
        _apply_nodes(snapshot)
