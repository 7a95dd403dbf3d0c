"""REST API of identity resolution (mounted at /api/matching): the same selectors and
services as the pages. Watch-list content answers 404 outside the compartment."""

from __future__ import annotations

import datetime as dt
import uuid

from ninja import Router, Schema
from pydantic.json_schema import SkipJsonSchema

from mawa.matching import selectors, services
from mawa.matching.models import PairKind
from mawa.matching.reasons import reasons_display

router = Router(tags=["matching"])


class ReasonOut(Schema):
    code: str
    text: str
    weight: float


# A suggestion. A watch-list hit (seen by investigators only) also carries ``entry``, the
# entity of the list: left out of the schema every role reads, and out of every other answer
# (the operations drop unset fields), so that neither names the compartment (attack test 2).
# (A comment, not a docstring: ninja would publish a docstring in the schema.)
class PairOut(Schema):
    id: uuid.UUID
    kind: str
    person_a: uuid.UUID
    person_b: uuid.UUID | None
    probability: float
    reasons: list[ReasonOut]
    decision: str
    decided_at: dt.datetime | None
    entry: SkipJsonSchema[str | None] = None


def _pair_out(p) -> dict:
    out = {"id": p.id, "kind": p.kind, "person_a": p.person_a_id, "person_b": p.person_b_id,
           "probability": p.probability,
           "reasons": [{"code": r["code"], "text": str(r["text"]), "weight": r["weight"]}
                       for r in reasons_display(p.reasons)],
           "decision": p.decision, "decided_at": p.decided_at}
    if p.entry_id:
        out["entry"] = p.entry.entity_id
    return out


@router.get("/pairs", response=list[PairOut], exclude_unset=True)
def pair_list(request, kind: str = PairKind.DUPLICATE, decided: bool = False):
    """Suggestions awaiting a decision (``decided=true``: already decided)."""
    return [_pair_out(p) for p in selectors.pair_queue(user=request.auth, kind=kind,
                                                       decided=decided)]


@router.get("/pairs/{pair_id}", response=PairOut, exclude_unset=True)
def pair_get(request, pair_id: uuid.UUID):
    return _pair_out(selectors.pair_get(user=request.auth, pair_id=pair_id))


class DecisionIn(Schema):
    decision: str
    reason: str
    survivor: uuid.UUID | None = None


@router.post("/pairs/{pair_id}/decision", response=PairOut, exclude_unset=True)
def pair_decide(request, pair_id: uuid.UUID, body: DecisionIn):
    """Decide match / not_match / unsure, with a reason. A pair is decided once."""
    pair = selectors.pair_get(user=request.auth, pair_id=pair_id)
    survivor = None
    if body.survivor is not None and pair.person_b is not None:
        survivor = {pair.person_a.pk: pair.person_a,
                    pair.person_b.pk: pair.person_b}.get(body.survivor, pair.person_a)
    decided = services.pair_decide(actor=request.auth, pair=pair, decision=body.decision,
                                   reason=body.reason, survivor=survivor)
    return _pair_out(decided)


class SuggestIn(Schema):
    given_ar: str = ""
    given_lat: str = ""
    father_ar: str = ""
    father_lat: str = ""
    grandfather_ar: str = ""
    grandfather_lat: str = ""
    family_ar: str = ""
    family_lat: str = ""
    mother_given_ar: str = ""
    mother_given_lat: str = ""
    birth: str = ""
    sex: str = ""
    service_number: str = ""
    document_numbers: list[str] = []


class SuggestionOut(Schema):
    person: uuid.UUID
    short_code: str
    probability: float
    reasons: list[ReasonOut]


@router.post("/suggestions", response=list[SuggestionOut])
def suggestions(request, body: SuggestIn, limit: int = 5):
    """Registered persons that may be the person described (as while typing at registration)."""
    found = selectors.candidates_for(user=request.auth, data=body.dict(), limit=min(limit, 20))
    return [{"person": s.person.id, "short_code": s.person.short_code,
             "probability": s.probability,
             "reasons": [{"code": r["code"], "text": str(r["text"]), "weight": r["weight"]}
                         for r in reasons_display(s.reasons)]} for s in found]


class RunOut(Schema):
    id: uuid.UUID
    kind: str
    records: int
    pairs_found: int
    pairs_new: int


@router.post("/runs", response=RunOut)
def run_start(request):
    """De-duplicate the whole registry now (``Perm.MATCH_RUN``)."""
    run = services.match_run_dedupe(actor=request.auth)
    return {"id": run.id, "kind": run.kind, "records": run.records,
            "pairs_found": run.pairs_found, "pairs_new": run.pairs_new}
