"""Demo of camp Al-Nour: its layout, the soldiers of each arrival group housed on the day they
are transferred (officers apart), then the days of the camp: a head count of every block each
morning (one short count, resolved), meals handed out (a Ramadan evening meal that excludes
lunch), a few hospitalisations and returns, incidents, two referrals to asylum and a release.

Every record goes through ``camp.services`` (and the lifecycle services of reception), with the
services' clock set by the demo loader to the moment of each step: a roll call of day 5 was
taken on the morning of day 5, and the situation report of every day reads what was true then.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.camp import services
from mawa.camp.models import Assignment, Block, ItemType, Movement
from mawa.camp.selectors import rollcall_progress
from mawa.core.errors import Conflict
from mawa.reception import services as reception
from mawa.reception.models import Person, Status

NS = uuid.UUID("6d617761-6361-6d70-0000-000000000000")  # keys derived from names: reloadable

ZONES = [  # zone, blocks, shelters per block, places per shelter, plan row
    ("A", 6, 10, 24, 0),  # officers' zone first: officers are few and housed apart
    ("B", 6, 10, 24, 1),
    ("C", 6, 10, 24, 2),
    ("D", 4, 10, 20, 3),
]
# key, Arabic, English, unit cost, per person per day, stock delivered, kind
MEALS = [("breakfast", "فطور", "Breakfast", "1.20", 1, 60000, "meal"),
         ("lunch", "غداء", "Lunch", "2.40", 1, 60000, "meal"),
         ("iftar", "إفطار رمضان", "Ramadan evening meal", "2.90", 1, 4000, "meal"),
         ("hygiene", "طرد نظافة", "Hygiene kit", "6.50", "0.034", 5000, "item")]
HOSPITAL = "مستشفى القائم العام"


def _k(*parts) -> uuid.UUID:
    return uuid.uuid5(NS, "/".join(str(p) for p in parts))


class CampDemo:
    """The camp side of the demo's days; the loader calls each step at its moment."""

    def __init__(self, *, sites, users, size_factor: float = 1.0) -> None:
        self.camp = sites["NUR"]
        self.manager, self.staff = users[Role.CAMP_MANAGER], users[Role.CAMP_STAFF]
        self.protection = users[Role.PROTECTION_OFFICER]
        self.factor = size_factor
        self.blocks: list[Block] = []
        self.free: dict = {}
        self.block_index = 0
        self.meals: dict[str, ItemType] = {}

    def layout(self) -> None:
        """The camp as built before the first group: zones, blocks, tents; the kitchen's
        stock."""
        for zone_name, n_blocks, n_shelters, places, row in ZONES:
            zone = services.zone_create(actor=self.manager, site=self.camp, name=zone_name,
                                        order=row)
            for b in range(n_blocks):
                block = services.block_create(actor=self.manager, zone=zone,
                                              name=f"{zone_name}{b + 1}", x=10 + b * 160,
                                              y=10 + row * 130, width=150, height=120)
                for s in range(n_shelters):
                    services.shelter_create(actor=self.manager, block=block,
                                            name=f"T{s + 1:02d}", capacity=places)
                self.blocks.append(block)
                self.free[block.id] = n_shelters * places
        for key, ar, en, cost, per_day, stock, kind in MEALS:
            self.meals[key] = services.item_type_create(
                actor=self.manager, site=self.camp, client_key=_k("item", key),
                data={"name_ar": ar, "name_en": en, "unit_cost": cost, "kind": kind,
                      "per_person_per_day": per_day, "max_per_day": 1,
                      "min_interval_hours": 720 if key == "hygiene" else 0},
                excludes=[self.meals["lunch"]] if key == "iftar" else [])
            services.stock_adjust(actor=self.manager, item=self.meals[key], reason="delivery",
                                  quantity=max(50, round(stock * self.factor)),
                                  client_key=_k("stock", key))

    def house(self, persons: list[Person], group_id) -> None:
        """The transfer: the group's registered soldiers are interned at the camp (one
        lifecycle batch, ``persons_transition``), then housed block by block."""
        reception.persons_transition(actor=self.manager, persons=persons, to=Status.INTERNED,
                                     details={"camp": self.camp})
        members = sorted(persons, key=lambda p: p.short_code)
        cap = None
        while members and self.block_index < len(self.blocks):
            block = self.blocks[self.block_index]
            size = min(self.free[block.id], cap or self.free[block.id])
            chunk = members[:size]
            if not chunk:
                self.block_index, cap = self.block_index + 1, None
                continue
            try:
                services.group_assign(actor=self.manager, site=self.camp, persons=chunk,
                                      block=block,
                                      client_key=_k("group", group_id, block.id, len(members)))
            except Conflict:
                # officers apart leave part-filled tents: a smaller part, then the next block
                if size > 24:
                    cap = size // 2
                else:
                    self.block_index, cap = self.block_index + 1, None
                continue
            cap = None
            self.free[block.id] -= len(chunk)
            members = members[len(chunk):]

    def housed_blocks(self) -> list[Block]:
        ids = set(Assignment.objects.filter(block__site=self.camp, end_at__isnull=True)
                  .values_list("block_id", flat=True))
        return [b for b in self.blocks if b.id in ids]

    def rollcall(self, day: dt.date, *, short: bool = False) -> None:
        """The morning head count of every block with people; ``short``: one tent counts one
        fewer in the first block, found asleep in the clinic tent (resolved)."""
        for n, block in enumerate(self.housed_blocks()):
            rc = services.rollcall_start(actor=self.staff, block=block, mode="count", day=day,
                                         client_key=_k("rc", block.id, day))
            counts = {row["shelter"].id: row["expected"]
                      for row in rollcall_progress(roll_call=rc)["shelters"]}
            missing = short and n == 0
            if missing:
                sid = next(s for s, c in counts.items() if c)
                counts[sid] -= 1
            services.rollcall_count(actor=self.staff, roll_call=rc, counts=counts)
            rc = services.rollcall_close(actor=self.staff, roll_call=rc)
            if missing:
                services.rollcall_resolve(actor=self.staff, roll_call=rc, reason=(
                    "وجد نائمًا في خيمة العيادة؛ أعيد العدّ الساعة ٠٧:٤٠."))

    def _present(self, block: Block, limit: int) -> list[Person]:
        out = set(Movement.objects.filter(is_open=True).values_list("person_id", flat=True))
        return [a.person for a in Assignment.objects.filter(
            block=block, end_at__isnull=True).select_related("person").order_by("id")[:limit]
            if a.person_id not in out]

    def meals_hand_out(self, day: dt.date, meal: str) -> None:
        """A meal at the scanning counter of the first block's first tents (the other
        counters keep paper lists in this demo); every seventh man fasts and takes the Ramadan
        evening meal instead of lunch."""
        if not self.blocks:
            return
        limit = max(8, round(30 * self.factor))
        for n, person in enumerate(self._present(self.blocks[0], limit)):
            key = "iftar" if meal == "lunch" and n % 7 == 0 else meal
            services.distribution_record(actor=self.staff, item=self.meals[key], person=person,
                                         client_key=_k("dist", key, person.id, day))

    def _interned(self, offset: int, count: int) -> list[Person]:
        """``count`` interned persons from ``offset`` on in code order; a small demo (fewer
        internees than the story's offsets) wraps the offset round."""
        interned = Person.objects.filter(status=Status.INTERNED, current_site=self.camp)
        total = interned.count()
        if total <= offset:
            offset = offset % max(1, total - count + 1)
        return list(interned.order_by("short_code")[offset:offset + count])

    def hospitalise(self, offset: int, count: int, *, days: int, why: str) -> list:
        now = timezone.now()
        movements = []
        for n, person in enumerate(self._interned(offset, count)):
            movements.append(services.movement_out(
                actor=self.staff, person=person, kind="hospital", site=self.camp,
                client_key=_k("hospital", person.id, now), destination=HOSPITAL, note=why,
                due_back_at=now + dt.timedelta(days=days + n % 2)))
        return movements

    def come_back(self, movements: list) -> None:
        for movement in movements:
            services.movement_return(actor=self.staff, movement=movement,
                                     note="عاد من المستشفى بحالة مستقرة")

    def asylum(self, offset: int, reference: str) -> None:
        """A referral to asylum after the renunciation assessment: his stay in the camp
        ends."""
        (person,) = self._interned(offset, 1)
        reception.person_transition(actor=self.protection, person=person,
                                    to=Status.REFERRED_TO_ASYLUM, details={
                                        "renunciation_assessment": reference,
                                        "assessed_by": "UNHCR – مكتب بغداد"},
                                    expected_status=Status.INTERNED)
        services.assignment_check_out(actor=self.protection, person=person, reason="asylum")

    def release(self, offset: int) -> None:
        (person,) = self._interned(offset, 1)
        services.movement_out(actor=self.protection, person=person, kind="release",
                              site=self.camp, client_key=_k("release", person.id),
                              destination="أسرته في القائم",
                              details={"decision": "قرار اللجنة رقم ١٧/٢٠٢٦"},
                              note="أفرج عنه لأسباب صحية بقرار اللجنة")

    def incident(self, key: str, *, kind: str, severity: str, summary: str,
                 persons: int = 0, follow_up: str = "") -> None:
        reporter = self.protection if kind == "protection" else self.staff
        blocks = self.housed_blocks()
        incident = services.incident_report(
            actor=reporter, site=self.camp, client_key=_k("incident", key), kind=kind,
            severity=severity, occurred_at=timezone.now() - dt.timedelta(hours=1),
            block=blocks[-1] if blocks and kind != "protection" else None, summary=summary,
            persons=self._interned(5, persons) if persons else [])
        if follow_up:
            services.incident_follow_up(actor=self.manager, incident=incident,
                                        note=follow_up, close=True)
