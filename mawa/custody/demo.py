"""Demo of custody: what the soldiers crossing at Al-Qaim hand in, and where it goes.

Nearly every soldier surrenders his rifle or pistol at the gate (the usual arms of that army:
Kalashnikovs in 7.62×39 mm, PK machine guns, RPG-7 launchers, Makarov and Tariq pistols for
officers), many a lot of ammunition; each unit hands in its armoured vehicles (BMP-1, T-55,
MT-LB, BRDM-2 …) on a receipt of its arrival group. Each morning a convoy takes the day
before's vehicles, ammunition and heavy weapons to the central depot; the
depot armoury has a weekly stock check with one discrepancy, found and resolved.

Every record goes through ``custody.services`` (receipt, surrender, issue, dispatch, receipt
at the depot, stock check), with the services' clock set by the demo loader to the moment of
each step, so the ledger, the items' histories and the situation report of each day agree.
"""

from __future__ import annotations

import importlib
import random
import uuid

from mawa.accounts.roles import Role
from mawa.custody import services
from mawa.custody.models import Item, Kind, MaterielModel, State, Store
from mawa.custody.services import ItemInput
from mawa.reception.models import ArrivalGroup, Category, Person

SEED = 1949
# Stores: site code, name, Arabic name, what it holds
STORES = [
    ("QAM", "Gate armoury", "مستودع البوابة", Kind.WEAPON),
    ("DEP", "Armoury 1", "مستودع الأسلحة ١", Kind.WEAPON),
    ("DEP", "Ammunition bunker", "ملجأ الذخيرة", Kind.AMMUNITION),
    ("DEP", "Vehicle park", "ساحة الآليات", Kind.VEHICLE),
]
# what a soldier carries: catalogue model, weight (officers carry a pistol)
RIFLEMEN = [("AKM", 44), ("AK-47", 30), ("AK-74", 5), ("Type 56", 4), ("SKS", 2),
            ("PK", 4), ("RPK", 3), ("RPG-7", 5), ("SVD Dragunov", 1), ("PKM", 2)]
PISTOLS = [("Makarov PM", 6), ("Tariq", 4)]
OFFICER_RANKS = {"ملازم", "ملازم أول", "نقيب", "رائد", "مقدم", "عقيد", "مساعد"}
ROUNDS_OF = {"AKM": "7.62×39 mm ball", "AK-47": "7.62×39 mm ball", "Type 56": "7.62×39 mm ball",
             "SKS": "7.62×39 mm ball", "RPK": "7.62×39 mm ball", "AK-74": "5.45×39 mm ball",
             "PK": "7.62×54R mm ball", "PKM": "7.62×54R mm ball",
             "SVD Dragunov": "7.62×54R mm ball", "RPG-7": "PG-7V rocket",
             "Makarov PM": "9×18 mm ball", "Tariq": "9×19 mm ball"}
HEAVY = {"PK", "PKM", "RPK", "RPG-7", "SVD Dragunov"}
# armoured vehicles by arrival group (in the order of reception's GROUPS): about 40 in all
VEHICLES = [["BMP-1", "BMP-1", "T-55", "T-55", "MT-LB", "BRDM-2", "BMP-1", "T-55", "MT-LB"],
            ["MT-LB", "BRDM-2", "2S1 Gvozdika"],
            ["T-55", "T-55", "T-62", "BMP-1", "BMP-1", "BMP-1", "MT-LB", "BRDM-2", "BTR-60",
             "T-55", "BMP-1"],
            ["MT-LB", "ZU-23-2 on MT-LB", "BRDM-2", "MT-LB"],
            ["BMP-1", "T-55", "BMP-1", "MT-LB", "BRDM-2", "T-62"],
            ["T-72", "BMP-2", "BMP-2"],
            ["BRDM-2", "MT-LB", "BTR-60", "Toyota Land Cruiser technical"]]
WITNESS = "الرقيب عزيز محمود"
CLEARED_BY, VERIFIED_BY = "العريف سالم حداد", "الملازم نبيل عون"


def _serial(rng: random.Random) -> str:
    return f"{rng.choice('ABCDEFGHKMNT')}{rng.choice('ABCDEFGHKMNT')}{rng.randint(1000, 999999)}"


def _pick(rng: random.Random, table: list[tuple[str, int]]) -> str:
    return rng.choices([m for m, _w in table], weights=[w for _m, w in table])[0]


def catalogue_ensure() -> None:
    """Put the reference catalogue back if the table was emptied (test databases flushed
    between transactional tests lose the rows the data migrations wrote)."""
    if MaterielModel.objects.exists():
        return
    seed = importlib.import_module("mawa.custody.migrations.0002_catalogue_seed")
    more = importlib.import_module("mawa.custody.migrations.0006_materiel_and_store_arabic_names")
    for kind, name, make, calibre, mm, iti, unroca, country in seed.MODELS + more.MORE_MODELS:
        MaterielModel.objects.get_or_create(name=name, defaults={
            "kind": kind, "make": make, "calibre": calibre, "calibre_mm": mm,
            "iti_category": iti, "unroca_category": unroca, "country": country,
            "name_ar": more.ARABIC.get(name, "")})


class CustodyDemo:
    """The custody side of the demo's days; the loader calls each step at its moment."""

    def __init__(self, *, sites, users, size_factor: float = 1.0) -> None:
        self.rng = random.Random(SEED)  # noqa: S311 — demo data, reproducible
        self.sites, self.factor = sites, size_factor
        self.officer = users[Role.CUSTODY_OFFICER]
        self.stores: dict[str, Store] = {}
        self.to_convoy: list[Item] = []
        self.groups_seen = 0

    def stores_create(self) -> None:
        catalogue_ensure()
        self.catalogue = {m.name: m for m in MaterielModel.objects.all()}
        for code, name, name_ar, kind in STORES:
            self.stores[name] = services.store_create(actor=self.officer, site=self.sites[code],
                                                      name=name, name_ar=name_ar, kind=kind)

    def _add(self, receipt, **values) -> Item:
        result = services.item_surrender(actor=self.officer, receipt=receipt,
                                         client_key=uuid.UUID(int=self.rng.getrandbits(128)),
                                         data=ItemInput(**values))
        return result.item

    def _weapon(self, receipt, model: str) -> Item:
        rng = self.rng
        soviet = self.catalogue[model].country == "USSR"
        return self._add(
            receipt, kind=Kind.WEAPON, catalogue=self.catalogue[model],
            serial_number=_serial(rng),
            year_of_manufacture=rng.randint(1962, 1991) if soviet else rng.randint(1985, 2002),
            markings="★ " + str(rng.randint(1962, 1991)) if soviet else "",
            marking_location="receiver, left side",
            marking_integrity="altered" if rng.random() < 0.01 else "intact",
            condition="unserviceable" if rng.random() < 0.06 else "serviceable",
            cleared_by=CLEARED_BY, verified_by=VERIFIED_BY)

    def group_surrender(self, group: ArrivalGroup, persons: list[Person]) -> None:
        """At the gate: each soldier's receipt (his weapon, often a lot of rounds), then the
        unit's vehicles on a receipt of the group."""
        rng, crossing = self.rng, self.sites["QAM"]
        for person in persons:
            if person.category != Category.COMBATANT or rng.random() < 0.04:
                continue  # civilians carry nothing; a few soldiers left theirs behind
            receipt = services.receipt_open(
                actor=self.officer, site=crossing, person=person, witness=WITNESS,
                client_key=uuid.UUID(int=rng.getrandbits(128)))
            officer = person.rank in OFFICER_RANKS
            model = _pick(rng, PISTOLS if officer else RIFLEMEN)
            weapon = self._weapon(receipt, model)
            if model in HEAVY:
                self.to_convoy.append(weapon)
            if rng.random() < 0.12:
                rounds = ROUNDS_OF[model]
                qty = rng.choice([2, 3, 4, 6]) if model == "RPG-7" else \
                    rng.choice([30, 60, 90, 120, 240, 440])
                lot = self._add(receipt, kind=Kind.AMMUNITION, catalogue=self.catalogue[rounds],
                                calibre=self.catalogue[rounds].calibre, model=rounds,
                                ammunition_type="HEAT" if model == "RPG-7" else "ball",
                                quantity=qty, lot_number=f"{rng.randint(1, 999):03d}-"
                                f"{rng.randint(70, 91)}", hazard_division="1.4S"
                                if qty < 500 and model != "RPG-7" else "1.1E",
                                packaging="loose")
                self.to_convoy.append(lot)
            services.receipt_issue(actor=self.officer, receipt=receipt)
        vehicles = VEHICLES[self.groups_seen % len(VEHICLES)]
        self.groups_seen += 1
        count = round(len(vehicles) * self.factor) or (1 if self.factor >= 0.05 else 0)
        if not count:
            return
        receipt = services.receipt_open(actor=self.officer, site=crossing, group=group,
                                        witness=WITNESS,
                                        client_key=uuid.UUID(int=rng.getrandbits(128)))
        for name in vehicles[:count]:
            if name == "ZU-23-2 on MT-LB":
                carrier = self._add(receipt, kind=Kind.VEHICLE, catalogue=self.catalogue["MT-LB"],
                                    chassis_number=f"MTL-{rng.randint(10000, 99999)}",
                                    cleared_by=CLEARED_BY, verified_by=VERIFIED_BY)
                gun = self._add(receipt, kind=Kind.WEAPON, catalogue=self.catalogue["ZU-23-2"],
                                serial_number=_serial(rng), mounted_on=carrier,
                                cleared_by=CLEARED_BY, verified_by=VERIFIED_BY)
                self.to_convoy += [carrier, gun]
                continue
            self.to_convoy.append(self._add(
                receipt, kind=Kind.VEHICLE, catalogue=self.catalogue[name],
                chassis_number=f"{name[:3].upper()}-{rng.randint(10000, 99999)}",
                documents_on_board="سجل الوحدة (مختوم كدليل محتمل)",
                cleared_by=CLEARED_BY, verified_by=VERIFIED_BY))
        services.receipt_issue(actor=self.officer, receipt=receipt)

    def convoy_dispatch(self) -> list[Item]:
        """Morning: yesterday's vehicles, ammunition and heavy weapons leave the crossing for
        the depot (the rifles stay in the crossing's custody until the depot has room)."""
        items = [i for i in self.to_convoy
                 if Item.objects.filter(pk=i.pk, state=State.IN_CUSTODY).exists()]
        self.to_convoy = []
        services.items_dispatch(actor=self.officer, items=items, to_site="DEP",
                                escort="قافلة الشرطة العسكرية")
        return items

    def convoy_receive(self, items: list[Item]) -> None:
        """Afternoon: the depot receives the convoy, each item into the store of its kind."""
        store = {Kind.WEAPON: self.stores["Armoury 1"],
                 Kind.AMMUNITION: self.stores["Ammunition bunker"],
                 Kind.VEHICLE: self.stores["Vehicle park"]}
        for n, item in enumerate(items):
            fresh = Item.objects.get(pk=item.pk)
            services.item_event_record(actor=self.officer, item=fresh, kind="received", data={
                "store": str(store[fresh.kind].pk), "bay": f"B{n % 4 + 1}",
                "rack": f"R{n % 12 + 1}"})

    def stock_check(self) -> None:
        """The weekly check of the depot armoury: one tag of the sample is not found at the
        count, then found on the cleaning bench (the discrepancy is resolved)."""
        armoury = self.stores["Armoury 1"]
        check = services.stock_check_start(actor=self.officer, store=armoury, scope="weekly",
                                           client_key=uuid.UUID(int=self.rng.getrandbits(128)))
        by_tag = {i.short_code: i for i in Item.objects.filter(short_code__in=check.sample)}
        for tag in check.sample[1:]:
            services.stock_check_scan(actor=self.officer, check=check, code=tag,
                                      serial=by_tag[tag].serial_number)
        check = services.stock_check_close(actor=self.officer, check=check,
                                           counted=dict(check.expected_counts))
        self.check = check

    def discrepancy_resolve(self) -> None:
        for disc in self.check.discrepancies.all():
            services.discrepancy_resolve(actor=self.officer, discrepancy=disc,
                                         resolution="found",
                                         note="وجد على طاولة التنظيف وأعيد إلى رفّه")
