"""Demo data of the compartment (fictitious): an allegation naming one demo person as alleged
perpetrator and another as witness, a source, evidence files generated here (a PNG and a text
statement), the act linked to two surrendered rifles and to a vehicle, a legal hold on the two
rifles when the custody demo made them, and an approved referral whose bundle verifies.

The demo loader runs ``demo_load`` on one of the camp's days, with the services' clock set to
that moment."""

from __future__ import annotations

import datetime as dt
import struct
import uuid
import zlib

from mawa.accountability import services
from mawa.accounts.models import User
from mawa.accounts.roles import Role
from mawa.custody.models import Item, Kind
from mawa.reception.models import Person

STATEMENT = ("Statement of witness W-1 (fictitious demo): on 3 November the detainees were "
             "moved from the school by a unit in armoured vehicles.\n")


def _png(width: int = 8, height: int = 8) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"".join(bytes((x * 30 % 256, y * 30 % 256, 90))
                                        for x in range(width)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2,
                                                             0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def demo_load(*, sites, users) -> None:
    investigator = users[Role.INVESTIGATOR]
    hq = sites.get("HQ") or next(iter(sites.values()))
    persons = list(Person.objects.order_by("id")[:2])
    event = services.event_create(
        actor=investigator, site=hq, client_key=uuid.uuid4(),
        title="Detention of villagers at Al-Qasr school (fictitious)",
        description="Demo allegation: villagers held as hostages at the school for two days.",
        place="Al-Qasr, primary school", date_start=dt.date(2024, 11, 2),
        date_end=dt.date(2024, 11, 4), date_precision="day")
    act = services.act_add(actor=investigator, event=event, violation="8.2.a.viii",
                           date=dt.date(2024, 11, 3))
    services.involvement_add(actor=investigator, act=act, role="commander",
                             unit="44th Armoured Brigade (fictitious)", degree="command")
    if len(persons) >= 1:
        services.involvement_add(actor=investigator, act=act, role="alleged_perpetrator",
                                 person=persons[0], degree="direct")
    if len(persons) >= 2:
        services.involvement_add(actor=investigator, act=act, role="witness",
                                 person=persons[1], degree="n/a")
    source = services.source_create(actor=investigator, site=hq, name="Witness W-1",
                                    kind="witness", reliability="B",
                                    consent_recipients=["national_prosecutor", "un_mechanism"],
                                    willing_to_testify=True)
    services.information_add(actor=investigator, source=source, event=event,
                             received_on=dt.date(2024, 12, 1), credibility="2",
                             summary="Saw the detainees moved in armoured vehicles.")
    photo = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                  name="school-courtyard.png", data=_png(), source=source,
                                  description="Photograph of the courtyard (demo image).",
                                  original_location="HQ evidence safe, shelf 2")
    statement = services.evidence_add(actor=investigator, event=event, client_key=uuid.uuid4(),
                                      name="statement-w1.txt", data=STATEMENT.encode(),
                                      source=source, description="Written statement of W-1.")
    _custody_links(services, investigator, event, act)
    second = User.objects.filter(role=Role.INVESTIGATOR).exclude(pk=investigator.pk).first()
    referral = services.referral_create(
        actor=investigator, event=event, client_key=uuid.uuid4(),
        recipient_kind="national_prosecutor", recipient_name="Office of the Prosecutor-General",
        purpose="Prosecution of hostage-taking (demo).", evidence=[photo, statement])
    if second is not None:
        services.referral_approve(actor=second, referral=referral)


def _custody_links(services, investigator, event, act) -> None:
    rifles = list(Item.objects.filter(kind=Kind.WEAPON, on_hold=False, state="in_custody",
                                      iti_category="SA-assault").order_by("id")[:2])
    for rifle in rifles:
        services.act_item_link(actor=investigator, act=act, item=rifle)
        services.item_hold_set(actor=investigator, event=event, item=rifle,
                               reason="Rifle of the unit named by W-1 (demo): kept for "
                                      "ballistic comparison.")
    vehicle = Item.objects.filter(kind=Kind.VEHICLE, on_hold=False).order_by("id").first()
    if vehicle is not None:
        services.act_item_link(actor=investigator, act=act, item=vehicle)
