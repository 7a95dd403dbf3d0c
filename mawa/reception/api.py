"""REST API of the reception register (mounted at /api/reception). One endpoint per operation,
each calling the same selectors and services as the pages, so access and rules are identical."""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils.translation import gettext as _
from ninja import Router, Schema, Status
from ninja.errors import HttpError
from pydantic import BaseModel, ConfigDict, Field

from mawa.core.ids import short_code_normalise
from mawa.core.models import Site
from mawa.reception import selectors, services
from mawa.reception.services import DocumentInput, PersonInput

router = Router(tags=["reception"])


class GroupIn(Schema):
    client_key: uuid.UUID
    site: str
    arrived_at: dt.datetime
    reported_count: int
    facilitated_by: str = ""
    formation: str = ""
    notes: str = ""


class GroupCountsOut(Schema):
    reported: int
    in_register: int
    disarmed: int
    registered: int
    at_camp: int
    referred_out: int
    missing: int


class GroupOut(Schema):
    id: uuid.UUID
    short_code: str
    site: str
    arrived_at: dt.datetime
    reported_count: int
    facilitated_by: str
    formation: str
    version: int
    counts: GroupCountsOut | None = None


def _group_out(g) -> dict:
    out = {"id": g.id, "short_code": g.short_code, "site": g.site.code,
           "arrived_at": g.arrived_at, "reported_count": g.reported_count,
           "facilitated_by": g.facilitated_by, "formation": g.formation, "version": g.version}
    c = getattr(g, "counts", None)
    if c is not None:
        out["counts"] = {"reported": c.reported, "in_register": c.registered_total,
                         "disarmed": c.disarmed, "registered": c.registered,
                         "at_camp": c.at_camp, "referred_out": c.referred_out,
                         "missing": c.missing}
    return out


def _site(user, code: str) -> Site:
    from mawa.accounts import access
    from mawa.core.errors import NotFound

    site = access.sites_for(user).filter(code=code.strip().upper()).first()
    if site is None:
        raise NotFound()
    return site


@router.post("/groups", response={201: GroupOut, 200: GroupOut})
def arrival_group_create(request, payload: GroupIn):
    """Log an arrival group (idempotent on ``client_key``)."""
    data = payload.dict()
    site = _site(request.auth, data.pop("site"))
    group = services.arrival_group_create(actor=request.auth, site=site, **data)
    return Status(201, _group_out(selectors.arrival_group_get(user=request.auth,
                                                              group_id=group.id)))


@router.get("/groups", response=list[GroupOut])
def arrival_group_list(request, before: uuid.UUID | None = None, limit: int = 50):
    """Groups at the caller's sites, newest first (keyset: pass the last id as ``before``)."""
    return [_group_out(g) for g in selectors.arrival_group_list(
        user=request.auth, before=before, limit=max(1, min(limit, 200)))]


@router.get("/groups/{group_id}", response=GroupOut)
def arrival_group_get(request, group_id: uuid.UUID):
    return _group_out(selectors.arrival_group_get(user=request.auth, group_id=group_id))


class DocumentIn(Schema):
    kind: str
    number: str
    issuer: str = ""
    expiry: dt.date | None = None


class AliasIn(Schema):
    name_ar: str = ""
    name_lat: str = ""


class PersonValuesIn(BaseModel):
    """A person's details as typed (the service checks and cleans every value, and answers
    400 with each field's problem). A name outside this list is refused by the service (403
    ``field_not_allowed``: status, site … are not set this way), not silently dropped: the
    schema lets it through to say so. (A pydantic model: ninja's ``Schema`` would drop the
    names it does not declare.)"""

    model_config = ConfigDict(extra="allow")

    given_ar: str | None = None
    given_lat: str | None = None
    father_ar: str | None = None
    father_lat: str | None = None
    grandfather_ar: str | None = None
    grandfather_lat: str | None = None
    family_ar: str | None = None
    family_lat: str | None = None
    mother_given_ar: str | None = None
    mother_given_lat: str | None = None
    mother_family_ar: str | None = None
    mother_family_lat: str | None = None
    kunya_ar: str | None = None
    kunya_lat: str | None = None
    sex: str | None = Field(default=None, description="male, female or unknown")
    category: str | None = Field(default=None,
                                 description="combatant (the default), civilian or child")
    nationality: str | None = Field(default=None, description="ISO 3166 two-letter country code")
    languages: list[str] | str | None = Field(
        None, description="language codes: a list, or one text separated by spaces or commas")
    service_number: str | None = None
    rank: str | None = None
    unit: str | None = None
    branch: str | None = None
    place_of_birth: str | None = None
    notes: str | None = None
    family_contact_name: str | None = None
    family_contact_relation: str | None = None
    family_contact_phone: str | None = None
    family_contact_address: str | None = None
    vulnerabilities: list[str] | str | None = None
    vulnerability_notes: str | None = None

    def given(self) -> dict[str, object]:
        """The values the client sent (a name it did not send is not changed by an update)."""
        return self.model_dump(exclude_unset=True)


class PersonChangesIn(PersonValuesIn):
    """A correction: only the fields given change (``birth`` is the date text). Category,
    status and site move only through transitions and separation."""

    birth: str | None = Field(default=None,
                              description="the date of birth as typed (null: unchanged)")


class PersonIn(Schema):
    client_key: uuid.UUID
    site: str | None = None
    group: uuid.UUID | None = None
    values: PersonValuesIn = PersonValuesIn()
    birth: str = ""
    approximate_age: int | None = None
    aliases: list[AliasIn] = []
    documents: list[DocumentIn] = []


class AliasOut(Schema):
    name_ar: str
    name_lat: str


class DocumentOut(Schema):
    kind: str
    number: str
    issuer: str
    expiry: dt.date | None


_SENSITIVE = "absent without the permission to read sensitive fields (see sensitive_hidden)"


class PersonOut(Schema):
    """One person: the fields the caller's role may read. A sensitive field the caller may
    not read is absent (not null), and named in ``sensitive_hidden``."""

    id: uuid.UUID
    site_id: uuid.UUID
    short_code: str
    created_at: dt.datetime
    group_id: uuid.UUID | None
    current_site_id: uuid.UUID
    arrived_at: dt.datetime
    given_ar: str
    given_lat: str
    father_ar: str
    father_lat: str
    grandfather_ar: str
    grandfather_lat: str
    family_ar: str
    family_lat: str
    mother_given_ar: str
    mother_given_lat: str
    mother_family_ar: str
    mother_family_lat: str
    kunya_ar: str
    kunya_lat: str
    sex: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    birth_precision: str
    place_of_birth: str
    nationality: str
    languages: list[str]
    service_number: str
    rank: str
    unit: str
    branch: str
    family_contact_name: str | None = Field(default=None, description=_SENSITIVE)
    family_contact_relation: str | None = Field(default=None, description=_SENSITIVE)
    family_contact_phone: str | None = Field(default=None, description=_SENSITIVE)
    family_contact_address: str | None = Field(default=None, description=_SENSITIVE)
    photo: bool = Field(description="whether a photo is on file")
    vulnerabilities: list[str] | None = Field(default=None, description=_SENSITIVE)
    vulnerability_notes: str | None = Field(default=None, description=_SENSITIVE)
    category: str
    status: str
    status_changed_at: dt.datetime
    referral_to: str
    icrc_withheld: bool | None = Field(default=None, description=_SENSITIVE)
    icrc_withheld_reason: str | None = Field(default=None, description=_SENSITIVE)
    completeness: int
    notes: str
    registered_by_id: uuid.UUID
    updated_at: dt.datetime
    version: int
    birth: str = Field(description="the date of birth as known: YYYY, YYYY-MM, YYYY-MM-DD or "
                                   "empty")
    aliases: list[AliasOut]
    documents: list[DocumentOut] = Field(description="empty without the permission to read "
                                                     "sensitive fields")
    sensitive_hidden: list[str]


class PersonSummary(Schema):
    id: uuid.UUID
    short_code: str
    name_ar: str
    name_lat: str
    birth: str
    status: str
    category: str
    group: str | None = None


def _summary(p) -> dict:
    return {"id": p.id, "short_code": p.short_code, "name_ar": p.name_ar,
            "name_lat": p.name_lat, "birth": p.birth_display, "status": p.status,
            "category": p.category, "group": p.group.short_code if p.group_id else None}


@router.post("/persons", response={201: PersonOut, 200: PersonOut}, exclude_unset=True)
def person_register(request, payload: PersonIn):
    """Register a person. Same ``client_key`` and content → 200 with the existing person;
    same key, other content → 409."""
    user = request.auth
    group = selectors.arrival_group_get(user=user, group_id=payload.group) \
        if payload.group else None
    if group is not None:
        site = group.site
    elif payload.site:
        site = _site(user, payload.site)
    else:
        raise HttpError(400, _("Give the site or the arrival group."))
    person, created = services.person_register(
        actor=user, site=site, client_key=payload.client_key, group=group,
        data=PersonInput(values=payload.values.given(), birth=payload.birth,
                         approximate_age=payload.approximate_age,
                         aliases=[(a.name_ar, a.name_lat) for a in payload.aliases],
                         documents=[DocumentInput(kind=d.kind, number=d.number,
                                                  issuer=d.issuer, expiry=d.expiry)
                                    for d in payload.documents]))
    person = selectors.person_get(user=user, person_id=person.id)
    return Status(201 if created else 200, selectors.person_as_dict(user=user, person=person))


class PersonPageOut(Schema):
    persons: list[PersonSummary]
    next_cursor: str | None


def _person_page(user, *, q: str, status, group, after, limit: int) -> dict:
    page = selectors.person_search(user=user, q=q, status=status, group_id=group,
                                   after=after, limit=max(1, min(limit, 200)))
    return {"persons": [_summary(p) for p in page.persons], "next_cursor": page.next_cursor}


@router.get("/persons", response=PersonPageOut)
def person_list(request, code: str = "", status: str | None = None,
                group: uuid.UUID | None = None, after: uuid.UUID | None = None,
                limit: int = 50, q: str | None = None):
    """List persons by status, group or short code; keyset. No names here: a URL ends up in
    proxy logs and browser history (attack test 17), so a name search is
    ``POST /persons/search``; ``q`` is refused rather than silently ignored."""
    if q is not None:
        raise HttpError(400, _("Search by name, document or service number with "
                               "POST /api/reception/persons/search."))
    canonical = short_code_normalise(code) if code else ""
    if canonical is None:
        raise HttpError(400, _("This is not a Mawa short code."))
    return _person_page(request.auth, q=canonical, status=status, group=group, after=after,
                        limit=limit)


class PersonSearchIn(Schema):
    q: str = ""
    status: str | None = None
    group: uuid.UUID | None = None
    after: uuid.UUID | None = None
    limit: int = 50


@router.post("/persons/search", response=PersonPageOut)
def person_search(request, payload: PersonSearchIn):
    """Search persons (short code, any name part, document or service number) with the
    search in the body, never in the URL; keyset-paginated like the list."""
    return _person_page(request.auth, q=payload.q, status=payload.status,
                        group=payload.group, after=payload.after, limit=payload.limit)


@router.get("/persons/{person_id}", response=PersonOut, exclude_unset=True)
def person_get(request, person_id: uuid.UUID):
    """One person, with only the fields the caller's role may read; the read is audited."""
    person = selectors.person_get(user=request.auth, person_id=person_id)
    return selectors.person_as_dict(user=request.auth, person=person)


class PersonUpdateIn(Schema):
    version: int
    changes: PersonChangesIn


@router.patch("/persons/{person_id}", response=PersonOut, exclude_unset=True)
def person_update(request, person_id: uuid.UUID, payload: PersonUpdateIn):
    """Correct a person (``version`` is the one you read; a stale one answers 409)."""
    person = selectors.person_get(user=request.auth, person_id=person_id)
    person = services.person_update(actor=request.auth, person=person, version=payload.version,
                                    changes=payload.changes.given())
    return selectors.person_as_dict(user=request.auth, person=person)


class TransitionIn(Schema):
    to: str
    details: dict[str, str] = Field(
        {}, description="what the move requires, by name (see GET .../transitions): text, a "
                        "date (YYYY-MM-DD) or a camp's site code")
    note: str = ""
    expected_status: str | None = None


class LifecycleEventOut(Schema):
    from_status: str
    to_status: str
    at: dt.datetime
    site: str
    details: dict[str, str]
    note: str


class RequirementOut(Schema):
    name: str
    kind: str = Field(description="text, date or camp")
    label: str


class AllowedMoveOut(Schema):
    to: str
    label: str
    requires: list[RequirementOut]


class TransitionsOut(Schema):
    history: list[LifecycleEventOut]
    allowed: list[AllowedMoveOut]


@router.post("/persons/{person_id}/transitions", response=PersonSummary)
def person_transition(request, person_id: uuid.UUID, payload: TransitionIn):
    """Move a person along the lifecycle (see ``GET .../transitions`` for the allowed moves)."""
    person = selectors.person_get(user=request.auth, person_id=person_id)
    person = services.person_transition(actor=request.auth, person=person, to=payload.to,
                                        details=payload.details, note=payload.note,
                                        expected_status=payload.expected_status)
    return _summary(person)


class SeparationIn(Schema):
    category: str
    referral_to: str
    note: str = ""


@router.post("/persons/{person_id}/separation", response=PersonSummary)
def person_separate(request, person_id: uuid.UUID, payload: SeparationIn):
    """Separate a civilian or child and record to whom they were referred."""
    person = selectors.person_get(user=request.auth, person_id=person_id)
    person = services.person_separate(actor=request.auth, person=person,
                                      category=payload.category,
                                      referral_to=payload.referral_to, note=payload.note)
    return _summary(person)


@router.get("/persons/{person_id}/transitions", response=TransitionsOut)
def person_transitions(request, person_id: uuid.UUID):
    """History, and the moves the caller may make now with what each requires."""
    person = selectors.person_get(user=request.auth, person_id=person_id)
    return {
        "history": [{"from_status": e.from_status, "to_status": e.to_status, "at": e.at,
                     "site": e.site.code, "details": e.details, "note": e.note}
                    for e in selectors.person_history(person=person)],
        "allowed": [{"to": t.target, "label": str(t.label),
                     "requires": [{"name": r.name, "kind": r.kind, "label": str(r.label)}
                                  for r in t.requires]}
                    for t in services.person_transitions_allowed(actor=request.auth,
                                                                  person=person)],
    }
