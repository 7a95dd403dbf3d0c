"""Keys of merged (inactive) persons are deleted: ``IndexKey`` holds active persons' keys only,
so candidate look-ups need not join ``IndexedPerson`` to check ``active``."""

from django.db import migrations


def drop_inactive_keys(apps, schema_editor):
    IndexKey = apps.get_model("matching", "IndexKey")
    IndexedPerson = apps.get_model("matching", "IndexedPerson")
    IndexKey.objects.filter(person__in=IndexedPerson.objects.filter(active=False)).delete()


class Migration(migrations.Migration):

    dependencies = [("matching", "0001_initial")]

    operations = [migrations.RunPython(drop_inactive_keys, migrations.RunPython.noop)]
