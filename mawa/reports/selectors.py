"""Reads behind the daily situation report: one selector per section, aggregate queries only.

Every section is a plain function ``sitrep_<section>(scope)`` returning a dict of figures.
Each runs a handful of ``GROUP BY`` queries whatever the size of the register (DESIGN.md: the
report for 1M persons in ≤ 5 s); none loops over persons in Python.

Scope: one site, or every site the user works at. A person belongs to the report of the site
that registered them and of the site that held them at the end of the day. Materiel belongs to
the report of the site where it was surrendered (a lot split or merged elsewhere, to the site
where that was done).
Sections that read an app whose tables are not there yet (custody, camp) answer
``{"available": False}`` and the page says so.

Every figure is the register *at the end of the report day*, not now: a record changed since
is counted as it was then, from the history the apps keep (lifecycle events, custody events
with their state before and after, check-out and return times, closing follow-ups, stock
entries, the ledger's capacity changes). For today the figures are the current register.

Nothing here reads the accountability compartment: it is never counted (protection.md R1).
Incidents of sensitive kinds are counted only for users who hold
``Perm.INCIDENT_SENSITIVE_VIEW`` at the scope's sites; for others they do not exist.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Case,
    CharField,
    Count,
    Exists,
    F,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    Subquery,
    Sum,
    UUIDField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Substr, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp import models as camp_models
from mawa.camp.models import (
    TEMPORARY_KINDS,
    IncidentFollowUp,
    IncidentKind,
    MovementKind,
    RollCallStatus,
    Severity,
)
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.models import LedgerEntry, Site, SiteKind
from mawa.custody import models as custody_models
from mawa.custody.models import Kind, LegalHold, State
from mawa.reception.models import (
    ArrivalGroup,
    Category,
    LifecycleEvent,
    Person,
    Sex,
    Status,
)
from mawa.reports.models import DayCount, DaySnapshot

#: statuses of people held by the camp (in it, or out and expected back)
IN_CARE = (Status.INTERNED, Status.HOSPITALISED, Status.DETAINED)
#: days shown on the arrivals chart
ARRIVALS_WINDOW = 30


@dataclass(frozen=True)
class Scope:
    """What a report covers: a day, and one site or several (``site_ids`` None = every site).

    ``user`` is None for the scheduled report, which is read by every role holding
    ``Perm.REPORT_VIEW`` and so shows what the least privileged of them may see (no links, no
    sensitive incidents)."""

    day: dt.date
    site: Site | None
    site_ids: frozenset | None
    user: object | None = None

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time.min, tzinfo=dt.UTC)

    @property
    def end(self) -> dt.datetime:
        """Exclusive end of the day: the report shows the register at midnight UTC."""
        return self.start + dt.timedelta(days=1)

    @property
    def code(self) -> str:
        return self.site.code if self.site else "ALL"

    def can(self, perm: str) -> bool:
        """Whether figures may link to records behind ``perm`` (never for the stored report)."""
        if self.user is None:
            return False
        if self.site_ids is None:
            return access.can(self.user, perm)
        return all(access.can(self.user, perm, sid) for sid in self.site_ids)


# A report reads the days of its arrivals window before the day asked for and the day after
# it: a day at either end of the calendar has no report (Python's dates end there).
FIRST_DAY = dt.date.min + dt.timedelta(days=ARRIVALS_WINDOW)
LAST_DAY = dt.date.max - dt.timedelta(days=1)


def sitrep_scope(*, user, day: dt.date | None, site_code: str | None = None) -> Scope:
    """The scope of a report for ``user``. A site the user may not see answers exactly like a
    missing one (NotFound)."""
    if user is not None:
        access.require(user, Perm.REPORT_VIEW)
    if day is None:
        raise ValidationFailed(_("Choose a date."), fields={"date": [_("Choose a date.")]})
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValidationFailed(_("Choose a valid date."),
                               fields={"date": [_("Choose a valid date.")]})
    site = None
    if site_code and site_code.upper() != "ALL":
        site = Site.objects.filter(code=site_code.strip().upper()).first()
        if site is None or (user is not None and not access.in_scope(user, site)):
            raise NotFound()
        return Scope(day=day, site=site, site_ids=frozenset({site.pk}), user=user)
    ids = None if user is None else access.site_ids(user)
    return Scope(day=day, site=None, site_ids=None if ids is None else frozenset(ids),
                 user=user)


# --- helpers -----------------------------------------------------------------------------

def _held_then(scope: Scope):
    """The site that held a person at the end of the day: that of their last lifecycle event
    before it (each event records the site holding the person after it)."""
    return Subquery(LifecycleEvent.objects.filter(person_id=OuterRef("pk"), at__lt=scope.end)
                    .order_by("-at", "-id").values("site_id")[:1])


def _persons(scope: Scope):
    """Persons of the scope at the end of the day: registered at one of its sites, or held by
    one then. A person whose status has not changed since is held where they are now; only
    those moved later are looked up in their history."""
    qs = Person.objects.exclude(status=Status.MERGED)  # a duplicate record counts nowhere
    if scope.site_ids is not None:
        ids = scope.site_ids
        qs = qs.alias(held_then=_held_then(scope)).filter(
            Q(site_id__in=ids)
            | Q(status_changed_at__lt=scope.end, current_site_id__in=ids)
            | Q(status_changed_at__gte=scope.end, held_then__in=ids))
    return qs


def _by_site(qs, scope: Scope, field: str = "site"):
    if scope.site_ids is None:
        return qs
    return qs.filter(**{f"{field}_id__in": scope.site_ids})


def _migrated(model):
    """``model``, or None while its table is not migrated yet (a section is then left out)."""
    table = model._meta.db_table
    if table not in _TABLES_SEEN:
        # one introspection query; a table once seen stays (tables are not dropped at run time)
        _TABLES_SEEN.update(connection.introspection.table_names())
        if table not in _TABLES_SEEN:
            return None
    return model


_TABLES_SEEN: set[str] = set()


def _day_of(field: str):
    """The UTC day of a timestamp, for GROUP BY. SQLite keeps timestamps as ISO text in UTC,
    so the first ten characters are the day — far cheaper than Django's TruncDate there, which
    calls back into Python for every row (seconds at 1M persons)."""
    if connection.vendor == "sqlite":
        return Substr(field, 1, 10)
    return TruncDate(field, tzinfo=dt.UTC)


def _url(scope: Scope, perm: str, name: str, *args, query: str = "") -> str:
    if not scope.can(perm):
        return ""
    try:
        url = reverse(name, args=args)
    except NoReverseMatch:
        return ""
    return f"{url}?{query}" if query else url


def _label(choices, value) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return str(value or "—")


# --- sections ----------------------------------------------------------------------------

def _arrivals_scanned(scope: Scope) -> tuple:
    """The arrivals figures read from the register: the first arrival in scope, arrivals per
    (day, crossing) in the window, the total to date, the arrival groups of the day."""
    persons = _persons(scope)
    first = persons.aggregate(first=Min("arrived_at"))["first"]
    window_start = scope.start - dt.timedelta(days=ARRIVALS_WINDOW - 1)
    rows = []
    for r in (persons.filter(arrived_at__gte=window_start, arrived_at__lt=scope.end)
              .annotate(d=_day_of("arrived_at")).values("d", "site__code")
              .annotate(n=Count("id")).order_by()):
        d = r["d"] if isinstance(r["d"], dt.date) else dt.date.fromisoformat(r["d"])
        rows.append((d, r["site__code"], r["n"]))
    total = persons.filter(arrived_at__lt=scope.end).count()
    groups = [(g["group_id"], g["group__short_code"], g["group__reported_count"],
               g["site__code"], g["n"])
              for g in (persons.filter(arrived_at__gte=scope.start, arrived_at__lt=scope.end)
                        .values("group_id", "group__short_code", "group__reported_count",
                                "site__code")
                        .annotate(n=Count("id")).order_by("site__code", "group__short_code"))]
    return first, rows, total, groups


def sitrep_arrivals(scope: Scope, snapshot: DayCounts | None = None) -> dict:
    """Arrivals per day by crossing (the last 30 days) and, for the day, by arrival group.
    From the day's snapshot when there is one, else from the register."""
    first, rows, total, groups = (snapshot.arrivals() if snapshot is not None
                                  else _arrivals_scanned(scope))
    crossings = sorted({code for _d, code, _n in rows})
    per_day: dict = {}
    for d, code, n in rows:
        per_day.setdefault(d, {})[code] = n
    days = [scope.day - dt.timedelta(days=i) for i in range(ARRIVALS_WINDOW - 1, -1, -1)]
    if first is not None:
        days = [d for d in days if d >= first.date()]
    series = [(d, sum(per_day.get(d, {}).values())) for d in days]
    group_rows = [{
        "code": code or "—", "crossing": crossing, "reported": reported, "registered": n,
        "url": _url(scope, Perm.PERSON_VIEW, "reception:group_detail", gid) if gid else "",
    } for gid, code, reported, crossing, n in groups]
    person_list = _url(scope, Perm.PERSON_VIEW, "reception:person_list")
    return {
        "first_arrival": first.date() if first else None,
        "before_first": first is None or scope.day < first.date(),
        "crossings": crossings,
        "table": [{"day": d, "by_crossing": [per_day.get(d, {}).get(c, 0) for c in crossings],
                   "total": n} for d, n in series],
        "series": [(d.strftime("%m-%d"), n) for d, n in series],
        "today": series[-1][1] if series and series[-1][0] == scope.day else 0,
        "total": total,
        "groups": group_rows,
        "url": person_list,
    }


def _status_as_of(scope: Scope) -> dict[tuple[str, str], int]:
    """Persons by (status, category) at the end of the day.

    A person whose status has not changed since is counted from the row (one GROUP BY); only
    those changed later are looked up in their lifecycle history — few, for a recent day.
    """
    persons = _persons(scope).filter(arrived_at__lt=scope.end)
    out: dict[tuple[str, str], int] = {}
    for row in (persons.filter(status_changed_at__lt=scope.end)
                .values("status", "category").annotate(n=Count("id")).order_by()):
        key = (row["status"], row["category"])
        out[key] = out.get(key, 0) + row["n"]
    last = (LifecycleEvent.objects.filter(person_id=OuterRef("pk"), at__lt=scope.end)
            .order_by("-at", "-id").values("to_status")[:1])
    for row in (persons.filter(status_changed_at__gte=scope.end)
                .annotate(then=Subquery(last)).values("then", "category")
                .annotate(n=Count("id")).order_by()):
        key = (row["then"] or Status.ARRIVED, row["category"])
        out[key] = out.get(key, 0) + row["n"]
    return out


def sitrep_population(scope: Scope, snapshot: DayCounts | None = None) -> dict:
    """Population by lifecycle status and category at the end of the day. From the day's
    snapshot when there is one, else from the register."""
    counts = snapshot.population() if snapshot is not None else _status_as_of(scope)
    categories = list(Category.values)
    person_list = reverse("reception:person_list")
    linkable = scope.can(Perm.PERSON_VIEW)
    rows = []
    for status in Status.values:
        cells = [counts.get((status, c), 0) for c in categories]
        total = sum(cells)
        if total or status in IN_CARE:
            rows.append({"status": status, "label": _label(Status, status), "cells": cells,
                         "total": total,
                         "url": f"{person_list}?status={status}" if linkable else ""})
    totals = [sum(counts.get((s, c), 0) for s in Status.values) for c in categories]
    in_care = sum(counts.get((s, c), 0) for s in IN_CARE for c in categories)
    return {"categories": [_label(Category, c) for c in categories], "rows": rows,
            "totals": totals, "total": sum(totals), "in_care": in_care,
            "series": [(r["label"], r["total"]) for r in rows if r["total"]]}


def _capacity_then(scope: Scope, Shelter) -> dict:
    """Places per block at the end of the day: active shelters that existed then, at the
    capacity they had then. A capacity changed since is read from the ledger (camp entries
    ``camp.shelter.capacity`` say from and to): the first change after the day gives the
    capacity before it. Such changes are rare; they are the only entries read."""
    shelters = _by_site(Shelter.objects.filter(is_active=True, created_at__lt=scope.end), scope)
    capacity = {str(pk): (block, places) for pk, block, places in
                shelters.values_list("id", "block_id", "capacity")}
    since = scope.end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")  # the ledger's time stamps, as text
    changed: set[str] = set()
    for payload in (LedgerEntry.objects.filter(kind="camp.shelter.capacity", ts__gte=since)
                    .order_by("ts", "id").values_list("payload", flat=True)):
        change = json.loads(payload)
        shelter = str(change.get("shelter"))
        if shelter in capacity and shelter not in changed:
            changed.add(shelter)
            capacity[shelter] = (capacity[shelter][0], int(change["from"]))
    out: dict = {}
    for block, places in capacity.values():
        out[block] = out.get(block, 0) + places
    return out


def sitrep_camp(scope: Scope) -> dict:
    """Occupancy by block at the end of the day: open stays against the capacity then."""
    Block, Shelter, Assignment = (_migrated(camp_models.Block), _migrated(camp_models.Shelter),
                                  _migrated(camp_models.Assignment))
    if not (Block and Shelter and Assignment):
        return {"available": False}
    blocks = list(_by_site(Block.objects.filter(created_at__lt=scope.end), scope).values(
        "id", "name", "site__code").order_by("site__code", "name"))
    capacity = _capacity_then(scope, Shelter)
    occupied = dict(_by_site(Assignment.objects.filter(start_at__lt=scope.end), scope)
                    .filter(Q(end_at__isnull=True) | Q(end_at__gte=scope.end))
                    .values_list("block_id").annotate(n=Count("id")).order_by())
    rows = [{"name": b["name"], "site": b["site__code"], "capacity": capacity.get(b["id"], 0) or 0,
             "occupied": occupied.get(b["id"], 0)} for b in blocks]
    cap = sum(r["capacity"] for r in rows)
    occ = sum(r["occupied"] for r in rows)
    return {"available": True, "rows": rows, "capacity": cap, "occupied": occ,
            "rate": round(100 * occ / cap) if cap else None,
            "url": _url(scope, Perm.CAMP_VIEW, "camp:home")}


def sitrep_out_of_camp(scope: Scope) -> dict:
    """People out of the camp at the end of the day (hospital, court, visit …), and overdue."""
    Movement = _migrated(camp_models.Movement)
    if Movement is None:
        return {"available": False}
    out = (_by_site(Movement.objects.filter(out_at__lt=scope.end), scope)
           .filter(Q(returned_at__isnull=True) | Q(returned_at__gte=scope.end)))
    temporary = out.filter(kind__in=TEMPORARY_KINDS)
    rows = [{"kind": r["kind"], "label": _label(MovementKind, r["kind"]), "n": r["n"]}
            for r in temporary.values("kind").annotate(n=Count("id")).order_by("kind")]
    overdue = temporary.filter(due_back_at__lt=scope.end).count()
    return {"available": True, "rows": rows, "total": sum(r["n"] for r in rows),
            "overdue": overdue, "url": _url(scope, Perm.CAMP_VIEW, "camp:movements")}


def sitrep_rollcalls(scope: Scope) -> dict:
    """Roll calls of the day: how many, how they ended, and the people counted."""
    RollCall = _migrated(camp_models.RollCall)
    if RollCall is None:
        return {"available": False}
    # as each stood at the end of the day: still in progress if closed later (its figures come
    # with the close), a discrepancy if resolved later
    closed = Q(closed_at__lt=scope.end)
    then = Case(When(~closed | Q(closed_at__isnull=True), then=Value(RollCallStatus.OPEN)),
                When(status=RollCallStatus.RESOLVED, resolved_at__gte=scope.end,
                     then=Value(RollCallStatus.DISCREPANCY)),
                default=F("status"), output_field=CharField())
    qs = _by_site(RollCall.objects.filter(day=scope.day), scope).annotate(status_then=then)
    rows = [{"status": r["status_then"], "label": _label(RollCallStatus, r["status_then"]),
             "n": r["n"],
             "expected": r["e"] or 0, "present": r["p"] or 0, "missing": r["m"] or 0}
            for r in qs.values("status_then").annotate(
                n=Count("id"), e=Sum("expected", filter=closed),
                p=Sum("present", filter=closed), m=Sum("missing", filter=closed))
            .order_by("status_then")]
    return {"available": True, "rows": rows, "total": sum(r["n"] for r in rows),
            "expected": sum(r["expected"] for r in rows),
            "present": sum(r["present"] for r in rows),
            "missing": sum(r["missing"] for r in rows),
            "url": _url(scope, Perm.CAMP_VIEW, "camp:rollcalls")}


def _in_scope(scope: Scope, site_id) -> bool:
    return scope.site_ids is None or site_id in scope.site_ids


def _with_item(Item, events):
    """``events`` with their item's site and kind as ``item_site`` and ``item_kind``.

    PostgreSQL joins the items. SQLite reads them by primary key for each event instead: with
    a join (or a filter on the item's site) its planner may read every event of every item
    rather than the few selected by time."""
    if connection.vendor != "sqlite":
        return events.annotate(item_site=F("item__site_id"), item_kind=F("item__kind"))
    item = Item.objects.filter(pk=OuterRef("item_id")).order_by()
    return events.annotate(
        item_site=Subquery(item.values("site_id")[:1], output_field=UUIDField()),
        item_kind=Subquery(item.values("kind")[:1]))


def _materiel_then(scope: Scope, Item, CustodyEvent) -> dict[tuple[str, str], list[int]]:
    """Items — how many, and their quantity — by (kind, state) at the end of the day.

    The register now (one GROUP BY over the items), with every custody event after the day
    undone: each moved one item from (``from_state``, ``from_quantity``) to (``to_state``,
    ``to_quantity``), as its index row records, so undoing them all is one GROUP BY over the
    events after the day — none for today's report, a day's worth for yesterday's. Events that
    changed neither state nor quantity (most of them: tags, photos, seals, checks) are left out
    before their items are read. An item created after the day is undone into no state at all
    (its first event has none before).

    The events are grouped by their item's site rather than filtered by it (``_with_item``).
    """
    by: dict[tuple[str, str], list[int]] = {}
    for r in (_by_site(Item.objects.all(), scope).values("kind", "state")
              .annotate(n=Count("id"), q=Sum("quantity")).order_by()):
        by[(r["kind"], r["state"])] = [r["n"], r["q"] or 0]
    later = _with_item(Item, CustodyEvent.objects.filter(at__gte=scope.end).filter(
        Q(from_state__isnull=True) | ~Q(from_state=F("to_state"))
        | ~Q(from_quantity=F("to_quantity"))))
    for r in (later.values("item_site", "item_kind", "from_state", "to_state")
              .annotate(n=Count("id"), q_from=Sum("from_quantity"), q_to=Sum("to_quantity"))
              .order_by()):
        if not _in_scope(scope, r["item_site"]):
            continue
        kind = r["item_kind"]
        cell = by.setdefault((kind, r["to_state"]), [0, 0])
        cell[0] -= r["n"]
        cell[1] -= r["q_to"] or 0
        if r["from_state"] is not None:
            cell = by.setdefault((kind, r["from_state"]), [0, 0])
            cell[0] += r["n"]
            cell[1] += r["q_from"] or 0
    return by


def _received(scope: Scope, CustodyEvent) -> dict[str, dict]:
    """What the surrender records say was received, by kind: the ``surrendered`` events (one
    per item accepted at the gate, with the quantity handed in) up to the end of the day, and
    on the day itself. Grouped by site, not filtered (see ``_materiel_then``)."""
    on_day = Q(at__gte=scope.start)
    out: dict[str, dict] = {}
    for r in (CustodyEvent.objects.filter(kind="surrendered", at__lt=scope.end)
              .values("item__site_id", "item__kind")
              .annotate(n=Count("id"), q=Sum("to_quantity"), n_day=Count("id", filter=on_day),
                        q_day=Sum("to_quantity", filter=on_day)).order_by()):
        if _in_scope(scope, r["item__site_id"]):
            got = out.setdefault(r["item__kind"], {"n": 0, "q": 0, "n_day": 0, "q_day": 0})
            for key in got:
                got[key] += r[key] or 0
    return out


def _relotted_in(scope: Scope, CustodyEvent) -> dict[str, int]:
    """Rounds that came into the scope's lots from other sites' lots (negative: went out) by
    the splits and merges up to the end of the day.

    A new lot is recorded at the site where it is made, so a lot surrendered at a crossing and
    split at the depot leaves rounds in a depot lot. They are counted from the *other* side of
    each split or merge that touched the scope — the quantities the lots outside it lost or
    gained — so the scope's own lots are still checked against its surrenders."""
    if scope.site_ids is None:
        return {}  # every site: nothing is outside
    change = Coalesce(F("from_quantity"), 0) - F("to_quantity")
    per_entry: dict[int, list] = {}
    for entry, site, kind, q in (
            CustodyEvent.objects.filter(kind__in=("split", "merged"), at__lt=scope.end)
            .values_list("ledger_entry_id", "item__site_id", "item__kind")
            .annotate(q=Sum(change, output_field=IntegerField())).order_by()):
        per_entry.setdefault(entry, []).append((site in scope.site_ids, kind, q or 0))
    out: dict[str, int] = {}
    for lines in per_entry.values():
        if any(inside for inside, _kind, _q in lines):
            for inside, kind, q in lines:
                if not inside:
                    out[kind] = out.get(kind, 0) + q
    return out


def _on_hold_then(scope: Scope, Item, CustodyEvent, LegalHold) -> dict[str, list[int]]:
    """Items under legal hold at the end of the day by kind: how many, and their quantity
    then (the quantity now less what events after the day changed)."""
    holds = LegalHold.objects.filter(set_at__lt=scope.end).filter(
        Q(lifted_at__isnull=True) | Q(lifted_at__gte=scope.end)).values("item_id")
    items = _by_site(Item.objects.filter(pk__in=holds), scope)
    out = {kind: [n, q or 0] for kind, n, q in items.values_list("kind").annotate(
        n=Count("id"), q=Sum("quantity")).order_by()}
    change = F("to_quantity") - Coalesce(F("from_quantity"), 0)
    for kind, q in (CustodyEvent.objects.filter(at__gte=scope.end, item__in=items)
                    .values_list("item__kind")
                    .annotate(q=Sum(change, output_field=IntegerField())).order_by()):
        out.setdefault(kind, [0, 0])[1] -= q or 0
    return out


def sitrep_custody(scope: Scope) -> dict:
    """Materiel surrendered (to date and on the day) and where it stood at the end of the day,
    by kind, with the reconciliation of IDDRS 4.10 stock accounting: received according to the
    surrender records, against what every state accounts for (ammunition in rounds, since lots
    are split and merged; weapons and vehicles one by one). The difference, ``balance``, is 0
    when the records agree; anything else is materiel unaccounted for (positive) or accounted
    for without a surrender record (negative)."""
    Item, CustodyEvent = _migrated(custody_models.Item), _migrated(custody_models.CustodyEvent)
    if Item is None or CustodyEvent is None:
        return {"available": False}
    states = list(State.values)
    states.remove(State.REFUSED)
    by = _materiel_then(scope, Item, CustodyEvent)
    received = _received(scope, CustodyEvent)
    relotted = _relotted_in(scope, CustodyEvent)
    # Legal holds are set for allegations: only those who handle the materiel see the held
    # figure (as on the custody pages); for others, and the stored report, it does not exist.
    held = _on_hold_then(scope, Item, CustodyEvent, LegalHold) \
        if scope.can(Perm.CUSTODY_VIEW) else None
    rows = []
    for kind in Kind.values:
        # the measure of the row: rounds for ammunition, items for the rest
        m = 1 if kind == Kind.AMMUNITION else 0
        cells = [by.get((kind, s), [0, 0])[m] for s in states]
        got = received.get(kind, {})
        row: dict[str, Any] = {"kind": kind, "label": _label(Kind, kind),
               "unit": str(_("rounds") if m else _("items")),
               "received": got.get("q" if m else "n") or 0,
               "today": got.get("q_day" if m else "n_day") or 0,
               "relotted": relotted.get(kind, 0), "cells": cells,
               "in_custody": by.get((kind, State.IN_CUSTODY), [0, 0])[m],
               "url": _url(scope, Perm.CUSTODY_VIEW, "custody:item_list",
                           query=f"kind={kind}")}
        row["balance"] = row["received"] + row["relotted"] - sum(cells)
        if held is not None:
            row["on_hold"] = held.get(kind, [0, 0])[m]
        rows.append(row)
    Discrepancy = _migrated(custody_models.Discrepancy)
    open_discrepancies = 0
    if Discrepancy is not None:
        # found before the end of the day and not resolved by then
        open_discrepancies = _by_site(Discrepancy.objects.filter(
            created_at__lt=scope.end), scope).filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__gte=scope.end)).count()
    # summary figures count items (a lot is one item), whatever the row's measure
    items = {k: sum(by.get((k, s), [0, 0])[0] for s in states) for k in Kind.values}
    return {"available": True, "states": [_label(State, s) for s in states], "rows": rows,
            "received": sum((received.get(k) or {}).get("n") or 0 for k in Kind.values),
            "accounted": sum(items.values()),
            "in_custody": sum(by.get((k, State.IN_CUSTODY), [0, 0])[0] for k in Kind.values),
            "today": sum((received.get(k) or {}).get("n_day") or 0 for k in Kind.values),
            "missing": sum(by.get((k, State.MISSING), [0, 0])[0] for k in Kind.values),
            "relotted": any(r["relotted"] for r in rows),
            "balanced": not any(r["balance"] for r in rows),
            "open_discrepancies": open_discrepancies,
            "series": [(r["label"], (received.get(r["kind"]) or {}).get("n") or 0)
                       for r in rows]}


def sitrep_distributions(scope: Scope, *, in_care: int) -> dict:
    """Meals and items handed out on the day, stock left and days of supply
    (stock ÷ (units per person per day × people in care))."""
    Distribution, ItemType = _migrated(camp_models.Distribution), _migrated(camp_models.ItemType)
    if Distribution is None or ItemType is None:
        return {"available": False}
    given = dict(_by_site(Distribution.objects.filter(day=scope.day), scope)
                 .values_list("item_id").annotate(q=Sum("quantity")).order_by())
    types = _by_site(ItemType.objects.filter(is_active=True, created_at__lt=scope.end),
                     scope).order_by("name_en")
    # Stock at the end of the day: the stock now, less what came in (or was written off)
    # since — stock entries — plus what was handed out since (the daily totals).
    StockEntry = _migrated(camp_models.StockEntry)
    DailyDistribution = _migrated(camp_models.DailyDistribution)
    moved_since = dict(_by_site(StockEntry.objects.filter(at__gte=scope.end), scope,
                                "item__site").values_list("item_id").annotate(
                                    q=Sum("quantity")).order_by()) if StockEntry else {}
    given_since = dict(_by_site(DailyDistribution.objects.filter(day__gt=scope.day), scope)
                       .values_list("item_id").annotate(q=Sum("quantity")).order_by()
                       ) if DailyDistribution else {}
    rows = []
    for t in types.only("id", "name_ar", "name_en", "stock", "per_person_per_day", "unit"):
        stock = t.stock - (moved_since.get(t.id) or 0) + (given_since.get(t.id) or 0)
        need = Decimal(t.per_person_per_day or 0) * in_care
        rows.append({"name": t.name, "unit": t.unit, "given": given.get(t.id, 0) or 0,
                     "stock": stock, "days": round(stock / need, 1) if need else None})
    return {"available": True, "rows": rows,
            "url": _url(scope, Perm.CAMP_VIEW, "camp:distributions")}


def sitrep_cost(scope: Scope) -> dict:
    """Cost of hosting to date: what was handed out, at the unit cost recorded with each
    distribution (Hague Convention V art. 12: upkeep is repaid at the peace)."""
    Distribution = _migrated(camp_models.Distribution)
    if Distribution is None:
        return {"available": False}
    qs = _by_site(Distribution.objects.filter(day__lte=scope.day), scope)
    cost = F("quantity") * F("unit_cost")
    to_date = qs.aggregate(c=Sum(cost))["c"] or Decimal(0)
    day = qs.filter(day=scope.day).aggregate(c=Sum(cost))["c"] or Decimal(0)
    return {"available": True, "to_date": Decimal(to_date).quantize(Decimal("0.01")),
            "day": Decimal(day).quantize(Decimal("0.01"))}


def sitrep_incidents(scope: Scope) -> dict:
    """Open incidents at the end of the day by kind and severity; open roll-call
    discrepancies. Sensitive kinds only for those allowed to know of them."""
    Incident = _migrated(camp_models.Incident)
    if Incident is None:
        return {"available": False}
    # open at the end of the day: not closed, or closed by a follow-up after it (a closed
    # incident cannot be reopened)
    closed_later = IncidentFollowUp.objects.filter(incident_id=OuterRef("pk"), closes=True,
                                                   at__gte=scope.end)
    qs = _by_site(Incident.objects.filter(occurred_at__lt=scope.end), scope).filter(
        Q(is_closed=False) | Q(Exists(closed_later)))
    if not scope.can(Perm.INCIDENT_SENSITIVE_VIEW):
        # need-to-know (ICRC handbook): not counted, not hinted at by a total
        qs = qs.filter(is_sensitive=False)
    rows = [{"kind": _label(IncidentKind, r["kind"]), "severity": _label(Severity, r["severity"]),
             "n": r["n"]}
            for r in qs.values("kind", "severity").annotate(n=Count("id"))
            .order_by("kind", "severity")]
    RollCall = _migrated(camp_models.RollCall)
    discrepancies = 0
    if RollCall is not None:
        # found by a close before the end of the day and not resolved by then
        discrepancies = _by_site(RollCall.objects.filter(
            day__lte=scope.day, closed_at__lt=scope.end,
            status__in=(RollCallStatus.DISCREPANCY, RollCallStatus.RESOLVED)), scope).filter(
            Q(resolved_at__isnull=True) | Q(resolved_at__gte=scope.end)).count()
    return {"available": True, "rows": rows, "total": sum(r["n"] for r in rows),
            "rollcall_discrepancies": discrepancies,
            "url": _url(scope, Perm.CAMP_VIEW, "camp:incidents")}


def _changes_scanned(scope: Scope) -> list[tuple[str, str, int]]:
    events = LifecycleEvent.objects.filter(at__gte=scope.start, at__lt=scope.end)
    if scope.site_ids is not None:
        # the person's registration site, or the site holding them after the move (not the
        # one holding them now, which may have changed since)
        events = events.filter(Q(person__site_id__in=scope.site_ids)
                               | Q(site_id__in=scope.site_ids))
    return [(r["from_status"], r["to_status"], r["n"])
            for r in events.values("from_status", "to_status").annotate(n=Count("id"))
            .order_by("from_status", "to_status")]


def sitrep_changes(scope: Scope, snapshot: DayCounts | None = None) -> dict:
    """What changed since the previous report (the day before): lifecycle moves of the day."""
    moves = snapshot.changes() if snapshot is not None else _changes_scanned(scope)
    rows = [{"from": _label(Status, source) if source else "", "to": _label(Status, target),
             "n": n} for source, target, n in moves]
    return {"rows": rows, "total": sum(r["n"] for r in rows),
            "previous": scope.day - dt.timedelta(days=1)}


def sitrep_build(scope: Scope) -> dict:
    """The whole report: every section, in the order of the page. The figures about persons
    come from the day's snapshot when it is kept (``snapshot_read``), else from the register:
    the same figures either way."""
    snapshot = snapshot_read(scope)
    arrivals = sitrep_arrivals(scope, snapshot)
    population = sitrep_population(scope, snapshot)
    camp = sitrep_camp(scope)
    return {
        "scope": scope,
        "arrivals": arrivals,
        "population": population,
        "camp": camp,
        "out_of_camp": sitrep_out_of_camp(scope),
        "rollcalls": sitrep_rollcalls(scope),
        "custody": sitrep_custody(scope),
        "distributions": sitrep_distributions(scope, in_care=population["in_care"]),
        "cost": sitrep_cost(scope),
        "incidents": sitrep_incidents(scope),
        "changes": sitrep_changes(scope, snapshot),
        "empty": arrivals["total"] == 0,
    }


def sitrep_last_day() -> dt.date | None:
    last = Person.objects.aggregate(last=Max("arrived_at"))["last"]
    return last.date() if last else None


# --- the day snapshot ---------------------------------------------------------------------
#
# The figures about persons (population, arrivals, arrival groups and lifecycle moves of the
# day) are the ones that read the whole register. For a day that is over they are kept as a
# few hundred ``DayCount`` rows (``reports.services.snapshot_store``), derived from the records
# by ``snapshot_derive`` with the very queries the report runs for all sites, grouped by the
# two sites a scope is made of: the site that registered the person and the site that held
# them at the end of the day. A scope's figure is then the sum of the rows where either site
# is one of the scope's (``_persons``).

def _held_at(end: dt.datetime):
    """The site holding a person at ``end`` (``_persons``): the current site if their status
    has not changed since, else that of their last lifecycle event before it."""
    return Case(When(status_changed_at__lt=end, then=F("current_site_id")),
                default=Subquery(LifecycleEvent.objects.filter(
                    person_id=OuterRef("pk"), at__lt=end).order_by("-at", "-id")
                    .values("site_id")[:1]), output_field=UUIDField())


def snapshot_derive(day: dt.date) -> list[DayCount]:
    """The snapshot of ``day`` derived from the records (unsaved ``DayCount`` rows): what the
    report reads from the register for every site, grouped by registration site and site
    holding the person at the end of the day. Reads the whole register (the nightly job)."""
    return _derive(day, Person.objects.all(), changes=True)


def _derive(day: dt.date, persons, *, changes: bool) -> list[DayCount]:
    """``snapshot_derive`` for the persons of ``persons`` (a queryset); the lifecycle moves of
    the day (of every person) only if ``changes``."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    end = start + dt.timedelta(days=1)
    persons = persons.exclude(status=Status.MERGED).filter(arrived_at__lt=end)
    out: list[DayCount] = []

    def add(measure, site, held, a="", b="", n=0, first=None):
        out.append(DayCount(day=day, measure=measure, site=site, held=held, a=a, b=b, n=n,
                            first=first))

    # population: as ``_status_as_of`` — unchanged since from the row, the others from history
    population: dict[tuple, list] = {}
    then = Subquery(LifecycleEvent.objects.filter(person_id=OuterRef("pk"), at__lt=end)
                    .order_by("-at", "-id").values("to_status")[:1])
    for qs, status in ((persons.filter(status_changed_at__lt=end), F("status")),
                       (persons.filter(status_changed_at__gte=end), then)):
        for r in (qs.annotate(held=_held_at(end), then=status)
                  .values("site_id", "held", "then", "category")
                  .annotate(n=Count("id"), first=Min("arrived_at")).order_by()):
            key = (r["site_id"], r["held"], r["then"] or Status.ARRIVED, r["category"])
            cell = population.setdefault(key, [0, None])
            cell[0] += r["n"]
            cell[1] = r["first"] if cell[1] is None else min(cell[1], r["first"])
    for (site, held, status, category), (n, first) in population.items():
        add(DayCount.POPULATION, site, held, status, category, n, first)
    # arrivals per day in the chart's window, and the arrival groups of the day
    window_start = start - dt.timedelta(days=ARRIVALS_WINDOW - 1)
    for r in (persons.filter(arrived_at__gte=window_start).annotate(
            held=_held_at(end), d=_day_of("arrived_at"))
            .values("d", "site_id", "held").annotate(n=Count("id")).order_by()):
        d = r["d"] if isinstance(r["d"], dt.date) else dt.date.fromisoformat(r["d"])
        add(DayCount.ARRIVAL, r["site_id"], r["held"], d.isoformat(), n=r["n"])
    for r in (persons.filter(arrived_at__gte=start).annotate(held=_held_at(end))
              .values("group_id", "site_id", "held").annotate(n=Count("id")).order_by()):
        add(DayCount.GROUP, r["site_id"], r["held"], str(r["group_id"] or ""), n=r["n"])
    if changes:
        out += _moves(day)
    return out


def _moves(day: dt.date) -> list[DayCount]:
    """The lifecycle moves of ``day`` by the person's registration site and the site after
    the move (``sitrep_changes``)."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    return [DayCount(day=day, measure=DayCount.CHANGE, site=r["person__site_id"],
                     held=r["site_id"], a=r["from_status"] or "", b=r["to_status"], n=r["n"])
            for r in (LifecycleEvent.objects.filter(at__gte=start,
                                                    at__lt=start + dt.timedelta(days=1))
                      .values("person__site_id", "site_id", "from_status", "to_status")
                      .annotate(n=Count("id")).order_by())]


#: persons changed today above which today's report reads the register rather than
#: yesterday's snapshot and today's changes
TODAY_MAX_CHANGED = 100_000


def _today_rows(day: dt.date) -> tuple[list[DayCount], bool] | None:
    """Today's snapshot, not kept (today is not over): yesterday's kept snapshot, less what
    the persons changed today counted in it, plus what they count now; the lifecycle moves of
    today read as they are. Returns the rows and whether the first arrivals in them are exact
    (not when one of the persons taken out was the first of their row); None without
    yesterday's snapshot or when too many persons changed today.

    Persons not changed today (arrived and last moved before today) count today as they did
    yesterday: the register reads them from their row on both days (``_status_as_of``). A
    change recorded today but dated before today drops yesterday's snapshot (the hooks of
    ``reports.services``), so it is never added on top of a snapshot that missed it."""
    yesterday = day - dt.timedelta(days=1)
    if not DaySnapshot.objects.filter(day=yesterday).exists():
        return None
    start = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)
    changed = list(Person.objects.filter(Q(arrived_at__gte=start)
                                         | Q(status_changed_at__gte=start))
                   .values_list("pk", flat=True)[:TODAY_MAX_CHANGED + 1])
    if len(changed) > TODAY_MAX_CHANGED:
        return None
    window = (day - dt.timedelta(days=ARRIVALS_WINDOW - 1)).isoformat()
    cells: dict[tuple, DayCount] = {}
    for r in DayCount.objects.filter(day=yesterday).exclude(
            measure__in=(DayCount.GROUP, DayCount.CHANGE)):
        if r.measure == DayCount.ARRIVAL and r.a < window:
            continue  # out of today's chart
        cells[r.key()] = DayCount(day=day, measure=r.measure, site=r.site, held=r.held,
                                  a=r.a, b=r.b, n=r.n, first=r.first)
    removed: dict[tuple, list] = {}  # key → [persons taken out, the first of them]
    rows: list[DayCount] = []
    for i in range(0, len(changed), 900):
        chunk = Person.objects.filter(pk__in=changed[i:i + 900])
        for r in _derive(yesterday, chunk, changes=False):
            if r.measure == DayCount.GROUP or r.measure == DayCount.ARRIVAL and r.a < window:
                continue
            out = removed.setdefault(r.key(), [0, None])
            out[0] += r.n
            if r.first is not None:
                out[1] = r.first if out[1] is None else min(out[1], r.first)
        rows += _derive(day, chunk, changes=False)
    exact = True
    for key, (n, first) in removed.items():
        cell = cells.get(key)
        if cell is None or cell.n < n:
            return None  # yesterday's snapshot does not hold them: read the register
        cell.n -= n
        if not cell.n:
            cell.first = None  # every person of the row was taken out
        elif first is not None and cell.first is not None and first <= cell.first:
            exact = False  # the first of what is left of the row is not known
    for r in rows:
        cell = cells.get(r.key())
        if cell is None:
            cells[r.key()] = r
        else:
            cell.n += r.n
            if r.first is not None:
                cell.first = r.first if cell.first is None else min(cell.first, r.first)
    out = [c for c in cells.values() if c.n]
    out += _moves(day)  # those of every person, as they are recorded
    return out, exact


@dataclass(frozen=True)
class DayCounts:
    """A kept day snapshot cut to a scope: the report's figures about persons, read from
    its rows as ``sitrep_arrivals``, ``sitrep_population`` and ``sitrep_changes`` read them
    from the register."""

    scope: Scope
    rows: tuple
    first_exact: bool = True  # False: the first arrival is read from the register

    def _of(self, measure: str):
        return [r for r in self.rows if r.measure == measure]

    def population(self) -> dict[tuple[str, str], int]:
        out: dict[tuple[str, str], int] = {}
        for r in self._of(DayCount.POPULATION):
            out[(r.a, r.b)] = out.get((r.a, r.b), 0) + r.n
        return out

    def arrivals(self) -> tuple:
        """As ``_arrivals_scanned``: first arrival, (day, crossing, n), total, groups."""
        population = self._of(DayCount.POPULATION)
        firsts = [r.first for r in population if r.first is not None]
        if firsts and self.first_exact:
            first = min(firsts)
        else:  # nobody in scope had arrived by the end of the day: perhaps later
            first = _persons(self.scope).aggregate(first=Min("arrived_at"))["first"]
        codes = dict(Site.objects.values_list("id", "code"))
        per: dict[tuple, int] = {}
        for r in self._of(DayCount.ARRIVAL):
            key = (dt.date.fromisoformat(r.a), codes.get(r.site))
            per[key] = per.get(key, 0) + r.n
        by_group: dict[tuple, int] = {}
        for r in self._of(DayCount.GROUP):
            key = (r.a, codes.get(r.site))
            by_group[key] = by_group.get(key, 0) + r.n
        ids = {gid for gid, _code in by_group if gid}
        found = {str(g[0]): g[1:] for g in ArrivalGroup.objects.filter(pk__in=ids)
                 .values_list("id", "short_code", "reported_count")} if ids else {}
        groups = []
        for (gid, crossing), n in by_group.items():
            code, reported = found.get(gid, (None, None))
            groups.append((gid or None, code, reported, crossing, n))
        # the order of the register's query: crossing, then group code, groupless first
        # where the database sorts nulls first (SQLite), last where it sorts them last
        nulls_first = connection.vendor == "sqlite"
        groups.sort(key=lambda g: (g[3] or "", (g[1] is not None) == nulls_first, g[1] or ""))
        return (first, [(d, code, n) for (d, code), n in per.items()],
                sum(r.n for r in population), groups)

    def changes(self) -> list[tuple[str, str, int]]:
        out: dict[tuple[str, str], int] = {}
        for r in self._of(DayCount.CHANGE):
            out[(r.a, r.b)] = out.get((r.a, r.b), 0) + r.n
        return [(a, b, n) for (a, b), n in sorted(out.items())]


def snapshot_read(scope: Scope) -> DayCounts | None:
    """The snapshot of the scope's day, cut to the scope: the kept one for a day that is
    over, yesterday's with today's changes for today (``_today_rows``). None when there is
    none (a day not kept yet, or dropped by a backdated change; a later day): the report then
    reads the register."""
    today = timezone.now().date()
    if scope.day > today:
        return None
    exact = True
    if scope.day == today:
        found = _today_rows(scope.day)
        if found is None:
            return None
        rows, exact = found
    else:
        if not DaySnapshot.objects.filter(day=scope.day).exists():
            return None
        rows = list(DayCount.objects.filter(day=scope.day))
    if scope.site_ids is not None:
        rows = [r for r in rows if r.site in scope.site_ids or r.held in scope.site_ids]
    return DayCounts(scope=scope, rows=tuple(rows), first_exact=exact)


# --- protected statistics ----------------------------------------------------------------

STATS_COLUMNS = ("m_adults", "f_adults", "m_children", "f_children", "unknown")


def stats_counts(*, day: dt.date) -> tuple[dict, list[Site]]:
    """True counts of people in care at each camp at the end of ``day``, by sex and age
    group — the input of ``disclosure.protect``. Camps only (protection.md: camp level or
    higher); the compartment is never read."""
    end = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)
    camps = list(Site.objects.filter(kind=SiteKind.CAMP, is_active=True).order_by("code"))
    child_year = day.year - 18
    qs = (Person.objects.filter(current_site__in=camps, arrived_at__lt=end,
                                status__in=IN_CARE, status_changed_at__lt=end)
          .annotate(child=Q(category=Category.CHILD) | Q(birth_year__gt=child_year))
          .values("current_site__code", "sex", "child").annotate(n=Count("id")).order_by())
    counts: dict[tuple[str, str], int] = {}
    for r in qs:
        if r["sex"] == Sex.MALE:
            column = "m_children" if r["child"] else "m_adults"
        elif r["sex"] == Sex.FEMALE:
            column = "f_children" if r["child"] else "f_adults"
        else:
            column = "unknown"
        key = (r["current_site__code"], column)
        counts[key] = counts.get(key, 0) + r["n"]
    # persons whose status changed after the day: their status and camp then, from the
    # history (each lifecycle event records the site holding the person after it)
    last = (LifecycleEvent.objects.filter(person_id=OuterRef("pk"), at__lt=end)
            .order_by("-at", "-id"))
    code_of = {c.pk: c.code for c in camps}
    later = (Person.objects.filter(arrived_at__lt=end, status_changed_at__gte=end)
             .annotate(then=Subquery(last.values("to_status")[:1]),
                       then_site=Subquery(last.values("site_id")[:1],
                                          output_field=UUIDField()))
             .filter(then__in=IN_CARE, then_site__in=list(code_of))
             .annotate(child=Q(category=Category.CHILD) | Q(birth_year__gt=child_year))
             .values("then_site", "sex", "child").annotate(n=Count("id")).order_by())
    for r in later:
        sex = {"male": "m", "female": "f"}.get(r["sex"])
        column = f"{sex}_{'children' if r['child'] else 'adults'}" if sex else "unknown"
        key = (code_of[r["then_site"]], column)
        counts[key] = counts.get(key, 0) + r["n"]
    return counts, camps
