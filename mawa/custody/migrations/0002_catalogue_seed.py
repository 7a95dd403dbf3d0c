"""Fill the reference catalogue with the materiel such an army commonly fields.

Administrators extend and correct it in the admin; this list is only a starting point.
ITI categories per the International Tracing Instrument; UNROCA codes per the Register
(categories I–VII and the optional SALW list, whose mortar limit is 75 mm).
"""

from django.db import migrations

# kind, name, make, calibre, calibre mm, ITI, UNROCA, country of design
MODELS = [
    ("weapon", "AK-47", "Kalashnikov", "7.62×39 mm", "7.62", "SA-assault", "SA4", "USSR"),
    ("weapon", "AKM", "Kalashnikov", "7.62×39 mm", "7.62", "SA-assault", "SA4", "USSR"),
    ("weapon", "AK-74", "Kalashnikov", "5.45×39 mm", "5.45", "SA-assault", "SA4", "USSR"),
    ("weapon", "Type 56", "Norinco", "7.62×39 mm", "7.62", "SA-assault", "SA4", "China"),
    ("weapon", "G3", "Heckler & Koch", "7.62×51 mm", "7.62", "SA-rifle", "SA2", "Germany"),
    ("weapon", "M16A1", "Colt", "5.56×45 mm", "5.56", "SA-assault", "SA4", "USA"),
    ("weapon", "SKS", "Simonov", "7.62×39 mm", "7.62", "SA-rifle", "SA2", "USSR"),
    ("weapon", "SVD Dragunov", "Izhmash", "7.62×54R mm", "7.62", "SA-rifle", "SA2", "USSR"),
    ("weapon", "Makarov PM", "Izhmekh", "9×18 mm", "9", "SA-pistol", "SA1", "USSR"),
    ("weapon", "Tokarev TT-33", "Tula", "7.62×25 mm", "7.62", "SA-pistol", "SA1", "USSR"),
    ("weapon", "Browning Hi-Power", "FN Herstal", "9×19 mm", "9", "SA-pistol", "SA1", "Belgium"),
    ("weapon", "MP5", "Heckler & Koch", "9×19 mm", "9", "SA-smg", "SA3", "Germany"),
    ("weapon", "RPK", "Kalashnikov", "7.62×39 mm", "7.62", "SA-lmg", "SA5", "USSR"),
    ("weapon", "PKM", "Kalashnikov", "7.62×54R mm", "7.62", "SA-lmg", "SA5", "USSR"),
    ("weapon", "DShKM", "Degtyaryov", "12.7×108 mm", "12.7", "LW-hmg", "LW1", "USSR"),
    ("weapon", "NSV Utes", "Nikitin", "12.7×108 mm", "12.7", "LW-hmg", "LW1", "USSR"),
    ("weapon", "KPV", "Vladimirov", "14.5×114 mm", "14.5", "LW-hmg", "LW1", "USSR"),
    ("weapon", "GP-25", "Tula", "40 mm", "40", "LW-grenade", "LW2", "USSR"),
    ("weapon", "AGS-17", "Nudelman", "30 mm", "30", "LW-grenade", "LW2", "USSR"),
    ("weapon", "RPG-7", "Bazalt", "40 mm (85 mm warhead)", "40", "LW-atlauncher", "LW5", "USSR"),
    ("weapon", "SPG-9", "Bazalt", "73 mm", "73", "LW-recoilless", "LW4", "USSR"),
    ("weapon", "B-10", "Bazalt", "82 mm", "82", "LW-recoilless", "LW4", "USSR"),
    ("weapon", "9K111 Fagot", "KBP", "120 mm", "120", "LW-atlauncher", "LW5", "USSR"),
    ("weapon", "9M14 Malyutka", "Kolomna", "125 mm", "125", "LW-atlauncher", "LW5", "USSR"),
    ("weapon", "9K38 Igla", "KBM", "72 mm", "72", "LW-aalauncher", "VII-b", "USSR"),
    ("weapon", "9K32 Strela-2", "KBM", "72 mm", "72", "LW-aalauncher", "VII-b", "USSR"),
    ("weapon", "ZU-23-2", "Tula", "23 mm", "23", "LW-aagun", "LW7", "USSR"),
    ("weapon", "M-37 82 mm mortar", "", "82 mm", "82", "LW-mortar", "LW7", "USSR"),
    ("weapon", "60 mm light mortar", "", "60 mm", "60", "LW-mortar", "LW6", ""),
    ("ammunition", "7.62×39 mm ball", "", "7.62×39 mm", "7.62", "", "", ""),
    ("ammunition", "7.62×54R mm ball", "", "7.62×54R mm", "7.62", "", "", ""),
    ("ammunition", "5.45×39 mm ball", "", "5.45×39 mm", "5.45", "", "", ""),
    ("ammunition", "12.7×108 mm API", "", "12.7×108 mm", "12.7", "", "", ""),
    ("ammunition", "14.5×114 mm API", "", "14.5×114 mm", "14.5", "", "", ""),
    ("ammunition", "9×18 mm ball", "", "9×18 mm", "9", "", "", ""),
    ("ammunition", "PG-7V rocket", "", "85 mm", "85", "", "", "USSR"),
    ("ammunition", "82 mm HE mortar bomb", "", "82 mm", "82", "", "", ""),
    ("ammunition", "F-1 hand grenade", "", "", None, "", "", "USSR"),
    ("vehicle", "T-55", "", "100 mm", "100", "", "I", "USSR"),
    ("vehicle", "T-62", "", "115 mm", "115", "", "I", "USSR"),
    ("vehicle", "T-72", "Uralvagonzavod", "125 mm", "125", "", "I", "USSR"),
    ("vehicle", "BMP-1", "", "73 mm", "73", "", "II", "USSR"),
    ("vehicle", "BMP-2", "", "30 mm", "30", "", "II", "USSR"),
    ("vehicle", "BTR-60", "", "14.5 mm", "14.5", "", "II", "USSR"),
    ("vehicle", "BTR-70", "", "14.5 mm", "14.5", "", "II", "USSR"),
    ("vehicle", "BRDM-2", "", "14.5 mm", "14.5", "", "II", "USSR"),
    ("vehicle", "MT-LB", "", "7.62 mm", "7.62", "", "II", "USSR"),
    ("vehicle", "2S1 Gvozdika", "", "122 mm", "122", "", "III", "USSR"),
    ("vehicle", "D-30 howitzer", "", "122 mm", "122", "", "III", "USSR"),
    ("vehicle", "BM-21 Grad", "", "122 mm", "122", "", "III", "USSR"),
    ("vehicle", "Toyota Land Cruiser technical", "Toyota", "", None, "", "", "Japan"),
]


def fill(apps, schema_editor):
    MaterielModel = apps.get_model("custody", "MaterielModel")
    import uuid

    for kind, name, make, calibre, mm, iti, unroca, country in MODELS:
        MaterielModel.objects.get_or_create(name=name, defaults={
            "id": uuid.uuid4(), "kind": kind, "make": make, "calibre": calibre,
            "calibre_mm": mm, "iti_category": iti, "unroca_category": unroca,
            "country": country})


class Migration(migrations.Migration):
    dependencies = [("custody", "0001_initial")]
    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
