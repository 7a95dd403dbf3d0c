"""Attack test 2 (protection.md R1, R2): field leakage.

Registry roles (everyone but investigators; administrators without break-glass) must learn
nothing of the accountability compartment — no flag, count or field — through sorting,
filtering, CSV headers, the API schema or error texts.

The method: two comparable persons registered at RHM, disarmed at the gate (one AKM each) and
interned at NUR in the same tent. The compartment is then attached to the first one only —
an allegation naming him (event, act, involvement), a source that is him, a piece of evidence,
his weapon linked to the act, a watch-list screening hit and, separately, a legal hold on his
weapon set through custody. Every page, API list, search and export a role can reach is read
in a world without the compartment data and in a world with it (a savepoint rolled back in
between, the clock stopped): the answers must be the same bytes once the per-request tokens
are set aside. Per-person answers (his page, a search that finds him) must be the same as his
twin's once the person's own values (ids, codes, names, numbers) are set aside.

One disclosure is by design and allowed here, nowhere else: a legal hold is a custody fact.
Staff who handle the materiel (``Perm.CUSTODY_VIEW``) must know that an item cannot be
disposed of (IDDRS 6.40; ``custody.models.LegalHold``), so the item's flag, its custody event
and the held counts of the custody pages and the situation report may change for them — but
never the reason, the allegation or any person-facing answer.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import inspect
import io
import json
import re
import subprocess
import uuid
from dataclasses import dataclass, field

import pytest
import time_machine
from django.db import transaction
from django.test import Client
from django.utils import timezone

from mawa.accounts.roles import ROLE_PERMISSIONS, Perm, Role

from .routes import all_routes

pytestmark = pytest.mark.django_db

NON_INVESTIGATORS = [r for r in Role if r != Role.INVESTIGATOR]

EVENT_TITLE = "Shelling of the Souq al-Hal market"
HOLD_REASON = "Rifle seen in the market video, frame 212"
LIST_SOURCE = "Panel of Experts list"
# Words that name the compartment. Checked in error texts and in every answer a legal hold
# is allowed to change.
# ("referral" is not one: reception refers civilians out.)
COMPARTMENT_WORDS = ("accountab", "allegation", "alleged", "watch-list", "watchlist",
                     "watch list", "screening", "evidence", "involvement", "investigat",
                     "compartment", "break-glass", "perpetrator")
# Parameter names a careless view might honour to sort or filter by compartment data.
COMPARTMENT_PARAMS = {
    "hold": "1", "on_hold": "1", "legal_hold": "true", "held": "1", "allegation": "1",
    "alleged": "1", "watchlist": "1", "hit": "1", "hits": "1", "flag": "1", "flagged": "1",
    "involvement": "1", "compartment": "1", "accountability": "1", "evidence": "1",
    "screened": "1", "order": "-hits", "sort": "-hits", "o": "-hits", "ordering": "-on_hold",
}


# --- the twins and the compartment ---------------------------------------------------------

@dataclass
class Twin:
    person: object
    receipt: object
    item: object

    def values(self) -> list[tuple[str, str]]:
        """The person's own values and the placeholder each becomes (longest first)."""
        p, r, i = self.person, self.receipt, self.item
        pairs = [(str(p.pk), "{person-id}"), (p.pk.hex, "{person-id}"),
                 (p.short_code, "{person-code}"), (p.given_lat, "{given}"),
                 (p.family_lat, "{family}"), (p.given_lat.lower(), "{given}"),
                 (p.family_lat.lower(), "{family}"), (p.service_number, "{number}"),
                 (str(r.pk), "{receipt-id}"), (r.pk.hex, "{receipt-id}"),
                 (r.short_code, "{receipt-code}"), (str(i.pk), "{item-id}"),
                 (i.pk.hex, "{item-id}"), (i.short_code, "{item-tag}"),
                 (i.serial_number, "{serial}")]
        return sorted(pairs, key=lambda kv: -len(kv[0]))


@dataclass
class Twins:
    flagged: Twin
    plain: Twin
    group: object
    camp: object
    block: object
    shelter: object
    store: object
    investigator: object
    users: dict
    now: dt.datetime
    made: dict = field(default_factory=dict)  # compartment records of the current world

    def markers(self) -> list[str]:
        """Strings that belong to the compartment records of the current world."""
        out = [EVENT_TITLE, HOLD_REASON, LIST_SOURCE, "wl-karam-nouri"]
        for record in self.made.values():
            out.append(str(record.pk))
            code = getattr(record, "short_code", "")
            if code:
                out.append(code)
        return out


@pytest.fixture
def twins(sites, users, settings, tmp_path):
    """Two comparable persons, their weapons and their tent; no compartment data yet."""
    from mawa.camp import services as camp
    from mawa.custody import services as custody
    from mawa.custody.models import Kind, MaterielModel
    from mawa.custody.services import ItemInput
    from mawa.reception import services as reception
    from mawa.reception.services import PersonInput

    settings.MAWA_EVIDENCE_DIR = tmp_path / "evidence"
    settings.VAR_DIR = tmp_path
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    traveller = time_machine.travel(now, tick=False)
    traveller.start()
    try:
        officer, keeper = users[Role.RECEPTION_OFFICER], users[Role.CUSTODY_OFFICER]
        manager = users[Role.CAMP_MANAGER]
        # the cast's users are named after their roles; a hold's custody event names who set
        # it, and an investigator is a person with a name, not the word "Investigator"
        users[Role.INVESTIGATOR].first_name = "Rana"
        users[Role.INVESTIGATOR].save(update_fields=["first_name"])
        rhm, nur = sites["RHM"], sites["NUR"]
        group = reception.arrival_group_create(
            actor=officer, site=rhm, client_key=uuid.uuid4(),
            arrived_at=now - dt.timedelta(hours=5), reported_count=2, formation="44th Brigade")
        store = custody.store_create(actor=keeper, site=rhm, name="Gate armoury")
        zone = camp.zone_create(actor=manager, site=nur, name="A")
        block = camp.block_create(actor=manager, zone=zone, name="A1", x=10, y=10)
        shelter = camp.shelter_create(actor=manager, block=block, name="T1", capacity=4)
        made = []
        for given, family, number, serial in (("Karam", "Nouri", "SN-40417", "AK-771204"),
                                              ("Salim", "Badawi", "SN-40981", "AK-771988")):
            person, _ = reception.person_register(
                actor=officer, site=rhm, client_key=uuid.uuid4(), group=group,
                data=PersonInput(values={"given_lat": given, "family_lat": family,
                                         "sex": "male", "unit": "44th Brigade",
                                         "rank": "Private", "service_number": number},
                                 birth="1988"))
            receipt = custody.receipt_open(actor=keeper, site=rhm, client_key=uuid.uuid4(),
                                           person=person, witness="Sgt. Haddad")
            item = custody.item_surrender(
                actor=keeper, receipt=receipt, client_key=uuid.uuid4(),
                data=ItemInput(kind=Kind.WEAPON, catalogue=MaterielModel.objects.get(name="AKM"),
                               serial_number=serial, cleared_by="Cpl. Aziz",
                               verified_by="Lt. Sabri")).item
            receipt = custody.receipt_issue(actor=keeper, receipt=receipt)
            person.refresh_from_db()
            for to, details in (("disarmed", {}), ("registered", {}),
                                ("interned", {"camp": nur.code})):
                if person.status != to:
                    person = reception.person_transition(actor=officer, person=person, to=to,
                                                         details=details)
            camp.assignment_check_in(actor=manager, person=person, shelter=shelter,
                                     client_key=uuid.uuid4())
            person.refresh_from_db()
            item.refresh_from_db()
            made.append(Twin(person, receipt, item))
        yield Twins(flagged=made[0], plain=made[1], group=group, camp=nur, block=block,
                    shelter=shelter, store=store, investigator=users[Role.INVESTIGATOR],
                    users=users, now=now)
    finally:
        traveller.stop()


WATCHLIST = (b'{"id": "wl-karam-nouri", "schema": "Person", "properties": {"firstName": '
             b'["Karam"], "lastName": ["Nouri"], "birthDate": ["1988"], "gender": ["male"]}}\n'
             b'{"id": "wl-other", "schema": "Person", "properties": {"firstName": ["Tariq"], '
             b'"lastName": ["Barakat"], "birthDate": ["1970"]}}\n')


def attach_compartment(t: Twins) -> None:
    """Everything the compartment can attach to the flagged person, except a legal hold."""
    from mawa.accountability import services as acc
    from mawa.matching.models import MatchPair, PairKind
    from mawa.matching.services import watchlist_import

    inv, person = t.investigator, t.flagged.person
    site = person.site
    event = acc.event_create(actor=inv, site=site, client_key=uuid.uuid4(), title=EVENT_TITLE,
                             description="Three killed.", place="Souq al-Hal",
                             date_start=dt.date(2024, 11, 2), date_end=dt.date(2024, 11, 2),
                             date_precision="day")
    act = acc.act_add(actor=inv, event=event, violation="8.2.b.i", date=dt.date(2024, 11, 2))
    acc.involvement_add(actor=inv, act=act, role="alleged_perpetrator", person=person,
                        degree="direct")
    source = acc.source_create(actor=inv, site=site, name="Witness W-9", kind="witness",
                               reliability="B", person=person)
    evidence = acc.evidence_add(actor=inv, event=event, client_key=uuid.uuid4(),
                                name="statement.txt", data=b"I saw him fire.\n", source=source,
                                description="statement", captured_at=timezone.now(),
                                original_location="safe")
    acc.act_item_link(actor=inv, act=act, item=t.flagged.item)
    result = watchlist_import(actor=inv, content=WATCHLIST, source=LIST_SOURCE, version="7",
                              licence="restricted", file_name="panel.jsonl")
    hit = MatchPair.objects.get(kind=PairKind.WATCHLIST, person_a=person)
    t.made.update(event=event, act=act, source=source, evidence=evidence, hit=hit,
                  watchlist=result.watchlist, run=result.run)


def attach_hold(t: Twins) -> None:
    """A legal hold on the flagged person's weapon, set for the allegation."""
    from mawa.accountability import services as acc

    if "event" not in t.made:
        attach_compartment(t)
    record = acc.item_hold_set(actor=t.investigator, event=t.made["event"],
                               item=t.flagged.item, reason=HOLD_REASON)
    t.made.update(hold=record.hold)


@contextlib.contextmanager
def world(t: Twins, *steps):
    """A world with ``steps`` applied, undone on leaving (a rolled-back savepoint)."""
    with transaction.atomic():
        for step in steps:
            step(t)
        yield
        transaction.set_rollback(True)
    t.made.clear()


# --- reading answers ----------------------------------------------------------------------

@dataclass(frozen=True)
class Req:
    key: str
    method: str
    path: str
    data: object = None
    json: bool = False
    headers: tuple = ()


def client_as(user) -> Client:
    """A client signed in as ``user``, reading English (the words checked here are English;
    the comparisons hold in any language)."""
    client = Client()
    client.force_login(user)
    client.cookies["django_language"] = "en"
    return client


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def pdf_text(data: bytes) -> str:
    """The text of a PDF (poppler's pdftotext): bytes of two renderings differ in ids."""
    done = subprocess.run(["pdftotext", "-q", "-raw", "-", "-"], input=data, capture_output=True,
                          check=True, timeout=60)
    # words in order; where a line wraps depends on the widths of the glyphs of a code
    return " ".join(done.stdout.decode("utf-8", "replace").split())


_TOKENS = [
    (re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"'), 'name="csrfmiddlewaretoken"'),
    (re.compile(r'"X-CSRFToken": "[^"]+"'), '"X-CSRFToken"'),
    (re.compile(r"\b[A-Za-z0-9]{64}\b"), "{token}"),
    # client keys made afresh for each form
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b"), "{uuid}"),
    (re.compile(r"\b[0-9a-f]{32}\b"), "{uuid}"),
]
# The ledger page: the length and head of the ``audit`` stream (every user's reads and
# writes, counted together) and of the custody streams (see the module docstring).
_LEDGER_ROW = re.compile(r'(<td title="(?:audit|custody/[A-Z]+)">[^<]*</td>)<td class="num">\d+'
                         r'</td><td class="code small">[0-9a-f]+')


def text_of(status: int, ctype: str, body: bytes) -> str:
    if ctype.startswith("application/pdf") and status == 200:
        return pdf_text(body)
    return body.decode("utf-8", "replace")


def normalised(text: str, path: str = "") -> str:
    for pattern, repl in _TOKENS:
        text = pattern.sub(repl, text)
    if path == "/ledger/":
        text = _LEDGER_ROW.sub(r"\1{n}{hash}", text)
    return text


def as_twin(text: str, twin: Twin) -> str:
    """Set the person's own values aside, and what differs only because two records were
    made one after the other (ledger positions, QR payloads of the signed receipts)."""
    for value, placeholder in twin.values():
        if value:
            text = text.replace(value, placeholder)
    text = re.sub(r"data:image/[a-z+]+;base64,[A-Za-z0-9+/=]+", "{image}", text)
    text = re.sub(r"MAWA1\.[A-Za-z0-9_.\-]+", "{signed}", text)
    text = re.sub(r"((?:custody|person)/[^#\s\"<]+)#\d+", r"\1#{n}", text)
    # the same ledger position, shown in words under that reference ("Ledger entry 9")
    text = re.sub(r'(title="(?:custody|person)/[^"#]+#\{n\}">[^<0-9٠-٩]*)[0-9٠-٩]+', r"\1{n}",
                  text)
    text = re.sub(r'("seq": |"item_seq": )\d+', r"\1{n}", text)
    return text


def fetch(client, req: Req) -> tuple[int, str, str]:
    headers = dict(req.headers)
    if req.method == "get":
        r = client.get(req.path, req.data or {}, headers=headers)
    elif req.json:
        r = client.post(req.path, json.dumps(req.data or {}), content_type="application/json",
                        headers=headers)
    else:
        r = client.post(req.path, req.data or {}, headers=headers)
    ctype = r.get("Content-Type", "")
    return r.status_code, ctype, text_of(r.status_code, ctype, body_of(r))


@dataclass(frozen=True)
class Listing:
    """A listing: its plain request, and the same with each parameter its code reads (and
    compartment-ish ones), asked only of roles the plain request answers."""

    base: Req
    variants: tuple[Req, ...] = ()


def read_all(t: Twins, roles, listings) -> dict:
    """role → request key → (status, content type, normalised text)."""
    out: dict = {}
    for role in roles:
        client = client_as(t.users[role])
        answers = out.setdefault(role, {})
        for listing in listings(role) if callable(listings) else listings:
            reqs = listing.variants if isinstance(listing, Listing) else ()
            base = listing.base if isinstance(listing, Listing) else listing
            for req in (base, *reqs):
                status, ctype, text = fetch(client, req)
                answers[req.key] = (status, ctype.split(";")[0], normalised(text, req.path))
                if req is base and status != 200:
                    break  # the role may not use the page: its parameters change nothing
    return out


def may_custody(role) -> bool:
    return Perm.CUSTODY_VIEW in ROLE_PERMISSIONS[role]


def hold_may_show(role, req: Req) -> bool:
    """Where a legal hold may be seen (module docstring): custody pages, custody API and the
    situation report's held column for those who handle materiel; the custody stream's
    length on the ledger page is set aside by ``normalised``."""
    return may_custody(role) and (req.path.startswith(("/custody/", "/api/custody/"))
                                  or req.path in ("/reports/", "/api/reports/sitrep"))


# --- what to read: every listing, with every parameter its view reads -------------------

_READ = re.compile(r'(?:\bGET|\bg|\bdata)\.get\(\s*"(\w+)"')
_FORM = re.compile(r"(\w+Form)\(\s*data\b")
_DATA_IS_QUERY = re.compile(r"data = request\.GET|else request\.GET")
SKIPPED_PREFIXES = ("accounts/", "i18n/", "exports/", "verify/", "custody/verify/", "healthz",
                    "api/")


def page_parameters(view) -> list[str]:
    """The query parameters a page view reads: ``GET.get("x")`` in the view and the helpers
    it calls, and the fields of a form it binds to the query."""
    fn = inspect.unwrap(view)
    scope = fn.__globals__
    sources = [inspect.getsource(fn)]
    for name in sorted(set(re.findall(r"\b(_\w+)\(", sources[0]))):
        helper = scope.get(name)
        if inspect.isfunction(helper):
            sources.append(inspect.getsource(helper))
    names: set[str] = set()
    for src in sources:
        names |= set(_READ.findall(src))
        if _DATA_IS_QUERY.search(src):
            for form_name in _FORM.findall(src):
                form = scope.get(form_name) or getattr(scope.get("forms"), form_name, None)
                names |= set(getattr(form, "base_fields", {}))
    return sorted(names - {"csrfmiddlewaretoken"})


def parameter_values(name: str, t: Twins) -> list[str]:
    p = t.flagged.person
    last = str(uuid.UUID(int=(1 << 128) - 1))
    table = {
        # (searches by code and number: the per-person comparison)
        "q": [p.family_lat], "status": ["interned"], "state": ["in_custody"],
        "kind": ["weapon", "watchlist"], "category": ["rifle"], "group": [str(t.group.id)],
        "store": [t.store.short_code], "site": ["NUR", "RHM"],
        "date": [t.now.date().isoformat()], "decided": ["1"], "before": [last],
        "after": [last], "limit": ["200"], "code": [p.short_code], "open_only": ["true"],
        "format": ["pdf"],
    }
    return table.get(name, ["1"])


def _fill(template: str, t: Twins) -> str | None:
    """A listing route's own parameters (a group, a block, a tent, a store, a camp)."""
    values = {"group_id": str(t.group.id), "block_id": str(t.block.id),
              "shelter_id": str(t.shelter.id), "site": t.camp.code}
    if "stores/<str:code>" in template:
        values["code"] = t.store.short_code
    names = [m.group("name") for m in re.finditer(r"<(?:\w+:)?(?P<name>\w+)>", template)]
    if any(n not in values for n in names):
        return None
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", lambda m: values[m.group(1)], template)


def _api_path(path: str) -> str:
    return path if path.startswith("/api") else "/api" + path


def _listing(path: str, names, t: Twins, *, method="get", data=None, json_body=False,
             key: str = "") -> Listing:
    key = key or f"{method.upper()} {path}"
    base = Req(key, method, path, data, json_body)
    variants = [Req(f"{key} ?<compartment>", method, path, {**(data or {}),
                                                             **COMPARTMENT_PARAMS}, json_body)]
    for name in names:
        for value in parameter_values(name, t):
            variants.append(Req(f"{key} ?{name}={value}", method, path,
                                {**(data or {}), name: value, **COMPARTMENT_PARAMS},
                                json_body))
    return Listing(base, tuple(variants))


def listing_requests(t: Twins) -> list[Listing]:
    """Every page and API list that can show persons or items, with each parameter its code
    reads (each value in turn, with compartment-ish parameters alongside)."""
    from mawa.api import api

    out: list[Listing] = []
    for route in all_routes():
        if route.template.startswith(SKIPPED_PREFIXES):
            continue
        path = _fill(route.template, t)
        if path is None:
            continue  # one record's page: see the per-person comparison
        if path.endswith(".pdf"):
            continue  # documents: a group's ID cards are the persons' (per-person test)
        out.append(_listing(path, page_parameters(route.view), t))
    for api_path, ops in api.get_openapi_schema()["paths"].items():
        op = ops.get("get")
        path = _fill(api_path.removeprefix("/").replace("{", "<").replace("}", ">"), t)
        if op is None or path is None:
            continue
        out.append(_listing(_api_path(path), [p["name"] for p in op.get("parameters", [])
                                              if p["in"] == "query"], t))
    # the searches that POST (names stay out of URLs), the suggestions while typing
    p = t.flagged.person
    for value in parameter_values("q", t):
        out.append(_listing("/reception/persons/", [], t, method="post", data={"q": value},
                            key=f"POST /reception/persons/ q={value}"))
        out.append(_listing("/api/reception/persons/search", [], t, method="post",
                            data={"q": value}, json_body=True,
                            key=f"POST /api/reception/persons/search q={value}"))
    typed = {"given_lat": p.given_lat, "family_lat": p.family_lat, "birth": "1988",
             "sex": "male", "service_number": p.service_number}
    out.append(Listing(Req("POST /reception/persons/matches/", "post",
                           "/reception/persons/matches/", typed)))
    out.append(Listing(Req("POST /api/matching/suggestions", "post",
                           "/api/matching/suggestions", typed, json=True)))
    return out


def person_requests(twin: Twin) -> list[Req]:
    """One person's own pages and the searches that find them (keys without the values)."""
    p, r, i = twin.person, twin.receipt, twin.item
    out = [Req("person page", "get", f"/reception/persons/{p.pk}/"),
           Req("person correction form", "get", f"/reception/persons/{p.pk}/correct/"),
           Req("person API", "get", f"/api/reception/persons/{p.pk}"),
           Req("person transitions API", "get", f"/api/reception/persons/{p.pk}/transitions"),
           Req("subject access page", "get", f"/subject-access/{p.pk}/"),
           Req("ID card", "get", f"/reception/persons/{p.pk}/idcard.pdf"),
           Req("person list by code", "get", "/api/reception/persons", {"code": p.short_code}),
           Req("item page", "get", f"/custody/items/{i.short_code}/"),
           Req("item API", "get", f"/api/custody/items/{i.short_code}"),
           Req("receipt page", "get", f"/custody/receipts/{r.short_code}/"),
           Req("receipt API", "get", f"/api/custody/receipts/{r.short_code}"),
           Req("receipt PDF", "get", f"/custody/receipts/{r.short_code}/receipt.pdf"),
           Req("receipt labels", "get", f"/custody/receipts/{r.short_code}/labels.pdf"),
           Req("item search page", "get", "/custody/items/", {"q": i.serial_number}),
           Req("item search API", "get", "/api/custody/items", {"q": i.serial_number})]
    for what, value in (("family name", p.family_lat), ("code", p.short_code),
                        ("service number", p.service_number),
                        ("full name", f"{p.given_lat} {p.family_lat}")):
        out.append(Req(f"search page by {what}", "post", "/reception/persons/", {"q": value}))
        out.append(Req(f"search API by {what}", "post", "/api/reception/persons/search",
                       {"q": value}, json=True))
    typed = {"given_lat": p.given_lat, "family_lat": p.family_lat, "birth": "1988",
             "sex": "male", "service_number": p.service_number}
    out.append(Req("suggestions while typing", "post", "/reception/persons/matches/", typed))
    out.append(Req("suggestions API", "post", "/api/matching/suggestions", typed, json=True))
    return out


def _markers_absent(t: Twins, answers: dict) -> list[str]:
    markers = t.markers()
    return [f"{role} {key}: shows {m!r}" for role, by_key in answers.items()
            for key, (_s, _c, text) in by_key.items() for m in markers if m in text]


def _words(answers: dict, keys=None) -> list[str]:
    """Compartment words in answers (pages echo their own address: query strings, which
    carry the compartment-ish parameters asked, are set aside)."""
    return [f"{role} {key}: names {w!r}" for role, by_key in answers.items()
            for key, (_s, _c, text) in by_key.items() if keys is None or (role, key) in keys
            for w in COMPARTMENT_WORDS
            if w in re.sub(r"\?[^\"'\s<>]*", "", text).lower()]


def _differences(before: dict, after: dict, *, skip=lambda role, key: False) -> list[str]:
    problems = []
    for role, by_key in after.items():
        for key in sorted(set(by_key) | set(before[role])):
            if skip(role, key):
                continue
            answer, other = before[role].get(key), by_key.get(key)
            if answer is None or other is None:
                problems.append(f"{role} {key}: asked in one world only")
            elif answer != other:
                problems.append(f"{role} {key}: {answer[0]} → {other[0]} "
                                f"{_first_difference(answer[2], other[2])}")
    return problems


def _first_difference(a: str, b: str) -> str:
    n = next((k for k, (x, y) in enumerate(zip(a, b, strict=False)) if x != y),
             min(len(a), len(b)))
    return f"at {n}: …{a[max(0, n - 80):n + 80]!r} / …{b[max(0, n - 80):n + 80]!r}"


# --- the tests ----------------------------------------------------------------------------

def test_every_listing_answers_the_same_with_or_without_the_compartment(twins):
    """Attack 2: every page and API list (persons, items, camp, matching, reports, home,
    ledger), with every sort and filter parameter its code reads and compartment-ish ones,
    answers every non-investigator role byte for byte the same whether or not the flagged
    person carries an allegation, a source, evidence, a linked weapon and a watch-list hit;
    a legal hold on his weapon changes nothing either, but for the custody answers of those
    who handle materiel, which still name no reason, allegation or code."""
    listings = listing_requests(twins)
    by_key = {r.key: r for listing in listings for r in (listing.base, *listing.variants)}
    assert len(by_key) > 150 and any("status=interned" in k for k in by_key)
    custody_roles = [r for r in NON_INVESTIGATORS if may_custody(r)]

    with world(twins):
        none = read_all(twins, NON_INVESTIGATORS, listings)
    # the compartment without a hold changes nothing, custody answers included (read here
    # for the roles that see holds; everything else is held to the same below, hold added)
    with world(twins, attach_compartment):
        compartment = read_all(twins, custody_roles, lambda role: [
            listing for listing in listings if hold_may_show(role, listing.base)])
        leaks = _markers_absent(twins, compartment)
    assert leaks == [], "\n".join(leaks[:30])
    assert len(compartment[Role.CUSTODY_OFFICER]) > 10
    problems = _differences({r: {k: v for k, v in none[r].items() if k in compartment[r]}
                             for r in custody_roles}, compartment)
    assert problems == [], "\n".join(problems[:30])
    # and with the hold
    with world(twins, attach_hold):
        held = read_all(twins, NON_INVESTIGATORS, listings)
        leaks = _markers_absent(twins, held)
    assert leaks == [], "\n".join(leaks[:30])
    shown = {(role, key) for role in held for key in held[role]
             if hold_may_show(role, by_key[key])}
    problems = _differences(none, held, skip=lambda role, key: (role, key) in shown)
    assert problems == [], "\n".join(problems[:30])
    changed = {(role, key) for role, key in shown if held[role][key] != none[role][key]}
    assert _words(held, changed) == []
    # the worlds were really read: the flagged person listed and found, custody staff told
    # of the hold (what the exception is for)
    officer = held[Role.RECEPTION_OFFICER]
    assert twins.flagged.person.short_code in officer["GET /reception/persons/"][2]
    found = officer[f"POST /reception/persons/ q={twins.flagged.person.family_lat}"]
    assert twins.flagged.person.short_code in found[2]
    assert (Role.CUSTODY_OFFICER, "GET /api/custody/items") in changed


def test_the_flagged_person_answers_like_the_plain_one(twins):
    """Attack 2: his pages, his API record, his item, his receipt, his ID card, the searches
    that find him (by name, code, number) and the duplicate suggestions for him read, to every
    non-investigator role, exactly as his twin's do once each person's own values are set
    aside. With the hold, the item and receipt answers of custody roles may show it (and
    are compared without it); nothing else changes."""
    reqs = {r.key: r for r in person_requests(twins.flagged)}

    def read(steps, roles, keep):
        with world(twins, *steps):
            out = {}
            for label, twin in (("flagged", twins.flagged), ("plain", twins.plain)):
                mine = person_requests(twin)
                got = read_all(twins, roles, lambda role, mine=mine: [
                    r for r in mine if keep(role, r)])
                out[label] = {role: {k: (s, c, as_twin(x, twin)) for k, (s, c, x) in a.items()}
                              for role, a in got.items()}
            leaks = _markers_absent(twins, out["flagged"])
        return out, leaks

    custody_roles = [r for r in NON_INVESTIGATORS if may_custody(r)]
    plain_world, leaks = read((attach_compartment,), custody_roles,
                              lambda role, r: hold_may_show(role, r))
    assert leaks == [], "\n".join(leaks[:30])
    problems = _differences(plain_world["plain"], plain_world["flagged"])
    assert problems == [], "\n".join(problems[:30])
    held, leaks = read((attach_hold,), NON_INVESTIGATORS, lambda role, r: True)
    assert leaks == [], "\n".join(leaks[:30])
    problems = _differences(held["plain"], held["flagged"],
                            skip=lambda role, key: hold_may_show(role, reqs[key]))
    assert problems == [], "\n".join(problems[:30])
    assert _words(held["flagged"], {(role, k) for role in held["flagged"] for k in reqs
                                    if hold_may_show(role, reqs[k])}) == []
    seen = held["flagged"][Role.PROTECTION_OFFICER]
    assert seen["subject access page"][0] == seen["person page"][0] == 200
    assert "{person-code}" in seen["search page by family name"][2]
    assert held["flagged"][Role.CUSTODY_OFFICER]["item API"][2] != \
        held["plain"][Role.CUSTODY_OFFICER]["item API"][2]  # the hold, where it belongs


def test_the_ledger_page_lists_no_compartment_stream(twins):
    """Attack 2: auditors and administrators read the ledger's streams and verify them; the
    compartment's streams (allegations, evidence, sources, watch lists) are neither listed
    nor counted for them, while the verification still covers every chain."""
    from mawa.core.models import LedgerHead

    with world(twins, attach_hold):
        compartment = [s for s in LedgerHead.objects.values_list("stream", flat=True)
                       if any(str(r.pk) in s for r in twins.made.values())]
        assert len(compartment) >= 4  # event, evidence, source, watch list
        visible = LedgerHead.objects.exclude(stream__in=compartment)
        for role in (r for r in NON_INVESTIGATORS if Perm.LEDGER_VIEW in ROLE_PERMISSIONS[r]):
            client = client_as(twins.users[role])
            page = client.get("/ledger/").content.decode()
            assert not [s for s in compartment if s in page], role
            streams = visible.count()
            assert f">{streams} streams<" in page.replace("\n", ""), role
            if Perm.LEDGER_VERIFY in ROLE_PERMISSIONS[role]:
                report = client.post("/ledger/").content.decode()
                assert 'data-testid="verify-ok"' in report, role
                entries = sum(visible.values_list("seq", flat=True))
                assert f"All {entries} entries in {streams} streams hold" in report, role


# --- exports ------------------------------------------------------------------------------

def _opened(ready) -> bytes:
    import pyzipper

    from mawa.core.exports import export_dir

    with pyzipper.AESZipFile(export_dir() / f"{ready.export_id}.zip") as archive:
        archive.setpassword(ready.passphrase.encode())
        return archive.read(archive.namelist()[0])


def _handover(t: Twins):
    """A handover batch listing both twins' weapons (the record only: the return itself is
    custody's test), for the handover document."""
    from mawa.core.services import short_code_next
    from mawa.custody.models import HandoverBatch, HandoverLine

    site = t.flagged.item.site
    batch = HandoverBatch.objects.create(
        site=site, short_code=short_code_next(site=site), client_key=uuid.uuid4(),
        recipient="Country of origin", document="Agreement 1", handed_over_at=t.now,
        handed_over_by=t.users[Role.CUSTODY_OFFICER], ledger_seq=1)
    for twin in (t.flagged, t.plain):
        HandoverLine.objects.create(batch=batch, item=twin.item, quantity=1,
                                    condition_at_surrender=twin.item.condition,
                                    condition_at_return=twin.item.condition)
    return batch


def _exports(t: Twins, batch) -> dict:
    """Every kind of ``core.exports`` (and the printed custody documents, through their
    pages), made by a user: the content's bytes. Person-bound kinds are made for the flagged
    person."""
    from mawa.custody import services as custody_services
    from mawa.custody.exports import reconciliation_export
    from mawa.protection.subject_access import subject_access_pdf_export
    from mawa.reception.exports import persons_export_file
    from mawa.reception.icrc import icrc_notification_export
    from mawa.reports import services as reports

    asked = {"purpose": "monthly planning", "recipient": "HQ"}
    today = t.now.date()

    def stats(user):
        release = reports.stats_release(actor=user, day=today)
        return reports.stats_hxl(user=user, release=release, **asked).encode()

    def printed(url):
        def make(user):
            response = client_as(user).get(url)
            assert response.status_code == 200, (url, user.role, response.status_code)
            return body_of(response)
        return make

    def card(user, fmt):
        from mawa.reception.idcards import idcard_person_pdf
        from mawa.reception.models import Person

        person = Person.objects.get(pk=t.flagged.person.pk)
        return idcard_person_pdf(user=user, person=person, fmt=fmt)

    receipt = t.flagged.receipt.short_code
    # the plain twin's weapon destroyed, for the destruction certificate (the flagged one is
    # linked to the allegation in the world with compartment data: its links are the
    # compartment's, and the certificate of a non-investigator does not show them)
    destroyed = custody_services.item_event_record(
        actor=t.users[Role.CUSTODY_OFFICER], item=t.plain.item, kind="destroyed",
        data={"method": "Cutting", "plan": "DP-1", "monitor": "Maj. Karim"})
    return {
        "persons_csv": lambda u: _opened(persons_export_file(user=u, **asked)),
        "icrc_csv": lambda u: _opened(icrc_notification_export(user=u, fmt="csv", **asked)),
        "icrc_pdf": lambda u: _opened(icrc_notification_export(user=u, fmt="pdf", **asked)),
        "subject_access_pdf": lambda u: _opened(subject_access_pdf_export(
            user=u, person_id=t.flagged.person.pk, **asked)),
        "custody_reconciliation_csv": lambda u: _opened(reconciliation_export(user=u, **asked)),
        "sitrep_pdf": lambda u: _opened(reports.sitrep_pdf_export(
            user=u, day=today, site_code=None, language="en", **asked)),
        "stats_hxl": stats,
        "custody_receipt_pdf": printed(f"/custody/receipts/{receipt}/receipt.pdf"),
        "custody_labels_pdf": printed(f"/custody/receipts/{receipt}/labels.pdf"),
        "custody_handover_pdf": printed(f"/custody/handovers/{batch.short_code}/handover.pdf"),
        "custody_destruction_pdf": printed(
            f"/custody/items/{destroyed.short_code}/destruction.pdf"),
        # the group job and `mawa cards` render through the same function as the one card
        "idcards_pdf": lambda u: card(u, "card"),
        "wristbands_pdf": lambda u: card(u, "wristband"),
    }


def _export_text(kind, data: bytes) -> str:
    return pdf_text(data) if kind.member.endswith(".pdf") else data.decode("utf-8")


def test_exports_hold_no_compartment_field_or_figure(twins):
    """Attack 2 / R9: every kind of controlled export, made by every non-investigator role
    allowed it, has no compartment column and the same content with or without the flagged
    person's compartment data; a hold may change, for the roles that handle materiel, only
    what their custody documents and situation report say of holds."""
    from mawa.core.exports import KINDS

    producers = _exports(twins, _handover(twins))
    assert set(KINDS) <= set(producers), "teach this test the new export kinds"
    made: dict = {}
    for name, steps in (("none", ()), ("all", (attach_hold,))):
        with world(twins, *steps):
            for kind_name, kind in KINDS.items():
                for role in NON_INVESTIGATORS:
                    if kind.permission in ROLE_PERMISSIONS[role]:
                        data = producers[kind_name](twins.users[role])
                        made[(kind_name, role, name)] = _export_text(kind, data)
            if name == "all":
                markers = twins.markers()
                leaks = [(k, m) for k, text in made.items() if k[2] == "all"
                         for m in markers if m in text]
    assert leaks == []
    assert {k[0] for k in made} == set(KINDS)  # every kind was made by some role
    names = compartment_names()
    for (kind_name, role, name), text in made.items():
        if name != "all":
            continue
        if kind_name.endswith(("_csv", "_hxl")):
            header = {h.strip().lower() for h in next(csv.reader(io.StringIO(text)))}
            assert not header & names, (kind_name, header & names)
            assert not [w for w in COMPARTMENT_WORDS if w in " ".join(header)], kind_name
        before = made[(kind_name, role, "none")]
        if text != before:
            assert may_custody(role) and (kind_name == "sitrep_pdf"
                                          or kind_name.startswith("custody_")), \
                f"{kind_name} by {role}: {_first_difference(before, text)}"
            assert not [w for w in COMPARTMENT_WORDS if w in text.lower()], kind_name


# --- the API schema and error texts -------------------------------------------------------

# Everyday words a compartment model happens to use that any part of Mawa may use for its
# own purpose (a report's date, a reason's text): they tell nothing. The distinctive names
# (violation codes, involvement roles, evidence, hits, holds …) are what would.
EVERYDAY = {"date", "title", "text", "purpose", "place", "report", "source", "contact",
            "extension", "content_type", "original", "pending", "approved", "exported",
            "exports", "approximate", "archive", "audio", "video", "translation", "transcript",
            "excerpt", "organisation", "direct", "ordered", "command", "degree", "licence",
            "information", "commission", "insider", "redacted", "n/a"}


def compartment_names() -> set[str]:
    """Names the compartment uses and the registry does not: its models, their fields and
    their choice values (accountability, watch lists, watch-list hits), but for everyday
    words (``EVERYDAY``)."""
    from django.apps import apps

    from mawa.matching.models import PairKind, RunKind

    def names_of(model, fields=None) -> set[str]:
        out = {model.__name__.lower(), model._meta.model_name}
        for f in [*model._meta.concrete_fields, *model._meta.many_to_many]:
            if fields is not None and f.name not in fields:
                continue
            out.add(f.name.lower())
            for value, _label in getattr(f, "flatchoices", None) or ():
                out.add(str(value).lower())
        return out

    compartment: set[str] = set()
    for model in apps.get_app_config("accountability").get_models():
        compartment |= names_of(model)
    for label in ("Watchlist", "WatchlistEntry", "WatchlistKey"):
        compartment |= names_of(apps.get_model("matching", label))
    compartment |= {"entry", PairKind.WATCHLIST, RunKind.SCREEN_REGISTRY, "hit", "hits"}
    registry: set[str] = set()
    for config in apps.get_app_configs():
        if config.label in ("accountability", "contenttypes", "auth", "admin", "sessions"):
            continue
        for model in config.get_models():
            if model.__name__.startswith("Watchlist"):
                continue
            registry |= names_of(model)
    # the hits' side of the shared matching tables (a pair's watch-list entry and kind, a
    # run's watch list and kind) is the compartment's
    registry -= {"entry", "watchlist", PairKind.WATCHLIST, RunKind.SCREEN_REGISTRY}
    return {n for n in compartment - registry - EVERYDAY if len(n) > 2}


def _schema_words(schema: dict) -> set[str]:
    """Every path segment, schema name, property name and enum value of an OpenAPI schema."""
    out: set[str] = set()
    for path in schema.get("paths", {}):
        out |= {seg.strip("{}").lower() for seg in path.split("/") if seg}
    out |= {name.lower() for name in schema.get("components", {}).get("schemas", {})}

    def walk(node):
        if isinstance(node, dict):
            for key in ("properties",):
                out.update(k.lower() for k in node.get(key, {}))
            out.update(str(v).lower() for v in node.get("enum", []))
            for p in node.get("parameters", []) if isinstance(node.get("parameters"), list) \
                    else []:
                out.add(p.get("name", "").lower())
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(schema)
    return out


def compartment_operations() -> list[str]:
    """API operations guarded by a compartment permission (read from their code)."""
    from mawa.api import api

    out = []
    for prefix, router in api._routers:
        for path, view in router.path_operations.items():
            for op in view.operations:
                source = inspect.getsource(op.view_func)
                if re.search(r"Perm\.(COMPARTMENT_\w+|WATCHLIST_MANAGE)", source) or \
                        op.view_func.__module__.startswith("mawa.accountability"):
                    out.append(prefix + path)
    return out


@pytest.mark.parametrize("role", [*NON_INVESTIGATORS, "outsider", "anonymous"])
def test_the_api_schema_names_nothing_of_the_compartment(users, client, role):
    """Attack 2 / R2: /api/openapi.json and /api/docs, fetched as this role, have no
    compartment path, schema, property, parameter or enum value."""
    if role != "anonymous":
        client.force_login(users[role])
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    text = json.dumps(schema).lower()
    guarded = compartment_operations()
    assert any(p.startswith("/accountability") for p in guarded) and len(guarded) >= 6
    listed = [p for p in guarded if "/api" + re.sub(r"\{\w+\}", "{x}", p) in
              {re.sub(r"\{\w+\}", "{x}", k) for k in schema["paths"]}]
    assert listed == [], f"compartment operations in the schema: {listed}"
    found = _schema_words(schema) & compartment_names()
    assert found == set(), f"compartment names in the schema: {sorted(found)}"
    said = [w for w in COMPARTMENT_WORDS if w in text]
    assert said == [], f"compartment words in the schema: {said}"
    docs = client.get("/api/docs")
    assert docs.status_code in (200, 302)
    assert not [w for w in COMPARTMENT_WORDS if w in docs.content.decode().lower()]


def test_compartment_names_are_real():
    """The name list the schema test compares against holds what the compartment uses."""
    names = compartment_names()
    for expected in ("involvement", "alleged_perpetrator", "holdrecord", "evidenceitem",
                     "watchlist", "entry", "referral", "violation"):
        assert expected in names, expected
    for registry in ("status", "site", "short_code", "kind", "person", "legal_hold"):
        assert registry not in names, registry


BAD_VALUES = ("not-a-uuid", "' OR 1=1 --", "watchlist")


@pytest.mark.parametrize("role", NON_INVESTIGATORS)
def test_error_texts_name_nothing_of_the_compartment(twins, role):
    """Attack 2: invalid filter values (422 from the API's typing, 400s) and the 404s of
    unknown records answer without a compartment word, field name or code."""
    from mawa.api import api

    client = client_as(twins.users[role])
    names = compartment_names()
    errors = 0
    with world(twins, attach_hold):
        markers = twins.markers()
        for api_path, ops in api.get_openapi_schema()["paths"].items():
            for method, op in ops.items():
                params = op.get("parameters", [])
                path = api_path
                for p in params:
                    if p["in"] == "path":
                        value = {"code": "ZZZ-99999-K", "site": "NUR"}.get(p["name"],
                                                                           str(uuid.uuid4()))
                        path = path.replace("{" + p["name"] + "}", value)
                path = _api_path(path)
                tries = [{p["name"]: v} for p in params if p["in"] == "query"
                         for v in BAD_VALUES]
                for query in tries or [{}]:
                    if method == "get":
                        r = client.get(path, query)
                    else:
                        r = getattr(client, method)(path, data=json.dumps({"kind": "watchlist"}),
                                                    content_type="application/json")
                    if r.status_code < 400:
                        continue
                    errors += 1
                    text = body_of(r).decode("utf-8", "replace")
                    lowered = text.lower()
                    assert not [w for w in COMPARTMENT_WORDS if w in lowered], (path, text[:300])
                    assert not [m for m in markers if m in text], (path, text[:300])
                    if r.get("Content-Type", "").startswith("application/json"):
                        words = set(re.findall(r"[a-z_]+", lowered))
                        assert not words & names, (path, words & names)
        for path in ("/reception/persons/", "/custody/items/", "/matching/"):
            for value in BAD_VALUES:
                r = client.get(path, {"status": value, "kind": value, "state": value,
                                      "group": value, "before": value, "decided": value})
                text = body_of(r).decode("utf-8", "replace")
                assert r.status_code in (200, 400, 403, 404), (path, value, r.status_code)
                assert not [m for m in markers if m in text]
    assert errors > 20
