"""Reads of the reception register, already scoped to what the user may see.

A person is visible at the site that registered them and at the site that holds them now
(``access.scope`` over both). Reading one person is always audited (protection.md R5), in the
same transaction as the read, so that a failed audit write fails the read (R14 "fail closed").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.audit import audit, audit_read
from mawa.core.ids import short_code_normalise
from mawa.reception.fieldinfo import SENSITIVE, SENSITIVE_PERSON_FIELDS
from mawa.reception.models import (
    ArrivalGroup,
    IdentityDocument,
    Person,
    PersonNameKey,
    Status,
)
from mawa.reception.values import document_key, name_keys

PERSON_SITES = ("site", "current_site")

# Statuses reached only after handover to a camp (for the group's "transferred" count).
_AT_CAMP = frozenset(Status.values) - {Status.ARRIVED, Status.DISARMED, Status.REGISTERED,
                                       Status.REFERRED_OUT}


def persons_visible(*, user) -> QuerySet[Person]:
    """Every person ``user`` may see (no permission check: callers have made it)."""
    return access.scope(Person.objects.all(), user, site_field=PERSON_SITES)


# --- groups ------------------------------------------------------------------------------

def arrival_group_list(*, user, limit: int = 50, before=None) -> list[ArrivalGroup]:
    """Groups at the user's sites, newest first, keyset-paginated on the UUIDv7 id."""
    access.require(user, Perm.PERSON_VIEW)
    qs = access.scope(ArrivalGroup.objects.select_related("site"), user).order_by("-id")
    if before:
        qs = qs.filter(id__lt=before)
    groups = list(qs[:limit])
    counts = _group_counts([g.id for g in groups])
    for g in groups:
        g.counts = counts.get(g.id, GroupCounts(reported=g.reported_count))
        g.counts.reported = g.reported_count
    return groups


def arrival_group_get(*, user, group_id) -> ArrivalGroup:
    group = access.get_for_user(ArrivalGroup.objects.select_related("site", "created_by"),
                                user, Perm.PERSON_VIEW, id=group_id)
    group.counts = _group_counts([group.id]).get(group.id, GroupCounts())
    group.counts.reported = group.reported_count
    return group


@dataclass
class GroupCounts:
    """Where a group's people stand, so the officer sees who is still missing."""

    reported: int = 0
    registered_total: int = 0  # persons recorded in the register for this group
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def disarmed(self) -> int:
        """Persons past disarmament (everyone except those still only "arrived")."""
        return self.registered_total - self.by_status.get(Status.ARRIVED, 0)

    @property
    def registered(self) -> int:
        """Persons whose individual registration is complete (registered or beyond)."""
        return self.registered_total - sum(self.by_status.get(s, 0) for s in (
            Status.ARRIVED, Status.DISARMED))

    @property
    def at_camp(self) -> int:
        return sum(n for s, n in self.by_status.items() if s in _AT_CAMP)

    @property
    def referred_out(self) -> int:
        return self.by_status.get(Status.REFERRED_OUT, 0)

    @property
    def missing(self) -> int:
        """Reported at the gate but not (yet) in the register."""
        return max(0, self.reported - self.registered_total)

    @property
    def pending(self) -> int:
        """In the register but neither at a camp nor referred out."""
        return self.registered_total - self.at_camp - self.referred_out


def _group_counts(group_ids: list) -> dict:
    out: dict = {}
    if not group_ids:
        return out
    rows = (Person.objects.filter(group_id__in=group_ids).values("group_id", "status")
            .annotate(n=Count("id")).order_by())
    for row in rows:
        c = out.setdefault(row["group_id"], GroupCounts())
        c.by_status[row["status"]] = row["n"]
        c.registered_total += row["n"]
    return out


def group_persons_pending(*, user, group: ArrivalGroup, limit: int = 500) -> list[Person]:
    """Persons of the group not yet at a camp nor referred out: the officer's to-do list."""
    return list(persons_visible(user=user).filter(group=group).exclude(
        status__in=[*_AT_CAMP, Status.REFERRED_OUT]).order_by("id")[:limit])


# --- one person --------------------------------------------------------------------------

def person_get(*, user, person_id, purpose: str = "view") -> Person:
    """Load one person for ``user`` and audit the read. Missing, other site and no permission
    all answer the same NotFound."""
    with transaction.atomic():
        person = access.get_for_user(
            Person.objects.select_related("site", "current_site", "group", "registered_by"),
            user, Perm.PERSON_VIEW, site_field=PERSON_SITES, id=person_id)
        audit_read(actor=user, obj=person)
    return person


def person_sensitive_allowed(*, user, person: Person) -> bool:
    return access.can(user, Perm.PERSON_SENSITIVE_VIEW, person.current_site) or access.can(
        user, Perm.PERSON_SENSITIVE_VIEW, person.site)


def person_visible_fields(*, user, person: Person) -> set[str]:
    """Names of the person's fields ``user`` may read (field-level rule, protection.md R2)."""
    from mawa.reception.fieldinfo import PERSON_FIELDS

    if person_sensitive_allowed(user=user, person=person):
        return set(PERSON_FIELDS)
    return {n for n, info in PERSON_FIELDS.items() if info.tier != SENSITIVE}


def person_documents(*, user, person: Person) -> list[IdentityDocument]:
    """Identity documents: sensitive; an empty list for roles without the permission."""
    if not person_sensitive_allowed(user=user, person=person):
        return []
    return list(person.documents.order_by("created_at"))


def person_history(*, person: Person):
    return list(person.events.select_related("actor", "site").order_by("at", "id"))


def person_as_dict(*, user, person: Person) -> dict:
    """The person's fields ``user`` may see, JSON-ready (API and exports share it)."""
    visible = person_visible_fields(user=user, person=person)
    out = {}
    for f in Person._meta.concrete_fields:
        if f.name not in visible or f.name in ("content_hash", "client_key"):
            continue
        value = getattr(person, f.attname)
        if f.name == "photo":
            value = bool(value)
        out[f.attname if f.is_relation else f.name] = value
    out["birth"] = person.birth_display
    out["aliases"] = [{"name_ar": a.name_ar, "name_lat": a.name_lat}
                      for a in person.aliases.all()]
    out["documents"] = [{"kind": d.kind, "number": d.number, "issuer": d.issuer,
                         "expiry": d.expiry} for d in person_documents(user=user, person=person)]
    out["sensitive_hidden"] = sorted(SENSITIVE_PERSON_FIELDS - visible)
    return out


# --- lists and search --------------------------------------------------------------------

@dataclass
class PersonPage:
    persons: list[Person]
    next_cursor: str | None


def _name_filter(qs: QuerySet, text: str) -> QuerySet:
    for key in name_keys(text)[:6]:
        qs = qs.filter(id__in=PersonNameKey.objects.filter(key=key).values("person_id"))
    return qs


def _newest_visible(user, qs: QuerySet, n: int) -> list[Person]:
    """The ``n`` newest persons of ``qs`` that ``user`` may see.

    Visibility is "registered at or held at one of my sites": an OR over two columns, for
    which both databases collect every visible row and sort them (seconds at 100,000). Asked
    instead per site and column, newest first, each is a short range of a (site, -id) index;
    the ranges go in one UNION ALL query, the ids are merged here and the rows read in a
    second query.
    """
    ids = access.site_ids(user)
    if ids is None:
        return list(qs.select_related("group", "current_site").order_by("-id")[:n])
    parts, params = [], []
    for column in PERSON_SITES:
        for site_id in sorted(ids, key=str):
            sql, p = _newest_sql(qs.filter(**{f"{column}_id": site_id}), column, n)
            parts.append(f"SELECT r{len(parts)}.id FROM ({sql}) r{len(parts)}")  # noqa: S608
            params += p
    if not parts:
        return []
    with connection.cursor() as cur:
        cur.execute(" UNION ALL ".join(parts), params)
        newest = {Person._meta.pk.to_python(r[0]) for r in cur.fetchall()}
    top = sorted(newest, reverse=True)[:n]
    return list(Person.objects.filter(id__in=top).select_related("group", "current_site")
                .order_by("-id")) if top else []


_SITE_INDEX = {"site": "person_site_id", "current_site": "person_cursite_id"}


def _newest_sql(qs: QuerySet, column: str, n: int) -> tuple[str, list]:
    """Django's own SQL (parameters intact) for the ``n`` newest ids of ``qs``."""
    sql, params = qs.order_by("-id").values_list("id", flat=True)[:n].query.sql_with_params()
    if connection.vendor == "sqlite":
        # SQLite's planner, once ANALYZE has seen one or two sites, prefers the
        # (site, status) index and sorts every row of the site (2 s at 100,000) over reading
        # the (site, -id) index in order (a few ms): name the index. Lists only (status and
        # group filters); searches do not come here.
        table = connection.ops.quote_name(Person._meta.db_table)
        sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {_SITE_INDEX[column]}", 1)
    return sql, list(params)


def person_search(*, user, q: str = "", group_id=None, status: str | None = None,
                  after=None, limit: int = 50) -> PersonPage:
    """Search and list persons, newest first, keyset-paginated on the UUIDv7 id (constant cost
    however deep the page, unlike OFFSET).

    ``q`` is a short code (with its check character), a document or service number, or name
    parts in either script: every name token must match some part of the name (any part).
    """
    access.require(user, Perm.PERSON_VIEW)
    qs = Person.objects.all()
    q = (q or "").strip()
    if q:
        code = short_code_normalise(q)
        if code:
            qs = qs.filter(short_code=code)
        else:
            number = document_key(q)
            by_number = Q()
            if number and any(ch.isdigit() for ch in number):
                by_number = Q(service_number=number) | Q(id__in=IdentityDocument.objects.filter(
                    number_key=number).values("person_id"))
            if by_number and not name_keys(q):
                qs = qs.filter(by_number)
            elif by_number:
                qs = qs.filter(by_number | Q(id__in=_name_filter(
                    Person.objects.all(), q).values("id")))
            else:
                qs = _name_filter(qs, q)
    if group_id:
        qs = qs.filter(group_id=group_id)
    if status:
        qs = qs.filter(status=status)
    if after:
        try:
            qs = qs.filter(id__lt=uuid.UUID(str(after)))
        except ValueError:
            pass
    if q:
        # a search has a selective index of its own (code, number, name keys): the visibility
        # OR is checked on the few rows it finds
        rows = list(access.scope(qs, user, site_field=PERSON_SITES).select_related(
            "group", "current_site").order_by("-id")[:limit + 1])
    else:
        rows = _newest_visible(user, qs, limit + 1)
    more = len(rows) > limit
    rows = rows[:limit]
    if q:
        # searches are reads of the register: one audit entry, without the query text
        with transaction.atomic():
            audit(actor=user, action="search", model="reception.person",
                  detail={"results": len(rows)})
    return PersonPage(rows, str(rows[-1].id) if more and rows else None)


@dataclass
class MatchCandidate:
    person: Person
    reasons: list[str]
    score: int


def person_match_candidates(*, user, data: dict, limit: int = 5) -> list[MatchCandidate]:
    """Possible existing records for what is being typed at registration.

    The identity-resolution engine (``mawa.matching``, on ``mawa.names``) finds and scores
    them across scripts and spellings; only records the user may see are returned.
    """
    from mawa.matching.selectors import candidates_for, registration_reasons

    return [MatchCandidate(s.person, registration_reasons(s.reasons), round(s.probability * 100))
            for s in candidates_for(user=user, data=data, limit=limit)]
