"""Reads of the reception register, already scoped to what the user may see.

A person is visible at the site that registered them and at the site that holds them now
(``access.scope`` over both). Reading one person is always audited (protection.md R5), in the
same transaction as the read, so that a failed audit write fails the read (R14 "fail closed").
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Value
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import display
from mawa.core.audit import audit, audit_read
from mawa.core.hooks import hook_ask
from mawa.core.ids import short_code_normalise
from mawa.names import search_keys
from mawa.reception.fieldinfo import SENSITIVE, SENSITIVE_PERSON_FIELDS
from mawa.reception.models import (
    ArrivalGroup,
    IdentityDocument,
    Person,
    PersonNameKey,
    Status,
)
from mawa.reception.values import document_key, document_lookup

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
    try:
        before = uuid.UUID(str(before)) if before else None
    except ValueError:  # a mangled cursor gives the first page, as the person list does
        before = None
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
    # a merged duplicate is not one more person of the group (issue 15)
    rows = (Person.objects.filter(group_id__in=group_ids).exclude(status=Status.MERGED)
            .values("group_id", "status").annotate(n=Count("id")).order_by())
    for row in rows:
        c = out.setdefault(row["group_id"], GroupCounts())
        c.by_status[row["status"]] = row["n"]
        c.registered_total += row["n"]
    return out


def arrival_group_counts(group_ids: list) -> dict:
    """Group id → ``GroupCounts`` as the group pages show them (no access check: the
    consistency check compares them with the register)."""
    return _group_counts(group_ids)


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


#: labels of lifecycle ``details`` keys (sites are shown by name, the rest as written)
HISTORY_LABELS = {
    "camp": _("camp"), "referral_to": _("referred to"), "facility": _("facility"),
    "authority": _("authority"), "decision": _("decision"), "note": _("note"),
    "date": _("date"), "destination": _("destination"), "reason": _("reason"),
}


def person_history(*, person: Person):
    """Lifecycle events oldest first; each carries ``shown``: its details as (translated
    label, text) pairs, a camp by its name."""
    events = list(person.events.select_related("actor", "site").order_by("at", "id"))
    for e in events:
        # an attribute for the page only, not a field
        e.shown = display.labelled(  # type: ignore[attr-defined]
            e.details or {}, model=Person, labels=HISTORY_LABELS, sites=("camp",))
    return events


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


# Counts that choose where a name search starts are read up to this bound: enough to tell a
# rare key (or a small group, a rare status, a small site) from a common one, at the cost of
# reading at most this many index entries each.
SEARCH_COUNT_CAP = 5_000


def _search_keys(text: str) -> list[str]:
    """The name keys a search must all find (every name typed matches some name part), at most
    six; a name typed twice is one condition. The keys are ``mawa.names.search_keys``, the
    ones the person's names were stored with, so every spelling the matching engine holds to
    be one name finds it (عبدالرحمن, Abdelrahman and Abd al-Rahman find عبد الرحمن)."""
    return list(search_keys(text, query=True)[:6])


def _capped_counts(querysets: list[QuerySet]) -> list[int]:
    """The number of rows of each queryset, counted up to ``SEARCH_COUNT_CAP``, in one query
    (each reads at most that many entries of an index)."""
    parts: list[str] = []
    params: list[Any] = []
    for i, qs in enumerate(querysets):
        # a constant, not a column: any index on the filtered columns then covers the count
        sql, p = qs.order_by().values(one=Value(1))[:SEARCH_COUNT_CAP].query.sql_with_params()
        parts.append(f"(SELECT count(*) FROM ({sql}) c{i})")  # noqa: S608
        params += p
    with connection.cursor() as cur:
        cur.execute("SELECT " + ", ".join(parts), params)  # noqa: S608
        return [int(n) for n in cur.fetchone()]


def _person_conditions(prefix: str, *, group_id, status) -> Q:
    """The list's filters (group, status) on a person reached by ``prefix``."""
    q = Q()
    if group_id:
        q &= Q(**{f"{prefix}group_id": group_id})
    if status:
        q &= Q(**{f"{prefix}status": status})
    return q


def _carries(key: str, person_ref: str) -> Exists:
    """Whether the person at ``person_ref`` carries ``key`` in some name part: one probe of
    the (key, person) index."""
    return Exists(PersonNameKey.objects.filter(key=key, person_id=OuterRef(person_ref)))


def _name_match_ids(user, keys: list[str], n: int, *, group_id, status, before) -> list:
    """Ids of the ``n`` newest persons ``user`` may see who carry every key and pass the
    filters, newest first.

    The former ``id IN (persons with key 1) AND id IN (persons with key 2) …`` read every
    person of every key and sorted them: at 1,000,000 persons محمد alone has 800,000 key rows
    (seconds). Here one side is walked, newest first, stopping at ``n`` matches; the smallest
    of three: the rarest key (its (key, person) index range read backwards, the other keys
    checked by one probe each, the site scope and the filters on the person rows reached),
    the persons with the group and status asked, or the persons of the user's sites (each
    with one probe per key). The sizes are read first, each counted up to
    ``SEARCH_COUNT_CAP``, in one query; a zero means no match at all. The walk's cost follows
    the rows it reads, not the size of the register.
    """
    sites = access.site_ids(user)
    person_filters = _person_conditions("", group_id=group_id, status=status)
    drivers: list[tuple[str, object]] = [("key", k) for k in reversed(keys)]
    sizes: list[QuerySet] = [PersonNameKey.objects.filter(key=k) for k in reversed(keys)]
    if person_filters:
        drivers.append(("filters", None))
        sizes.append(Person.objects.filter(person_filters))
    scope_sizes = [] if sites is None else [
        Person.objects.filter(**{f"{column}_id": site_id})
        for column in PERSON_SITES for site_id in sorted(sites, key=str)]
    if len(sizes) > 1 or scope_sizes:
        counts = _capped_counts(sizes + scope_sizes)
        if scope_sizes:
            # an upper bound of the visible persons (one held where registered counts twice)
            drivers.append(("scope", None))
            counts = counts[:len(sizes)] + [sum(counts[len(sizes):])]
        if min(counts) == 0:
            return []
        # ties (every count at the cap): the name typed last (the family name, usually rarer
        # than a given name), then the filters, then the sites
        kind, key = drivers[min(range(len(drivers)), key=lambda i: (counts[i], i))]
    else:
        kind, key = drivers[0]

    if kind == "key":
        qs: QuerySet = PersonNameKey.objects.filter(key=key)
        for other in keys:
            if other != key:
                qs = qs.filter(_carries(other, "person_id"))
        if person_filters:
            qs = qs.filter(_person_conditions("person__", group_id=group_id, status=status))
        if before:
            qs = qs.filter(person_id__lt=before)
        qs = access.scope(qs, user, site_field=tuple(f"person__{f}" for f in PERSON_SITES))
        # one person may carry the key in two name parts: DISTINCT, which both databases
        # apply on the index order without sorting
        return list(qs.order_by("-person_id").values_list("person_id", flat=True)
                    .distinct()[:n])
    qs = Person.objects.filter(person_filters)
    if before:
        qs = qs.filter(id__lt=before)
    for k in keys:
        qs = qs.filter(_carries(k, "pk"))
    if kind == "scope":
        return _newest_visible_ids(user, qs, n)
    return list(access.scope(qs, user, site_field=PERSON_SITES).order_by("-id")
                .values_list("id", flat=True)[:n])


def _newest_visible(user, qs: QuerySet, n: int) -> list[Person]:
    """The ``n`` newest persons of ``qs`` that ``user`` may see, newest first."""
    ids = access.site_ids(user)
    if ids is None:
        return list(qs.select_related("group", "current_site").order_by("-id")[:n])
    top = _newest_visible_ids(user, qs, n)
    return list(Person.objects.filter(id__in=top).select_related("group", "current_site")
                .order_by("-id")) if top else []


def _newest_visible_ids(user, qs: QuerySet, n: int) -> list:
    """Ids of the ``n`` newest persons of ``qs`` that ``user`` may see, newest first.

    Visibility is "registered at or held at one of my sites": an OR over two columns, for
    which both databases collect every visible row and sort them (seconds at 100,000). Asked
    instead per site and column, newest first, each is a short range of a (site, -id) index;
    the ranges go in one UNION ALL query and the ids are merged here.
    """
    ids = access.site_ids(user)
    if ids is None:
        return list(qs.order_by("-id").values_list("id", flat=True)[:n])
    parts: list[str] = []
    params: list[Any] = []
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
    return sorted(newest, reverse=True)[:n]


_SITE_INDEX = {"site": "person_site_id", "current_site": "person_cursite_id"}


def _newest_sql(qs: QuerySet, column: str, n: int) -> tuple[str, list]:
    """Django's own SQL (parameters intact) for the ``n`` newest ids of ``qs``."""
    sql, params = qs.order_by("-id").values_list("id", flat=True)[:n].query.sql_with_params()
    if connection.vendor == "sqlite":
        # SQLite's planner, once ANALYZE has seen one or two sites, prefers the
        # (site, status) index and sorts every row of the site (2 s at 100,000) over reading
        # the (site, -id) index in order (a few ms): name the index. Lists (status and group
        # filters) and name searches whose smallest side is the user's sites come here.
        table = connection.ops.quote_name(Person._meta.db_table)
        sql = sql.replace(f"FROM {table}", f"FROM {table} INDEXED BY {_SITE_INDEX[column]}", 1)
    return sql, list(params)


def person_search(*, user, q: str = "", group_id=None, status: str | None = None,
                  after=None, limit: int = 50) -> PersonPage:
    """Search and list persons, newest first, keyset-paginated on the UUIDv7 id (constant cost
    however deep the page, unlike OFFSET).

    ``q`` is a short code (with its check character), a document or service number, or name
    parts in either script: every name token must match some part of the name (any part).
    Text that could be a number and names ("محمد 12345") finds the persons matching either.
    """
    access.require(user, Perm.PERSON_VIEW)
    before = None
    if after:
        try:
            before = uuid.UUID(str(after))
        except ValueError:
            pass
    n = limit + 1
    filters = _person_conditions("", group_id=group_id, status=status)
    if before:
        filters &= Q(id__lt=before)
    q = (q or "").strip()
    code = short_code_normalise(q) if q else None
    number = document_key(q) if q and not code else ""
    by_number = Q()
    if number and any(ch.isdigit() for ch in number):
        by_number = Q(service_number=number) | Q(id__in=IdentityDocument.objects.filter(
            number_key=document_lookup(number)).values("person_id"))
    keys = _search_keys(q) if q and not code else []
    if code or (by_number and not keys):
        # a selective index of its own (short code, numbers): the visibility OR is checked
        # on the few rows it finds
        found = Q(short_code=code) if code else by_number
        rows = list(access.scope(Person.objects.filter(found, filters), user,
                                 site_field=PERSON_SITES)
                    .select_related("group", "current_site").order_by("-id")[:n])
    elif keys:
        ids = _name_match_ids(user, keys, n, group_id=group_id, status=status, before=before)
        if by_number:
            ids += access.scope(Person.objects.filter(by_number, filters), user,
                                site_field=PERSON_SITES).order_by("-id").values_list(
                "id", flat=True)[:n]
        top = sorted(set(ids), reverse=True)[:n]
        rows = list(Person.objects.filter(id__in=top).select_related("group", "current_site")
                    .order_by("-id")) if top else []
    else:
        # no search, or text that yields no key at all (punctuation): the list
        rows = _newest_visible(user, Person.objects.filter(filters), n)
    more = len(rows) > limit
    rows = rows[:limit]
    if q:
        # searches are reads of the register: one audit entry, without the query text
        with transaction.atomic():
            audit(actor=user, action="search", model="reception.person",
                  detail={"results": len(rows)})
    return PersonPage(rows, str(rows[-1].id) if more and rows else None)


# --- asked of the apps above (``core.hooks``) ---------------------------------------------
#
# Reception does not know how duplicates are found or merged: it asks, and the identity
# resolution app, which hangs off reception, answers (it registers its listeners in its
# ``AppConfig.ready``). Without a listener there are no candidates and no merges.

@dataclass
class MatchCandidate:
    """A registered person who may be the one typed, with what speaks for it: codes the
    registration page knows (``name.given``, ``service_number``, ``document_number`` …) or a
    translated sentence, and a score out of 100."""

    person: Person
    reasons: list[str]
    score: int


def person_candidates_many(*, user, queries: list[dict], limit: int = 5
                           ) -> list[list[MatchCandidate]]:
    """Possible existing records for each query (registration fields as typed: ``given_ar``,
    ``family_lat``, ``service_number``, ``document_numbers`` …), best first, one list per
    query; only records ``user`` may see.

    Asks ``person.candidates`` with ``user``, ``queries`` and ``limit``; each listener answers
    one list of ``MatchCandidate`` per query, in a fixed number of database queries for the
    whole batch (an import checks up to thousands of rows at once).
    """
    out: list[list[MatchCandidate]] = [[] for _q in queries]
    if not queries:
        return out
    answers = hook_ask("person.candidates", user=user, queries=queries, limit=limit)
    for answer in answers:
        for found, more in zip(out, answer, strict=True):
            found.extend(more)
    if len(answers) > 1:
        for i, found in enumerate(out):
            best: dict = {}
            for c in sorted(found, key=lambda c: -c.score):
                best.setdefault(c.person.pk, c)
            out[i] = list(best.values())[:limit]
    return out


def person_match_candidates(*, user, data: dict, limit: int = 5) -> list[MatchCandidate]:
    """Possible existing records for what is being typed at registration."""
    return person_candidates_many(user=user, queries=[data], limit=limit)[0]


def person_merged_into(*, person: Person):
    """Where ``person`` was merged to, if they were: an object with ``survivor`` (and its
    ``survivor_id``) and ``at``, or None. Asks ``person.merged_into`` with ``person``."""
    return next((m for m in hook_ask("person.merged_into", person=person) if m), None)
