"""Index reception_person (current_site_id, status), added for the camp dashboard.

The camp counts its population by status (``camp.selectors.camp_dashboard``). With only the
``(current_site, -id)`` index that count looks up every person's row for its status (406 ms of a
1.4 s dashboard at 50,000 people, docs/benchmarks-camp.md); with this index it is read from the
index alone. Written as SQL with no state change so that it does not depend on, or conflict with,
reception's model definition being edited in parallel; reception may later move it into
``Person.Meta.indexes`` (with ``SeparateDatabaseAndState``) under the same name.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("reception", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS person_cursite_status "
            "ON reception_person (current_site_id, status)",
            reverse_sql="DROP INDEX IF EXISTS person_cursite_status",
        ),
    ]
