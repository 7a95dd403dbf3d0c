"""Reads of custody, already scoped: an item is visible at the site where it was surrendered
and at the site where it is now."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet, Sum
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.models import User
from mawa.accounts.roles import Perm
from mawa.core import display
from mawa.core.errors import NotFound
from mawa.core.hooks import hook_ask
from mawa.core.ids import short_code_normalise
from mawa.core.models import LedgerEntry
from mawa.custody import derive
from mawa.custody.models import (
    CustodyEvent,
    Discrepancy,
    HandoverBatch,
    Item,
    ItemPhoto,
    ItiCategory,
    Kind,
    LegalHold,
    Receipt,
    State,
    StockCheck,
    Store,
    UnrocaCategory,
)
from mawa.custody.services import serial_key, stock_check_overdue

ITEM_SITES = ("site", "location_site")


def items_visible(*, user) -> QuerySet[Item]:
    access.require(user, Perm.CUSTODY_VIEW)
    return access.scope(Item.objects.all(), user, site_field=ITEM_SITES)


def item_list(*, user, store=None, state: str = "", kind: str = "", site=None, q: str = "",
              category: str = "", surrendered_at=None, before=None, limit: int = 50
              ) -> list[Item]:
    """Items newest first, keyset-paginated on the UUIDv7 id (constant time on any page)."""
    qs = items_visible(user=user).select_related("location_site", "store", "catalogue")
    if store is not None:
        qs = qs.filter(store=store)
    if site is not None:
        qs = qs.filter(location_site=site)
    if surrendered_at is not None:
        qs = qs.filter(site=surrendered_at)
    if state:
        qs = qs.filter(state__in=state.split(","))
    if kind:
        qs = qs.filter(kind=kind)
    if category:
        qs = qs.filter(Q(iti_category=category) | Q(unroca_category=category))
    if q:
        code = short_code_normalise(q)
        qs = qs.filter(short_code=code) if code else qs.filter(serial_key=serial_key(q))
    if before:
        try:  # a cursor from the address bar: one that is no id pages from the start
            qs = qs.filter(id__lt=uuid.UUID(str(before)))
        except ValueError:
            pass
    return list(qs.order_by("-id")[:limit])


def item_get(*, user, code: str) -> Item:
    return access.get_for_user(
        Item.objects.select_related("location_site", "store", "receipt", "custodian",
                                    "catalogue", "parent", "mounted_on", "site"),
        user, Perm.CUSTODY_VIEW, site_field=ITEM_SITES,
        short_code=short_code_normalise(code or "") or "")


@dataclass
class HistoryLine:
    seq: int
    kind: str
    label: object
    ts: str
    actor: str
    site: str
    data: dict
    stream_ref: str
    shown: list = field(default_factory=list)  # (translated label, text) pairs of ``data``
    ledger_seq: int = 0
    site_name: str = ""


#: labels of event data keys that are no field of Item (the others use the field's name)
HISTORY_LABELS = {
    "receipt": _("receipt"), "bearer": _("handed in by"), "by": _("by"), "tag": _("tag"),
    "to_site": _("to site"), "escort": _("escort"), "store": _("store"),
    "taken_by": _("taken by"), "purpose": _("purpose"), "seal": _("seal number"),
    "method": _("method"), "plan": _("plan"), "monitor": _("monitor"),
    "recipient": _("recipient"), "document": _("document"), "note": _("note"),
    "reason": _("reason"), "changes": _("changes"), "parent": _("split from"),
    "sources": _("merged from"), "subject": _("photo of"), "check": _("stock check"),
    "discrepancy": _("discrepancy"), "holds_remaining": _("holds remaining"),
    "quantity": _("quantity"), "certified_by": _("certified by"),
}
#: keys kept in the ledger for machines, not for the page
HISTORY_HIDDEN = ("photo", "sha256", "hold")


def _history_shown(lines: list[HistoryLine]) -> None:
    """Fill each line's ``shown`` through the display layer: choices by their labels, sites
    and stores by their names, booleans as yes/no."""
    store_ids = {str(ln.data.get("store")) for ln in lines if ln.data.get("store")}
    stores = {}
    for s in Store.objects.filter(pk__in=[i for i in store_ids if len(i) == 36]):
        stores[str(s.pk)] = s.display_name
    names = display.site_names({ln.site for ln in lines}
                               | {ln.data.get("to_site", "") for ln in lines})
    for ln in lines:
        data = dict(ln.data)
        if data.get("store"):
            data["store"] = stores.get(str(data["store"]), data["store"])
        if isinstance(data.get("changes"), dict):
            data["changes"] = "; ".join(
                f"{display.field_label(Item, k)}: {display.value_text(v)}"
                for k, v in data["changes"].items())
        ln.shown = display.labelled(
            data, model=Item, labels=HISTORY_LABELS, sites=("to_site",),
            choices={"subject": ItemPhoto.Subject}, hide=HISTORY_HIDDEN)
        ln.site_name = names.get(ln.site, ln.site)


def item_history(*, item: Item) -> list[HistoryLine]:
    """The item's custody events, oldest first, from the ledger entries themselves."""
    rows = list(CustodyEvent.objects.filter(item=item).select_related("ledger_entry")
                .order_by("item_seq"))
    actors = {str(u.pk): u.get_full_name() or u.username
              for u in User.objects.filter(pk__in={r.ledger_entry.actor for r in rows
                                                   if len(r.ledger_entry.actor) == 36})}
    out = []
    for r in rows:
        e = r.ledger_entry
        data = json.loads(e.payload).get("data", {})
        data.pop("hold", None)
        spec = derive.KINDS.get(r.kind)
        out.append(HistoryLine(r.item_seq, r.kind, spec.label if spec else r.kind, e.ts[:16]
                               .replace("T", " "), actors.get(e.actor, e.actor), e.site, data,
                               f"{e.stream}#{e.seq}", ledger_seq=e.seq))
    _history_shown(out)
    return out


def item_holds(*, user, item: Item) -> list[LegalHold] | None:
    """Active holds with their reasons — for the accountability compartment only (None for
    everyone else, who sees just ``item.on_hold``)."""
    if not access.can(user, Perm.COMPARTMENT_VIEW):
        return None
    return list(LegalHold.objects.filter(item=item, lifted_at__isnull=True).order_by("set_at"))


def duplicates_of(*, user, item: Item) -> list[Item]:
    if not item.serial_key:
        return []
    return list(items_visible(user=user).filter(serial_key=item.serial_key, kind=item.kind)
                .exclude(pk=item.pk).select_related("location_site")[:20])


def receipt_get(*, user, code: str) -> Receipt:
    return access.get_for_user(Receipt.objects.select_related("site", "person", "group",
                                                              "received_by"),
                               user, Perm.CUSTODY_VIEW,
                               short_code=short_code_normalise(code or "") or "")


def store_get(*, user, code: str) -> Store:
    return access.get_for_user(Store.objects.select_related("site"), user, Perm.CUSTODY_VIEW,
                               short_code=short_code_normalise(code or "") or "")


@dataclass
class StoreRow:
    store: Store
    items: int = 0
    rounds: int = 0
    on_hold: int = 0
    overdue: list = field(default_factory=list)
    open_check: StockCheck | None = None


def store_list(*, user) -> list[StoreRow]:
    """Stores at the user's sites with what they hold and which checks are overdue."""
    access.require(user, Perm.CUSTODY_VIEW)
    stores = list(access.scope(Store.objects.select_related("site").filter(is_active=True),
                               user))
    counts = {r["store"]: r for r in Item.objects.filter(
        store__in=stores, state=State.IN_CUSTODY).values("store").annotate(
        n=Count("id"), rounds=Sum("quantity", filter=Q(kind=Kind.AMMUNITION)),
        held=Count("id", filter=Q(on_hold=True))).order_by()}
    open_checks = {c.store_id: c for c in StockCheck.objects.filter(
        store__in=stores, status=StockCheck.Status.OPEN)}
    rows = []
    for s in stores:
        c = counts.get(s.pk, {})
        rows.append(StoreRow(s, c.get("n", 0), c.get("rounds") or 0, c.get("held", 0),
                             stock_check_overdue(s), open_checks.get(s.pk)))
    return rows


def check_get(*, user, code: str) -> StockCheck:
    return access.get_for_user(StockCheck.objects.select_related("store", "site", "started_by"),
                               user, Perm.CUSTODY_VIEW,
                               short_code=short_code_normalise(code or "") or "")


def discrepancies_open(*, user) -> QuerySet[Discrepancy]:
    access.require(user, Perm.CUSTODY_VIEW)
    return access.scope(Discrepancy.objects.filter(resolved_at__isnull=True), user)


# --- reconciliation ----------------------------------------------------------------------

COLUMNS = [
    ("surrendered", None),
    ("in_store", None),
    ("at_gate", None),
    ("in_transit", (State.IN_TRANSIT,)),
    ("out_on_access", (State.OUT_ON_ACCESS,)),
    ("disposed", (State.DESTROYED, State.TRANSFERRED, State.RETURNED)),
    ("missing", (State.MISSING,)),
]


def _category_label(code: str) -> str:
    """An ITI or UNROCA category code in words (the reconciliation stores whichever is set)."""
    if not code:
        return ""
    for choices in (ItiCategory, UnrocaCategory):
        if code in choices.values:
            return str(choices(code).label)
    return code


def reconciliation(*, user, site=None) -> dict:
    """Surrendered vs in store vs at the gate vs in transit vs out vs disposed vs missing, by
    kind and category, per site of surrender. Lots count rounds, other items count pieces.

    One grouped query over the projection (indexed on site, state, kind).
    """
    qs = items_visible(user=user).exclude(state__in=(State.REFUSED, State.CONSUMED))
    if site is not None:
        qs = qs.filter(site=site)
    rows = qs.values("site__code", "kind", "iti_category", "unroca_category", "state").annotate(
        n=Count("id"), rounds=Sum("quantity"), stored=Count("id", filter=Q(store__isnull=False)),
        stored_rounds=Sum("quantity", filter=Q(store__isnull=False))).order_by()
    table: dict[tuple, dict] = {}
    for r in rows:
        category = r["iti_category"] or r["unroca_category"] or ""
        key = (r["site__code"], r["kind"], category)
        line = table.setdefault(key, {c: 0 for c, _ in COLUMNS})
        ammo = r["kind"] == Kind.AMMUNITION
        amount = (r["rounds"] or 0) if ammo else r["n"]
        stored = (r["stored_rounds"] or 0) if ammo else r["stored"]
        line["surrendered"] += amount
        if r["state"] == State.IN_CUSTODY:
            line["in_store"] += stored
            line["at_gate"] += amount - stored
        for col, states in COLUMNS:
            if states and r["state"] in states:
                line[col] += amount
    # Destroyed and split quantities of lots leave the live lots but stay "surrendered":
    # count the surrendered rounds from the surrender events' quantities instead.
    names = display.site_names(k[0] for k in table)
    lines = [{"site": k[0], "kind": k[1], "category": k[2], **v,
              "site_name": names.get(k[0], k[0]),
              "kind_label": display.choice_label(Item, "kind", k[1]),
              "category_label": _category_label(k[2])}
             for k, v in sorted(table.items())]
    totals = {c: sum(line[c] for line in lines if line["kind"] != Kind.AMMUNITION)
              for c, _ in COLUMNS}
    rounds = {c: sum(line[c] for line in lines if line["kind"] == Kind.AMMUNITION)
              for c, _ in COLUMNS}
    return {"lines": lines, "columns": [c for c, _ in COLUMNS], "totals": totals,
            "rounds": rounds}


def ledger_head(*, site) -> str:
    entry = LedgerEntry.objects.filter(stream=f"custody/{site.code}").order_by("-seq").first()
    return entry.entry_hash if entry else ""


def handover_get(*, user, code: str):
    """A return-to-origin batch, with its lines (condition report) in tag order."""
    batch = access.get_for_user(
        HandoverBatch.objects.select_related("site", "handed_over_by"), user, Perm.CUSTODY_VIEW,
        short_code=short_code_normalise(code or "") or "")
    batch.report = list(batch.lines.select_related("item").order_by("item__short_code"))
    return batch


def handover_list(*, user, limit: int = 100) -> list:
    """Return-to-origin batches at the user's sites, newest first, with their item counts."""
    access.require(user, Perm.CUSTODY_VIEW)
    return list(access.scope(HandoverBatch.objects.select_related("site", "handed_over_by"),
                             user).annotate(n_items=Count("lines")).order_by("-id")[:limit])


def items_by_tag(*, user, tags: list[str]) -> list[Item]:
    """The items named by ``tags`` (as typed), in one query. Any tag that names no item the
    user may see makes the whole answer ``NotFound``, as one such tag would on its own."""
    codes = {short_code_normalise(t or "") for t in tags}
    if None in codes:
        raise NotFound()
    items = list(items_visible(user=user).select_related("location_site", "store")
                 .filter(short_code__in=codes).order_by("short_code"))
    if len(items) != len(codes):
        raise NotFound()
    return items


# --- the destruction certificate -----------------------------------------------------------

@dataclass
class DestructionLine:
    """One item destroyed, as its ``destroyed`` custody event recorded it."""

    item: Item
    quantity: int
    at: dt.datetime
    method: str
    monitor: str
    certified_by: str
    note: str
    recorded_by: str
    ledger_ref: str
    on_hold: bool  # as the ledger line says the item stood after the event (never True:
    #                the service refuses a destruction under hold; printed as the check)
    linked: bool | None  # linked to an allegation (None: the question had no answer)


@dataclass
class DestructionCertificate:
    """The destructions of one destruction plan at one site: every item destroyed under the
    same plan reference (IDDRS 4.10 and 5.40: items, method, witnesses, checks, signatures)."""

    site: object
    plan: str
    lines: list[DestructionLine]
    links_checked: bool  # the compartment answered
    links_shown: bool = False  # the user may see its answer (compartment users only)

    @property
    def first_at(self):
        return min(ln.at for ln in self.lines)

    @property
    def last_at(self):
        return max(ln.at for ln in self.lines)

    def _distinct(self, name: str) -> list[str]:
        return list(dict.fromkeys(getattr(ln, name) for ln in self.lines if getattr(ln, name)))

    @property
    def methods(self) -> list[str]:
        return self._distinct("method")

    @property
    def monitors(self) -> list[str]:
        return self._distinct("monitor")

    @property
    def certifiers(self) -> list[str]:
        return self._distinct("certified_by")

    @property
    def officers(self) -> list[str]:
        return self._distinct("recorded_by")

    @property
    def held(self) -> int:
        return sum(1 for ln in self.lines if ln.on_hold)

    @property
    def linked(self) -> int:
        return sum(1 for ln in self.lines if ln.linked)


def destruction_get(*, user, code: str) -> DestructionCertificate:
    """The destruction certificate of the plan under which the item ``code`` was destroyed:
    every item ``user`` may see that was destroyed at the same site under the same plan.
    NotFound when the item was not destroyed. Allegation links are asked of the layers above
    (``custody.items_linked``: the accountability compartment answers which item ids are
    linked to an act, nothing more), for a user of the compartment only."""
    item = item_get(user=user, code=code)
    event = (CustodyEvent.objects.filter(item=item, kind="destroyed")
             .select_related("ledger_entry").order_by("-item_seq").first())
    if event is None:
        raise NotFound()
    entry = event.ledger_entry
    plan = str(json.loads(entry.payload).get("data", {}).get("plan", ""))
    events = (CustodyEvent.objects.filter(kind="destroyed", ledger_entry__stream=entry.stream,
                                          item__in=items_visible(user=user))
              .select_related("ledger_entry", "item", "item__catalogue")
              .order_by("at", "item__short_code"))
    found: list[tuple[CustodyEvent, dict, dict]] = []
    for ev in events:
        payload = json.loads(ev.ledger_entry.payload)
        data = payload.get("data", {})
        if str(data.get("plan", "")) != plan:
            continue
        after: dict = next((ln.get("after", {}) for ln in payload.get("items", [])
                            if ln.get("id") == str(ev.item_id)), {})
        found.append((ev, data, after))
    actors = {str(u.pk): u.get_full_name() or u.username
              for u in User.objects.filter(pk__in={ev.ledger_entry.actor for ev, _d, _a in found
                                                   if len(ev.ledger_entry.actor) == 36})}
    # Which items are linked to an allegation belongs to the accountability compartment: it is
    # asked, and printed, only for a user of the compartment (protection.md R9: no export of a
    # non-investigator changes with compartment data); the others' certificate says so.
    links_shown = access.can(user, Perm.COMPARTMENT_VIEW)
    answers = hook_ask("custody.items_linked",
                       item_ids=[str(ev.item_id) for ev, _d, _a in found]) if links_shown else []
    linked = set().union(*answers) if answers else set()
    lines = [DestructionLine(
        item=ev.item, quantity=ev.to_quantity or ev.item.quantity, at=ev.at,
        method=str(data.get("method", "")), monitor=str(data.get("monitor", "")),
        certified_by=str(data.get("certified_by", "")), note=str(data.get("note", "")),
        recorded_by=actors.get(ev.ledger_entry.actor, ev.ledger_entry.actor),
        ledger_ref=f"{ev.ledger_entry.stream}#{ev.ledger_entry.seq}",
        on_hold=bool(after.get("on_hold")),
        linked=(str(ev.item_id) in linked) if answers else None)
        for ev, data, after in found]
    # a destruction does not move an item: it stays at the site where it was destroyed
    return DestructionCertificate(site=item.location_site, plan=plan, lines=lines,
                                  links_checked=bool(answers), links_shown=links_shown)
