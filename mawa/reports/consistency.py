"""The cross-app invariants of one day (``mawa consistency``, issue 15).

Each app keeps its own records: the register (lifecycle), the camp (stays, movements, roll
calls), custody (items and their events), the situation report (all of them as of a day).
They must tell one story. ``consistency_check(day=…)`` reads them as they stood at the end of
the day (midnight UTC, as the situation report does) and states each invariant with its
figures:

- ``lifecycle_vs_camp``: persons in care by lifecycle state = camp occupancy; hospitalised
  = out at hospital; judicially detained = out at court;
- ``one_open_stay``: every person in care has exactly one open stay, nobody else has one;
- ``rollcall_expectation``: roll-call expectations (housed, not out) = interned occupants
  (not on a visit);
- ``custody_items``: materiel surrendered = materiel in every custody state (per kind);
- ``groups``: reported and registered per arrival group; the group pages' figures = the
  register's (a merged duplicate counts nowhere);
- ``sitrep_vs_pages`` (today only): the situation report's figures = the camp and custody
  pages' figures;
- ``day_snapshot``: the counts kept for the day (``reports.models.DaySnapshot``, which the
  report reads instead of the register) = the same counts derived again from the records;
  the first difference is named.

``consistency_store`` keeps the last result (``mawa sitrep --store`` runs it nightly after the
stored reports); ``consistency_last`` reads it back for the reports panel.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from mawa.camp.models import TEMPORARY_KINDS, Assignment, Movement, MovementKind
from mawa.camp.selectors import camp_population
from mawa.core.models import Site, SiteKind
from mawa.custody.models import Item, State
from mawa.reception.models import ArrivalGroup, LifecycleEvent, Person, Status
from mawa.reception.selectors import arrival_group_counts
from mawa.reports import selectors
from mawa.reports.models import DayCount, DaySnapshot

IN_CARE = (Status.INTERNED, Status.HOSPITALISED, Status.DETAINED)

LABELS = {
    "lifecycle_vs_camp": _("Persons by lifecycle state = camp occupancy, hospital and court"),
    "one_open_stay": _("Every person in care has exactly one open stay"),
    "rollcall_expectation": _("Roll-call expectations = interned occupants"),
    "custody_items": _("Surrendered items = items in every custody state"),
    "groups": _("Reported and registered per arrival group"),
    "sitrep_vs_pages": _("Situation report = the camp and custody pages"),
    "day_snapshot": _("Counts kept for the day = the records"),
}


@dataclass
class Check:
    name: str
    ok: bool
    figures: dict = field(default_factory=dict)
    examples: list = field(default_factory=list)  # short codes that break it (a few)
    skipped: bool = False

    @property
    def label(self) -> str:
        return str(LABELS[self.name])


@dataclass
class ConsistencyReport:
    day: dt.date
    checks: list[Check]
    checked_at: dt.datetime | None = None

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]

    def as_dict(self) -> dict:
        return {"day": self.day.isoformat(), "ok": self.ok,
                "checked_at": (self.checked_at or timezone.now()).isoformat(),
                "checks": [{**asdict(c), "label": c.label} for c in self.checks]}


def consistency_check(*, day: dt.date | None = None) -> ConsistencyReport:
    """Check every invariant for ``day`` (today when None), as the register stood at the end
    of that day. Reads only; no access check (the command line and the nightly run)."""
    today = timezone.now().date()
    day = day or today
    end = dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC) + dt.timedelta(days=1)
    status = _statuses_then(end)
    stays = Counter(Assignment.objects.filter(start_at__lt=end).filter(
        Q(end_at__isnull=True) | Q(end_at__gte=end)).values_list("person_id", flat=True))
    out = dict(Movement.objects.filter(out_at__lt=end, kind__in=TEMPORARY_KINDS).filter(
        Q(returned_at__isnull=True) | Q(returned_at__gte=end)).values_list("person_id", "kind"))
    codes = _Codes()
    checks = [
        _lifecycle_vs_camp(status, stays, out, codes),
        _one_open_stay(status, stays, codes),
        _rollcall_expectation(status, stays, out, codes),
        _custody_items(day),
        _groups(end, status),
        _sitrep_vs_pages(day, today),
        _day_snapshot(day),
    ]
    return ConsistencyReport(day=day, checks=checks, checked_at=timezone.now())


class _Codes:
    """Short codes of a few person ids, for the examples of a check that fails."""

    def __call__(self, ids) -> list[str]:
        ids = sorted(ids, key=str)[:5]
        return sorted(Person.objects.filter(pk__in=ids).values_list("short_code", flat=True))


def _statuses_then(end: dt.datetime) -> dict:
    """Person id → lifecycle status at ``end``. A person not changed since is read from the
    row; the others from their last lifecycle event before ``end`` (none: not yet in the
    register then)."""
    status = dict(Person.objects.filter(status_changed_at__lt=end)
                  .values_list("id", "status"))
    later = list(Person.objects.filter(status_changed_at__gte=end)
                 .values_list("id", flat=True))
    for start in range(0, len(later), 900):
        for pid, to in (LifecycleEvent.objects.filter(person_id__in=later[start:start + 900],
                                                      at__lt=end)
                        .order_by("person_id", "at", "id").values_list("person_id",
                                                                       "to_status")):
            status[pid] = to  # the last one wins
    return status


def _lifecycle_vs_camp(status, stays, out, codes) -> Check:
    by = Counter(status.values())
    in_care = sum(by[s] for s in IN_CARE)
    hospital = sum(1 for k in out.values() if k == MovementKind.HOSPITAL)
    court = sum(1 for k in out.values() if k == MovementKind.COURT)
    figures = {**{f"status.{s}": by[s] for s in Status.values if by[s]},
               "in_care": in_care, "occupancy": len(stays), "out.hospital": hospital,
               "out.court": court}
    ok = (in_care == len(stays) and by[Status.HOSPITALISED] == hospital
          and by[Status.DETAINED] == court)
    examples = [] if ok else codes(
        [p for p, s in status.items() if (s in IN_CARE) != (p in stays)]
        + [p for p, s in status.items()
           if (s == Status.HOSPITALISED) != (out.get(p) == MovementKind.HOSPITAL)
           or (s == Status.DETAINED) != (out.get(p) == MovementKind.COURT)])
    return Check("lifecycle_vs_camp", ok, figures, examples)


def _one_open_stay(status, stays, codes) -> Check:
    without = [p for p, s in status.items() if s in IN_CARE and stays.get(p, 0) == 0]
    several = [p for p, n in stays.items() if n > 1]
    not_in_care = [p for p in stays if status.get(p) not in IN_CARE]
    figures = {"in_care_without_stay": len(without), "more_than_one_stay": len(several),
               "stay_not_in_care": len(not_in_care)}
    ok = not (without or several or not_in_care)
    return Check("one_open_stay", ok, figures,
                 [] if ok else codes([*without, *several, *not_in_care]))


def _rollcall_expectation(status, stays, out, codes) -> Check:
    # what a roll call expects: housed and not out (``camp.selectors.rollcall_expected_ids``)
    expected = {p for p in stays if p not in out}
    interned_here = {p for p, s in status.items() if s == Status.INTERNED and p not in out}
    figures = {"expected": len(expected), "interned_not_out": len(interned_here)}
    ok = expected == interned_here
    return Check("rollcall_expectation", ok, figures,
                 [] if ok else codes(expected ^ interned_here))


def _custody_items(day: dt.date) -> Check:
    report = selectors.sitrep_custody(selectors.sitrep_scope(user=None, day=day))
    if not report.get("available"):
        return Check("custody_items", True, skipped=True)
    figures = {}
    for row in report["rows"]:
        figures[f"{row['kind']}.surrendered"] = row["received"] + row["relotted"]
        figures[f"{row['kind']}.in_states"] = sum(row["cells"])
    return Check("custody_items", bool(report["balanced"]), figures)


def _groups(end: dt.datetime, status: dict) -> Check:
    groups = list(ArrivalGroup.objects.filter(arrived_at__lt=end)
                  .values_list("id", "short_code", "reported_count"))
    in_register = Counter(Person.objects.filter(group_id__in=[g[0] for g in groups])
                          .exclude(status=Status.MERGED)
                          .values_list("group_id", flat=True)) if groups else Counter()
    pages = arrival_group_counts([g[0] for g in groups])
    wrong = [code for gid, code, _r in groups
             if (pages[gid].registered_total if gid in pages else 0) != in_register[gid]]
    figures = {"groups": len(groups), "reported": sum(g[2] for g in groups),
               "registered": sum(in_register.values()),
               "groups_short": sum(1 for gid, _c, r in groups if in_register[gid] < r),
               "groups_over": sum(1 for gid, _c, r in groups if in_register[gid] > r),
               "pages_disagree": len(wrong)}
    return Check("groups", not wrong, figures, wrong[:5])


def _sitrep_vs_pages(day: dt.date, today: dt.date) -> Check:
    if day != today:
        return Check("sitrep_vs_pages", True, skipped=True)
    scope = selectors.sitrep_scope(user=None, day=day)
    population = selectors.sitrep_population(scope)
    camp = selectors.sitrep_camp(scope)
    custody = selectors.sitrep_custody(scope)
    camps = Site.objects.filter(kind=SiteKind.CAMP)
    page_population = sum(camp_population(site=s) for s in camps)
    page_housed = Assignment.objects.filter(end_at__isnull=True).count()
    page_custody = Item.objects.filter(state=State.IN_CUSTODY).count()
    figures = {"report.in_care": population["in_care"], "pages.in_care": page_population,
               "report.occupied": camp.get("occupied", 0), "pages.housed": page_housed,
               "report.in_custody": custody.get("in_custody", 0),
               "pages.in_custody": page_custody}
    ok = (population["in_care"] == page_population
          and camp.get("occupied", 0) == page_housed
          and custody.get("in_custody", 0) == page_custody)
    return Check("sitrep_vs_pages", ok, figures)


def _day_snapshot(day: dt.date) -> Check:
    """The snapshot kept for ``day`` against the snapshot derived again from the records: same
    rows, same counts. The first difference (in the order of the keys) is named as
    ``first_difference``: measure, registration site, site holding, keys, kept → derived."""
    if not DaySnapshot.objects.filter(day=day).exists():
        return Check("day_snapshot", True, skipped=True)

    def table(rows) -> dict:
        return {r.key(): (r.n, r.first) for r in rows}

    kept = table(DayCount.objects.filter(day=day))
    derived = table(selectors.snapshot_derive(day))
    wrong = sorted(k for k in kept.keys() | derived.keys() if kept.get(k) != derived.get(k))
    figures: dict = {"rows_kept": len(kept), "rows_derived": len(derived),
                     "differences": len(wrong)}
    if wrong:
        key = wrong[0]
        codes = dict(Site.objects.values_list("id", "code"))

        def site(value: str) -> str:
            return next((c for pk, c in codes.items() if str(pk) == value), value or "—")

        def shown(cell) -> str:
            return "none" if cell is None else f"{cell[0]}" + (
                f" (first {cell[1].isoformat()})" if cell[1] else "")

        figures["first_difference"] = (
            f"{key[0]} {site(key[1])}/{site(key[2])} {key[3]} {key[4]}: "
            f"kept {shown(kept.get(key))}, records {shown(derived.get(key))}")
    return Check("day_snapshot", not wrong, figures)


def consistency_days() -> list[dt.date]:
    """Every day from the first arrival to today (``--all-days``)."""
    first = Person.objects.order_by("arrived_at").values_list("arrived_at", flat=True).first()
    today = timezone.now().date()
    if first is None:
        return [today]
    start = min(first.astimezone(dt.UTC).date(), today)
    return [start + dt.timedelta(days=i) for i in range((today - start).days + 1)]


# --- the last result, for the managers ---------------------------------------------------------

def _last_path() -> Path:
    return Path(settings.VAR_DIR) / "reports" / "consistency-last.json"


def consistency_store(report: ConsistencyReport) -> None:
    """Keep ``report`` as the last result (written whole or not at all)."""
    path = _last_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(report.as_dict(), fh)
    tmp.replace(path)


def consistency_last() -> dict | None:
    """The last stored result (``as_dict``), or None if the check never ran here."""
    try:
        return json.loads(_last_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


__all__ = ["Check", "ConsistencyReport", "consistency_check", "consistency_days",
           "consistency_last", "consistency_store"]
