"""Reads of the camp, already scoped to the user's sites and counted in a fixed number of
queries (no query per block, shelter or person)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.utils import timezone

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp.models import (
    Assignment,
    Block,
    DailyDistribution,
    Distribution,
    Incident,
    ItemType,
    Movement,
    RollCall,
    RollCallCount,
    RollCallLine,
    RollCallMode,
    RollCallScan,
    RollCallStatus,
    Shelter,
    Zone,
)
from mawa.core.errors import NotFound
from mawa.core.ids import short_code_normalise
from mawa.core.models import Site, SiteKind
from mawa.reception.models import Person, Status

#: statuses counted as the camp's population (people the camp is responsible for)
POPULATION_STATUSES = (Status.INTERNED, Status.HOSPITALISED, Status.DETAINED)


def camp_sites(*, user) -> list[Site]:
    """The camps ``user`` may see."""
    if not access.can(user, Perm.CAMP_VIEW):
        return []
    return list(access.sites_for(user).filter(kind=SiteKind.CAMP).order_by("code"))


def camp_get(*, user, code: str | None = None, preferred: Site | None = None) -> Site:
    """The camp to show: by code, else the user's working site if it is a camp, else their
    first camp. NotFound when they have none (or not that one)."""
    camps = camp_sites(user=user)
    if code:
        for site in camps:
            if site.code == code.upper():
                return site
        raise NotFound()
    if preferred is not None and any(s.id == preferred.id for s in camps):
        return preferred
    if not camps:
        raise NotFound()
    return camps[0]


def _guarded(qs, user, perm=Perm.CAMP_VIEW, **lookup):
    return access.get_for_user(qs, user, perm, **lookup)


def zone_get(*, user, zone_id) -> Zone:
    return _guarded(Zone.objects.select_related("site"), user, id=zone_id)


def block_get(*, user, block_id) -> Block:
    return _guarded(Block.objects.select_related("zone", "site"), user, id=block_id)


def shelter_get(*, user, shelter_id) -> Shelter:
    return _guarded(Shelter.objects.select_related("block__zone", "site"), user, id=shelter_id)


def roll_call_get(*, user, roll_call_id) -> RollCall:
    return _guarded(RollCall.objects.select_related("block", "shelter", "site", "taken_by",
                                                    "resolved_by"), user, id=roll_call_id)


def movement_get(*, user, movement_id) -> Movement:
    return _guarded(Movement.objects.select_related("person", "site"), user, id=movement_id)


def item_get(*, user, item_id) -> ItemType:
    return _guarded(ItemType.objects.select_related("site"), user, id=item_id)


def camp_person_get(*, user, site: Site, code_or_id) -> Person:
    """A person held at ``site``, by short code (typed or scanned) or id."""
    access.require(user, Perm.CAMP_VIEW, site)
    qs = Person.objects.select_related("current_site")
    normal = short_code_normalise(str(code_or_id))
    try:
        person = qs.get(short_code=normal) if normal else qs.get(pk=code_or_id)
    except (Person.DoesNotExist, ValueError, TypeError):
        raise NotFound()
    except Exception as exc:
        if isinstance(exc, ValidationError):
            raise NotFound()
        raise
    if person.current_site_id != site.id:
        raise NotFound()
    return person


# --- layout and occupancy ----------------------------------------------------------------

@dataclass
class ShelterView:
    shelter: Shelter
    occupied: int

    @property
    def free(self) -> int:
        return self.shelter.capacity - self.occupied

    @property
    def fill(self) -> float:
        return self.occupied / self.shelter.capacity if self.shelter.capacity else 0.0


@dataclass
class BlockView:
    block: Block
    shelters: list[ShelterView] = field(default_factory=list)
    out: int = 0

    @property
    def capacity(self) -> int:
        return sum(s.shelter.capacity for s in self.shelters)

    @property
    def occupied(self) -> int:
        return sum(s.occupied for s in self.shelters)

    @property
    def fill(self) -> float:
        return self.occupied / self.capacity if self.capacity else 0.0

    @property
    def fill_class(self) -> str:
        return fill_class(self.fill, self.capacity)


@dataclass
class ZoneView:
    zone: Zone
    blocks: list[BlockView] = field(default_factory=list)

    @property
    def capacity(self) -> int:
        return sum(b.capacity for b in self.blocks)

    @property
    def occupied(self) -> int:
        return sum(b.occupied for b in self.blocks)


@dataclass
class Layout:
    site: Site
    zones: list[ZoneView]
    #: open assignments at the site, whatever the shelter (an inactive one included)
    housed: int = 0

    @property
    def capacity(self) -> int:
        return sum(z.capacity for z in self.zones)

    @property
    def occupied(self) -> int:
        return sum(z.occupied for z in self.zones)

    @property
    def blocks(self) -> list[BlockView]:
        return [b for z in self.zones for b in z.blocks]


def fill_class(fill: float, capacity: int = 1) -> str:
    """Colour band of a fill ratio for the plan (also named in the legend)."""
    if not capacity:
        return "fill-none"
    if fill > 1:
        return "fill-over"
    if fill >= 0.9:
        return "fill-high"
    if fill >= 0.6:
        return "fill-mid"
    return "fill-low"


def camp_layout(*, user, site: Site) -> Layout:
    """Zones → blocks → shelters with capacity and occupancy, in four queries."""
    access.require(user, Perm.CAMP_VIEW, site)
    zones = list(Zone.objects.filter(site=site))
    blocks = list(Block.objects.filter(site=site).order_by("name"))
    shelters = list(Shelter.objects.filter(site=site, is_active=True).order_by("name"))
    occupied = dict(Assignment.objects.filter(site=site, end_at__isnull=True)
                    .values_list("shelter_id").annotate(n=Count("*")).order_by())
    block_views = {b.id: BlockView(b) for b in blocks}
    for s in shelters:
        block_views[s.block_id].shelters.append(ShelterView(s, occupied.get(s.id, 0)))
    zone_views = {z.id: ZoneView(z) for z in zones}
    for b in blocks:
        zone_views[b.zone_id].blocks.append(block_views[b.id])
    return Layout(site, list(zone_views.values()), housed=sum(occupied.values()))


def shelter_occupants(*, shelter: Shelter) -> list[Assignment]:
    return list(Assignment.objects.filter(shelter=shelter, end_at__isnull=True)
                .select_related("person").order_by("person__short_code"))


def shelter_history(*, shelter: Shelter, limit: int = 100) -> list[Assignment]:
    return list(Assignment.objects.filter(shelter=shelter, end_at__isnull=False)
                .select_related("person", "checked_in_by", "checked_out_by")
                .order_by("-end_at")[:limit])


def person_camp_history(*, person: Person) -> dict:
    """Check-ins, check-outs and movements of one person."""
    return {
        "assignments": list(Assignment.objects.filter(person=person)
                            .select_related("shelter__block").order_by("-start_at")),
        "movements": list(Movement.objects.filter(person=person).order_by("-out_at")),
        "current": Assignment.objects.filter(person=person, end_at__isnull=True)
        .select_related("shelter__block").first(),
        "out": Movement.objects.filter(person=person, is_open=True).first(),
    }


def unhoused_persons(*, user, site: Site, group_id=None, limit: int = 500) -> list[Person]:
    """Persons at (or handed to) this camp without a shelter: interned here, or registered at
    a crossing the user also works at and waiting to be received."""
    access.require(user, Perm.CAMP_VIEW, site)
    housed = Assignment.objects.filter(person=OuterRef("pk"), end_at__isnull=True)
    qs = Person.objects.filter(
        Q(status=Status.INTERNED, current_site=site) | Q(status=Status.REGISTERED))
    qs = access.scope(qs, user, site_field=("site", "current_site"))
    qs = qs.annotate(housed=Exists(housed)).filter(housed=False)
    if group_id:
        qs = qs.filter(group_id=group_id)
    return list(qs.select_related("group").order_by("group_id", "short_code")[:limit])


# --- movements ---------------------------------------------------------------------------

@dataclass
class OutRow:
    movement: Movement
    overdue: bool


def people_out(*, user, site: Site) -> list[OutRow]:
    """Everyone out of the camp now, soonest due back first; overdue ones flagged."""
    access.require(user, Perm.CAMP_VIEW, site)
    now = timezone.now()
    rows = Movement.objects.filter(site=site, is_open=True).select_related(
        "person").order_by("due_back_at")
    return [OutRow(m, m.due_back_at is not None and m.due_back_at < now) for m in rows]


def movements_recent(*, user, site: Site, limit: int = 50) -> list[Movement]:
    access.require(user, Perm.CAMP_VIEW, site)
    return list(Movement.objects.filter(site=site).select_related("person", "actor")
                .order_by("-out_at")[:limit])


# --- roll calls --------------------------------------------------------------------------

def _expected_qs(roll_call: RollCall):
    qs = Assignment.objects.filter(block_id=roll_call.block_id, end_at__isnull=True)
    if roll_call.shelter_id:
        qs = qs.filter(shelter_id=roll_call.shelter_id)
    out = Movement.objects.filter(site_id=roll_call.site_id, is_open=True).values("person_id")
    return qs.exclude(person_id__in=out)


def rollcall_expected_ids(roll_call: RollCall) -> set:
    """Who should be there: housed in the block (or shelter) minus those out of the camp."""
    return set(_expected_qs(roll_call).values_list("person_id", flat=True))


@dataclass
class Reconciliation:
    expected: int
    present: int
    missing_ids: list
    unexpected_ids: list
    shelter_counts: dict  # shelter id → (expected, counted), count mode

    @property
    def missing(self) -> int:
        if self.shelter_counts:
            return sum(max(e - c, 0) for e, c in self.shelter_counts.values())
        return len(self.missing_ids)

    @property
    def unexpected(self) -> int:
        if self.shelter_counts:
            return sum(max(c - e, 0) for e, c in self.shelter_counts.values())
        return len(self.unexpected_ids)

    @property
    def discrepancy(self) -> bool:
        return bool(self.missing or self.unexpected)


def rollcall_reconcile(roll_call: RollCall) -> Reconciliation:
    """Compare what was counted with who should be there, in two or three queries whatever
    the size of the block.

    Scan mode: missing = expected − scanned; unexpected = scanned − expected.
    Count mode: per shelter, counted against expected; the shelters that differ are findings.
    """
    if roll_call.mode == RollCallMode.SCAN:
        expected = rollcall_expected_ids(roll_call)
        scanned = set(RollCallScan.objects.filter(roll_call=roll_call)
                      .values_list("person_id", flat=True))
        return Reconciliation(
            expected=len(expected), present=len(scanned & expected),
            missing_ids=sorted(expected - scanned, key=str),
            unexpected_ids=sorted(scanned - expected, key=str), shelter_counts={})
    per_shelter = dict(_expected_qs(roll_call).values_list("shelter_id").annotate(
        n=Count("id")).order_by())
    counted = dict(RollCallCount.objects.filter(roll_call=roll_call)
                   .values_list("shelter_id", "counted"))
    pairs = {sid: (per_shelter.get(sid, 0), c) for sid, c in counted.items()}
    # shelters not counted at all are counted as 0 when they hold expected people
    for sid, n in per_shelter.items():
        pairs.setdefault(sid, (n, 0))
    expected_total = sum(per_shelter.values())
    return Reconciliation(expected=expected_total,
                          present=sum(min(e, c) for e, c in pairs.values()),
                          missing_ids=[], unexpected_ids=[], shelter_counts=pairs)


def rollcall_findings(*, roll_call: RollCall) -> dict:
    lines = list(RollCallLine.objects.filter(roll_call=roll_call)
                 .select_related("person", "shelter"))
    where = {}
    person_ids = [ln.person_id for ln in lines if ln.person_id]
    if person_ids:
        for a in Assignment.objects.filter(person_id__in=person_ids, end_at__isnull=True) \
                .select_related("shelter__block"):
            where[a.person_id] = a.shelter
    for ln in lines:
        ln.where = where.get(ln.person_id) if ln.person_id else None
    return {
        "missing": [ln for ln in lines if ln.finding == RollCallLine.Finding.MISSING],
        "unexpected": [ln for ln in lines if ln.finding == RollCallLine.Finding.UNEXPECTED],
        "counts": [ln for ln in lines if ln.finding == RollCallLine.Finding.COUNT],
    }


def rollcall_progress(*, roll_call: RollCall) -> dict:
    """For the phone page while the count runs: expected, scanned, and shelter lines."""
    expected = rollcall_expected_ids(roll_call)
    scanned = set(RollCallScan.objects.filter(roll_call=roll_call)
                  .values_list("person_id", flat=True))
    shelters = Shelter.objects.filter(block_id=roll_call.block_id, is_active=True)
    if roll_call.shelter_id:
        shelters = shelters.filter(id=roll_call.shelter_id)
    per_shelter = dict(_expected_qs(roll_call).values_list("shelter_id").annotate(
        n=Count("id")).order_by())
    counted = dict(RollCallCount.objects.filter(roll_call=roll_call)
                   .values_list("shelter_id", "counted"))
    return {"expected": len(expected), "scanned": len(scanned & expected),
            "extra": len(scanned - expected),
            "shelters": [{"shelter": s, "expected": per_shelter.get(s.id, 0),
                          "counted": counted.get(s.id)} for s in shelters.order_by("name")]}


def roll_calls_list(*, user, site: Site, day: dt.date | None = None,
                    limit: int = 100) -> list[RollCall]:
    access.require(user, Perm.CAMP_VIEW, site)
    qs = RollCall.objects.filter(site=site).select_related("block", "shelter", "taken_by")
    if day is not None:
        qs = qs.filter(day=day)
    return list(qs.order_by("-started_at")[:limit])


def discrepancies_open(*, user, site: Site) -> list[RollCall]:
    access.require(user, Perm.CAMP_VIEW, site)
    return list(RollCall.objects.filter(site=site, status=RollCallStatus.DISCREPANCY)
                .select_related("block", "shelter").order_by("-started_at")[:100])


# --- distributions -----------------------------------------------------------------------

@dataclass
class StockRow:
    item: ItemType
    days_of_supply: float | None
    today: int


def camp_population(*, site: Site) -> int:
    """People the camp holds and feeds: interned, hospitalised, detained (register count)."""
    return Person.objects.filter(current_site=site, status__in=POPULATION_STATUSES).count()


def stock_rows(*, user, site: Site, population: int | None = None) -> list[StockRow]:
    """Stock of each item and days of supply left at the current population."""
    access.require(user, Perm.CAMP_VIEW, site)
    if population is None:
        population = camp_population(site=site)
    today = timezone.localdate()
    done = dict(DailyDistribution.objects.filter(site=site, day=today)
                .values_list("item_id", "quantity"))
    rows = []
    for item in ItemType.objects.filter(site=site).prefetch_related("excludes").order_by(
            "-is_active", "name_en"):
        need = population * item.per_person_per_day
        days = float(item.stock / need) if need else None
        rows.append(StockRow(item, days, done.get(item.id, 0)))
    return rows


@dataclass
class HostingCost:
    days: int
    total: Decimal
    person_days: int
    per_person_per_day: Decimal | None


def hosting_cost(*, site: Site, days: int = 30, population: int | None = None) -> HostingCost:
    """Cost of hosting over the last ``days`` days, per person and per day (Hague V art. 12:
    the state claims the upkeep of interned troops back at the peace). Person-days are the
    current population times the days; a per-day head count would refine it."""
    today = timezone.localdate()
    since = today - dt.timedelta(days=days - 1)
    total = DailyDistribution.objects.filter(site=site, day__gte=since, day__lte=today) \
        .aggregate(t=Sum("cost"))["t"] or Decimal("0")
    total = Decimal(total).quantize(Decimal("0.01"))
    if population is None:
        population = camp_population(site=site)
    person_days = population * days
    per = (total / person_days).quantize(Decimal("0.01")) if person_days else None
    return HostingCost(days, total, person_days, per)


def distributions_recent(*, user, site: Site, limit: int = 30):
    access.require(user, Perm.CAMP_VIEW, site)
    return list(Distribution.objects.filter(site=site).select_related("item", "person", "actor")
                .order_by("-at")[:limit])


# --- incidents ---------------------------------------------------------------------------

def incidents_visible(*, user, site: Site):
    """Incidents at ``site`` the user may see: sensitive types only with
    Perm.INCIDENT_SENSITIVE_VIEW (they are not counted for anyone else either)."""
    access.require(user, Perm.CAMP_VIEW, site)
    qs = Incident.objects.filter(site=site)
    if not access.can(user, Perm.INCIDENT_SENSITIVE_VIEW, site):
        qs = qs.filter(is_sensitive=False)
    return qs


def incident_get(*, user, incident_id) -> Incident:
    incident = _guarded(Incident.objects.select_related("site", "block", "reported_by"), user,
                        id=incident_id)
    if incident.is_sensitive and not access.can(user, Perm.INCIDENT_SENSITIVE_VIEW,
                                                incident.site):
        raise NotFound()  # need-to-know: it does not exist for this user
    return incident


# --- dashboard ---------------------------------------------------------------------------

def camp_dashboard(*, user, site: Site, layout: Layout | None = None) -> dict:
    """Figures of the camp dashboard, each from the register itself (no cached counter):
    population by status, occupancy, today's roll calls, people out, distributions today,
    open incidents and discrepancies. A fixed number of queries.

    Give the ``layout`` already read for the plan and "housed" and "capacity" come from its
    per-shelter counts instead of two more queries over the assignments and shelters."""
    access.require(user, Perm.CAMP_VIEW, site)
    today = timezone.localdate()
    # COUNT(*), not COUNT(id): the (current_site, status) index answers it without reading
    # a single person row
    by_status = dict(Person.objects.filter(current_site=site).values_list("status")
                     .annotate(n=Count("*")).order_by())
    population = sum(by_status.get(s, 0) for s in POPULATION_STATUSES)
    if layout is not None and layout.site.pk == site.pk:
        housed, capacity = layout.housed, layout.capacity
    else:
        housed = Assignment.objects.filter(site=site, end_at__isnull=True).count()
        capacity = Shelter.objects.filter(site=site, is_active=True).aggregate(
            c=Sum("capacity"))["c"] or 0
    rc = RollCall.objects.filter(site=site, day=today).exclude(status=RollCallStatus.OPEN) \
        .aggregate(n=Count("id"), expected=Sum("expected"), present=Sum("present"),
                   missing=Sum("missing"), unexpected=Sum("unexpected"))
    now = timezone.now()
    out = Movement.objects.filter(site=site, is_open=True).aggregate(
        n=Count("id"), overdue=Count("id", filter=Q(due_back_at__lt=now)))
    dist_today = DailyDistribution.objects.filter(site=site, day=today).aggregate(
        q=Sum("quantity"), c=Sum("cost"))
    incidents_open = incidents_visible(user=user, site=site).filter(is_closed=False).count()
    discrepancies = RollCall.objects.filter(site=site, status=RollCallStatus.DISCREPANCY).count()
    return {
        "site": site, "by_status": {s: by_status.get(s, 0) for s in Status.values
                                    if by_status.get(s)},
        # (translated status name, count) for the page
        "by_status_labels": [(label, by_status[value]) for value, label in Status.choices
                             if by_status.get(value)],
        "population": population, "housed": housed, "capacity": capacity,
        "unhoused": max(by_status.get(Status.INTERNED, 0) - housed, 0),
        "rollcalls_today": rc["n"] or 0, "rc_expected": rc["expected"] or 0,
        "rc_present": rc["present"] or 0, "rc_missing": rc["missing"] or 0,
        "rc_unexpected": rc["unexpected"] or 0,
        "out": out["n"] or 0, "overdue": out["overdue"] or 0,
        "distributed_today": dist_today["q"] or 0, "cost_today": dist_today["c"] or 0,
        "incidents_open": incidents_open, "discrepancies_open": discrepancies,
    }


def block_rows(*, user, site: Site) -> dict:
    """Open-assignment count per block, for the dashboard and the plan."""
    access.require(user, Perm.CAMP_VIEW, site)
    return dict(Assignment.objects.filter(site=site, end_at__isnull=True)
                .values_list("block_id").annotate(n=Count("*")).order_by())

