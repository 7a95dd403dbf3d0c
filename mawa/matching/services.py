"""Writes of identity resolution: the registry index, runs, watch lists, decisions, merges.

Every function takes ``actor``: a user (checked through ``access``) or ``None`` for the
operator at the command line (``mawa matching …``), recorded as ``system:cli`` — whoever has
a shell on the server already holds the database.

Decisions and merges write their ledger entries in the same transaction as the change. The
index itself is derived data and not on the ledger: it can be rebuilt from the register at
any time (``registry_index_rebuild``).
"""

from __future__ import annotations

import hashlib
import io
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from types import SimpleNamespace

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import context as action_context
from mawa.core.audit import audit
from mawa.core.db.rows import fast_insert
from mawa.core.errors import Conflict, ValidationFailed
from mawa.core.ledger import ledger_append
from mawa.matching import engine
from mawa.matching.models import (
    Decision,
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
from mawa.matching.selectors import index_scorer, prepared_record
from mawa.names import (
    Report,
    UnusableInput,
    dedupe,
    name_keys,
    prepare,
    read_ftm,
    read_records_csv,
)
from mawa.reception.models import DocumentKind, IdentityDocument, Person, PersonAlias
from mawa.reception.selectors import persons_visible
from mawa.reception.services import person_merge
from mawa.reception.values import document_lookup

SYSTEM = "system:cli"
# Who screens new registrations: the worker, not the officer who registered them.
SCREENING = "system:screening"
# Persons screened by one task of the worker (an import queues one task per batch).
SCREEN_BATCH = 1000
# Suggestions at or above this probability go to the review queue.
REVIEW_THRESHOLD = 0.5
# Watch-list hits at or above this go to the investigators' queue (recall matters more).
SCREEN_THRESHOLD = 0.3
BATCH = 2000


def _who(actor):
    return actor if actor is not None else SYSTEM


def _require(actor, perm: str, site=None) -> None:
    if actor is not None:
        access.require(actor, perm, site)


# --- the registry index ------------------------------------------------------------------

def _national_id(person: Person) -> str:
    """The keyed hash of the person's first national ID (never the number in clear: the
    index's records and blocking keys hold the hash, and equal numbers give equal hashes; a
    number one character off is therefore "different", not "near")."""
    for doc in person.documents.all():
        if doc.kind == DocumentKind.NATIONAL_ID:
            return doc.number_key
    return ""


def _person_record(person: Person, *, national_id: str | None = None,
                   aliases: Iterable[tuple[str, str]] | None = None):
    if national_id is None:
        national_id = _national_id(person)
    if aliases is None:
        aliases = [(a.name_ar, a.name_lat) for a in person.aliases.all()]
    return engine.person_record(person, national_id=national_id, aliases=aliases)


def registry_index_write(persons: list[Person], *, aliases: dict | None = None,
                         national_ids: dict | None = None, registered: bool = False,
                         screen: bool = True, queue_duplicates: bool = False) -> int:
    """Bring the matching index up to date with ``persons`` (registered, corrected, or all of
    them on a rebuild), inside the caller's transaction, so the index commits with the
    register; returns how many were indexed. One statement per table for new entries.

    ``aliases`` (person id → [(ar, lat), …]) and ``national_ids`` (person id → number key of
    the first national ID) save two queries when the caller has them in hand (the
    ``person.registered`` announcement carries them); without them they are read.
    ``registered``: the persons were just created in this transaction, so none is indexed or
    merged yet (two look-ups fewer on every registration).

    Persons indexed for the first time are then, with ``screen``, queued for screening
    against the active watch lists by the worker (``screening_enqueue``: never in this
    transaction), and with ``queue_duplicates`` their likely duplicates are queued for review
    (a registration made one at a time; an import's rows were checked against the register
    as a whole, and are found by ``match_run_dedupe``). A merged person keeps no keys: never
    a candidate again.
    """
    if not persons:
        return 0
    ids = [p.pk for p in persons]
    if aliases is None:
        aliases = defaultdict(list)
        for start in range(0, len(ids), 900):
            for pid, a, b in PersonAlias.objects.filter(
                    person_id__in=ids[start:start + 900]).order_by("person_id", "id") \
                    .values_list("person_id", "name_ar", "name_lat"):
                aliases[pid].append((a, b))
    if national_ids is None:
        national_ids = {}
        for start in range(0, len(ids), 900):
            for pid, key in IdentityDocument.objects.filter(
                    person_id__in=ids[start:start + 900], kind=DocumentKind.NATIONAL_ID) \
                    .order_by("person_id", "id").values_list("person_id", "number_key"):
                national_ids.setdefault(pid, key)  # the first one saved
    existing: dict = {}
    merged: set = set()
    old_keys: dict = defaultdict(set)
    if not registered:
        for start in range(0, len(ids), 900):
            existing.update((e.person_id, e) for e in IndexedPerson.objects.filter(
                person_id__in=ids[start:start + 900]))
        # an indexed person's entry says whether they were merged; the others are asked
        unindexed = [pid for pid in ids if pid not in existing]
        for start in range(0, len(unindexed), 900):
            merged.update(PersonMerge.objects.filter(duplicate_id__in=unindexed[start:start + 900])
                          .values_list("duplicate_id", flat=True))
        indexed = list(existing)
        for start in range(0, len(indexed), 900):
            for pid, key in IndexKey.objects.filter(
                    person_id__in=indexed[start:start + 900]).values_list("person_id", "key"):
                old_keys[pid].add(key)
    delta: dict[tuple[str, str], int] = defaultdict(int)
    entries, keys, fresh = [], [], []
    now = timezone.now()
    for person in persons:
        record = engine.person_record(person, national_id=national_ids.get(person.pk, ""),
                                      aliases=aliases.get(person.pk, ()))
        prepared = prepare(record)
        counts = engine.name_counts(prepared)
        for pool, key in counts:
            delta[(pool, key)] += 1
        entry = existing.get(person.pk)
        active = person.pk not in merged and (entry is None or entry.active)
        new_keys = {k[:200] for k in name_keys(prepared)} if active else set()
        if entry is None:
            # plain rows, not model instances: building 16 instances per person would cost
            # more than writing them
            entries.append(SimpleNamespace(person_id=person.pk,
                                           record=engine.record_to_json(record),
                                           name_counts=counts, active=active, indexed_at=now))
            keys += [SimpleNamespace(person_id=person.pk, key=k) for k in new_keys]
            if active:
                fresh.append((person, prepared))
            continue
        for pool, key in entry.name_counts:
            delta[(pool, key)] -= 1
        IndexedPerson.objects.filter(person_id=person.pk).update(
            record=engine.record_to_json(record), name_counts=counts, indexed_at=now)
        gone = old_keys[person.pk] - new_keys
        if gone:
            IndexKey.objects.filter(person_id=person.pk, key__in=gone).delete()
        keys += [SimpleNamespace(person_id=person.pk, key=k)
                 for k in new_keys - old_keys[person.pk]]
    # no savepoint of its own: the caller's transaction is the unit (the save and the index
    # commit or fail together), so an error here rolls back the whole save
    with transaction.atomic(savepoint=False):
        fast_insert(IndexedPerson, entries)
        fast_insert(IndexKey, keys)
        _count_add(delta)
        if queue_duplicates:
            for person, prepared in fresh:
                _queue_duplicates(person, prepared)
        if screen and fresh:
            screening_enqueue([person.pk for person, _prepared in fresh])
    return len(persons)


# --- screening new persons, after the commit, by the worker -------------------------------

def screening_enqueue(person_ids: list) -> int:
    """Queue the screening of ``person_ids`` against the active watch lists: one task per
    ``SCREEN_BATCH`` persons (an import of thousands of rows queues a handful, not one per
    row). Returns how many tasks were queued.

    Never screened in the registering request: a listed person's registration would run more
    statements than anybody else's, and the registering officer could time it. Every
    registration does the same work — write the index, queue one task — whether or not a
    list is active and whether or not the person is on it; the worker screens afterwards.

    The queue is a table of the same database (``django-tasks-db``), so the task is written
    in the registration's transaction: the worker sees it once the registration is committed,
    never for a registration rolled back, and a crash right after the commit loses no
    screening (a ``transaction.on_commit`` callback would)."""
    ids = [str(pid) for pid in person_ids]
    for start in range(0, len(ids), SCREEN_BATCH):
        screen_persons.enqueue(ids[start:start + SCREEN_BATCH])
    return -(-len(ids) // SCREEN_BATCH)


def persons_screen(person_ids: Iterable) -> tuple[int, int]:
    """Screen these indexed persons against the active watch lists and raise their hits into
    the investigators' queue, as the registration did before (same threshold, no run, a hit
    already decided left alone, a repeated screening changes nothing). Persons merged or
    gone meanwhile are skipped. Returns (hits found, hits new)."""
    ids = list(person_ids)
    found = new = 0
    if not ids or not Watchlist.objects.filter(active=True).exists():
        return found, new
    for start in range(0, len(ids), 900):
        rows = list(IndexedPerson.objects.filter(person_id__in=ids[start:start + 900],
                                                 active=True)
                    .order_by("person_id").values_list("person_id", "record"))
        with transaction.atomic():
            for pid, record in rows:
                f, w = _screen_one(Person(pk=pid), prepare(engine.record_from_json(record)))
                found, new = found + f, new + w
    return found, new


@task()
def screen_persons(person_ids: list[str]) -> None:
    """The worker's task: screen persons registered (or first indexed) since, as the system
    (``SCREENING``, channel ``job``), never as the officer who registered them."""
    # nothing is logged: even a count of hits would tell outside the compartment
    token = action_context.set_current(action_context.ActionContext(channel="job"))
    try:
        persons_screen([uuid.UUID(pid) for pid in person_ids])
    finally:
        action_context.reset(token)


def index_on_person_registered(*, persons, aliases=None, national_ids=None, single=False,
                               **kw) -> None:
    """Listener of ``person.registered``: index the new persons, queue their screening (done
    by the worker after the commit), and queue the likely duplicates of a registration made
    one at a time."""
    registry_index_write(persons, aliases=aliases or {}, national_ids=national_ids or {},
                         registered=True, queue_duplicates=single)


def index_on_person_changed(*, persons, **kw) -> None:
    """Listener of ``person.changed``: re-index the corrected persons (one never indexed
    before is queued for screening and its likely duplicates queued, as at registration)."""
    registry_index_write(persons, queue_duplicates=True)


def index_on_person_merged(*, duplicate, **kw) -> None:
    """Listener of ``person.merged``: the duplicate is no longer a candidate (no keys)."""
    IndexedPerson.objects.filter(person=duplicate).update(active=False)
    IndexKey.objects.filter(person_id=duplicate.pk).delete()


def queue_on_review_requested(*, pairs, **kw) -> None:
    """Listener of ``person.review_requested``: queue each (new person, registered person,
    score, reasons) pair for a duplicate review, once (a pair already decided is left
    alone)."""
    for new_id, other_id, score, reasons in pairs:
        if new_id == other_id:
            continue
        a, b = sorted((new_id, other_id), key=str)
        if MatchPair.objects.filter(kind=PairKind.DUPLICATE, person_a_id=a,
                                    person_b_id=b).exists():
            continue
        MatchPair.objects.create(
            kind=PairKind.DUPLICATE, person_a_id=a, person_b_id=b,
            probability=round(min(max(score, 0), 100) / 100, 4),
            reasons=[{"code": str(r), "text": "", "weight": 0} for r in reasons])


_UPSERT_ROWS = 300  # rows per statement: 900 parameters, under any SQLite's limit


def _count_add(delta: dict[tuple[str, str], int]) -> None:
    """Add ``delta`` to ``NameCount`` (pool totals included): one upsert statement
    (``INSERT … ON CONFLICT DO UPDATE``, SQLite and PostgreSQL alike) per 300 names, not two
    queries per name — a batch of 5,000 persons touches thousands of names, a registration
    a handful."""
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for (pool, _key), n in delta.items():
        totals[(pool, "")] += n
    rows = sorted((pool, key, n) for (pool, key), n in [*delta.items(), *totals.items()] if n)
    if not rows:
        return
    qn = connection.ops.quote_name
    table, count = qn(NameCount._meta.db_table), qn("count")
    with connection.cursor() as cur:
        for start in range(0, len(rows), _UPSERT_ROWS):
            chunk = rows[start:start + _UPSERT_ROWS]
            values = ", ".join(["(%s, %s, %s)"] * len(chunk))
            cur.execute(f"INSERT INTO {table} (pool, {qn('key')}, {count}) "  # noqa: S608
                        f"VALUES {values} ON CONFLICT (pool, {qn('key')}) DO UPDATE SET "
                        f"{count} = {table}.{count} + excluded.{count}",
                        [x for row in chunk for x in row])


def registry_index_rebuild(*, batch: int = BATCH) -> int:
    """Rebuild the whole index from the register (after an upgrade of ``mawa.names``).
    Returns the number of persons indexed. Merged persons stay inactive."""
    with transaction.atomic():
        IndexKey.objects.all().delete()
        IndexedPerson.objects.all().delete()
        NameCount.objects.all().delete()
    n = 0
    qs = Person.objects.select_related("site").order_by("id")
    last = None
    while True:
        page = qs.filter(id__gt=last) if last is not None else qs
        persons = list(page[:batch])
        if not persons:
            break
        n += registry_index_write(persons, screen=False)
        last = persons[-1].id
    return n


def _queue_duplicates(person: Person, prepared) -> None:
    from mawa.matching.selectors import REGISTER_CANDIDATES, index_candidates

    # The person was just indexed, so no pair about them exists yet: one INSERT, no look-ups.
    pairs = []
    for other_id, probability, match in index_candidates(prepared, exclude=person.pk, limit=5,
                                                          max_candidates=REGISTER_CANDIDATES):
        if probability >= REVIEW_THRESHOLD:
            a, b = sorted((person.pk, other_id), key=str)
            pairs.append(MatchPair(kind=PairKind.DUPLICATE, person_a_id=a, person_b_id=b,
                                   probability=round(probability, 4), weight=match.weight,
                                   reasons=engine.reasons_json(match)))
    MatchPair.objects.bulk_create(pairs)


# --- pairs ---------------------------------------------------------------------------------

def _pair_upsert(kind: str, a, b, probability: float, match, *, run: MatchRun | None,
                 entry_id=None) -> bool:
    """Store a suggestion once; refresh its score while undecided. True if it is new.

    A decided pair is left alone: a person is never asked twice about the same pair.
    """
    if kind == PairKind.DUPLICATE:
        a, b = sorted((a, b), key=str)
        lookup = {"kind": kind, "person_a_id": a, "person_b_id": b}
    else:
        lookup = {"kind": kind, "person_a_id": a, "entry_id": entry_id}
    values = {"probability": round(probability, 4), "weight": match.weight,
              "reasons": engine.reasons_json(match), "run": run}
    existing = MatchPair.objects.filter(**lookup).first()
    if existing is None:
        MatchPair.objects.create(**lookup, **values)
        return True
    if not existing.decision:
        for k, v in values.items():
            setattr(existing, k, v)
        existing.save(update_fields=list(values))
    return False


def _finish(run: MatchRun, records: int, found: int, new: int) -> MatchRun:
    run.records, run.pairs_found, run.pairs_new = records, found, new
    run.finished_at = timezone.now()
    run.save(update_fields=["records", "pairs_found", "pairs_new", "finished_at"])
    return run


def match_run_dedupe(*, actor, person_ids: Iterable | None = None,
                     threshold: float = REVIEW_THRESHOLD) -> MatchRun:
    """De-duplicate the whole registry (``person_ids`` None) or an import against it.

    Whole registry: ``names.dedupe`` clusters every active indexed person; each pair inside a
    cluster becomes a suggestion. An import: each of its persons is looked up in the index
    like a registration is. Suggestions already decided are not asked again.
    """
    _require(actor, Perm.MATCH_RUN)
    from mawa.matching.selectors import index_candidates, index_scorer

    kind = RunKind.DEDUPE_REGISTRY if person_ids is None else RunKind.DEDUPE_PERSONS
    with transaction.atomic():
        run = MatchRun.objects.create(kind=kind, started_by=actor, threshold=threshold)
        audit(actor=_who(actor), action="match_run", obj=run, detail={"kind": kind})
    found = new = 0
    if person_ids is None:
        rows = list(IndexedPerson.objects.filter(active=True).values_list("person_id", "record"))
        prepared = [prepare(engine.record_from_json(r)) for _, r in rows]
        ids = {p.record_id: pid for p, (pid, _r) in zip(prepared, rows, strict=True)}
        by_id = {p.record_id: p for p in prepared}
        clusters: dict[str, list[str]] = defaultdict(list)
        for a in dedupe(prepared, threshold=threshold):
            clusters[a.cluster_id].append(a.record_id)
        scorer = index_scorer(prepared)
        with transaction.atomic():
            for members in clusters.values():
                for i, x in enumerate(members):
                    for y in members[i + 1:]:
                        probability, match = engine.score(scorer, by_id[x], by_id[y])
                        found += 1
                        new += _pair_upsert(PairKind.DUPLICATE, ids[x], ids[y], probability,
                                            match, run=run)
        return _finish(run, len(prepared), found, new)
    person_ids = list(person_ids)
    indexed = IndexedPerson.objects.filter(person_id__in=person_ids, active=True)
    n = 0
    with transaction.atomic():
        for row in indexed:
            n += 1
            p = prepare(engine.record_from_json(row.record))
            for other, probability, match in index_candidates(p, exclude=row.person_id):
                if probability >= threshold:
                    found += 1
                    new += _pair_upsert(PairKind.DUPLICATE, row.person_id, other, probability,
                                        match, run=run)
    return _finish(run, n, found, new)


# --- watch lists (accountability compartment) --------------------------------------------

@dataclass
class ImportResult:
    watchlist: Watchlist
    run: MatchRun | None


def watchlist_import(*, actor, content: bytes, source: str, version: str, licence: str,
                     file_name: str = "", screen: bool = True) -> ImportResult:
    """Import a watch list (FollowTheMoney JSON lines or the names CSV) as a new version of
    its ``source``; older versions of the source stop being used. Bad rows are counted and
    kept in ``report``, the rest imported. Then the registry is screened against it.
    """
    _require(actor, Perm.WATCHLIST_MANAGE)
    errors = {}
    for name, value in (("source", source), ("version", version), ("licence", licence)):
        if not (value or "").strip():
            errors[name] = [_("Required.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    if Watchlist.objects.filter(source=source.strip(), version=version.strip()).exists():
        raise Conflict(_("This version of this watch list was already imported."),
                       code="watchlist_version_exists")
    text = content.decode("utf-8-sig", errors="replace")
    report = Report(file_name or "upload")
    handle = io.StringIO(text, newline="")
    try:
        reader = (read_ftm(handle, report) if text.lstrip().startswith("{")
                  else read_records_csv(handle, report))
        # a listed national ID is compared with the register's keyed hashes
        # (``IdentityDocument.number_key``), so it is kept as one too
        records = [replace(r, national_id=document_lookup(r.national_id)) if r.national_id
                   else r for _line, r in reader]
    except UnusableInput as exc:
        raise ValidationFailed(_("The file cannot be read as FollowTheMoney JSON lines or CSV: "
                                 "%(why)s") % {"why": exc}, code="watchlist_unreadable") from None
    with transaction.atomic():
        Watchlist.objects.filter(source=source.strip(), active=True).update(active=False)
        wl = Watchlist.objects.create(
            source=source.strip(), version=version.strip(), licence=licence.strip(),
            file_name=file_name[:300], file_sha256=hashlib.sha256(content).hexdigest(),
            entity_count=len(records), imported_by=actor if actor is not None else None,
            report={"read": report.read, "skipped": len(report.bad),
                    "problems": len(report.warnings),
                    "first_skipped": [[n, m] for n, m in report.bad[:20]]})
        entries, keys = [], []
        for r in records:
            e = WatchlistEntry(watchlist=wl, entity_id=r.record_id[:200],
                               name=" ".join(x for x in (r.given_name, r.father_name,
                                                         r.family_name) if x)[:300]
                               or (r.aliases[0][:300] if r.aliases else r.record_id),
                               record=engine.record_to_json(r))
            entries.append(e)
            keys += [WatchlistKey(entry=e, key=k[:200]) for k in name_keys(r)]
        WatchlistEntry.objects.bulk_create(entries, batch_size=2000)
        WatchlistKey.objects.bulk_create(keys, batch_size=5000)
        ledger_append(stream=f"watchlist/{wl.id}", kind="watchlist.imported", actor=_who(actor),
                      payload={"watchlist": wl.id, "source": wl.source, "version": wl.version,
                               "licence": wl.licence, "sha256": wl.file_sha256,
                               "entities": len(records), "skipped": len(report.bad)})
    run = registry_screen(actor=actor, watchlist=wl) if screen else None
    return ImportResult(wl, run)


def _screen_one(person: Person, prepared, *, run: MatchRun | None = None,
                watchlist: Watchlist | None = None) -> tuple[int, int]:
    from mawa.matching.selectors import watchlist_candidates

    found = new = 0
    for entry_id, probability, match in watchlist_candidates(prepared, watchlist=watchlist):
        if probability >= SCREEN_THRESHOLD:
            found += 1
            new += _pair_upsert(PairKind.WATCHLIST, person.pk, None, probability, match,
                                run=run, entry_id=entry_id)
    return found, new


def registry_screen(*, actor, watchlist: Watchlist | None = None) -> MatchRun:
    """Screen every active person against the active watch lists (or one list, just imported).

    Run when a list changes; new registrations are screened by the worker after their commit
    (``screening_enqueue``).
    """
    _require(actor, Perm.WATCHLIST_MANAGE)
    with transaction.atomic():
        run = MatchRun.objects.create(kind=RunKind.SCREEN_REGISTRY, started_by=actor,
                                      threshold=SCREEN_THRESHOLD, watchlist=watchlist)
        audit(actor=_who(actor), action="match_run", obj=run,
              detail={"kind": RunKind.SCREEN_REGISTRY})
    found = new = n = 0
    last = None
    while True:
        qs = IndexedPerson.objects.filter(active=True).order_by("person_id")
        if last is not None:
            qs = qs.filter(person_id__gt=last)
        rows = list(qs.values_list("person_id", "record")[:BATCH])
        if not rows:
            break
        with transaction.atomic():
            for pid, record in rows:
                f, w = _screen_one(Person(pk=pid), prepare(engine.record_from_json(record)),
                                   run=run, watchlist=watchlist)
                found, new = found + f, new + w
        n += len(rows)
        last = rows[-1][0]
    return _finish(run, n, found, new)


# --- decisions and merges ------------------------------------------------------------------

def pair_decide(*, actor, pair: MatchPair, decision: str, reason: str,
                survivor: Person | None = None) -> MatchPair:
    """Record a person's decision on a suggestion, on the ledger, once.

    ``match`` on a registry duplicate merges the two records: ``survivor`` (default: the one
    registered first) stays the person's record, the other points at it. ``pair`` must have
    been loaded through ``selectors.pair_get`` (which checks that ``actor`` may see it).
    """
    if pair.kind == PairKind.WATCHLIST:
        _require(actor, Perm.COMPARTMENT_EDIT)
    else:
        _require(actor, Perm.MATCH_REVIEW)
    errors = {}
    if decision not in Decision.values:
        errors["decision"] = [_("Choose match, not a match or unsure.")]
    if not (reason or "").strip():
        errors["reason"] = [_("Give the reason for the decision.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    with transaction.atomic():
        locked = MatchPair.objects.select_for_update().get(pk=pair.pk)
        if locked.decision:
            raise Conflict(_("This pair was already decided."), code="already_decided")
        now = timezone.now()
        site = locked.person_a.current_site
        entry = ledger_append(
            stream=f"match/{locked.id}", kind="match.decided", actor=_who(actor), site=site,
            payload={"pair": locked.id, "kind": locked.kind, "person_a": locked.person_a_id,
                     "person_b": locked.person_b_id, "entry": locked.entry_id,
                     "decision": decision, "probability": f"{locked.probability:.4f}",
                     "reason_sha256": hashlib.sha256(reason.strip().encode()).hexdigest()})
        locked.decision, locked.decision_reason = decision, reason.strip()
        locked.decided_by, locked.decided_at, locked.ledger_seq = actor, now, entry.seq
        locked.save(update_fields=["decision", "decision_reason", "decided_by", "decided_at",
                                   "ledger_seq"])
        if decision == Decision.MATCH and locked.kind == PairKind.DUPLICATE:
            _merge(actor=actor, pair=locked, survivor=survivor, site=site, at=now)
    return locked


def _merge(*, actor, pair: MatchPair, survivor: Person | None, site, at) -> PersonMerge:
    """Point the duplicate at the survivor: the person side (both ``person/<id>`` streams,
    the index, through ``person.merged``) is reception's ``person_merge``; the merge record
    ties it to this decision. Nothing is deleted or rewritten."""
    a, b = pair.person_a, pair.person_b
    # a duplicate pair always has its second person (the model's check constraint)
    assert b is not None
    if survivor is None:
        survivor = a if a.pk < b.pk else b
    if survivor.pk not in (a.pk, b.pk):
        raise ValidationFailed(_("The surviving record must be one of the pair."),
                               fields={"survivor": [_("Choose one of the two records.")]})
    duplicate = b if survivor.pk == a.pk else a
    _require(actor, Perm.MATCH_REVIEW, duplicate.current_site)
    if PersonMerge.objects.filter(duplicate__in=[a, b]).exists():
        raise Conflict(_("One of these records was already merged into another."),
                       code="already_merged")
    seq = person_merge(actor=actor, duplicate=duplicate, survivor=survivor, site=site,
                       pair=pair.pk)
    # Other open suggestions about the duplicate are now about the survivor's record.
    return PersonMerge.objects.create(duplicate=duplicate, survivor=survivor, pair=pair,
                                      actor=actor, site=site, at=at, ledger_seq=seq)


# --- decisions taken at registration (issue 21) ----------------------------------------------

REGISTRATION_REASON = _("Decided by the registering officer, with both records side by side.")


def pair_decide_at_registration(*, actor, person: Person, decisions: dict, **_kw) -> list:
    """Listener of ``person.duplicates_decided``: the registering officer's word on the
    records the page suggested while they typed, recorded to the review queue.

    For each suggested record (``decisions``: its id → ``match`` / ``not_match`` /
    ``unsure``) the pair with the new ``person`` is found or, when its score stayed under the
    queue's threshold, put in the queue (scored as the queue scores). ``match`` and
    ``not_match`` are decided through ``pair_decide`` (a match merges the new record into the
    one registered first); ``unsure`` leaves the pair open for a reviewer. Records the actor
    may not see are skipped. Returns the pairs touched.
    """
    out = []
    ids = []
    for k in decisions:
        try:
            ids.append(uuid.UUID(str(k)))
        except ValueError:
            continue  # not a record id: nothing was suggested under that name
    others = {str(p.pk): p for p in persons_visible(user=actor).filter(
        pk__in=ids).exclude(pk=person.pk)}
    for other_id, decision in decisions.items():
        other = others.get(str(other_id))
        if other is None or decision not in Decision.values:
            continue
        a, b = sorted((person.pk, other.pk), key=str)
        pair = MatchPair.objects.filter(kind=PairKind.DUPLICATE, person_a_id=a,
                                        person_b_id=b).first()
        if pair is None:
            query = prepared_record(_person_record(person))
            probability, match = engine.score(index_scorer(query=query), query,
                                              prepared_record(_person_record(other)))
            pair = MatchPair.objects.create(
                kind=PairKind.DUPLICATE, person_a_id=a, person_b_id=b,
                probability=round(probability, 4), weight=match.weight,
                reasons=engine.reasons_json(match))
        if decision != Decision.UNSURE and not pair.decision:
            pair = pair_decide(actor=actor, pair=pair, decision=decision,
                               reason=str(REGISTRATION_REASON), survivor=other
                               if decision == Decision.MATCH else None)
        out.append(pair)
    return out
