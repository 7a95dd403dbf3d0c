"""Demo of the reception: some 4,200 soldiers cross at the Al-Qaim crossing over four days.

Everything here is invented: names are drawn at random (seeded, so every load is the same) from
common Syrian and Iraqi given and family names, written in Arabic script as the officer would
type them from an identity card, with one of the Latin spellings found in practice (Mohammed,
Muhammad, Mhd …) or none at all. No real person is described.

The groups (300 to 1,200 people) are brought to the gate by the governor's office, which
reports each group's size; the officers register who actually crosses, so each group shows
the reported figure beside the count registered. Civilians and a few children found among the
soldiers are separated and referred out; the soldiers are disarmed (custody records what they
hand in), registered and transferred to the camp the same day (the camp demo houses them).

The demo loader (``mawa.demo.loader``) replays the days with the services' clock set to each
moment (``mawa.core.clock``); here are the steps of one group: ``group_arrive`` (the group and
its people, registered by ``persons_register`` in one batch) and ``group_process``
(disarmament, separation, registration, by ``persons_transition``). ``size`` scales the story
(the scenario test replays a few hundred people).
"""
from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass

from mawa.accounts.roles import Role
from mawa.reception import services
from mawa.reception.models import ArrivalGroup, Category, Person, Status
from mawa.reception.services import PersonInput

SEED = 20261126

# Arabic spelling → Latin spellings seen on documents and lists.
GIVEN_MALE = {
    "محمد": ["Mohammed", "Muhammad", "Mohamad", "Mhd", "Mohammad"],
    "أحمد": ["Ahmed", "Ahmad"], "علي": ["Ali", "Aly"], "حسن": ["Hasan", "Hassan"],
    "حسين": ["Hussein", "Husain", "Hussain"], "عمر": ["Omar", "Umar"], "عمرو": ["Amr"],
    "خالد": ["Khaled", "Khalid"], "يوسف": ["Yousef", "Youssef", "Yusuf"],
    "إبراهيم": ["Ibrahim", "Ebrahim"], "عبد الله": ["Abdullah", "Abdallah", "Abd Allah"],
    "عبد الرحمن": ["Abdulrahman", "Abdel Rahman", "Abd al-Rahman"],
    "مصطفى": ["Mustafa", "Moustafa"], "محمود": ["Mahmoud", "Mahmud"], "سامر": ["Samer"],
    "فراس": ["Firas", "Feras"], "ماهر": ["Maher"], "باسل": ["Basel", "Bassel"],
    "وسام": ["Wisam", "Wesam"], "حيدر": ["Haider", "Hayder"], "عباس": ["Abbas"],
    "جاسم": ["Jassim", "Jasim"], "قاسم": ["Qasim", "Kassem"], "رامي": ["Rami"],
    "طارق": ["Tariq", "Tarek"], "زياد": ["Ziad", "Ziyad"], "سعد": ["Saad"],
    "فيصل": ["Faisal", "Faysal"], "نبيل": ["Nabil"], "وليد": ["Walid", "Waleed"],
    "مازن": ["Mazen"], "حمزة": ["Hamza", "Hamzah"], "ياسر": ["Yasser", "Yasir"],
    "أنس": ["Anas"], "بلال": ["Bilal"], "صالح": ["Saleh", "Salih"], "هادي": ["Hadi"],
    "كريم": ["Karim", "Kareem"], "منذر": ["Munther", "Mundhir"], "عدنان": ["Adnan"],
    "ناصر": ["Nasser", "Nasir"], "غسان": ["Ghassan"], "أيمن": ["Ayman"],
    "عماد": ["Imad", "Emad"], "رائد": ["Raed", "Ra'ed"], "مهند": ["Muhannad", "Mohannad"],
}
GIVEN_FEMALE = {
    "فاطمة": ["Fatima", "Fatma"], "زينب": ["Zainab", "Zeinab"], "مريم": ["Maryam", "Mariam"],
    "عائشة": ["Aisha", "Aicha"], "نور": ["Nour", "Noor"], "هدى": ["Huda", "Hoda"],
    "رنا": ["Rana"], "سلمى": ["Salma"], "آمنة": ["Amina", "Amna"], "خديجة": ["Khadija"],
}
FAMILY_SY = {
    "الحلبي": ["al-Halabi", "Halabi", "el-Halaby"], "الزعبي": ["al-Zoubi", "Zu'bi"],
    "الأحمد": ["al-Ahmad"], "الخطيب": ["al-Khatib", "el-Khatib"], "العلي": ["al-Ali"],
    "الحسن": ["al-Hassan", "al-Hasan"], "المحمد": ["al-Mohammad"], "الحمصي": ["al-Homsi"],
    "الدمشقي": ["al-Dimashqi"], "الإدلبي": ["al-Idlibi"], "الرقاوي": ["al-Raqqawi"],
    "الديري": ["al-Deiri"], "العمر": ["al-Omar"], "الشيخ": ["al-Sheikh", "el-Sheikh"],
    "حداد": ["Haddad"], "نصار": ["Nassar"], "الخليل": ["al-Khalil"], "القاسم": ["al-Qasim"],
}
FAMILY_IQ = {
    "العبيدي": ["al-Obaidi", "Al Ubaidi"], "الجبوري": ["al-Jubouri", "Jbouri", "al-Jabouri"],
    "الدليمي": ["al-Dulaimi", "Dulaymi"], "الشمري": ["al-Shammari", "Shammary"],
    "العاني": ["al-Ani"], "الكبيسي": ["al-Kubaisi", "Kubaysi"], "الراوي": ["al-Rawi"],
    "الجنابي": ["al-Janabi"], "السامرائي": ["al-Samarrai"], "البغدادي": ["al-Baghdadi"],
    "السعدي": ["al-Saadi"], "الكرخي": ["al-Karkhi"],
}
RANKS = ["جندي", "جندي", "جندي", "جندي أول", "جندي أول", "عريف", "عريف", "رقيب",
         "رقيب أول", "مساعد", "ملازم", "ملازم أول", "نقيب", "رائد", "مقدم", "عقيد"]
PLACES_SY = ["حلب", "حمص", "حماة", "دير الزور", "الرقة", "إدلب", "درعا", "اللاذقية", "دمشق"]
PLACES_IQ = ["الأنبار", "الموصل", "تكريت", "سامراء", "بغداد", "الرمادي", "الفلوجة"]
REFERRALS = {Category.CHILD: "يونيسف – خدمة حماية الطفل",
             Category.CIVILIAN: "المفوضية السامية للأمم المتحدة لشؤون اللاجئين"}
RELATIONS = ["أب", "أم", "أخ", "زوجة", "عم"]

# day of the story, hour (UTC), reported by the governor's office, registered, formation, unit,
# share of Iraqi nationals (a few served in the same units)
GROUPS = [
    (0, 5, 1100, 1092, "الفرقة السابعة عشرة", "اللواء ٩٣", 0.02),
    (0, 13, 380, 376, "الفوج ١٢١ مدفعية", "الكتيبة الثانية", 0.01),
    (1, 6, 1150, 1139, "الفيلق الثالث", "اللواء ١١٣", 0.03),
    (1, 14, 420, 417, "قوات الدفاع الجوي", "كتيبة الرادار ٤٤", 0.02),
    (2, 7, 600, 594, "الفرقة الحادية عشرة", "اللواء ٦٠", 0.02),
    (2, 14, 310, 309, "الفرقة الرابعة", "الفوج ١٥٤", 0.01),
    (3, 8, 320, 316, "قوات حرس الحدود", "الفوج ٥", 0.05),
]
FULL_SIZE = sum(g[3] for g in GROUPS)  # 4,243 people registered at full size
FACILITATOR = "مكتب محافظ الأنبار"  # the governor's office that brings and counts the groups


@dataclass
class GroupPlan:
    day: int
    hour: int
    reported: int
    registered: int
    formation: str
    unit: str
    iraqi_share: float


def groups_plan(size: int = FULL_SIZE) -> list[GroupPlan]:
    """The arrival groups of the story scaled to about ``size`` people registered (each group
    keeps its share and its gap between reported and registered)."""
    factor = size / FULL_SIZE
    plans = []
    for day, hour, reported, registered, formation, unit, iraqi in GROUPS:
        n = max(3, round(registered * factor))
        gap = max(1, round((reported - registered) * factor))
        plans.append(GroupPlan(day, hour, n + gap, n, formation, unit, iraqi))
    return plans


def _pick(rng, table: dict) -> tuple[str, str]:
    ar = rng.choice(list(table))
    return ar, rng.choice(table[ar])


def _person(rng: random.Random, *, arrived: dt.datetime, formation: str, unit: str,
            iraqi_share: float, kind: str) -> PersonInput:
    iraqi = rng.random() < iraqi_share
    families = FAMILY_IQ if iraqi else FAMILY_SY
    female = kind == "civilian" and rng.random() < 0.5
    given_ar, given_lat = _pick(rng, GIVEN_FEMALE if female else GIVEN_MALE)
    father_ar, father_lat = _pick(rng, GIVEN_MALE)
    grandfather_ar, grandfather_lat = _pick(rng, GIVEN_MALE)
    family_ar, family_lat = _pick(rng, families)
    latin = rng.random() < 0.7  # about a third carry no document with a Latin spelling
    values = {"given_ar": given_ar, "father_ar": father_ar, "grandfather_ar": grandfather_ar,
              "family_ar": family_ar, "sex": "female" if female else "male",
              "nationality": "IQ" if iraqi else "SY",
              "category": {"civilian": Category.CIVILIAN, "child": Category.CHILD}.get(
                  kind, Category.COMBATANT)}
    if latin:
        values.update(given_lat=given_lat, father_lat=father_lat, family_lat=family_lat)
        if rng.random() < 0.5:
            values["grandfather_lat"] = grandfather_lat
    if rng.random() < 0.6:
        values["mother_given_ar"] = _pick(rng, GIVEN_FEMALE)[0]
    if kind == "child":
        year = arrived.year - rng.randint(15, 17)
        birth = f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    else:
        year = arrived.year - rng.randint(19, 52)
        birth = rng.choice([f"{year}", f"{year}-{rng.randint(1, 12):02d}",
                            f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                            f"{year}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"])
    if kind == "combatant":
        values.update(rank=rng.choice(RANKS), unit=f"{formation} – {unit}", branch="army")
        if rng.random() < 0.85:
            values["service_number"] = f"{rng.randint(1975, 2005)}-{rng.randint(0, 999999):06d}"
    else:
        values["notes"] = "وجد بين العسكريين عند المعبر"
    if rng.random() < 0.8:
        values["place_of_birth"] = rng.choice(PLACES_IQ if iraqi else PLACES_SY)
    if rng.random() < 0.5:
        values.update(family_contact_name=f"{_pick(rng, GIVEN_MALE)[0]} {family_ar}",
                      family_contact_relation=rng.choice(RELATIONS),
                      family_contact_phone=(f"+964 7{rng.randint(0, 99999999):08d}" if iraqi
                                            else f"+963 9{rng.randint(0, 99999999):08d}"),
                      family_contact_address=rng.choice(PLACES_IQ if iraqi else PLACES_SY))
    if rng.random() < 0.03:
        values["vulnerabilities"] = [rng.choice(["wounded", "sick", "disabled"])]
    docs = []
    if rng.random() < 0.4:
        docs.append(services.DocumentInput(kind=rng.choice(["military_id", "national_id"]),
                                           number=f"{rng.randint(100000, 99999999)}",
                                           issuer="العراق" if iraqi else "سوريا"))
    quick = rng.random() < 0.15  # a quick gate record: age only, completed later
    return PersonInput(values=values, birth="" if quick else birth,
                       approximate_age=(arrived.year - year) if quick else None,
                       documents=docs)


def group_arrive(plan: GroupPlan, *, rng: random.Random, sites, users,
                 at: dt.datetime) -> tuple[ArrivalGroup, list[Person]]:
    """A group reaches the gate at ``at``: the group with the size the governor's office
    reports, and every person the officers register (one batch)."""
    crossing, officer = sites["QAM"], users[Role.RECEPTION_OFFICER]
    group = services.arrival_group_create(
        actor=officer, site=crossing, client_key=uuid.UUID(int=rng.getrandbits(128)),
        arrived_at=at, reported_count=plan.reported, facilitated_by=FACILITATOR,
        formation=plan.formation, notes="عدد الأفراد حسب كشف مكتب المحافظ")
    cleaned = []
    for _i in range(plan.registered):
        roll = rng.random()
        kind = "child" if roll < 0.0015 else "civilian" if roll < 0.012 else "combatant"
        data = _person(rng, arrived=at, formation=plan.formation, unit=plan.unit,
                       iraqi_share=plan.iraqi_share, kind=kind)
        values, aliases, documents, hashes = services.person_input_clean(data, arrived_at=at)
        cleaned.append(services.CleanPerson(
            client_key=uuid.UUID(int=rng.getrandbits(128)), values=values, aliases=aliases,
            documents=documents,
            content_hash=services.person_content_hash(values, aliases, documents, hashes,
                                                      group.id, crossing),
            arrived_at=at, group=group))
    persons = services.persons_register(actor=officer, site=crossing, people=cleaned, at=at)
    return group, persons


def group_process(persons: list[Person], *, users, at: dt.datetime) -> list[Person]:
    """After the surrender: everyone not yet disarmed is (the search at the gate), civilians
    and children are separated and referred out by the protection officer, the soldiers are
    registered. Returns the registered soldiers, ready for the camp."""
    officer, protection = users[Role.RECEPTION_OFFICER], users[Role.PROTECTION_OFFICER]
    ids = [p.id for p in persons]
    fresh = list(Person.objects.filter(id__in=ids).select_related("current_site"))
    services.persons_transition(actor=officer, to=Status.DISARMED, at=at,
                                persons=[p for p in fresh if p.status == Status.ARRIVED])
    fresh = list(Person.objects.filter(id__in=ids).select_related("current_site"))
    for category, referral in REFERRALS.items():
        services.persons_transition(
            actor=protection, to=Status.REFERRED_OUT, details={"referral_to": referral},
            at=at + dt.timedelta(minutes=30),
            persons=[p for p in fresh if p.category == category and p.status == Status.DISARMED])
    combatants = [p for p in fresh
                  if p.category == Category.COMBATANT and p.status == Status.DISARMED]
    services.persons_transition(actor=officer, persons=combatants, to=Status.REGISTERED,
                                at=at + dt.timedelta(hours=1))
    return combatants
