"""Demo scenario of camp NUR: the layout, the interned persons of the reception demo housed by
arrival group (officers apart), a week of roll calls (one discrepancy, resolved), meals with a
Ramadan rule, a person in hospital, one overdue from a visit, and a few incidents.

Everything goes through ``camp.services`` (so every row has its ledger entry), except two
back-dating updates of times that the services always set to "now" (marked below).
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.camp import services
from mawa.camp.models import Assignment, Movement, RollCall
from mawa.camp.selectors import rollcall_progress
from mawa.core.errors import Conflict
from mawa.reception.models import Person, Status

NS = uuid.UUID("6d617761-6361-6d70-0000-000000000000")  # keys derived from names: reloadable


def _k(*parts) -> uuid.UUID:
    return uuid.uuid5(NS, "/".join(str(p) for p in parts))


ZONES = [  # zone, blocks, shelters per block, places per shelter, plan row
    ("A", 6, 10, 24, 0),  # officers' zone first: officers are few and housed apart
    ("B", 6, 10, 24, 1),
    ("C", 6, 10, 24, 2),
    ("D", 4, 10, 20, 3),
]


def demo_load(*, sites, users) -> None:
    camp = sites.get("NUR")
    if camp is None:
        return
    manager, staff = users[Role.CAMP_MANAGER], users[Role.CAMP_STAFF]
    protection = users[Role.PROTECTION_OFFICER]
    blocks = []
    for zone_name, n_blocks, n_shelters, places, row in ZONES:
        zone = services.zone_create(actor=manager, site=camp, name=zone_name, order=row)
        for b in range(n_blocks):
            block = services.block_create(actor=manager, zone=zone, name=f"{zone_name}{b + 1}",
                                          x=10 + b * 160, y=10 + row * 130, width=150,
                                          height=120)
            for s in range(n_shelters):
                services.shelter_create(actor=manager, block=block, name=f"T{s + 1:02d}",
                                        capacity=places)
            blocks.append(block)

    # house the interned, group by group, officers apart from other ranks
    persons = list(Person.objects.filter(current_site=camp, status=Status.INTERNED)
                   .order_by("group_id", "short_code"))
    by_group: dict = {}
    for p in persons:
        by_group.setdefault(p.group_id, []).append(p)
    free = {b.id: sum(s.capacity for s in b.shelters.all()) for b in blocks}
    i, cap = 0, None
    for gid, members in by_group.items():
        while members and i < len(blocks):
            block = blocks[i]
            size = min(free[block.id], cap or free[block.id])
            chunk = members[:size]
            if not chunk:
                i, cap = i + 1, None
                continue
            try:
                services.group_assign(actor=manager, site=camp, persons=chunk, block=block,
                                      client_key=_k("group", gid, block.id, len(members)))
            except Conflict:
                # officers apart leave part-filled tents: try a smaller part, then next block
                if size > 24:
                    cap = size // 2
                else:
                    i, cap = i + 1, None
                continue
            cap = None
            free[block.id] -= len(chunk)
            members = members[len(chunk):]

    housed_blocks = [b for b in blocks if Assignment.objects.filter(
        block=b, end_at__isnull=True).exists()]
    now = timezone.now()
    # a person in hospital, one overdue from a family visit
    first = list(Assignment.objects.filter(end_at__isnull=True).select_related("person")
                 .order_by("person__short_code")[:2])
    if len(first) == 2:
        services.movement_out(actor=staff, person=first[0].person, kind="hospital", site=camp,
                              client_key=_k("hospital"), due_back_at=now + dt.timedelta(days=3),
                              destination="مستشفى المدينة الوطني", note="fractured wrist")
        visit = services.movement_out(actor=staff, person=first[1].person, kind="visit",
                                      site=camp, client_key=_k("visit"),
                                      due_back_at=now + dt.timedelta(hours=4),
                                      destination="ICRC family visit centre")
        # back-dated for the demo: the visit was due back last evening
        Movement.objects.filter(pk=visit.pk).update(
            out_at=now - dt.timedelta(hours=20), due_back_at=now - dt.timedelta(hours=12))

    # a week of morning head counts, block by block; one day a tent was short by one
    today = timezone.localdate()
    for days_ago in range(7, 0, -1):
        day = today - dt.timedelta(days=days_ago)
        for block in housed_blocks:
            rc = services.rollcall_start(actor=staff, block=block, mode="count", day=day,
                                         client_key=_k("rc", block.id, day))
            counts = {row["shelter"].id: row["expected"]
                      for row in rollcall_progress(roll_call=rc)["shelters"]}
            short = days_ago == 3 and block == housed_blocks[0]
            if short:
                sid = next(s for s, n in counts.items() if n)
                counts[sid] -= 1
            services.rollcall_count(actor=staff, roll_call=rc, counts=counts)
            rc = services.rollcall_close(actor=staff, roll_call=rc)
            if short:
                services.rollcall_resolve(actor=staff, roll_call=rc, reason=(
                    "Found asleep in the clinic tent; counted again at 07:40."))
            # back-dated for the demo: the roll call was taken that morning
            RollCall.objects.filter(pk=rc.pk).update(
                started_at=timezone.make_aware(dt.datetime.combine(day, dt.time(6, 30))))

    # meals; during Ramadan the evening meal (iftar) excludes lunch
    meals = {}
    for key, ar, en, cost, per_day, stock in (
            ("breakfast", "فطور", "Breakfast", "1.20", 1, 12000),
            ("lunch", "غداء", "Lunch", "2.40", 1, 9000),
            ("iftar", "إفطار رمضان", "Ramadan evening meal", "2.90", 1, 2500),
            ("hygiene", "طرد نظافة", "Hygiene kit", "6.50", "0.034", 700)):
        meals[key] = services.item_type_create(
            actor=manager, site=camp, client_key=_k("item", key),
            data={"name_ar": ar, "name_en": en, "unit_cost": cost,
                  "kind": "item" if key == "hygiene" else "meal",
                  "per_person_per_day": per_day, "max_per_day": 1,
                  "min_interval_hours": 720 if key == "hygiene" else 0},
            excludes=[meals["lunch"]] if key == "iftar" else [])
        services.stock_adjust(actor=manager, item=meals[key], quantity=stock,
                              reason="delivery", client_key=_k("stock", key))
    # today's breakfast and lunch in the first block, iftar for the fasting few
    if housed_blocks:
        people = [a.person for a in Assignment.objects.filter(
            block=housed_blocks[0], end_at__isnull=True).select_related("person")]
        out_ids = set(Movement.objects.filter(is_open=True).values_list("person_id", flat=True))
        for n, person in enumerate(people):
            if person.id in out_ids:
                continue
            for key in ("breakfast", "iftar" if n % 7 == 0 else "lunch"):
                services.distribution_record(actor=staff, item=meals[key], person=person,
                                             client_key=_k("dist", key, person.id))

    services.incident_report(actor=staff, site=camp, client_key=_k("incident", "fire"),
                             kind="fire", severity="medium",
                             occurred_at=now - dt.timedelta(days=2, hours=3),
                             block=housed_blocks[-1] if housed_blocks else None,
                             summary="Cooking stove set fire to a tent flap; put out in 2 "
                                     "minutes, nobody hurt.")
    fight = services.incident_report(
        actor=staff, site=camp, client_key=_k("incident", "fight"), kind="security",
        severity="low", occurred_at=now - dt.timedelta(hours=9),
        block=housed_blocks[0] if housed_blocks else None,
        summary="Argument in the food queue between two men of different units.",
        persons=[a.person for a in Assignment.objects.filter(end_at__isnull=True)
                 .select_related("person")[2:4]])
    services.incident_follow_up(actor=manager, incident=fight, note=(
        "Both spoken to; queue split by block from tomorrow."), close=True)
    services.incident_report(
        actor=protection, site=camp, client_key=_k("incident", "protection"),
        kind="protection", severity="high", occurred_at=now - dt.timedelta(days=1),
        summary="An internee reports threats from former superiors; referred for a "
                "confidential interview.",
        persons=[a.person for a in Assignment.objects.filter(end_at__isnull=True)
                 .select_related("person")[5:6]])
