"""Current state of an item, derived from its custody events — the one fold.

Each custody ledger entry (stream ``custody/<site code>``) has the payload::

    {"data": {...event parameters...},
     "items": [{"id": <item uuid>, "n": <item's event number>, "qty": <signed change>,
                "after": {...state after...}}, ...]}

``apply`` computes the state after an event from the state before, the kind, the parameters,
the actor and the site. The services use it to write the projection on ``Item``; ``mawa custody
verify`` replays the ledger with it and compares. The recorded ``after`` lets a reader of the
ledger alone see the state, and lets verification catch an ``after`` that was not computed.

The state graph is data here (``KINDS``), so the rule "nothing leaves custody without a
disposition event" has exactly one place: only kinds whose ``ends`` is set reach a state outside
custody.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

IN_CUSTODY, IN_TRANSIT, OUT, MISSING = "in_custody", "in_transit", "out_on_access", "missing"
REFUSED, CONSUMED = "refused", "consumed"
DESTROYED, TRANSFERRED, RETURNED = "destroyed", "transferred", "returned"
TERMINAL = frozenset({REFUSED, CONSUMED, DESTROYED, TRANSFERRED, RETURNED})
LEFT_CUSTODY = frozenset({DESTROYED, TRANSFERRED, RETURNED})
HELD_IN = frozenset({IN_CUSTODY})  # where an item must be for most operations


@dataclass(frozen=True)
class EventKind:
    code: str
    label: object
    # states the item must be in (None: any non-terminal state)
    requires: frozenset | None = None
    # a disposition: blocked by a legal hold, needs CUSTODY_DISPOSE, may take an item out
    disposition: bool = False
    # recordable directly from the item page / API (others come from dedicated services)
    manual: bool = True


K = EventKind
KINDS: dict[str, EventKind] = {k.code: k for k in [
    K("surrendered", _("Surrendered (receipt issued)"), manual=False),
    K("refused", _("Refused at the gate (receipt issued)"), manual=False),
    K("safety_cleared", _("Safety cleared")),
    K("verified", _("Verified")),
    K("identified", _("Identified")),
    K("tagged", _("Tagged")),
    K("remarked", _("Re-marked")),
    K("photographed", _("Photographed"), manual=False),
    K("segregated", _("Segregated")),
    K("split", _("Split"), requires=HELD_IN, manual=False),
    K("merged", _("Merged"), requires=HELD_IN, manual=False),
    K("sealed", _("Sealed")),
    K("unsealed", _("Unsealed")),
    K("dispatched", _("Dispatched"), requires=HELD_IN),
    K("received", _("Received (handover declaration)"), requires=frozenset({IN_TRANSIT})),
    K("stored", _("Stored or moved"), requires=HELD_IN),
    K("access_out", _("Taken out of the store"), requires=HELD_IN),
    K("access_return", _("Returned to the store"), requires=frozenset({OUT})),
    K("stock_checked", _("Seen in a stock check"), manual=False),
    K("discrepancy_reported", _("Discrepancy reported"), manual=False),
    K("loss_reported", _("Loss reported"), manual=False),
    K("found", _("Found again"), requires=frozenset({MISSING}), manual=False),
    K("trace_check", _("Trace check")),
    K("trace_request", _("Trace request")),
    K("legal_hold_set", _("Legal hold set"), manual=False),
    K("legal_hold_released", _("Legal hold released"), manual=False),
    K("evidence_linked", _("Evidence linked"), manual=False),
    K("deactivated", _("Deactivated or demilitarised"), requires=HELD_IN, disposition=True),
    K("destroyed", _("Destroyed"), requires=HELD_IN, disposition=True),
    K("transferred", _("Transferred to the national authority"), requires=HELD_IN,
      disposition=True),
    K("returned", _("Returned to the country of origin"), requires=HELD_IN, disposition=True),
    K("correction", _("Correction"), manual=False),
]}

# What each kind needs in ``data`` (checked by the service before anything is written).
REQUIRED_DATA = {
    "dispatched": ("to_site", "escort"),
    "stored": ("store",),
    "access_out": ("taken_by", "purpose"),
    "sealed": ("seal",),
    "destroyed": ("method", "plan", "monitor"),
    "deactivated": ("method", "certified_by"),
    "transferred": ("recipient", "document"),
    "returned": ("recipient", "document"),
    "trace_check": ("note",),
    "trace_request": ("note",),
}


def initial() -> dict:
    return {"state": "", "custodian": "", "custodian_name": "", "site": "", "store": "",
            "bay": "", "rack": "", "quantity": 0, "on_hold": False, "seal": "",
            "deactivated": False, "remarked": False, "n": 0}


def apply(before: dict | None, kind: str, data: dict, line: dict, *, actor: str, site: str
          ) -> dict:
    """The state of one item after ``kind`` (pure; ``line`` is the item's part of the entry)."""
    s = dict(before or initial())
    s["n"] = s["n"] + 1
    s["quantity"] = s["quantity"] + int(line.get("qty", 0))
    if kind in ("surrendered", "refused") or (kind in ("split", "merged") and line.get("new")):
        s.update(state=REFUSED if kind == "refused" else IN_CUSTODY, site=site,
                 custodian="" if kind == "refused" else actor,
                 custodian_name=data.get("bearer", "") if kind == "refused" else "",
                 store=data.get("store", ""), bay=data.get("bay", ""), rack=data.get("rack", ""))
    elif kind in ("split", "merged") and s["quantity"] == 0:
        s.update(state=CONSUMED, custodian="", store="", bay="", rack="")
    elif kind == "destroyed":
        # a destroyed lot keeps its quantity: the rounds it held are accounted as destroyed
        s.update(state=DESTROYED, custodian="", store="", bay="", rack="")
    elif kind in ("transferred", "returned"):
        s.update(state=TRANSFERRED if kind == "transferred" else RETURNED, custodian="",
                 custodian_name=data["recipient"], store="", bay="", rack="")
    elif kind == "stored":
        s.update(store=data["store"], bay=data.get("bay", ""), rack=data.get("rack", ""),
                 custodian=actor)
    elif kind == "dispatched":
        s.update(state=IN_TRANSIT, custodian=actor, custodian_name=data["escort"], store="",
                 bay="", rack="")
    elif kind == "received":
        s.update(state=IN_CUSTODY, site=site, custodian=actor, custodian_name="",
                 store=data.get("store", ""), bay=data.get("bay", ""), rack=data.get("rack", ""))
    elif kind == "access_out":
        s.update(state=OUT, custodian=actor, custodian_name=data["taken_by"])
    elif kind == "access_return":
        s.update(state=IN_CUSTODY, custodian=actor, custodian_name="")
    elif kind == "loss_reported":
        s.update(state=MISSING)
    elif kind == "found":
        s.update(state=IN_CUSTODY, custodian=actor)
    elif kind == "legal_hold_set":
        s["on_hold"] = True
    elif kind == "legal_hold_released":
        s["on_hold"] = bool(data.get("holds_remaining", 0))
    elif kind == "sealed":
        s["seal"] = data["seal"]
    elif kind == "unsealed":
        s["seal"] = ""
    elif kind == "deactivated":
        s["deactivated"] = True
    elif kind == "remarked":
        s["remarked"] = True
    return s


def replay(entries) -> tuple[dict[str, dict], list[str]]:
    """Fold ledger entries (dicts: kind, actor, site, payload) into item states.

    Entries of several streams may come in any order: each item's events are ordered by their
    ``n``. Returns the states and the problems found (gaps, conservation broken).
    """
    per_item: dict[str, list] = {}
    problems: list[str] = []
    for e in entries:
        payload = e["payload"]
        lines = payload.get("items", [])
        if e["kind"] in ("split", "merged") and sum(int(x.get("qty", 0)) for x in lines) != 0:
            problems.append(f"{e['ref']}: quantities not conserved by {e['kind']}")
        for line in lines:
            per_item.setdefault(line["id"], []).append((line["n"], e, line))
    states: dict[str, dict] = {}
    for item_id, events in per_item.items():
        events.sort(key=lambda t: t[0])
        s = None
        for expected, (n, e, line) in enumerate(events, start=1):
            if n != expected:
                problems.append(f"item {item_id}: event {expected} missing (next is {n})")
                break
            s = apply(s, e["kind"], e["payload"].get("data", {}), line, actor=e["actor"],
                      site=e["site"])
            if "after" in line and line["after"] != s:
                problems.append(f"{e['ref']}: recorded state of item {item_id} is not the "
                                "state its events give")
        if s is not None:
            states[item_id] = s
    return states, problems
