"""Who sleeps where: check-in, moves between shelters, whole arrival groups housed at once
under the grouping policies, check-out."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp.models import (
    Assignment,
    Block,
    Shelter,
)
from mawa.camp.services._common import ASSIGNMENT, _camp, _capture, _log, _replaying, _when
from mawa.core.changes import ChangeItem, UniqueBroken
from mawa.core.changes_models import ChangeOp
from mawa.core.errors import Conflict, NotFound, ValidationFailed
from mawa.core.ids import client_key_parse
from mawa.core.models import Site
from mawa.reception.models import Person, Status
from mawa.reception.services import person_transition

# Words that mark an officer's rank, in Arabic and English (lower case, matched as words).
# Third Geneva Convention arts. 39–45 and 79: officers are treated and housed apart from other
# ranks; the grouping policy uses this to keep them apart.
OFFICER_RANK_WORDS = frozenset({
    "ملازم", "نقيب", "رائد", "مقدم", "عقيد", "عميد", "لواء", "فريق", "مشير",
    "lieutenant", "lt", "captain", "capt", "major", "maj", "colonel", "col", "brigadier",
    "general", "gen", "marshal", "officer",
})

#: statuses of a person who may be housed in the camp
HOUSABLE = frozenset({Status.REGISTERED, Status.INTERNED})


def rank_is_officer(rank: str) -> bool:
    """Is ``rank`` an officer's rank? (word match, Arabic or English; "lieutenant colonel",
    "ملازم أول" and "Lt." all count)."""
    words = rank.lower().replace(".", " ").replace("-", " ").split()
    return any(w in OFFICER_RANK_WORDS for w in words)


def _housable(person: Person, site: Site) -> None:
    if person.status not in HOUSABLE:
        raise Conflict(_("%(code)s is “%(status)s” and cannot be housed in the camp.")
                       % {"code": person.short_code, "status": Status(person.status).label},
                       code="not_housable")
    if person.status == Status.INTERNED and person.current_site_id != site.id:
        raise Conflict(_("%(code)s is interned at another camp.") % {"code": person.short_code},
                       code="other_camp")


def _intern_if_needed(*, actor, person: Person, site: Site) -> Person:
    """A registered person handed over from the crossing is interned at this camp first
    (Hague V art. 11), through the lifecycle service — never by writing the status here."""
    if person.status == Status.REGISTERED:
        return person_transition(actor=actor, person=person, to=Status.INTERNED,
                                 details={"camp": site}, expected_status=Status.REGISTERED)
    return person


def _free_places(shelter: Shelter) -> int:
    used = Assignment.objects.filter(shelter=shelter, end_at__isnull=True).count()
    return shelter.capacity - used


def _check_capacity(*, actor, shelter: Shelter, needed: int, override_reason: str) -> str:
    """Refuse when ``needed`` places are not free, unless a manager overrides with a reason.
    Returns the override reason actually used ("" when there was room)."""
    free = _free_places(shelter)
    if free >= needed:
        return ""
    override_reason = (override_reason or "").strip()
    if not override_reason:
        raise Conflict(_("Shelter %(shelter)s has %(free)s free places; %(needed)s needed. "
                         "A camp manager may override with a reason.")
                       % {"shelter": shelter.name, "free": max(free, 0), "needed": needed},
                       code="over_capacity")
    access.require(actor, Perm.CAMP_MANAGE, shelter.site)
    return override_reason[:500]


def _already_housed(message) -> Conflict:
    """A person housed twice: refused here; a change from another node that would do it
    (both sides housed him while apart) is a review item (one open camp stay)."""
    if _replaying():
        return UniqueBroken(message, code="already_assigned")
    return Conflict(message, code="already_assigned")


def _stay_captured(*, actor, assignment: Assignment, move: bool) -> None:
    _capture([ChangeItem(ASSIGNMENT, assignment.pk, ChangeOp.CREATE, {
        "person": assignment.person_id, "shelter": assignment.shelter_id,
        "client_key": assignment.client_key, "reason": assignment.reason,
        "override": assignment.override_reason, "move": move, "at": assignment.start_at})],
        actor=actor, site=assignment.site)


def assignment_check_in(*, actor, person: Person, shelter: Shelter, client_key,
                        reason: str = "", override_reason: str = "", record_id=None,
                        at=None) -> Assignment:
    """House a person in a shelter. A person already housed is refused (use
    ``assignment_move``); a full shelter is refused unless a manager gives a reason.

    ``record_id`` and ``at``: the origin's when a change from another node is replayed; the
    internment that may come with a first check-in travels as its own lifecycle change."""
    key = client_key_parse(client_key)
    site = shelter.site
    access.require(actor, Perm.CAMP_OPERATE, site)
    existing = Assignment.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        # Lock the shelter row: two staff giving away its last place at once are serialised,
        # and the second sees it full.
        locked = Shelter.objects.select_for_update().select_related("block").get(pk=shelter.pk)
        if not locked.is_active:
            raise Conflict(_("This shelter is not in use."), code="shelter_inactive")
        person = Person.objects.select_for_update().get(pk=person.pk)
        _housable(person, site)
        current = Assignment.objects.filter(person=person, end_at__isnull=True) \
            .select_related("shelter__block").first()
        if current is not None:
            raise _already_housed(_("%(code)s is already housed in %(block)s/%(shelter)s; "
                                    "move them instead.") % {
                                        "code": person.short_code,
                                        "block": current.shelter.block.name,
                                        "shelter": current.shelter.name})
        used = _check_capacity(actor=actor, shelter=locked, needed=1,
                               override_reason=override_reason)
        assignment = _open(actor=actor, person=person, shelter=locked, key=key,
                           reason=reason, override=used, record_id=record_id, at=at)
        # captured before the internment's own change: a node replaying them in order
        # houses him first, as here
        _stay_captured(actor=actor, assignment=assignment, move=False)
        if not _replaying():
            _intern_if_needed(actor=actor, person=person, site=site)
    return assignment


def _open(*, actor, person, shelter, key, reason, override, record_id=None,
          at=None) -> Assignment:
    try:
        with transaction.atomic():
            assignment = Assignment.objects.create(
                client_key=key, site=shelter.site, person=person, shelter=shelter,
                block=shelter.block, start_at=_when(at), reason=reason[:200],
                override_reason=override, checked_in_by=actor,
                **({"id": record_id} if record_id is not None else {}))
    except IntegrityError:
        # the partial unique index: someone housed this person a moment ago
        raise _already_housed(_("%(code)s is already housed in another shelter.")
                              % {"code": person.short_code})
    _log(actor=actor, site=shelter.site, kind="assignment.check_in",
         payload={"assignment": assignment.id, "person": person.id, "shelter": shelter.id,
                  "override": bool(override)})
    return assignment


def _close(*, actor, assignment: Assignment, reason: str, at=None) -> None:
    assignment.end_at = _when(at)
    assignment.end_reason = reason[:200]
    assignment.checked_out_by = actor
    assignment.save(update_fields=["end_at", "end_reason", "checked_out_by"])
    _log(actor=actor, site=assignment.site, kind="assignment.check_out",
         payload={"assignment": assignment.id, "person": assignment.person_id,
                  "reason": reason[:200]})


def assignment_move(*, actor, person: Person, shelter: Shelter, client_key, reason: str = "",
                    override_reason: str = "", record_id=None, at=None) -> Assignment:
    """Move a housed person to another shelter: check-out and check-in in one transaction.
    ``record_id`` and ``at``: the origin's when a change from another node is replayed."""
    key = client_key_parse(client_key)
    site = shelter.site
    access.require(actor, Perm.CAMP_OPERATE, site)
    existing = Assignment.objects.filter(client_key=key).first()
    if existing is not None:
        return existing
    with transaction.atomic():
        locked = Shelter.objects.select_for_update().select_related("block").get(pk=shelter.pk)
        person = Person.objects.select_for_update().get(pk=person.pk)
        current = Assignment.objects.select_for_update().filter(
            person=person, end_at__isnull=True).first()
        if current is None:
            raise Conflict(_("%(code)s is not housed yet; check them in instead.")
                           % {"code": person.short_code}, code="not_assigned")
        if current.shelter_id == locked.id:
            raise Conflict(_("%(code)s is already in this shelter.")
                           % {"code": person.short_code}, code="same_shelter")
        if current.site_id != site.id:
            raise Conflict(_("A move stays within one camp; use a transfer."),
                           code="other_camp")
        used = _check_capacity(actor=actor, shelter=locked, needed=1,
                               override_reason=override_reason)
        _close(actor=actor, assignment=current, reason=reason or "move", at=at)
        assignment = _open(actor=actor, person=person, shelter=locked, key=key,
                           reason=reason, override=used, record_id=record_id,
                           at=current.end_at)  # the new stay starts when the old one ends
        _stay_captured(actor=actor, assignment=assignment, move=True)
    return assignment


class GroupPolicy:
    """How a group is spread over shelters (data, chosen on the form)."""

    KEEP_UNITS = "keep_units"  # members of one unit share shelters where they fit
    SEPARATE_OFFICERS = "separate_officers"  # officers never share with other ranks
    SPLIT_UNITS = "split_units"  # spread each unit over different shelters (break up command)

    ALL = (KEEP_UNITS, SEPARATE_OFFICERS, SPLIT_UNITS)


@dataclass
class Placement:
    person: Person
    shelter: Shelter


def _bucket_key(person: Person, policies: set[str]):
    officer = rank_is_officer(person.rank) if GroupPolicy.SEPARATE_OFFICERS in policies else None
    unit = person.unit.strip().lower() if GroupPolicy.KEEP_UNITS in policies else ""
    return (officer, unit)


def group_plan(*, persons: list[Person], shelters: list[Shelter], policies: Iterable[str],
               occupants: dict) -> tuple[list[Placement], list[Person]]:
    """Plan where each person of a group goes. Pure: no database.

    ``occupants`` maps shelter id → list of ranks already housed there. Returns the placements
    and the persons for whom no compatible place was found.

    - ``separate_officers``: a shelter holding officers takes no other ranks and vice versa;
    - ``keep_units``: each unit is placed together, in the fewest shelters, largest first;
    - ``split_units``: members of one unit go round-robin to different shelters.
    """
    policies = set(policies)
    free = {s.id: s.capacity - len(occupants.get(s.id, [])) for s in shelters}
    kind_of = {}  # shelter id → True (officers) / False (others) / None (empty)
    for s in shelters:
        ranks = occupants.get(s.id, [])
        kind_of[s.id] = rank_is_officer(ranks[0]) if ranks else None
    buckets: dict = defaultdict(list)
    for p in sorted(persons, key=lambda p: p.short_code):
        buckets[_bucket_key(p, policies)].append(p)
    placements: list[Placement] = []
    unplaced: list[Person] = []

    def fits(shelter: Shelter, officer) -> bool:
        if free[shelter.id] <= 0:
            return False
        if GroupPolicy.SEPARATE_OFFICERS in policies and officer is not None:
            return kind_of[shelter.id] in (None, officer)
        return True

    def put(person: Person, shelter: Shelter, officer) -> None:
        placements.append(Placement(person, shelter))
        free[shelter.id] -= 1
        if officer is not None and kind_of[shelter.id] is None:
            kind_of[shelter.id] = officer

    for (officer, _unit), members in sorted(buckets.items(), key=lambda kv: -len(kv[1])):
        if GroupPolicy.SPLIT_UNITS in policies:
            ring = [s for s in shelters if fits(s, officer)]
            i = 0
            for person in members:
                for _turn in range(len(ring)):
                    shelter = ring[i % len(ring)]
                    i += 1
                    if fits(shelter, officer):
                        put(person, shelter, officer)
                        break
                else:
                    unplaced.append(person)
            continue
        # together: the shelter that takes the whole bucket with least waste first, then the
        # roomiest ones
        queue = list(members)
        while queue:
            candidates = [s for s in shelters if fits(s, officer)]
            if not candidates:
                unplaced.extend(queue)
                break
            whole = [s for s in candidates if free[s.id] >= len(queue)]
            shelter = min(whole, key=lambda s: free[s.id]) if whole else max(
                candidates, key=lambda s: free[s.id])
            while queue and fits(shelter, officer):
                put(queue.pop(0), shelter, officer)
    return placements, unplaced


def group_assign(*, actor, site: Site, persons: list[Person], block: Block, client_key,
                 policies: Iterable[str] = (GroupPolicy.KEEP_UNITS,
                                            GroupPolicy.SEPARATE_OFFICERS),
                 override_reason: str = "") -> list[Assignment]:
    """House a whole arrival group at once in one block, following the grouping policies.

    All or nothing: if anyone cannot be placed (no room, or no compatible shelter), nobody is
    placed and the message says how many places are missing. Registered persons are interned
    at this camp first, through the lifecycle service. Persons already housed are skipped, so a
    retried submission places nobody twice.
    """
    key = client_key_parse(client_key)
    _camp(site)
    access.require(actor, Perm.CAMP_OPERATE, site)
    if block.site_id != site.id:
        raise NotFound()
    policies = [p for p in policies if p in GroupPolicy.ALL]
    if not persons:
        raise ValidationFailed(_("Nobody to house: the group has no registered persons."),
                               code="empty_group")
    with transaction.atomic():
        shelters = list(Shelter.objects.select_for_update().filter(
            block=block, is_active=True).select_related("block").order_by("name"))
        if not shelters:
            raise Conflict(_("Block %(block)s has no shelters in use.") % {"block": block.name},
                           code="no_shelters")
        locked = list(Person.objects.select_for_update().filter(
            pk__in=[p.pk for p in persons]).order_by("id"))
        housed = set(Assignment.objects.filter(person__in=locked, end_at__isnull=True)
                     .values_list("person_id", flat=True))
        todo = []
        for person in locked:
            if person.id in housed:
                continue
            _housable(person, site)
            todo.append(person)
        occupants: dict = defaultdict(list)
        for shelter_id, rank in Assignment.objects.filter(
                shelter__in=shelters, end_at__isnull=True).values_list("shelter_id",
                                                                       "person__rank"):
            occupants[shelter_id].append(rank)
        placements, unplaced = group_plan(persons=todo, shelters=shelters, policies=policies,
                                          occupants=occupants)
        override = (override_reason or "").strip()
        if unplaced:
            if not override:
                raise Conflict(_("Block %(block)s has no room for %(n)s of these %(total)s "
                                 "persons under the grouping rules. Choose another block, or a "
                                 "camp manager may override with a reason.")
                               % {"block": block.name, "n": len(unplaced), "total": len(todo)},
                               code="over_capacity")
            access.require(actor, Perm.CAMP_MANAGE, site)
            # over capacity by decision: the rest go to the emptiest shelters of the block
            for person in unplaced:
                shelter = min(shelters, key=lambda s: len(occupants[s.id]))
                occupants[shelter.id].append(person.rank)
                placements.append(Placement(person, shelter))
        created = []
        for placement in placements:
            created.append(_open(
                actor=actor, person=placement.person, shelter=placement.shelter,
                key=uuid.uuid5(key, str(placement.person.id)), reason="group",
                override=override[:500] if placement.person in unplaced else ""))
        # each stay travels as a check-in (a node replaying it houses the person where this
        # plan put him), before the internments' own changes
        _capture([ChangeItem(ASSIGNMENT, a.pk, ChangeOp.CREATE, {
            "person": a.person_id, "shelter": a.shelter_id, "client_key": a.client_key,
            "reason": a.reason, "override": a.override_reason, "move": False,
            "at": a.start_at}) for a in created], actor=actor, site=site)
        for placement in placements:
            _intern_if_needed(actor=actor, person=placement.person, site=site)
        _log(actor=actor, site=site, kind="group.assigned",
             payload={"block": block.id, "count": len(created), "policies": sorted(policies),
                      "override": bool(unplaced)})
    return created


def assignment_check_out(*, actor, person: Person, reason: str) -> Assignment | None:
    """End a person's stay in their shelter. Called inside ``movement_out`` (which has checked
    access) when someone leaves for good."""
    current = Assignment.objects.select_for_update().filter(
        person=person, end_at__isnull=True).first()
    if current is None:
        return None
    _close(actor=actor, assignment=current, reason=reason)
    return current
