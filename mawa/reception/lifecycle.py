"""The person lifecycle as data: which moves exist, what each requires, who may make it.

DESIGN.md: ``arrived → disarmed → registered → interned``, and from interned: hospitalised,
detained (judicial), transferred (another camp), released, repatriated (voluntary only,
recorded), referred to asylum (after verified renunciation), escaped, deceased. Civilians and
children found at registration are separated and referred out of the internment track
(IDDRS 5.40; UNHCR, civilian character of asylum).

``TRANSITIONS`` is the whole graph. ``services.persons_transition`` (and ``person_transition``,
a batch of one) is the only code that moves a person, and it asks nothing but this table; the
person page builds its forms from it too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from mawa.accounts.roles import Perm
from mawa.reception.models import Category, Status


@dataclass(frozen=True)
class Requirement:
    """One thing a transition must record. ``kind`` is ``text``, ``date`` or ``camp`` (a camp
    site the user works at)."""

    name: str
    label: object
    kind: str = "text"
    help: object = ""


@dataclass(frozen=True)
class Transition:
    source: str
    target: str
    label: object
    perms: tuple[str, ...]  # any one of these, at the person's current site
    requires: tuple[Requirement, ...] = ()
    categories: frozenset[str] = field(
        default_factory=lambda: frozenset({Category.COMBATANT}))
    why: object = ""

    @property
    def key(self) -> str:
        return f"{self.source}>{self.target}"


_ALL_CATEGORIES = frozenset(Category.values)
_SEPARATED = frozenset({Category.CIVILIAN, Category.CHILD})

CAMP = Requirement("camp", _("Camp"), "camp")
NOTE = Requirement("note", _("Note"))
REFERRAL = Requirement("referral_to", _("Referred to"),
                       help=_("The organisation or service that received the person."))
DECLARATION_DATE = Requirement(
    "declaration_date", _("Date of the voluntary declaration"), "date",
    help=_("Repatriation is voluntary only: the person's own declaration, recorded."))
DECLARATION_TEXT = Requirement("declaration", _("Voluntary declaration (as stated)"))
WITNESS = Requirement("witness", _("Witnessed by"),
                      help=_("Name and organisation of the independent witness (e.g. ICRC)."))
RENUNCIATION = Requirement(
    "renunciation_assessment", _("Renunciation assessment reference"),
    help=_("The recorded assessment that the person genuinely and permanently renounced "
           "military activity (UNHCR guidance)."))
ASSESSED_BY = Requirement("assessed_by", _("Assessed by"))
FACILITY = Requirement("facility", _("Hospital or facility"))
AUTHORITY = Requirement("authority", _("Judicial authority and order reference"))
DECISION = Requirement("decision", _("Release decision reference"))
DATE_OF_DEATH = Requirement("date", _("Date"), "date")

_REG = Perm.PERSON_REGISTER
_PROT = Perm.PROTECTION_ACT
_CAMP_OP = Perm.CAMP_OPERATE
_CAMP_MGR = Perm.CAMP_MANAGE

TRANSITIONS: tuple[Transition, ...] = (
    Transition(Status.ARRIVED, Status.DISARMED, _("Disarmed"), (_REG, Perm.CUSTODY_RECORD),
               categories=_ALL_CATEGORIES,
               why=_("Weapons are handed over at the crossing (IDDRS 4.10, 5.40).")),
    Transition(Status.DISARMED, Status.REGISTERED, _("Registered"), (_REG,),
               why=_("Individual registration completed.")),
    Transition(Status.REGISTERED, Status.INTERNED, _("Interned in a camp"), (_REG, _CAMP_MGR),
               (CAMP,),
               why=_("Interned away from the theatre of war (Hague Convention V art. 11).")),
    # separation: civilians and children leave the internment track
    *(Transition(src, Status.REFERRED_OUT, _("Separated and referred out"), (_REG, _PROT),
                 (REFERRAL,), categories=_SEPARATED,
                 why=_("Civilians and children are not interned (IDDRS 5.40)."))
      for src in (Status.ARRIVED, Status.DISARMED, Status.REGISTERED)),
    Transition(Status.INTERNED, Status.HOSPITALISED, _("Hospitalised"), (_CAMP_OP, _PROT),
               (FACILITY,)),
    Transition(Status.HOSPITALISED, Status.INTERNED, _("Returned from hospital"),
               (_CAMP_OP, _PROT)),
    Transition(Status.INTERNED, Status.DETAINED, _("Detained (judicial)"), (_PROT,),
               (AUTHORITY,)),
    Transition(Status.DETAINED, Status.INTERNED, _("Returned from detention"), (_PROT,)),
    Transition(Status.INTERNED, Status.TRANSFERRED, _("Transferred to another camp"),
               (_CAMP_MGR,), (CAMP,)),
    Transition(Status.TRANSFERRED, Status.INTERNED, _("Received at the camp"),
               (_CAMP_MGR, _CAMP_OP)),
    Transition(Status.INTERNED, Status.RELEASED, _("Released"), (_PROT,), (DECISION,)),
    Transition(Status.INTERNED, Status.REPATRIATED, _("Repatriated (voluntary)"), (_PROT,),
               (DECLARATION_DATE, DECLARATION_TEXT, WITNESS),
               why=_("Repatriation only on the person's recorded, witnessed, voluntary "
                     "declaration (non-refoulement).")),
    Transition(Status.INTERNED, Status.REFERRED_TO_ASYLUM, _("Referred to asylum"), (_PROT,),
               (RENUNCIATION, ASSESSED_BY),
               why=_("Only after a verified, genuine and permanent renunciation of military "
                     "activity (UNHCR).")),
    Transition(Status.INTERNED, Status.ESCAPED, _("Escaped"), (_CAMP_OP, _CAMP_MGR), (NOTE,)),
    Transition(Status.ESCAPED, Status.INTERNED, _("Returned after escape"),
               (_CAMP_OP, _CAMP_MGR)),
    *(Transition(src, Status.DECEASED, _("Deceased"), (_CAMP_MGR, _PROT), (DATE_OF_DEATH, NOTE),
                 categories=_ALL_CATEGORIES)
      for src in (Status.INTERNED, Status.HOSPITALISED, Status.DETAINED)),
)

_BY_KEY = {t.key: t for t in TRANSITIONS}
assert len(_BY_KEY) == len(TRANSITIONS), "a transition is listed twice"

TERMINAL = frozenset({Status.RELEASED, Status.REPATRIATED, Status.REFERRED_TO_ASYLUM,
                      Status.DECEASED, Status.REFERRED_OUT, Status.MERGED})


def merge_transition(source: str) -> Transition | None:
    """The move of a duplicate record into ``merged``: from any state but ``merged``, made
    only by a reviewer's decision (``reception.services.person_merge``), never from the
    person page (so it is not in ``TRANSITIONS``). A merged record counts nowhere (group
    counts, reports, the camp) and prints nothing."""
    if source == Status.MERGED:
        return None
    return Transition(source, Status.MERGED, _("Merged into another record"),
                      (Perm.MATCH_REVIEW,), categories=_ALL_CATEGORIES,
                      why=_("The same person registered twice: the other record is the "
                            "person."))


def transition_find(source: str, target: str) -> Transition | None:
    return _BY_KEY.get(f"{source}>{target}")


def transitions_from(source: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == source]
