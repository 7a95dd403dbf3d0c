"""Reads of identity resolution, already scoped to what the user may see.

Registry duplicates need ``Perm.MATCH_REVIEW`` and both persons visible to the user.
Watch lists, their hits and screening runs belong to the accountability compartment: without
``Perm.COMPARTMENT_VIEW`` they do not exist (``NotFound``, empty lists, no counts).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from django.db import connection, transaction
from django.db.models import Count, Q, QuerySet

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.audit import audit_read
from mawa.core.errors import NotFound
from mawa.matching import engine
from mawa.matching.models import (
    IndexedPerson,
    IndexKey,
    MatchPair,
    MatchRun,
    NameCount,
    PairKind,
    PersonMerge,
    RunKind,
    Watchlist,
    WatchlistEntry,
    WatchlistKey,
)
from mawa.names import Match, NameFrequencies, NameRecord, Prepared, Scorer, name_keys, prepare
from mawa.reception.models import IdentityDocument, Person
from mawa.reception.selectors import persons_visible

# How many indexed persons sharing keys with a query are scored at most (the ones sharing
# most keys first). Scoring one candidate costs ~0.3 ms of CPU, so the count decides the
# latency: runs over an import score more, a registration and the suggestion panel fewer.
MAX_CANDIDATES = 300
REGISTER_CANDIDATES = 100
TYPING_CANDIDATES = 60
# A key shared by more persons than this (محمد + a frequent family name at a million) is
# skipped when the query has more specific keys, as ``names.NameIndex`` skips large blocks:
# counting its members would cost more than the suggestion may, and they are mostly others.
MAX_BLOCK = 2000
# Prepared forms of indexed records, by content (a ``NameRecord`` is frozen and hashable):
# parsing a record costs as much as scoring it, and the same common-name candidates come back
# query after query. Keyed by the whole record, so a re-indexed person is never served stale.
PREPARED_CACHE = 50_000


# --- engine reads ----------------------------------------------------------------------------

def _fkeys(p: Prepared) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for q in (p, *p.aliases):
        for slot in (q.given, q.father, q.grandfather, q.mother):
            out |= {("given", u.fkey) for u in slot}
        out |= {("family", u.fkey) for u in q.family}
        if q.place:
            out.add(("place", q.place))
    return out


def index_scorer(population: list[Prepared] | None = None, query: Prepared | None = None
                 ) -> Scorer:
    """A scorer weighting names by their frequency in the registry.

    With ``population``: counted from those records (a whole-registry run). With ``query``:
    only the counts the query's names need are read from ``NameCount`` (one small query).
    """
    if population is not None:
        return Scorer(NameFrequencies.from_records(population))
    wanted = _fkeys(query) if query is not None else set()
    cond = Q(key="")
    for pool in {"given", "family", "place"}:
        keys = [k for p, k in wanted if p == pool]
        if keys:
            cond |= Q(pool=pool, key__in=keys)
    counts = {(p, k): n for p, k, n in NameCount.objects.filter(cond).values_list(
        "pool", "key", "count")}
    return Scorer(engine.frequencies(counts))


@lru_cache(maxsize=PREPARED_CACHE)
def prepared_record(record: NameRecord) -> Prepared:
    """``names.prepare`` of a stored record, kept in memory (see ``PREPARED_CACHE``)."""
    return prepare(record)


def _block_sizes(keys: list[str]) -> dict[str, int]:
    """How many index rows each key has, counted only up to ``MAX_BLOCK + 1`` (one query;
    each count stops early, so a huge block costs no more than a small one)."""
    qn = connection.ops.quote_name
    part = (f"SELECT CAST(%s AS VARCHAR(200)), (SELECT COUNT(*) FROM (SELECT 1 FROM "  # noqa: S608
            f"{qn(IndexKey._meta.db_table)} WHERE {qn('key')} = %s LIMIT %s) AS b)")
    sql = " UNION ALL ".join([part] * len(keys))
    params: list = []
    for k in keys:
        params += [k, k, MAX_BLOCK + 1]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return dict(cur.fetchall())


def index_candidates(p: Prepared, *, exclude=None, limit: int = 5,
                     extra_ids: list | None = None,
                     max_candidates: int = MAX_CANDIDATES) -> list[tuple[object, float, Match]]:
    """Indexed persons most likely to be ``p``: (person id, probability, match), best first.

    Blocking keys select the persons to compare (those sharing most keys first, at most
    ``max_candidates``; keys of more than ``MAX_BLOCK`` persons are left out unless the query
    has no other); each is scored with ``names`` against its main name and aliases.
    ``extra_ids`` are compared as well (e.g. found by document number).
    """
    keys = sorted(name_keys(p))
    ids: list = []
    if keys:
        sizes = _block_sizes(keys)
        usable = [k for k in keys if 0 < sizes.get(k, 0) <= MAX_BLOCK]
        if not usable:
            # only huge blocks (e.g. a given and a very common family name typed so far):
            # the smallest still gives the officer something to look at (an empty key, e.g.
            # with a typo in the father's name, is not the smallest block: it is none)
            filled = [k for k in keys if sizes.get(k, 0) > 0]
            usable = [min(filled, key=lambda k: sizes[k])] if filled else []
        if len(usable) == 1:
            # One block: every member shares exactly one key, so "most keys first, newest
            # first" is "newest first" — read straight off the (key, person) index, stopping
            # after ``max_candidates``, instead of grouping a block of 100,000 persons.
            # (Only active persons have keys: no join to ``IndexedPerson`` is needed.)
            ids = list(IndexKey.objects.filter(key=usable[0]).order_by("-person_id")
                       .values_list("person_id", flat=True)[:max_candidates])
        elif usable:
            rows = (IndexKey.objects.filter(key__in=usable)
                    .values("person_id").annotate(n=Count("*"))
                    .order_by("-n", "-person_id")[:max_candidates])
            ids = [r["person_id"] for r in rows]
    ids += [i for i in extra_ids or () if i not in ids]
    if exclude is not None:
        ids = [i for i in ids if i != exclude]
    if not ids:
        return []
    scorer = index_scorer(query=p)
    out = []
    for pid, record in IndexedPerson.objects.filter(person_id__in=ids, active=True).values_list(
            "person_id", "record"):
        target = prepared_record(engine.record_from_json(record))
        probability, match = engine.score(scorer, p, target)
        out.append((pid, probability, match))
    out.sort(key=lambda t: -t[1])
    return out[:limit]


def watchlist_candidates(p: Prepared, *, watchlist: Watchlist | None = None, limit: int = 5
                         ) -> list[tuple[object, float, Match]]:
    """Entries of the active watch lists (or of ``watchlist``) most likely to be ``p``."""
    keys = list(name_keys(p))
    if not keys:
        return []
    qs = WatchlistKey.objects.filter(key__in=keys)
    qs = (qs.filter(entry__watchlist=watchlist) if watchlist is not None
          else qs.filter(entry__watchlist__active=True))
    ids = [r["entry_id"] for r in qs.values("entry_id").annotate(n=Count("id"))
           .order_by("-n")[:MAX_CANDIDATES]]
    if not ids:
        return []
    scorer = Scorer()  # the built-in prior: a list is too small to learn frequencies from
    out = []
    for eid, record in WatchlistEntry.objects.filter(id__in=ids).values_list("id", "record"):
        probability, match = engine.score(scorer, p, prepare(engine.record_from_json(record)))
        out.append((eid, probability, match))
    out.sort(key=lambda t: -t[1])
    return out[:limit]


# --- suggestions while typing -----------------------------------------------------------------

@dataclass
class Suggestion:
    person: Person
    probability: float
    reasons: list[dict]  # stored-reason dicts: code, text, weight


def candidates_for(*, user, data: dict, limit: int = 5, min_probability: float = 0.05
                   ) -> list[Suggestion]:
    """Registered persons that may be who is being typed in the registration form.

    ``data`` holds the form's fields (``given_ar``, ``family_lat``, ``service_number``,
    ``document_numbers`` …). Only persons ``user`` may see are returned; merged duplicates
    never (their survivor is).
    """
    if not access.can(user, Perm.PERSON_VIEW):
        return []
    record = engine.typed_record(data)
    p = prepare(record)
    doc_keys = [k for k in (_doc_key(n) for n in data.get("document_numbers") or []) if k]
    by_doc = list(IdentityDocument.objects.filter(number_key__in=doc_keys).values_list(
        "person_id", flat=True)[:20]) if doc_keys else []
    if not (p.has_name or p.military_id or by_doc):
        return []
    found = index_candidates(p, limit=limit * 4, extra_ids=by_doc,
                             max_candidates=TYPING_CANDIDATES)
    if by_doc:
        found = [_with_document(pid, prob, m) if pid in by_doc else (pid, prob, m)
                 for pid, prob, m in found]
        found.sort(key=lambda t: -t[1])
    found = [t for t in found if t[1] >= min_probability]
    if not found:
        return []
    visible = {p.pk: p for p in persons_visible(user=user).filter(
        id__in=[t[0] for t in found]).select_related("group")}
    out = [Suggestion(visible[pid], prob, engine.reasons_json(m))
           for pid, prob, m in found if pid in visible]
    return out[:limit]


def _doc_key(number) -> str:
    from mawa.reception.values import document_key

    return document_key(str(number or ""))


_DOCUMENT_BITS = 14.0  # as strong as a shared national ID in mawa.names


def _with_document(pid, probability: float, match: Match):
    from mawa.names import Reason

    reasons = (Reason("document_number.same", "document number: same", _DOCUMENT_BITS),
               *match.reasons)
    weight = match.weight + _DOCUMENT_BITS
    p = Scorer().probability(weight)
    return pid, p, Match(p, weight, reasons)


# --- the review queue -------------------------------------------------------------------------

def _visible_pairs(user) -> QuerySet[MatchPair]:
    """Every suggestion ``user`` may see: duplicates between persons they see; watch-list
    hits only inside the compartment."""
    qs = MatchPair.objects.none()
    if access.can(user, Perm.MATCH_REVIEW):
        persons = persons_visible(user=user).values("id")
        qs = MatchPair.objects.filter(kind=PairKind.DUPLICATE, person_a__in=persons,
                                      person_b__in=persons)
    if access.can(user, Perm.COMPARTMENT_VIEW):
        hits = MatchPair.objects.filter(kind=PairKind.WATCHLIST)
        qs = qs | hits if access.can(user, Perm.MATCH_REVIEW) else hits
    return qs


def pair_queue(*, user, kind: str = PairKind.DUPLICATE, decided: bool = False,
               limit: int = 100) -> list[MatchPair]:
    """Suggestions awaiting a decision (or decided), most probable first."""
    if kind == PairKind.WATCHLIST:
        access.require(user, Perm.COMPARTMENT_VIEW)
    else:
        access.require(user, Perm.MATCH_REVIEW)
    qs = _visible_pairs(user).filter(kind=kind)
    qs = qs.exclude(decision="") if decided else qs.filter(decision="")
    qs = qs.select_related("person_a", "person_b", "entry__watchlist", "decided_by")
    order = ["-decided_at", "id"] if decided else ["-probability", "id"]
    return list(qs.order_by(*order)[:limit])


def pair_count_open(*, user) -> int:
    """Open registry-duplicate suggestions ``user`` may decide (dashboard, menu badge)."""
    if not access.can(user, Perm.MATCH_REVIEW):
        return 0
    return _visible_pairs(user).filter(kind=PairKind.DUPLICATE, decision="").count()


def pair_get(*, user, pair_id) -> MatchPair:
    """One suggestion, the reads of the persons in it audited. Missing, not visible and
    compartment content for a non-investigator all answer the same ``NotFound``."""
    if not (access.can(user, Perm.MATCH_REVIEW) or access.can(user, Perm.COMPARTMENT_VIEW)):
        access.require(user, Perm.MATCH_REVIEW)
    with transaction.atomic():
        try:
            pair = _visible_pairs(user).select_related(
                "person_a__site", "person_a__current_site", "person_b__site",
                "person_b__current_site", "entry__watchlist", "decided_by").get(pk=pair_id)
        except (MatchPair.DoesNotExist, ValueError, TypeError):
            raise NotFound() from None
        except Exception as exc:  # malformed UUID text
            from django.core.exceptions import ValidationError

            if isinstance(exc, ValidationError):
                raise NotFound() from None
            raise
        audit_read(actor=user, obj=pair.person_a)
        if pair.person_b is not None:
            audit_read(actor=user, obj=pair.person_b)
    return pair


def person_merge_of(*, person: Person) -> PersonMerge | None:
    """Where ``person`` was merged to, if they were (for the person page)."""
    return PersonMerge.objects.filter(duplicate=person).select_related("survivor").first()


# --- runs and watch lists -------------------------------------------------------------------

def run_list(*, user, limit: int = 50) -> list[MatchRun]:
    """Runs the user may see: de-duplication runs with ``MATCH_RUN``; screening runs only
    inside the compartment."""
    kinds = []
    if access.can(user, Perm.MATCH_RUN):
        kinds += [RunKind.DEDUPE_REGISTRY, RunKind.DEDUPE_PERSONS]
    if access.can(user, Perm.COMPARTMENT_VIEW):
        kinds.append(RunKind.SCREEN_REGISTRY)
    if not kinds:
        access.require(user, Perm.MATCH_RUN)
    return list(MatchRun.objects.filter(kind__in=kinds).select_related(
        "started_by", "watchlist").order_by("-started_at")[:limit])


def watchlist_list(*, user) -> list[Watchlist]:
    access.require(user, Perm.COMPARTMENT_VIEW)
    return list(Watchlist.objects.select_related("imported_by").annotate(
        open_hits=Count("entries__hits", filter=Q(entries__hits__decision=""))))



_TEMPLATE_CODES = {"military_id.same": "service_number", "national_id.same": "document_number",
                   "document_number.same": "document_number"}


def registration_reasons(reasons: list[dict]) -> list[str]:
    """What speaks for a suggestion, for the registration page's "Same: …" line: the codes
    that page knows (``name.given``, ``service_number`` …) or a translated sentence."""
    from mawa.matching.reasons import reason_text

    out: list[str] = []
    for r in reasons:
        if r["weight"] <= 0 or r["code"] == "family_group.capped":
            continue
        field, _dot, level = r["code"].partition("_name.")
        if level in ("exact", "variant", "typo") and field in ("given", "father",
                                                                "grandfather", "family"):
            code = f"name.{field}"
        else:
            code = _TEMPLATE_CODES.get(r["code"]) or reason_text(r["code"], r.get("text", ""))
        if code not in out:
            out.append(code)
    return out
