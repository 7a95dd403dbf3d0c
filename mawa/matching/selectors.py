"""Reads of identity resolution, already scoped to what the user may see.

Registry duplicates need ``Perm.MATCH_REVIEW`` and both persons visible to the user.
Watch lists, their hits and screening runs belong to the accountability compartment: without
``Perm.COMPARTMENT_VIEW`` they do not exist (``NotFound``, empty lists, no counts).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
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
from mawa.matching.reasons import reason_text
from mawa.matching.scoring_model import model_in_use
from mawa.names import (
    Match,
    NameFrequencies,
    NameRecord,
    Prepared,
    Reason,
    Scorer,
    name_keys,
    prepare,
)
from mawa.reception.models import IdentityDocument, Person
from mawa.reception.selectors import MatchCandidate, persons_visible
from mawa.reception.values import document_lookup

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


def _name_counts(wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """``NameCount`` rows of the (pool, key) pairs ``wanted`` and the pool totals: one query
    for up to 900 names (a registration has a handful, an import batch thousands)."""
    names = sorted((pool, key) for pool, key in wanted if key)
    counts: dict[tuple[str, str], int] = {}
    for start in range(0, max(len(names), 1), 900):
        chunk = names[start:start + 900]
        cond = Q(key="") if start == 0 else Q()
        for pool in sorted({p for p, _k in chunk}):
            cond |= Q(pool=pool, key__in=[k for p, k in chunk if p == pool])
        counts.update({(p, k): n for p, k, n in NameCount.objects.filter(cond).values_list(
            "pool", "key", "count")})
    return counts


def _query_scorer(p: Prepared, counts: dict[tuple[str, str], int]) -> Scorer:
    """A scorer for ``p`` weighting its names by the counts its names alone would read."""
    totals = {k: n for k, n in counts.items() if not k[1]}
    return Scorer(engine.frequencies({**totals, **{k: counts[k] for k in _fkeys(p)
                                                   if k in counts}}), model=model_in_use())


def index_scorer(population: list[Prepared] | None = None, query: Prepared | None = None
                 ) -> Scorer:
    """A scorer weighting names by their frequency in the registry.

    With ``population``: counted from those records (a whole-registry run). With ``query``:
    only the counts the query's names need are read from ``NameCount`` (one small query).
    """
    if population is not None:
        return Scorer(NameFrequencies.from_records(population), model=model_in_use())
    if query is None:
        return Scorer(engine.frequencies(_name_counts(set())), model=model_in_use())
    return _query_scorer(query, _name_counts(_fkeys(query)))


def scorer_for(records: Sequence[Prepared]) -> Scorer:
    """A scorer weighting the names of ``records`` by their counts in the registry."""
    wanted: set[tuple[str, str]] = set()
    for p in records:
        wanted |= _fkeys(p)
    return Scorer(engine.frequencies(_name_counts(wanted)), model=model_in_use())


@lru_cache(maxsize=PREPARED_CACHE)
def prepared_record(record: NameRecord) -> Prepared:
    """``names.prepare`` of a stored record, kept in memory (see ``PREPARED_CACHE``)."""
    return prepare(record)


def _block_sizes(keys: list[str]) -> dict[str, int]:
    """How many index rows each key has, counted only up to ``MAX_BLOCK + 1`` (one query
    for up to 450 keys, below SQLite's limit of 500 terms in a compound SELECT; each count
    stops early, so a huge block costs no more than a small one)."""
    qn = connection.ops.quote_name
    part = (f"SELECT CAST(%s AS VARCHAR(200)), (SELECT COUNT(*) FROM (SELECT 1 FROM "  # noqa: S608
            f"{qn(IndexKey._meta.db_table)} WHERE {qn('key')} = %s LIMIT %s) AS b)")
    sizes: dict[str, int] = {}
    for start in range(0, len(keys), 450):
        chunk = keys[start:start + 450]
        params: list = []
        for k in chunk:
            params += [k, k, MAX_BLOCK + 1]
        with connection.cursor() as cur:
            cur.execute(" UNION ALL ".join([part] * len(chunk)), params)
            sizes.update(dict(cur.fetchall()))
    return sizes


def _usable_keys(keys: list[str], sizes: dict[str, int]) -> list[str]:
    """The keys of a query worth reading: its blocks of at most ``MAX_BLOCK`` persons; with
    none, its smallest block that is not empty (e.g. a given and a very common family name
    typed so far: it still gives the officer something to look at; an empty key, e.g. a typo
    in the father's name, is not the smallest block: it is none)."""
    usable = [k for k in keys if 0 < sizes.get(k, 0) <= MAX_BLOCK]
    if not usable:
        filled = [k for k in keys if sizes.get(k, 0) > 0]
        usable = [min(filled, key=lambda k: sizes[k])] if filled else []
    return usable


def _sharing_most(usable_of: list[list[str]], sizes: dict[str, int],
                  max_candidates: int) -> list[list]:
    """For each query's usable keys, the indexed persons sharing most of them, the newest
    first among equals, at most ``max_candidates`` (only active persons have keys).

    A query alone: its one block is read straight off the (key, person) index, newest first,
    stopping after ``max_candidates``; several blocks are counted by the database (one short
    query: suggestions while typing read no more rows than they rank). Many queries: the
    members of all their blocks are read together (a few queries for the whole batch) and
    counted here, which ranks them the same way. A block larger than ``MAX_BLOCK`` is only
    ever a query's one block: only its newest ``max_candidates`` are read."""
    if len(usable_of) == 1:
        (usable,) = usable_of
        if len(usable) == 1:
            # every member shares exactly the one key: "most keys first, newest first" is
            # "newest first", read off the index instead of grouping a block of 100,000
            return [list(IndexKey.objects.filter(key=usable[0]).order_by("-person_id")
                         .values_list("person_id", flat=True)[:max_candidates])]
        rows = (IndexKey.objects.filter(key__in=usable)
                .values("person_id").annotate(n=Count("*"))
                .order_by("-n", "-person_id")[:max_candidates])
        return [[r["person_id"] for r in rows]]
    members: dict[str, list] = defaultdict(list)
    wanted = sorted({k for usable in usable_of for k in usable})
    small = [k for k in wanted if sizes.get(k, 0) <= MAX_BLOCK]
    for start in range(0, len(small), 900):
        for key, pid in IndexKey.objects.filter(key__in=small[start:start + 900]).values_list(
                "key", "person_id"):
            members[key].append(pid)
    members.update(_newest_members([k for k in wanted if sizes.get(k, 0) > MAX_BLOCK],
                                   max_candidates))
    out = []
    for usable in usable_of:
        shared: dict = defaultdict(int)
        for k in usable:
            for pid in members.get(k, ()):
                shared[pid] += 1
        out.append(sorted(shared, key=lambda pid: (shared[pid], pid),
                          reverse=True)[:max_candidates])
    return out


def _newest_members(keys: list[str], n: int) -> dict[str, list]:
    """The ``n`` newest persons of each key, read backwards off the (key, person) index: one
    query for up to 450 keys (a UNION ALL, below SQLite's limit of 500 terms)."""
    qn = connection.ops.quote_name
    column = qn(IndexKey._meta.get_field("person").column)
    part = (f"SELECT * FROM (SELECT {qn('key')}, {column} FROM "  # noqa: S608
            f"{qn(IndexKey._meta.db_table)} WHERE {qn('key')} = %s ORDER BY {column} DESC "
            f"LIMIT %s) AS b")
    to_id = Person._meta.pk.to_python
    out: dict[str, list] = defaultdict(list)
    for start in range(0, len(keys), 450):
        chunk = keys[start:start + 450]
        with connection.cursor() as cur:
            cur.execute(" UNION ALL ".join([part] * len(chunk)),
                        [x for k in chunk for x in (k, n)])
            for key, pid in cur.fetchall():
                out[key].append(to_id(pid))
    return out


# (person or watch-list entry id, probability, match)
Found = list[tuple[uuid.UUID, float, Match]]


def index_candidates_many(queries: Sequence[Prepared], *, limit: int = 5,
                          extra_ids_of: Sequence[Sequence] | None = None,
                          exclude_of: Sequence | None = None,
                          max_candidates: int = MAX_CANDIDATES) -> list[Found]:
    """For each prepared query, the indexed persons most likely to be it: (person id,
    probability, match), best first, at most ``limit``.

    Blocking keys select the persons to compare (those sharing most keys first, at most
    ``max_candidates``; keys of more than ``MAX_BLOCK`` persons are left out unless the query
    has no other); each is scored with ``names`` against its main name and aliases, weighting
    names by their counts in the registry. ``extra_ids_of`` (one list per query) are compared
    as well (e.g. found by document number); ``exclude_of`` (one id or None per query) never.
    The reads are pooled: a batch of a thousand queries costs a few queries, not thousands,
    and each query's answer is the one it would get alone.
    """
    n = len(queries)
    extra_ids_of = extra_ids_of or [()] * n
    exclude_of = exclude_of or [None] * n
    keys_of = [sorted(name_keys(p)) for p in queries]
    sizes = _block_sizes(sorted({k for keys in keys_of for k in keys}))
    usable_of = [_usable_keys(keys, sizes) for keys in keys_of]
    ids_of = _sharing_most(usable_of, sizes, max_candidates) if any(usable_of) \
        else [[] for _q in queries]
    for ids, extra, exclude in zip(ids_of, extra_ids_of, exclude_of, strict=True):
        ids += [i for i in extra or () if i not in ids]
        if exclude is not None and exclude in ids:
            ids.remove(exclude)
    all_ids = sorted({pid for ids in ids_of for pid in ids})
    if not all_ids:
        return [[] for _q in queries]
    records: dict = {}
    for start in range(0, len(all_ids), 900):
        records.update(IndexedPerson.objects.filter(
            person_id__in=all_ids[start:start + 900], active=True).values_list(
                "person_id", "record"))
    counts = _name_counts({k for p, ids in zip(queries, ids_of, strict=True) if ids
                           for k in _fkeys(p)})
    out: list[Found] = []
    for p, ids in zip(queries, ids_of, strict=True):
        found = []
        if ids:
            scorer = _query_scorer(p, counts)
            for pid in ids:
                if pid in records:
                    target = prepared_record(engine.record_from_json(records[pid]))
                    probability, match = engine.score(scorer, p, target)
                    found.append((pid, probability, match))
        found.sort(key=lambda t: -t[1])
        out.append(found[:limit])
    return out


def index_candidates(p: Prepared, *, exclude=None, limit: int = 5,
                     extra_ids: list | None = None,
                     max_candidates: int = MAX_CANDIDATES) -> Found:
    """``index_candidates_many`` of one query (a registration, a run's person)."""
    return index_candidates_many([p], limit=limit, extra_ids_of=[extra_ids or []],
                                 exclude_of=[exclude], max_candidates=max_candidates)[0]


def watchlist_candidates(p: Prepared, *, watchlist: Watchlist | None = None, limit: int = 5
                         ) -> Found:
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
    out: Found = []
    for eid, record in WatchlistEntry.objects.filter(id__in=ids).values_list("id", "record"):
        probability, match = engine.score(scorer, p, prepare(engine.record_from_json(record)))
        out.append((eid, probability, match))
    out.sort(key=lambda t: -t[1])
    return out[:limit]


# --- candidates: suggestions while typing, an import's check ---------------------------------

@dataclass
class Suggestion:
    person: Person
    probability: float
    reasons: list[dict]  # stored-reason dicts: code, text, weight


def candidates_many(*, user, queries: Sequence[dict], limit: int = 5,
                    min_probability: float = 0.05) -> list[list[Suggestion]]:
    """Registered persons that may be who each query describes, best first, one list per
    query: the registration form's suggestions while typing, an import's rows checked
    against the register, the API's candidate search.

    A query holds registration fields (``given_ar``, ``family_lat``, ``service_number``,
    ``document_numbers`` …), any of them. Only persons ``user`` may see are returned; merged
    duplicates never (their survivor is). A batch costs a fixed number of queries, however
    many rows it has, and answers each query as it would be answered alone.
    """
    if not queries or not access.can(user, Perm.PERSON_VIEW):
        return [[] for _q in queries]
    prepared = [prepare(engine.typed_record(q)) for q in queries]
    by_doc_of = _persons_by_document([q.get("document_numbers") or [] for q in queries])
    asked = [i for i, p in enumerate(prepared) if p.has_name or p.military_id or by_doc_of[i]]
    found_of: list[Found] = [[] for _q in queries]
    for i, found in zip(asked, index_candidates_many(
            [prepared[i] for i in asked], limit=limit * 4,
            extra_ids_of=[by_doc_of[i] for i in asked], max_candidates=TYPING_CANDIDATES),
            strict=True):
        by_doc = by_doc_of[i]
        if by_doc:
            found = [_with_document(pid, prob, m) if pid in by_doc else (pid, prob, m)
                     for pid, prob, m in found]
            found.sort(key=lambda t: -t[1])
        found_of[i] = [t for t in found if t[1] >= min_probability]
    wanted = sorted({pid for found in found_of for pid, _p, _m in found}, key=str)
    visible: dict = {}
    for start in range(0, len(wanted), 900):
        visible.update({p.pk: p for p in persons_visible(user=user).filter(
            id__in=wanted[start:start + 900]).select_related("group")})
    return [[Suggestion(visible[pid], prob, engine.reasons_json(m))
             for pid, prob, m in found if pid in visible][:limit] for found in found_of]


def candidates_for(*, user, data: dict, limit: int = 5, min_probability: float = 0.05
                   ) -> list[Suggestion]:
    """``candidates_many`` of one query: what is being typed in the registration form."""
    return candidates_many(user=user, queries=[data], limit=limit,
                           min_probability=min_probability)[0]


def _persons_by_document(numbers_of: list[list]) -> list[list]:
    """For each query's document numbers, the persons holding one of them (at most 20)."""
    # the numbers' keyed hashes: what ``IdentityDocument.number_key`` holds
    keys_of = [[k for k in (document_lookup(str(n or "")) for n in numbers) if k]
               for numbers in numbers_of]
    wanted = sorted({k for keys in keys_of for k in keys})
    holders: dict[str, list] = defaultdict(list)
    for start in range(0, len(wanted), 900):
        for key, pid in IdentityDocument.objects.filter(
                number_key__in=wanted[start:start + 900]).values_list("number_key",
                                                                       "person_id"):
            holders[key].append(pid)
    out = []
    for keys in keys_of:
        ids: list = []
        for k in keys:
            ids += [pid for pid in holders.get(k, ()) if pid not in ids]
        out.append(ids[:20])
    return out


_DOCUMENT_BITS = 14.0  # as strong as a shared national ID in mawa.names


def _with_document(pid, probability: float, match: Match):
    reasons = (Reason("document_number.same", "document number: same", _DOCUMENT_BITS),
               *match.reasons)
    weight = match.weight + _DOCUMENT_BITS
    p = Scorer(model=model_in_use()).probability(weight)
    return pid, p, Match(p, weight, reasons)


# --- answers to reception's questions (``core.hooks``, registered in ``apps.py``) -----------

def person_candidates_answer(*, user, queries: Sequence[dict], limit: int = 5,
                             **_kw) -> list[list[MatchCandidate]]:
    """``person.candidates``: ``candidates_many`` in reception's terms (the reasons its pages
    know, a score out of 100)."""
    return [[MatchCandidate(s.person, registration_reasons(s.reasons),
                            round(s.probability * 100)) for s in found]
            for found in candidates_many(user=user, queries=queries, limit=limit)]


def person_merge_answer(*, person: Person, **_kw) -> PersonMerge | None:
    """``person.merged_into``: where ``person`` was merged to, if they were."""
    return person_merge_of(person=person)


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
    """Suggestions awaiting a decision (or decided), most probable first. Outside the
    compartment the watch-list kind does not exist: asked for, it answers what any unknown
    kind answers (the review permission, then nothing), not a refusal of its own."""
    if kind != PairKind.WATCHLIST or not access.can(user, Perm.COMPARTMENT_VIEW):
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
