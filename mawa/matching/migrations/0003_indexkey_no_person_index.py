"""Drop IndexKey's own index on ``person``: the unique (person, key) index serves every look-up
by person, and a registration writes one index fewer for each of its keys.

SQLite would rebuild the table (ten million rows at a million persons) for this change of the
field, so the database side only drops the index, found by introspection (its name is
Django's generated one, the same on SQLite and PostgreSQL)."""

import django.db.models.deletion
from django.db import migrations, models


def _drop_person_index(apps, schema_editor):
    model = apps.get_model("matching", "IndexKey")
    for name in schema_editor._constraint_names(model, ["person_id"], index=True,
                                                unique=False, primary_key=False):
        schema_editor.execute(schema_editor._delete_index_sql(model, name))


def _create_person_index(apps, schema_editor):
    model = apps.get_model("matching", "IndexKey")
    field = model._meta.get_field("person")
    schema_editor.execute(schema_editor._create_index_sql(model, fields=[field]))


class Migration(migrations.Migration):

    dependencies = [
        ('matching', '0002_indexkey_active_only'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='indexkey',
                    name='person',
                    field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='keys', to='matching.indexedperson'),
                ),
            ],
            database_operations=[
                migrations.RunPython(_drop_person_index, _create_person_index),
            ],
        ),
    ]
