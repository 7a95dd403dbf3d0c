"""Stock checks: the sample drawn from the ledger head, scans, counts, discrepancies
(IDDRS 4.10 §7.3)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import math

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import ChangeItem
from mawa.core.changes_models import ChangeOp
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import Conflict, NotFound
from mawa.core.ids import client_key_parse, short_code_normalise
from mawa.core.ledger import ledger_append
from mawa.core.models import LedgerEntry
from mawa.custody import derive
from mawa.custody.models import (
    Discrepancy,
    Item,
    Kind,
    State,
    StockCheck,
    StockCheckLine,
    Store,
)
from mawa.custody.services._common import (
    DISCREPANCY,
    STOCK_CHECK,
    EventClock,
    _capture,
    _check,
    _code,
    _created_at,
    _locked,
    _quantity,
    _record,
    _when,
    serial_key,
    stream_of,
)

WEEKLY_FRACTION = 0.10  # IDDRS 4.10 §7.3.1: at least 10 % of serial numbers every week


def sample_draw(seed: str, population: list[str], scope: str) -> list[str]:
    """The tags to serial-check, re-derivable by anyone from the seed and the population:
    rank each tag by HMAC-SHA256(seed, tag) and take the first ⌈10 %⌉ (all for a full check)."""
    if scope == StockCheck.Scope.FULL:
        return sorted(population)
    size = math.ceil(len(population) * WEEKLY_FRACTION)
    ranked = sorted(population, key=lambda tag: hmac.new(seed.encode(), tag.encode(),
                                                         hashlib.sha256).hexdigest())
    return sorted(ranked[:size])


def _category(item) -> str:
    return item.kind if item.kind != Kind.WEAPON else (item.iti_category or Kind.WEAPON)


def store_expected(store: Store) -> tuple[list[str], dict[str, int]]:
    """Serialised items in the store (tags) and expected counts by category (lots by rounds)."""
    rows = Item.objects.filter(store=store, state=State.IN_CUSTODY).values_list(
        "short_code", "kind", "iti_category", "quantity")
    population: list[str] = []
    counts: dict[str, int] = {}
    for code, kind, iti, qty in rows:
        cat = kind if kind != Kind.WEAPON else (iti or Kind.WEAPON)
        counts[cat] = counts.get(cat, 0) + (qty if kind == Kind.AMMUNITION else 1)
        if kind != Kind.AMMUNITION:
            population.append(code)
    return sorted(population), counts


def stock_check_start(*, actor, store: Store, scope: str, client_key, record_id=None,
                      code: str = "", at=None, seed: str = "") -> StockCheck:
    """Start a check of ``store``; the sample is drawn from the custody stream's head.

    ``record_id``, ``code``, ``at`` and ``seed``: the origin's when a change from another
    node is replayed (this node's stream has another head: the origin's seed draws the same
    sample)."""
    access.require(actor, Perm.CUSTODY_RECORD, store.site)
    key = client_key_parse(client_key)
    existing = StockCheck.objects.filter(client_key=key).first()
    if existing:
        return existing
    if scope not in StockCheck.Scope.values:
        _check({"scope": [_("Choose weekly or full.")]})
    with transaction.atomic():
        Store.objects.select_for_update().get(pk=store.pk)
        if StockCheck.objects.filter(store=store, status=StockCheck.Status.OPEN).exists():
            raise Conflict(_("A check of this store is already open; finish it first."),
                           code="check_open")
        population, counts = store_expected(store)
        check = StockCheck(site=store.site, short_code=_code(store.site, code),
                           client_key=key, store=store, scope=scope, started_by=actor,
                           population=population, expected_counts=counts)
        if record_id is not None:
            check.id = record_id
        entry = ledger_append(stream=stream_of(store.site), kind="stock_check_started",
                              actor=actor, site=store.site,
                              payload={"check": check.short_code, "store": str(store.pk),
                                       "scope": scope, "population": population,
                                       "expected": counts})
        # The seed is the chain head *before* the start entry: fixed by history, unknown in
        # advance, and readable by anyone from the ledger (reference: "seeded from the ledger
        # head").
        check.seed = seed or entry.prev_hash
        check.sample = sample_draw(check.seed, population, scope)
        check.save(force_insert=True)
        check.created_at = _when(at)
        _created_at(StockCheck, check.pk, check.created_at)
        _capture([ChangeItem(STOCK_CHECK, check.pk, ChangeOp.CREATE, {
            "store": store.pk, "scope": scope, "client_key": key, "code": check.short_code,
            "at": check.created_at, "seed": check.seed})], actor=actor, site=store.site)
    return check


def stock_check_rederive(check: StockCheck) -> bool:
    """Re-derive the sample from the ledger alone; True when it is the one that was used."""
    for entry in LedgerEntry.objects.filter(stream=stream_of(check.site),
                                            kind="stock_check_started").order_by("-seq"):
        payload = json.loads(entry.payload)
        if payload["check"] == check.short_code:
            return sample_draw(entry.prev_hash, payload["population"],
                               payload["scope"]) == check.sample
    return False


def stock_check_scan(*, actor, check: StockCheck, code: str, serial: str = "",
                     quantity=None) -> StockCheckLine:
    """Record that an item was seen (its tag scanned or typed; for sampled items, the serial
    read from the weapon; for lots, the rounds counted)."""
    access.require(actor, Perm.CUSTODY_RECORD, check.site)
    tag = short_code_normalise(to_ascii_digits(code or "")) or ""
    item = Item.objects.filter(short_code=tag, store=check.store).first() if tag else None
    if item is None:
        raise NotFound(_("No item with this tag is recorded in this store."))
    with transaction.atomic():
        check = StockCheck.objects.select_for_update().get(pk=check.pk)
        if check.status != StockCheck.Status.OPEN:
            raise Conflict(_("This check is closed."), code="check_closed")
        serial_ok = True
        if serial:
            serial_ok = serial_key(serial) == item.serial_key
        qty = _quantity(quantity, "quantity") if quantity not in (None, "") else None
        line, _created = StockCheckLine.objects.update_or_create(
            check_run=check, item=item, defaults={"serial_ok": serial_ok, "quantity": qty})
        _capture([ChangeItem(STOCK_CHECK, check.pk, ChangeOp.ACTION, {
            "action": "scan", "code": tag, "serial": serial, "quantity": qty})],
            actor=actor, site=check.site)
    return line


def stock_check_close(*, actor, check: StockCheck, counted: dict[str, int], at=None,
                      minted: list | None = None, times=None) -> StockCheck:
    """Close a check: compare counts and the sample with the records; every difference opens
    a discrepancy (on the ledger) that must be resolved. ``at``, ``minted`` (each
    discrepancy's id and code, in order) and ``times``: the origin's when a change from
    another node is replayed."""
    access.require(actor, Perm.CUSTODY_RECORD, check.site)
    with transaction.atomic():
        check = StockCheck.objects.select_for_update().select_related("site").get(pk=check.pk)
        if check.status != StockCheck.Status.OPEN:
            return check
        counted = {k: int(v) for k, v in counted.items() if str(v).strip() != ""}
        lines = {line.item.short_code: line for line in check.lines.select_related("item")}
        problems: list[tuple[Item | None, str]] = []
        for cat, expected in check.expected_counts.items():
            got = counted.get(cat)
            if got is not None and got != expected:
                problems.append((None, f"{cat}: {expected} → {got}"))
        sample_items = {i.short_code: i for i in Item.objects.filter(short_code__in=check.sample)}
        for tag in check.sample:
            line = lines.get(tag)
            if line is None:
                problems.append((sample_items.get(tag), f"{tag}: not found"))
            elif not line.serial_ok:
                problems.append((line.item, f"{tag}: serial differs"))
        for line in lines.values():
            if line.quantity is not None and line.item.kind == Kind.AMMUNITION and \
                    line.quantity != line.item.quantity:
                problems.append((line.item, f"{line.item.short_code}: {line.item.quantity} → "
                                 f"{line.quantity}"))
        when, clock = _when(at), EventClock(times)
        check.counted, check.status, check.closed_at = counted, StockCheck.Status.CLOSED, when
        check.save(update_fields=["counted", "status", "closed_at"])
        seen = [line.item for line in lines.values()]
        for locked in Item.objects.select_for_update().select_related("location_site").filter(
                pk__in=[i.pk for i in seen]).order_by("id"):
            _record(actor=actor, site=check.site, kind="stock_checked",
                    data={"check": check.short_code}, lines=[(locked, {})], clock=clock)
        made = []
        for n, (item, description) in enumerate(problems):
            given = minted[n] if minted and n < len(minted) else (None, "")
            disc = Discrepancy.objects.create(site=check.site,
                                              short_code=_code(check.site, given[1]),
                                              check_run=check, item=item,
                                              description=description[:300],
                                              **({"id": given[0]} if given[0] else {}))
            disc.created_at = when
            _created_at(Discrepancy, disc.pk, when)
            made.append([disc.pk, disc.short_code])
            if item is not None:
                item = _locked(item)
                _record(actor=actor, site=check.site, kind="discrepancy_reported",
                        data={"check": check.short_code, "discrepancy": disc.short_code},
                        lines=[(item, {})], clock=clock)
        ledger_append(stream=stream_of(check.site), kind="stock_check_closed", actor=actor,
                      site=check.site,
                      payload={"check": check.short_code, "counted": counted,
                               "seen": sorted(lines), "discrepancies": len(problems)})
        _capture([ChangeItem(STOCK_CHECK, check.pk, ChangeOp.ACTION, {
            "action": "close", "counted": counted, "at": when, "minted": made,
            "times": clock.seen})],
            actor=actor, site=check.site)
    return check


def discrepancy_resolve(*, actor, discrepancy: Discrepancy, resolution: str,
                        note: str = "", at=None, times=None) -> Discrepancy:
    """Resolve a discrepancy: found, loss confirmed (the item becomes missing) or a recording
    error. A loss is reported at once (IDDRS 4.10 §7.3.2). ``at`` and ``times``: the origin's
    when a change from another node is replayed."""
    access.require(actor, Perm.CUSTODY_RECORD, discrepancy.site)
    if resolution not in Discrepancy.Resolution.values:
        _check({"resolution": [_("Choose how the discrepancy was resolved.")]})
    if not (note or "").strip():
        _check({"note": [_("Say what was done.")]})
    with transaction.atomic():
        disc = Discrepancy.objects.select_for_update().get(pk=discrepancy.pk)
        if disc.resolved_at:
            return disc
        disc.resolution, disc.resolution_note = resolution, note.strip()[:300]
        disc.resolved_by, disc.resolved_at = actor, _when(at)
        disc.save(update_fields=["resolution", "resolution_note", "resolved_by",
                                 "resolved_at"])
        clock = EventClock(times)
        if resolution == Discrepancy.Resolution.LOSS and disc.item is not None:
            item = _locked(disc.item)
            if item.state not in derive.TERMINAL:
                _record(actor=actor, site=item.location_site, kind="loss_reported",
                        data={"discrepancy": disc.short_code}, lines=[(item, {})],
                        clock=clock)
        ledger_append(stream=stream_of(disc.site), kind="discrepancy_resolved", actor=actor,
                      site=disc.site, payload={"discrepancy": disc.short_code,
                                               "resolution": resolution})
        _capture([ChangeItem(DISCREPANCY, disc.pk, ChangeOp.ACTION, {
            "action": "resolve", "resolution": resolution, "note": note,
            "at": disc.resolved_at, "times": clock.seen})], actor=actor, site=disc.site)
    return disc


def stock_check_overdue(store: Store, *, now: dt.datetime | None = None) -> list[str]:
    """Which checks are overdue for ``store``: 'weekly' (7 days), 'full' (182 days)."""
    now = now or timezone.now()
    overdue = []
    closed = StockCheck.objects.filter(store=store, status=StockCheck.Status.CLOSED)
    last_any = closed.order_by("-closed_at").values_list("closed_at", flat=True).first()
    last_full = closed.filter(scope=StockCheck.Scope.FULL).order_by("-closed_at").values_list(
        "closed_at", flat=True).first()
    if last_any is None or now - last_any > dt.timedelta(days=7):
        overdue.append("weekly")
    if last_full is None or now - last_full > dt.timedelta(days=182):
        overdue.append("full")
    return overdue
