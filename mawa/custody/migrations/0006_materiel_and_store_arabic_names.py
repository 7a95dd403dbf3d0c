"""Arabic names for the catalogue and the stores (issue 21: Arabic pages showed Latin-only
model names), the Arabic name of every entry of the seed catalogue, and the few models of that
army the seed lacked (PK, the Tariq pistol and its 9×19 mm rounds)."""

import uuid

from django.db import migrations, models

# catalogue name → Arabic name shown on Arabic pages (the designation kept in Latin, as
# officers write it)
ARABIC = {
    "AK-47": "بندقية كلاشنكوف AK-47", "AKM": "بندقية كلاشنكوف AKM",
    "AK-74": "بندقية كلاشنكوف AK-74", "Type 56": "بندقية تايب 56",
    "G3": "بندقية G3", "M16A1": "بندقية M16A1", "SKS": "بندقية سيمونوف SKS",
    "SVD Dragunov": "بندقية قنص دراغونوف SVD", "Makarov PM": "مسدس ماكاروف PM",
    "Tokarev TT-33": "مسدس توكاريف TT-33", "Browning Hi-Power": "مسدس براونينغ هاي باور",
    "MP5": "رشاش قصير MP5", "RPK": "رشاش خفيف RPK", "PK": "رشاش بي كي PK",
    "PKM": "رشاش بي كي إم PKM", "DShKM": "رشاش دوشكا DShKM", "NSV Utes": "رشاش أوتيس NSV",
    "KPV": "رشاش ثقيل KPV", "GP-25": "قاذف قنابل GP-25", "AGS-17": "قاذف قنابل آلي AGS-17",
    "RPG-7": "قاذف آر بي جي RPG-7", "SPG-9": "مدفع عديم الارتداد SPG-9",
    "B-10": "مدفع عديم الارتداد B-10", "9K111 Fagot": "صاروخ فاغوت 9K111",
    "9M14 Malyutka": "صاروخ ماليوتكا 9M14", "9K38 Igla": "صاروخ إيغلا 9K38",
    "9K32 Strela-2": "صاروخ ستريلا-2 9K32", "ZU-23-2": "مدفع مضاد للطائرات ZU-23-2",
    "M-37 82 mm mortar": "هاون 82 مم M-37", "60 mm light mortar": "هاون خفيف 60 مم",
    "Tariq": "مسدس طارق",
    "7.62×39 mm ball": "طلقات عادية 7.62×39 مم", "7.62×54R mm ball": "طلقات عادية 7.62×54R مم",
    "5.45×39 mm ball": "طلقات عادية 5.45×39 مم",
    "12.7×108 mm API": "طلقات خارقة حارقة 12.7×108 مم",
    "14.5×114 mm API": "طلقات خارقة حارقة 14.5×114 مم", "9×18 mm ball": "طلقات مسدس 9×18 مم",
    "9×19 mm ball": "طلقات مسدس 9×19 مم", "PG-7V rocket": "قذيفة PG-7V",
    "82 mm HE mortar bomb": "قذيفة هاون شديدة الانفجار 82 مم",
    "F-1 hand grenade": "قنبلة يدوية F-1",
    "T-55": "دبابة T-55", "T-62": "دبابة T-62", "T-72": "دبابة T-72",
    "BMP-1": "عربة قتال مشاة BMP-1", "BMP-2": "عربة قتال مشاة BMP-2",
    "BTR-60": "ناقلة جند مدرعة BTR-60", "BTR-70": "ناقلة جند مدرعة BTR-70",
    "BRDM-2": "عربة استطلاع مدرعة BRDM-2", "MT-LB": "ناقلة مدرعة MT-LB",
    "2S1 Gvozdika": "مدفع ذاتي الحركة غفوزديكا 2S1", "D-30 howitzer": "مدفع هاوتزر D-30",
    "BM-21 Grad": "راجمة صواريخ غراد BM-21",
    "Toyota Land Cruiser technical": "سيارة تويوتا لاند كروزر مسلحة",
}

# kind, name, make, calibre, calibre mm, ITI, UNROCA, country of design (as in 0002)
MORE_MODELS = [
    ("weapon", "PK", "Kalashnikov", "7.62×54R mm", "7.62", "SA-lmg", "SA5", "USSR"),
    ("weapon", "Tariq", "Al-Qadisiya", "9×19 mm", "9", "SA-pistol", "SA1", "Iraq"),
    ("ammunition", "9×19 mm ball", "", "9×19 mm", "9", "", "", ""),
]


def fill(apps, schema_editor):
    MaterielModel = apps.get_model("custody", "MaterielModel")
    for kind, name, make, calibre, mm, iti, unroca, country in MORE_MODELS:
        MaterielModel.objects.get_or_create(name=name, defaults={
            "id": uuid.uuid4(), "kind": kind, "make": make, "calibre": calibre,
            "calibre_mm": mm, "iti_category": iti, "unroca_category": unroca,
            "country": country})
    for name, name_ar in ARABIC.items():
        MaterielModel.objects.filter(name=name, name_ar="").update(name_ar=name_ar)


class Migration(migrations.Migration):

    dependencies = [
        ("custody", "0005_custodyevent_state_required"),
    ]

    operations = [
        migrations.AddField(
            model_name="materielmodel",
            name="name_ar",
            field=models.CharField(blank=True, help_text="The name an Arabic page shows (e.g. "
                                   "“كلاشنكوف AKM”); the model name when empty.",
                                   max_length=120, verbose_name="model in Arabic"),
        ),
        migrations.AddField(
            model_name="store",
            name="name_ar",
            field=models.CharField(blank=True, max_length=120, verbose_name="name in Arabic"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
