"""The person search's name keys recomputed once more, after a fix of the names lexicon.

``mawa.names`` now reads Latin "Amer" as عامر (it was taken for Ammar, an exact match), and
signs such as ʿ ʾ ʻ ʼ in a romanisation no longer make a name count as foreign script (issue
19). Keys stored before this release for such names differ from the keys a search computes
now, so those persons would not be found under their own spelling. The same batched
recomputation as ``0004`` (one transaction per batch of persons, safe to run again; reversing
is a no-op). The matching index's blocking keys follow the same lexicon: after upgrading, run
``mawa matching reindex`` once (docs/matching.md).
"""

import importlib

from django.db import migrations

_0004 = importlib.import_module("mawa.reception.migrations.0004_namekeys_from_mawa_names")


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reception", "0006_person_status_merged")]

    operations = [migrations.RunPython(_0004.recompute, migrations.RunPython.noop,
                                       elidable=True)]
