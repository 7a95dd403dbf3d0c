"""Demo scenario of the reception: the crossing RHM receives ~4,000 soldiers in three days.

Everything here is invented: names are drawn at random (seeded, so every load is the same) from
common Syrian and Iraqi given and family names, written in Arabic script as the officer would
type them from an identity card, with one of the Latin spellings found in practice (Mohammed,
Muhammad, Mhd …) or none at all. No real person is described.

The groups arrive over three days, one of them brought to the gate by a provincial governor.
Most people are moved through the lifecycle to "interned" at camp NUR; civilians and minors
found among them are separated and referred out; the last group is still being processed, so
its page shows who is missing. The camp and custody demos run after this one and use these
persons.

Every value goes through ``services.person_input_clean`` (the rules of a registration) and
every row, history entry and ledger entry is written by the services' batch writers
(``persons_register``, ``persons_transition``), so the ~20,000 ledger entries verify with
``mawa verify`` and the whole scenario loads in seconds.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid

from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.reception import services
from mawa.reception.models import Category, Status
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

# code, day (before today), hour, reported, to register, facilitated by, formation, unit stem,
# nationality mix (share of Iraqi), how far the group got
GROUPS = [
    ("a", 3, 6, 1250, 1232, "", "الفرقة السابعة عشرة", "اللواء ٩٣", 0.1, "interned"),
    ("b", 3, 15, 420, 415, "", "الفوج ١٢١ مدفعية", "الكتيبة الثانية", 0.05, "interned"),
    ("c", 2, 9, 1500, 1488, "محافظ دير الزور", "الفيلق الثالث", "اللواء ١١٣", 0.15,
     "interned"),
    ("d", 2, 20, 380, 372, "", "قوات الدفاع الجوي", "كتيبة الرادار ٤٤", 0.6, "interned"),
    ("e", 1, 10, 400, 352, "قوات عشائرية محلية", "الفرقة الحادية عشرة", "اللواء ٦٠", 0.3,
     "in_progress"),
]


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


def demo_load(*, sites, users) -> None:
    """Load the arrival groups and persons of the scenario (inside the caller's
    transaction)."""
    rng = random.Random(SEED)
    crossing, camp = sites["RHM"], sites["NUR"]
    officer = users[Role.RECEPTION_OFFICER]
    protection = users[Role.PROTECTION_OFFICER]
    today = timezone.now().replace(minute=0, second=0, microsecond=0)
    for _code, days, hour, reported, count, facilitator, formation, unit, iraqi, progress \
            in GROUPS:
        arrived = (today - dt.timedelta(days=days)).replace(hour=hour)
        group = services.arrival_group_create(
            actor=officer, site=crossing, client_key=uuid.UUID(int=rng.getrandbits(128)),
            arrived_at=arrived, reported_count=reported, facilitated_by=facilitator,
            formation=formation, notes="")
        cleaned = []
        for _i in range(count):
            roll = rng.random()
            kind = "child" if roll < 0.015 else "civilian" if roll < 0.035 else "combatant"
            data = _person(rng, arrived=arrived, formation=formation, unit=unit,
                               iraqi_share=iraqi, kind=kind)
            values, aliases, documents, hashes = services.person_input_clean(
                data, arrived_at=arrived)
            cleaned.append(services.CleanPerson(
                client_key=uuid.UUID(int=rng.getrandbits(128)), values=values,
                aliases=aliases, documents=documents,
                content_hash=services.person_content_hash(values, aliases, documents, hashes,
                                                          group.id, crossing),
                arrived_at=arrived, group=group))
        persons = services.persons_register(actor=officer, site=crossing, people=cleaned,
                                            at=arrived)
        _advance(rng, persons, arrived=arrived, progress=progress, officer=officer,
                 protection=protection, camp=camp)


def _advance(rng, persons, *, arrived, progress, officer, protection, camp) -> None:
    """Move a group's people through disarmament, registration and internment (or
    separation), hour by hour after their arrival."""
    separated = [p for p in persons if p.category != Category.COMBATANT]
    combatants = [p for p in persons if p.category == Category.COMBATANT]
    if progress == "in_progress":
        rng.shuffle(combatants)
        n = len(combatants)
        disarm, register, intern = combatants[: n * 3 // 4], combatants[: n // 2], \
            combatants[: n // 4]
    else:
        disarm = register = intern = combatants
    at = arrived + dt.timedelta(hours=1)
    services.persons_transition(actor=officer, persons=disarm + separated, to=Status.DISARMED,
                                at=at)
    for category, referral in REFERRALS.items():
        services.persons_transition(actor=protection, to=Status.REFERRED_OUT,
                                    persons=[p for p in separated if p.category == category],
                                    details={"referral_to": referral},
                                    at=at + dt.timedelta(hours=2))
    services.persons_transition(actor=officer, persons=register, to=Status.REGISTERED,
                                at=at + dt.timedelta(hours=4))
    services.persons_transition(actor=officer, persons=intern, to=Status.INTERNED,
                                details={"camp": camp}, at=at + dt.timedelta(hours=12))
