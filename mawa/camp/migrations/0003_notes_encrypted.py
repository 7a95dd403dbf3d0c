"""Issue 20, item 2: movement notes (why to hospital, to court) and incident narratives and
follow-ups (SGBV, self-harm, health) are sealed with the "camp" field key
(``mawa.core.fields.EncryptedTextField``). The columns become text, then the rows are sealed in
batches (the same on SQLite and PostgreSQL; stopped half-way, it can be run again).
Reversible while the key is in the key directory. Run ``VACUUM`` afterwards on a database that
held real data (the clear values stay in free pages until overwritten).
"""

from django.db import migrations

import mawa.core.fields
from mawa.core.fields import columns_convert


def seal(apps, schema_editor, *, to=True):
    columns_convert(apps.get_model("camp", "Movement"), ["note"], seal=to)
    columns_convert(apps.get_model("camp", "Incident"), ["summary"], seal=to)
    columns_convert(apps.get_model("camp", "IncidentFollowUp"), ["note"], seal=to)


def unseal(apps, schema_editor):
    seal(apps, schema_editor, to=False)


class Migration(migrations.Migration):

    dependencies = [
        ('camp', '0002_assignment_open_site_shelter'),
    ]

    operations = [
        migrations.AlterField(
            model_name='incident',
            name='summary',
            field=mawa.core.fields.EncryptedTextField(purpose='camp', verbose_name='what happened'),
        ),
        migrations.AlterField(
            model_name='incidentfollowup',
            name='note',
            field=mawa.core.fields.EncryptedTextField(purpose='camp', verbose_name='follow-up'),
        ),
        migrations.AlterField(
            model_name='movement',
            name='note',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='camp', verbose_name='note'),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
    ]
