"""Distributions of meals and items: item types and their entitlement rules, stock, each
hand-out checked against the rules (a refusal names the rule)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp.models import (
    DailyDistribution,
    Distribution,
    ItemKind,
    ItemType,
    Movement,
    StockEntry,
)
from mawa.camp.services._common import DISTRIBUTION, _camp, _capture, _log, _raise, _text
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import MawaError, NotFound, ValidationFailed
from mawa.core.ids import client_key_parse, short_code_normalise
from mawa.core.models import Site
from mawa.core.services import short_code_next
from mawa.reception.models import Person, Status


class Refused(MawaError):
    """A distribution refused by an entitlement rule; ``code`` names the rule."""

    status = 409


def _item_values(data: dict, errors: dict) -> dict:
    values: dict[str, Any] = {}
    for name in ("name_ar", "name_en"):
        if name in data:
            values[name] = _text(data[name], name, errors, limit=120, required=True)
    if "unit" in data:
        values["unit"] = _text(data["unit"], "unit", errors, limit=40)
    if "kind" in data:
        if data["kind"] not in ItemKind.values:
            errors.setdefault("kind", []).append(_("Choose a kind from the list."))
        values["kind"] = data["kind"]
    for name in ("min_interval_hours", "max_per_day"):
        if name in data:
            v = data[name]
            if v is None or int(v) < 0 or int(v) > 1000:
                errors.setdefault(name, []).append(_("A whole number from 0 to 1000."))
            else:
                values[name] = int(v)
    for name in ("unit_cost", "per_person_per_day"):
        if name in data:
            try:
                v = Decimal(str(data[name]))
            except Exception:
                v = Decimal(-1)
            if v < 0:
                errors.setdefault(name, []).append(_("Zero or more."))
            else:
                values[name] = v
    if "entitled_statuses" in data:
        bad = [s for s in data["entitled_statuses"] if s not in Status.values]
        if bad or not data["entitled_statuses"]:
            errors.setdefault("entitled_statuses", []).append(
                _("Choose at least one status from the list."))
        values["entitled_statuses"] = sorted(set(data["entitled_statuses"]) - set(bad))
    if "requires_present" in data:
        values["requires_present"] = bool(data["requires_present"])
    if "is_active" in data:
        values["is_active"] = bool(data["is_active"])
    return values


def _excludes_check(item: ItemType | None, excludes: list[ItemType], site: Site,
                    errors: dict) -> None:
    for other in excludes:
        if item is not None and other.pk == item.pk:
            errors.setdefault("excludes", []).append(
                _("A type cannot exclude itself: a person could never receive it."))
        if other.site_id != site.id:
            errors.setdefault("excludes", []).append(_("Choose types of this camp."))


def item_type_create(*, actor, site: Site, client_key, data: dict,
                     excludes: Sequence[ItemType] = ()) -> ItemType:
    """Define a meal or item type and its entitlement rules."""
    key = client_key_parse(client_key)
    _camp(site)
    access.require(actor, Perm.CAMP_MANAGE, site)
    errors: dict = {}
    values = _item_values({"entitled_statuses": [Status.INTERNED], **data}, errors)
    _excludes_check(None, list(excludes), site, errors)
    _raise(errors)
    with transaction.atomic():
        # the idempotency key becomes the short-code-less item's identity
        existing = ItemType.objects.filter(id=key).first()
        if existing is not None:
            return existing
        item = ItemType.objects.create(id=key, site=site, short_code=short_code_next(site=site),
                                       **values)
        item.excludes.set(excludes)
        _log(actor=actor, site=site, kind="item.created",
             payload={"item": item.id, "rules": _rules_payload(item)})
    return item


def _rules_payload(item: ItemType) -> dict:
    return {"min_interval_hours": item.min_interval_hours, "max_per_day": item.max_per_day,
            "excludes": sorted(str(i) for i in item.excludes.values_list("id", flat=True)),
            "entitled_statuses": item.entitled_statuses,
            "requires_present": item.requires_present, "unit_cost": item.unit_cost}


def item_type_update(*, actor, item: ItemType, data: dict,
                     excludes: list[ItemType] | None = None) -> ItemType:
    """Change an item type's rules; refused if it would exclude itself."""
    access.require(actor, Perm.CAMP_MANAGE, item.site)
    errors: dict = {}
    values = _item_values(data, errors)
    if excludes is not None:
        _excludes_check(item, list(excludes), item.site, errors)
    _raise(errors)
    with transaction.atomic():
        locked = ItemType.objects.select_for_update().get(pk=item.pk)
        for name, value in values.items():
            setattr(locked, name, value)
        if values:
            locked.save(update_fields=list(values))
        if excludes is not None:
            locked.excludes.set(excludes)
        _log(actor=actor, site=locked.site, kind="item.rules_changed",
             payload={"item": locked.id, "rules": _rules_payload(locked)})
    return locked


def stock_adjust(*, actor, item: ItemType, quantity: int, reason: str,
                 client_key) -> StockEntry:
    """Receive (positive) or write off (negative) stock. Stock never goes below zero."""
    key = client_key_parse(client_key)
    access.require(actor, Perm.CAMP_OPERATE, item.site)
    errors: dict = {}
    reason = _text(reason, "reason", errors, limit=200, required=True)
    if quantity is None or quantity == 0:
        errors.setdefault("quantity", []).append(_("Enter a quantity other than zero."))
    _raise(errors)
    existing = StockEntry.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = ItemType.objects.select_for_update().get(pk=item.pk)
        if locked.stock + quantity < 0:
            raise ValidationFailed(
                _("Stock of %(item)s is %(stock)s; it cannot go below zero.")
                % {"item": locked.name, "stock": locked.stock}, code="negative_stock",
                fields={"quantity": [_("At most %(n)s can be written off.")
                                     % {"n": locked.stock}]})
        locked.stock += quantity
        locked.save(update_fields=["stock"])
        entry = StockEntry.objects.create(item=locked, quantity=quantity, reason=reason,
                                          at=timezone.now(), actor=actor, client_key=key)
        _log(actor=actor, site=locked.site, kind="stock.adjusted",
             payload={"item": locked.id, "quantity": quantity, "stock": locked.stock})
    return entry


def entitlement_refusal(*, item: ItemType, person: Person, at: dt.datetime,
                        is_out: bool, received: list[tuple[str, dt.datetime, int]],
                        excluded_ids: set, quantity: int = 1) -> Refused | None:
    """Which rule, if any, refuses ``quantity`` of ``item`` to ``person`` at ``at``. Pure: the
    caller passes today's and recent distributions (``received``: (item id, time, quantity)).
    The maximum per day counts units, not scans: one scan of 2 is two.

    Rules are checked in a fixed order and the first that refuses explains itself.
    """
    label = {"item": item.name, "code": person.short_code}
    if person.status not in item.entitled_statuses:
        return Refused(_("Refused by rule “who is entitled”: %(code)s is “%(status)s”; "
                         "%(item)s is only for: %(allowed)s.")
                       % {**label, "status": Status(person.status).label,
                          "allowed": ", ".join(str(Status(s).label)
                                               for s in item.entitled_statuses)},
                       code="rule_entitled")
    if item.requires_present and is_out:
        return Refused(_("Refused by rule “present in the camp”: %(code)s is out of the camp.")
                       % label, code="rule_present")
    day = timezone.localdate(at)
    had = sum(q for i, t, q in received if i == str(item.id) and timezone.localdate(t) == day)
    if item.max_per_day and had >= item.max_per_day:
        return Refused(_("Refused by rule “maximum per day”: %(code)s already received "
                         "%(item)s %(n)s time(s) today (maximum %(max)s).")
                       % {**label, "n": had, "max": item.max_per_day},
                       code="rule_max_per_day")
    if item.max_per_day and had + quantity > item.max_per_day:
        return Refused(_("Refused by rule “maximum per day”: %(code)s may receive at most "
                         "%(max)s of %(item)s a day; %(n)s already received, %(q)s asked.")
                       % {**label, "n": had, "q": quantity, "max": item.max_per_day},
                       code="rule_max_per_day")
    if item.min_interval_hours:
        last = max((t for i, t, _q in received if i == str(item.id)), default=None)
        if last is not None and at - last < dt.timedelta(hours=item.min_interval_hours):
            return Refused(_("Refused by rule “minimum interval”: %(code)s received %(item)s "
                             "less than %(h)s hours ago.")
                           % {**label, "h": item.min_interval_hours}, code="rule_interval")
    clash = [i for i, t, _q in received if i in excluded_ids and timezone.localdate(t) == day]
    if clash:
        other = ItemType.objects.filter(id=clash[0]).first()
        return Refused(_("Refused by rule “excludes”: %(code)s already received %(other)s "
                         "today, which excludes %(item)s.")
                       % {**label, "other": other.name if other else clash[0]},
                       code="rule_excludes")
    return None


def distribution_record(*, actor, item: ItemType, person: Person, client_key,
                        quantity: int = 1, at: dt.datetime | None = None,
                        record_id=None) -> Distribution:
    """Hand one meal or item to one person, after checking the item's rules; a refusal names
    the rule. Stock goes down in the same transaction (row lock on the item). ``record_id``
    and ``at``: the origin's when a change from another node is replayed."""
    key = client_key_parse(client_key)
    site = item.site
    access.require(actor, Perm.CAMP_OPERATE, site)
    existing = Distribution.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    if quantity is None or quantity < 1 or quantity > 1000:
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={"quantity": [_("A whole number from 1 to 1000.")]})
    at = at or timezone.now()
    with transaction.atomic():
        locked_item = ItemType.objects.select_for_update().get(pk=item.pk)
        if not locked_item.is_active:
            raise Refused(_("%(item)s is not handed out any more.") % {"item": locked_item.name},
                          code="item_inactive")
        # lock the person: two counters scanning the same card at once give one meal
        person = Person.objects.select_for_update().get(pk=person.pk)
        if person.current_site_id != site.id:
            raise Refused(_("Refused by rule “who is entitled”: %(code)s is not held at this "
                            "camp.") % {"code": person.short_code}, code="rule_entitled")
        since = at - dt.timedelta(hours=max(locked_item.min_interval_hours, 24))
        received = [(str(i), t, q) for i, t, q in Distribution.objects.filter(
            person=person, at__gte=min(since, at.replace(hour=0, minute=0, second=0))
        ).values_list("item_id", "at", "quantity")]
        excluded_ids = {str(i) for i in locked_item.excludes.values_list("id", flat=True)}
        is_out = Movement.objects.filter(person=person, is_open=True).exists()
        refusal = entitlement_refusal(item=locked_item, person=person, at=at, is_out=is_out,
                                      received=received, excluded_ids=excluded_ids,
                                      quantity=quantity)
        if refusal is not None:
            raise refusal
        if locked_item.stock < quantity:
            raise Refused(_("Refused: %(item)s is out of stock (%(stock)s left).")
                          % {"item": locked_item.name, "stock": locked_item.stock},
                          code="out_of_stock")
        locked_item.stock -= quantity
        locked_item.save(update_fields=["stock"])
        dist = Distribution.objects.create(
            client_key=key, site=site, item=locked_item, person=person, quantity=quantity,
            at=at, day=timezone.localdate(at), unit_cost=locked_item.unit_cost, actor=actor,
            **({"id": record_id} if record_id is not None else {}))
        daily, _new = DailyDistribution.objects.get_or_create(
            item=locked_item, day=dist.day, defaults={"site": site})
        DailyDistribution.objects.filter(pk=daily.pk).update(
            quantity=F("quantity") + quantity, cost=F("cost") + quantity * locked_item.unit_cost)
        _log(actor=actor, site=site, kind="distribution",
             payload={"distribution": dist.id, "item": locked_item.id, "person": person.id,
                      "quantity": quantity})
        _capture([ChangeItem(DISTRIBUTION, dist.pk, ChangeOp.CREATE, {
            "item": locked_item.pk, "person": person.pk, "client_key": key,
            "quantity": quantity, "at": at})], actor=actor, site=site)
    return dist


def distribution_record_by_code(*, actor, item: ItemType, code: str, client_key,
                                quantity: int = 1) -> Distribution:
    """The scanning counter: find the person by the code on their ID card, then record."""
    normal = short_code_normalise(code or "")
    if normal is None:
        raise ValidationFailed(_("“%(code)s” is not a valid ID code (check the last "
                                 "character).") % {"code": (code or "")[:30]},
                               code="bad_code", fields={"code": [_("Not a valid ID code.")]})
    access.require(actor, Perm.CAMP_OPERATE, item.site)
    person = access.scope(Person.objects.all(), actor, site_field="current_site").filter(
        short_code=normal).first()
    if person is None:
        raise NotFound(_("No person has the code %(code)s here.") % {"code": normal})
    return distribution_record(actor=actor, item=item, person=person, client_key=client_key,
                               quantity=quantity)
