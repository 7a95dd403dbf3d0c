"""Tiered registration (UNHCR's practice at reception): what is still missing, per person and
per arrival group.

Tier 1 is the quick record taken at a crowded gate — a name, sex, an approximate age and the
group — made with ``services.person_register`` and an ``approximate_age``. Tier 2 is the
individual registration completed later with ``services.person_update``. This module only
reads: it names the tier-2 items still missing so that the officer knows whom to call back
and what to ask.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from mawa.reception.models import (
    ArrivalGroup,
    Category,
    DatePrecision,
    IdentityDocument,
    Person,
    Sex,
)


@dataclass(frozen=True)
class Item:
    """One item of a registration: its name, label, and the condition (a Q over Person)
    under which it counts as *missing*."""

    name: str
    label: object
    missing: Q
    combatants_only: bool = False


def _blank(*names: str) -> Q:
    q = Q()
    for n in names:
        q &= Q(**{n: ""})
    return q


TIER1 = (
    Item("name", _("a name"), _blank("given_ar", "given_lat", "family_ar", "family_lat")),
    Item("sex", _("sex"), Q(sex=Sex.UNKNOWN)),
    Item("age", _("age or year of birth"), Q(birth_year__isnull=True)),
    Item("group", _("arrival group"), Q(group__isnull=True)),
)

TIER2 = (
    Item("given", _("given name"), _blank("given_ar", "given_lat")),
    Item("father", _("father's name"), _blank("father_ar", "father_lat")),
    Item("grandfather", _("grandfather's name"), _blank("grandfather_ar", "grandfather_lat")),
    Item("family", _("family name"), _blank("family_ar", "family_lat")),
    Item("mother", _("mother's given name"), _blank("mother_given_ar", "mother_given_lat")),
    Item("latin", _("name in Latin letters"), _blank("given_lat", "family_lat")),
    Item("birth", _("date of birth (at least the month)"),
         Q(birth_precision__in=[DatePrecision.YEAR, DatePrecision.ESTIMATED,
                                DatePrecision.UNKNOWN])),
    Item("place_of_birth", _("place of birth"), Q(place_of_birth="")),
    Item("nationality", _("nationality"), Q(nationality="")),
    Item("document", _("an identity document"), Q(has_document=False)),
    Item("service_number", _("service number"), Q(service_number=""), combatants_only=True),
    Item("rank", _("rank"), Q(rank=""), combatants_only=True),
    Item("unit", _("unit"), Q(unit=""), combatants_only=True),
    Item("family_contact", _("family contact"),
         _blank("family_contact_name", "family_contact_phone", "family_contact_address")),
    Item("photo", _("photo"), Q(photo="") | Q(photo__isnull=True)),
)


def _with_document(qs):
    return qs.annotate(has_document=Exists(IdentityDocument.objects.filter(
        person=OuterRef("pk"))))


def _applies(item: Item, person: Person) -> bool:
    return not item.combatants_only or person.category == Category.COMBATANT


def _missing_in_python(item: Item, person: Person, has_document: bool) -> bool:
    values = {"has_document": has_document}
    return _eval(item.missing, person, values)


def _eval(q: Q, person: Person, extra: dict) -> bool:
    results = []
    for child in q.children:
        if isinstance(child, Q):
            results.append(_eval(child, person, extra))
            continue
        lookup, expected = child
        name, _sep, op = lookup.partition("__")
        actual = extra[name] if name in extra else getattr(
            person, f"{name}_id" if name == "group" else name)
        if name == "photo":
            actual = str(actual or "")
            expected = "" if expected is True else expected
        if op == "isnull":
            results.append((actual is None) == expected)
        elif op == "in":
            results.append(actual in expected)
        else:
            results.append(actual == expected)
    value = any(results) if q.connector == Q.OR else all(results)
    return not value if q.negated else value


@dataclass
class PersonCompleteness:
    tier1_missing: list[Item]
    tier2_missing: list[Item]
    percent: int

    @property
    def tier(self) -> int:
        """1: the quick gate record is not even complete; 2: quick record only, details
        missing; 3: complete."""
        if self.tier1_missing:
            return 1
        return 2 if self.tier2_missing else 3

    @property
    def missing_labels(self) -> list[str]:
        return [str(i.label) for i in self.tier1_missing + self.tier2_missing]


def person_completeness_detail(person: Person) -> PersonCompleteness:
    """Which items of the registration ``person`` still lacks (one query, for documents)."""
    has_document = getattr(person, "has_document", None)
    if has_document is None:
        has_document = person.documents.exists()
    t1 = [i for i in TIER1 if _missing_in_python(i, person, has_document)]
    applicable = [i for i in TIER2 if _applies(i, person)]
    t2 = [i for i in applicable if _missing_in_python(i, person, has_document)]
    percent = round(100 * (len(applicable) - len(t2)) / len(applicable)) if applicable else 100
    return PersonCompleteness(t1, t2, percent)


@dataclass
class GroupCompleteness:
    total: int = 0
    complete: int = 0  # nothing missing
    quick_only: int = 0  # tier-1 complete, tier-2 items missing
    incomplete_quick: int = 0  # even the quick record lacks something
    missing: list[tuple[object, int]] = field(default_factory=list)  # (label, persons)
    missing_by_name: dict[str, int] = field(default_factory=dict)

    @property
    def percent_complete(self) -> int:
        return round(100 * self.complete / self.total) if self.total else 0


def group_completeness(group: ArrivalGroup) -> GroupCompleteness:
    """How complete the registrations of a group are, in one aggregate query: persons fully
    registered, with only the quick gate record, and how many lack each item (most-missing
    first). The caller has already been allowed to see the group."""
    qs = _with_document(Person.objects.filter(group=group))
    combat = Q(category=Category.COMBATANT)
    t1_any = Q()
    for i in TIER1:
        t1_any |= i.missing
    t2_any = Q()
    for i in TIER2:
        t2_any |= (i.missing & combat) if i.combatants_only else i.missing
    aggregates = {"total": Count("id"),
                  "t1": Count("id", filter=t1_any),
                  "incomplete": Count("id", filter=t1_any | t2_any)}
    for i in TIER1 + TIER2:
        aggregates[f"m_{i.name}"] = Count(
            "id", filter=(i.missing & combat) if i.combatants_only else i.missing)
    row = qs.aggregate(**aggregates)
    out = GroupCompleteness(total=row["total"], incomplete_quick=row["t1"])
    out.complete = row["total"] - row["incomplete"]
    out.quick_only = row["incomplete"] - row["t1"]
    seen = set()
    for i in TIER1 + TIER2:
        n = row[f"m_{i.name}"]
        if n and i.name not in seen:
            seen.add(i.name)
            out.missing.append((i.label, n))
            out.missing_by_name[i.name] = n
    out.missing.sort(key=lambda pair: -pair[1])
    return out


def persons_incomplete(*, persons_qs, limit: int = 100):
    """Persons of ``persons_qs`` (already scoped) lacking any tier-2 item, oldest first, with
    ``has_document`` annotated so that ``person_completeness_detail`` needs no more query."""
    any_missing = Q()
    for i in TIER1 + TIER2:
        any_missing |= (i.missing & Q(category=Category.COMBATANT)) if i.combatants_only \
            else i.missing
    return list(_with_document(persons_qs).filter(any_missing).order_by("id")[:limit])


__all__ = ["TIER1", "TIER2", "GroupCompleteness", "PersonCompleteness", "group_completeness",
           "person_completeness_detail", "persons_incomplete"]
