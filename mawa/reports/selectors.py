"""Reads behind the daily situation report: one selector per section, aggregate queries only.

Every section is a plain function ``sitrep_<section>(scope)`` returning a dict of figures.
Each runs a handful of ``GROUP BY`` queries whatever the size of the register (DESIGN.md: the
report for 1M persons in ≤ 5 s); none loops over persons in Python.

Scope: one site, or every site the user works at. A person belongs to the report of the site
that registered them and of the site that holds them now (as in ``reception.selectors``).
Sections that read an app whose tables are not there yet (custody, camp) answer
``{"available": False}`` and the page says so.

Nothing here reads the accountability compartment: it is never counted (protection.md R1).
Incidents of sensitive kinds are counted only for users who hold
``Perm.INCIDENT_SENSITIVE_VIEW`` at the scope's sites; for others they do not exist.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.apps import apps
from django.db import connection
from django.db.models import Count, F, Max, Min, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Substr, TruncDate
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.models import Site, SiteKind
from mawa.reception.models import Category, LifecycleEvent, Person, Sex, Status

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


def sitrep_scope(*, user, day: dt.date | None, site_code: str | None = None) -> Scope:
    """The scope of a report for ``user``. A site the user may not see answers exactly like a
    missing one (NotFound)."""
    if user is not None:
        access.require(user, Perm.REPORT_VIEW)
    if day is None:
        raise ValidationFailed(_("Choose a date."), fields={"date": [_("Choose a date.")]})
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

def _persons(scope: Scope):
    qs = Person.objects.all()
    if scope.site_ids is not None:
        qs = qs.filter(Q(site_id__in=scope.site_ids) | Q(current_site_id__in=scope.site_ids))
    return qs


def _by_site(qs, scope: Scope, field: str = "site"):
    if scope.site_ids is None:
        return qs
    return qs.filter(**{f"{field}_id__in": scope.site_ids})


def _model(label: str):
    """A model of another app, or None while its tables are not migrated yet."""
    try:
        model = apps.get_model(label)
    except LookupError:
        return None
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

def sitrep_arrivals(scope: Scope) -> dict:
    """Arrivals per day by crossing (the last 30 days) and, for the day, by arrival group."""
    persons = _persons(scope)
    first = persons.aggregate(first=Min("arrived_at"))["first"]
    window_start = scope.start - dt.timedelta(days=ARRIVALS_WINDOW - 1)
    rows = list(persons.filter(arrived_at__gte=window_start, arrived_at__lt=scope.end)
                .annotate(d=_day_of("arrived_at")).values("d", "site__code")
                .annotate(n=Count("id")).order_by())
    crossings = sorted({r["site__code"] for r in rows})
    per_day: dict = {}
    for r in rows:
        d = r["d"] if isinstance(r["d"], dt.date) else dt.date.fromisoformat(r["d"])
        per_day.setdefault(d, {})[r["site__code"]] = r["n"]
    days = [scope.day - dt.timedelta(days=i) for i in range(ARRIVALS_WINDOW - 1, -1, -1)]
    if first is not None:
        days = [d for d in days if d >= first.date()]
    series = [(d, sum(per_day.get(d, {}).values())) for d in days]
    total = persons.filter(arrived_at__lt=scope.end).count()
    groups = (persons.filter(arrived_at__gte=scope.start, arrived_at__lt=scope.end)
              .values("group_id", "group__short_code", "group__reported_count", "site__code")
              .annotate(n=Count("id")).order_by("site__code", "group__short_code"))
    group_rows = [{
        "code": g["group__short_code"] or "—", "crossing": g["site__code"],
        "reported": g["group__reported_count"], "registered": g["n"],
        "url": _url(scope, Perm.PERSON_VIEW, "reception:group_detail", g["group_id"])
        if g["group_id"] else "",
    } for g in groups]
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


def sitrep_population(scope: Scope) -> dict:
    """Population by lifecycle status and category at the end of the day."""
    counts = _status_as_of(scope)
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


def sitrep_camp(scope: Scope) -> dict:
    """Occupancy by block at the end of the day: open stays against active capacity."""
    Block, Shelter, Assignment = (_model("camp.Block"), _model("camp.Shelter"),
                                  _model("camp.Assignment"))
    if not (Block and Shelter and Assignment):
        return {"available": False}
    blocks = list(_by_site(Block.objects.all(), scope).values(
        "id", "name", "site__code").order_by("site__code", "name"))
    capacity = dict(_by_site(Shelter.objects.filter(is_active=True), scope)
                    .values_list("block_id").annotate(c=Sum("capacity")).order_by())
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
    Movement = _model("camp.Movement")
    if Movement is None:
        return {"available": False}
    out = (_by_site(Movement.objects.filter(out_at__lt=scope.end), scope)
           .filter(Q(returned_at__isnull=True) | Q(returned_at__gte=scope.end)))
    from mawa.camp.models import TEMPORARY_KINDS, MovementKind

    temporary = out.filter(kind__in=TEMPORARY_KINDS)
    rows = [{"kind": r["kind"], "label": _label(MovementKind, r["kind"]), "n": r["n"]}
            for r in temporary.values("kind").annotate(n=Count("id")).order_by("kind")]
    overdue = temporary.filter(due_back_at__lt=scope.end).count()
    return {"available": True, "rows": rows, "total": sum(r["n"] for r in rows),
            "overdue": overdue, "url": _url(scope, Perm.CAMP_VIEW, "camp:movements")}


def sitrep_rollcalls(scope: Scope) -> dict:
    """Roll calls of the day: how many, how they ended, and the people counted."""
    RollCall = _model("camp.RollCall")
    if RollCall is None:
        return {"available": False}
    from mawa.camp.models import RollCallStatus

    qs = _by_site(RollCall.objects.filter(day=scope.day), scope)
    rows = [{"status": r["status"], "label": _label(RollCallStatus, r["status"]), "n": r["n"],
             "expected": r["e"] or 0, "present": r["p"] or 0, "missing": r["m"] or 0}
            for r in qs.values("status").annotate(n=Count("id"), e=Sum("expected"),
                                                  p=Sum("present"), m=Sum("missing"))
            .order_by("status")]
    return {"available": True, "rows": rows, "total": sum(r["n"] for r in rows),
            "expected": sum(r["expected"] for r in rows),
            "present": sum(r["present"] for r in rows),
            "missing": sum(r["missing"] for r in rows),
            "url": _url(scope, Perm.CAMP_VIEW, "camp:rollcalls")}


def sitrep_custody(scope: Scope) -> dict:
    """Materiel surrendered (to date and on the day) and where it stands now, by kind, with the
    reconciliation: received = every state added up (IDDRS 4.10 stock accounting)."""
    Item = _model("custody.Item")
    if Item is None:
        return {"available": False}
    from mawa.custody.models import Kind, State

    items = _by_site(Item.objects.filter(created_at__lt=scope.end), scope).exclude(
        state=State.REFUSED)
    states = list(State.values)
    states.remove(State.REFUSED)
    by: dict[tuple[str, str], int] = {}
    for r in items.values("kind", "state").annotate(n=Count("id")).order_by():
        by[(r["kind"], r["state"])] = r["n"]
    today = dict(items.filter(created_at__gte=scope.start).values_list("kind")
                 .annotate(n=Count("id")).order_by())
    # Legal holds are set for allegations: only those who handle the materiel see the held
    # figure (as on the custody pages); for others, and the stored report, it does not exist.
    held = dict(items.filter(on_hold=True).values_list("kind").annotate(n=Count("id"))
                .order_by()) if scope.can(Perm.CUSTODY_VIEW) else None
    rows = []
    for kind in Kind.values:
        cells = [by.get((kind, s), 0) for s in states]
        received = sum(cells)
        rows.append({"kind": kind, "label": _label(Kind, kind), "received": received,
                     "today": today.get(kind, 0), "cells": cells,
                     "in_custody": by.get((kind, State.IN_CUSTODY), 0),
                     "balance": received - sum(cells),
                     "url": _url(scope, Perm.CUSTODY_VIEW, "custody:item_list",
                                 query=f"kind={kind}")})
        if held is not None:
            rows[-1]["on_hold"] = held.get(kind, 0)
    Discrepancy = _model("custody.Discrepancy")
    open_discrepancies = 0
    if Discrepancy is not None:
        open_discrepancies = _by_site(Discrepancy.objects.filter(
            created_at__lt=scope.end, resolved_at__isnull=True), scope).count()
    return {"available": True, "states": [_label(State, s) for s in states], "rows": rows,
            "received": sum(r["received"] for r in rows),
            "in_custody": sum(r["in_custody"] for r in rows),
            "today": sum(r["today"] for r in rows),
            "missing": sum(by.get((k, State.MISSING), 0) for k in Kind.values),
            "open_discrepancies": open_discrepancies,
            "series": [(r["label"], r["received"]) for r in rows]}


def sitrep_distributions(scope: Scope, *, in_care: int) -> dict:
    """Meals and items handed out on the day, stock left and days of supply
    (stock ÷ (units per person per day × people in care))."""
    Distribution, ItemType = _model("camp.Distribution"), _model("camp.ItemType")
    if Distribution is None or ItemType is None:
        return {"available": False}
    given = dict(_by_site(Distribution.objects.filter(day=scope.day), scope)
                 .values_list("item_id").annotate(q=Sum("quantity")).order_by())
    types = _by_site(ItemType.objects.filter(is_active=True), scope).order_by("name_en")
    rows = []
    for t in types.only("id", "name_ar", "name_en", "stock", "per_person_per_day", "unit"):
        need = Decimal(t.per_person_per_day or 0) * in_care
        rows.append({"name": t.name, "unit": t.unit, "given": given.get(t.id, 0) or 0,
                     "stock": t.stock,
                     "days": round(t.stock / need, 1) if need else None})
    return {"available": True, "rows": rows,
            "url": _url(scope, Perm.CAMP_VIEW, "camp:distributions")}


def sitrep_cost(scope: Scope) -> dict:
    """Cost of hosting to date: what was handed out, at the unit cost recorded with each
    distribution (Hague Convention V art. 12: upkeep is repaid at the peace)."""
    Distribution = _model("camp.Distribution")
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
    Incident = _model("camp.Incident")
    if Incident is None:
        return {"available": False}
    from mawa.camp.models import IncidentKind, RollCallStatus, Severity

    qs = _by_site(Incident.objects.filter(occurred_at__lt=scope.end, is_closed=False), scope)
    if not scope.can(Perm.INCIDENT_SENSITIVE_VIEW):
        # need-to-know (ICRC handbook): not counted, not hinted at by a total
        qs = qs.filter(is_sensitive=False)
    rows = [{"kind": _label(IncidentKind, r["kind"]), "severity": _label(Severity, r["severity"]),
             "n": r["n"]}
            for r in qs.values("kind", "severity").annotate(n=Count("id"))
            .order_by("kind", "severity")]
    RollCall = _model("camp.RollCall")
    discrepancies = 0
    if RollCall is not None:
        discrepancies = _by_site(RollCall.objects.filter(
            day__lte=scope.day, status=RollCallStatus.DISCREPANCY), scope).count()
    return {"available": True, "rows": rows, "total": sum(r["n"] for r in rows),
            "rollcall_discrepancies": discrepancies,
            "url": _url(scope, Perm.CAMP_VIEW, "camp:incidents")}


def sitrep_changes(scope: Scope) -> dict:
    """What changed since the previous report (the day before): lifecycle moves of the day."""
    events = LifecycleEvent.objects.filter(at__gte=scope.start, at__lt=scope.end)
    if scope.site_ids is not None:
        events = events.filter(Q(person__site_id__in=scope.site_ids)
                               | Q(person__current_site_id__in=scope.site_ids))
    rows = [{"from": _label(Status, r["from_status"]) if r["from_status"] else "",
             "to": _label(Status, r["to_status"]), "n": r["n"]}
            for r in events.values("from_status", "to_status").annotate(n=Count("id"))
            .order_by("from_status", "to_status")]
    return {"rows": rows, "total": sum(r["n"] for r in rows),
            "previous": scope.day - dt.timedelta(days=1)}


def sitrep_build(scope: Scope) -> dict:
    """The whole report: every section, in the order of the page."""
    arrivals = sitrep_arrivals(scope)
    population = sitrep_population(scope)
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
        "changes": sitrep_changes(scope),
        "empty": arrivals["total"] == 0,
    }


def sitrep_first_day(*, scope: Scope) -> dt.date | None:
    """The day of the first arrival in scope (the earliest day a report can say something)."""
    first = _persons(scope).aggregate(first=Min("arrived_at"))["first"]
    return first.date() if first else None


def sitrep_last_day() -> dt.date | None:
    last = Person.objects.aggregate(last=Max("arrived_at"))["last"]
    return last.date() if last else None


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
    # persons whose status changed after the day: their status then, from the history
    last = (LifecycleEvent.objects.filter(person_id=OuterRef("pk"), at__lt=end)
            .order_by("-at", "-id").values("to_status")[:1])
    later = (Person.objects.filter(current_site__in=camps, arrived_at__lt=end,
                                   status_changed_at__gte=end)
             .annotate(then=Subquery(last)).filter(then__in=IN_CARE)
             .annotate(child=Q(category=Category.CHILD) | Q(birth_year__gt=child_year))
             .values("current_site__code", "sex", "child").annotate(n=Count("id")).order_by())
    for r in later:
        sex = {"male": "m", "female": "f"}.get(r["sex"])
        column = f"{sex}_{'children' if r['child'] else 'adults'}" if sex else "unknown"
        key = (r["current_site__code"], column)
        counts[key] = counts.get(key, 0) + r["n"]
    return counts, camps
