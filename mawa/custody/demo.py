"""Demo custody data: surrenders at the crossing RHM (against the demo persons, or their arrival
groups when reception made no persons), stores at the depot DEP, a convoy to the depot, a
completed stock check with one discrepancy resolved, and one item under legal hold.

Everything goes through the services, so the demo's ledger verifies like real data.
"""

from __future__ import annotations

import importlib
import random
import uuid

from mawa.accounts.roles import Role
from mawa.custody import services
from mawa.custody.models import Item, Kind, MaterielModel
from mawa.custody.services import ItemInput
from mawa.reception.models import ArrivalGroup, Person

PERSONS = 150  # surrenders recorded one by one through the services; enough to fill every page
RIFLES = ["AKM"] * 6 + ["AK-47"] * 3 + ["AK-74"] * 3 + ["Type 56", "SKS", "G3"]
HEAVIER = ["PKM", "RPK", "RPG-7", "DShKM", "SPG-9", "M-37 82 mm mortar", "9K38 Igla"]
ROUNDS = ["7.62×39 mm ball", "7.62×54R mm ball", "12.7×108 mm API", "PG-7V rocket"]
VEHICLES = ["T-55", "T-72", "BMP-1", "BMP-2", "BTR-70", "BRDM-2", "MT-LB", "2S1 Gvozdika"]


def _serial(rng: random.Random) -> str:
    return f"{rng.choice('ABCDEFGHKMNT')}{rng.choice('ABCDEFGHKMNT')}{rng.randint(1000, 999999)}"


def catalogue_ensure() -> None:
    """Put the reference catalogue back if the table was emptied (test databases flushed
    between transactional tests lose the rows the data migration wrote)."""
    if MaterielModel.objects.exists():
        return
    seed = importlib.import_module("mawa.custody.migrations.0002_catalogue_seed")
    for kind, name, make, calibre, mm, iti, unroca, country in seed.MODELS:
        MaterielModel.objects.get_or_create(name=name, defaults={
            "kind": kind, "make": make, "calibre": calibre, "calibre_mm": mm,
            "iti_category": iti, "unroca_category": unroca, "country": country})


def demo_load(*, sites, users) -> None:
    rng = random.Random(1949)  # noqa: S311 — demo data, reproducible
    officer, investigator = users[Role.CUSTODY_OFFICER], users[Role.INVESTIGATOR]
    rhm, dep = sites["RHM"], sites["DEP"]
    catalogue_ensure()
    catalogue = {m.name: m for m in MaterielModel.objects.all()}
    gate = services.store_create(actor=officer, site=rhm, name="Gate armoury")
    armoury = services.store_create(actor=officer, site=dep, name="Armoury 1")
    bunker = services.store_create(actor=officer, site=dep, name="Ammunition bunker",
                                   kind=Kind.AMMUNITION)
    park = services.store_create(actor=officer, site=dep, name="Vehicle park",
                                 kind=Kind.VEHICLE)

    persons = list(Person.objects.filter(site=rhm).order_by("id")[:PERSONS])
    groups = list(ArrivalGroup.objects.filter(site=rhm).order_by("id")[:40])
    bearers = [("person", p) for p in persons] or [("group", g) for g in groups]
    if not bearers:
        return
    items = []

    def add(receipt, **values):
        result = services.item_surrender(actor=officer, receipt=receipt,
                                         client_key=uuid.uuid4(), data=ItemInput(**values))
        items.append(result.item)
        return result.item

    for n, (what, bearer) in enumerate(bearers):
        receipt = services.receipt_open(
            actor=officer, site=rhm, client_key=uuid.uuid4(),
            person=bearer if what == "person" else None,
            group=bearer if what == "group" else None, witness="Sgt. Aziz Mahmoud")
        model = rng.choice(HEAVIER) if n % 9 == 0 else rng.choice(RIFLES)
        integrity = "altered" if n % 97 == 5 else "intact"
        add(receipt, kind=Kind.WEAPON, catalogue=catalogue[model], serial_number=_serial(rng),
            markings="ПОЛ 1978", marking_location="receiver, left side",
            marking_integrity=integrity,
            condition="unserviceable" if n % 13 == 0 else "serviceable",
            cleared_by="Cpl. Salem Haddad", verified_by="Lt. Nabil Aoun")
        if n % 4 == 0:
            rounds = rng.choice(ROUNDS)
            add(receipt, kind=Kind.AMMUNITION, catalogue=None, calibre=catalogue[rounds].calibre,
                model=rounds, ammunition_type="ball" if "ball" in rounds else "HE",
                quantity=rng.choice([120, 240, 440, 880, 1440]), lot_number=f"L-{n:04d}",
                hazard_division="1.4S", packaging="loose")
        if n == 3:
            add(receipt, kind=Kind.WEAPON, accepted=False, make="Baikal", model="IZH-27",
                serial_number=_serial(rng),
                refusal_reason="Civilian hunting shotgun: not military materiel")
        if n % max(1, len(bearers) // 30) == 0 and n // max(1, len(bearers) // 30) < 30:
            name = rng.choice(VEHICLES)
            add(receipt, kind=Kind.VEHICLE, catalogue=catalogue[name],
                chassis_number=f"{name[:3].upper()}-{rng.randint(10000, 99999)}",
                documents_on_board="Unit logbook (sealed as possible evidence)",
                cleared_by="Sgt. Karam", verified_by="Lt. Nabil Aoun")
        services.receipt_issue(actor=officer, receipt=receipt)

    kept = [i for i in items if i.state == "in_custody"]
    for n, item in enumerate(kept):
        if n % 2 == 0:
            store = {Kind.WEAPON: armoury, Kind.AMMUNITION: bunker, Kind.VEHICLE: park}[item.kind]
            services.item_event_record(actor=officer, item=item, kind="dispatched",
                                       data={"to_site": "DEP", "escort": "Convoy 1"})
            services.item_event_record(actor=officer, item=item, kind="received",
                                       data={"store": str(store.pk), "bay": f"B{n % 4 + 1}",
                                             "rack": f"R{n % 12 + 1}"})
        elif item.kind == Kind.WEAPON:
            services.item_event_record(actor=officer, item=item, kind="stored",
                                       data={"store": str(gate.pk), "rack": f"G{n % 8 + 1}"})

    # A completed weekly check of the depot armoury with one discrepancy found and resolved.
    check = services.stock_check_start(actor=officer, store=armoury, scope="weekly",
                                       client_key=uuid.uuid4())

    by_tag = {i.short_code: i for i in Item.objects.filter(short_code__in=check.sample)}
    for tag in check.sample[1:]:
        services.stock_check_scan(actor=officer, check=check, code=tag,
                                  serial=by_tag[tag].serial_number)
    check = services.stock_check_close(actor=officer, check=check,
                                       counted=dict(check.expected_counts))
    for disc in check.discrepancies.all():
        services.discrepancy_resolve(actor=officer, discrepancy=disc, resolution="found",
                                     note="Found on the cleaning bench, returned to its rack")

    # One weapon held as possible evidence (set by an investigator; reason in the compartment).
    held = next(i for i in kept if i.kind == Kind.WEAPON)
    services.legal_hold_set(actor=investigator, item=held,
                            reason="Demo: weapon named in a screening referral")
