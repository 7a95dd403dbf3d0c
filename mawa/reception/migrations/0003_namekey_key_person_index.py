"""The name search's index: reception_personnamekey (key, person_id) replaces (key, part).

``selectors.person_search`` walks the persons of the rarest name key newest first and checks
the other keys with one probe each; (key, person_id) answers both from the index alone. The
(key, part) index served only ``key = ?`` look-ups, which the new one serves as well, so it is
dropped rather than kept as a fifth index on every name-key write. The new index is built
before the old one is dropped, so key look-ups always have an index.

Build time, measured on the 2-core bench machine under a load of about 9 from other work:
SQLite, 1,000,000 persons (4.3 million keys, 4.8 GB file): ``mawa migrate reception`` 89 s
(13.5 s of CPU; the rest waiting for the disk and the busy CPUs). PostgreSQL, 100,000 persons:
12.5 s for the whole command, Django's start included. Writes to the name keys (registrations,
corrections, imports) wait while it runs; not measured on PostgreSQL at 1,000,000.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("reception", "0002_person_current_site_status_index")]

    operations = [
        migrations.AddIndex(
            model_name="personnamekey",
            index=models.Index(fields=["key", "person"], name="namekey_key_person"),
        ),
        migrations.RemoveIndex(model_name="personnamekey", name="namekey_key_part"),
    ]
