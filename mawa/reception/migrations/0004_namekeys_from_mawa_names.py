"""The person search's name keys recomputed with ``mawa.names.search_keys``.

Until now the keys came from a normaliser of reception's own (letters folded, one key per
word as typed), so عبدالرحمن or Abdelrahman did not find a person registered as عبد الرحمن /
Abdul Rahman, though the duplicate queue merges such spellings. Registrations now store the
keys of ``mawa.names``, the one normaliser of search, suggestions, dedupe and screening; this
migration gives every person registered before the upgrade the same keys, so that they are
found as the people registered after it are.

Persons are read in batches of ``BATCH`` along the primary key; each batch's keys are deleted
and written again in its own transaction (the migration is not atomic as a whole: a register
of a million persons is not one transaction, and a run stopped half-way is simply run again,
each batch giving the same rows). Plain ORM reads and writes: SQLite and PostgreSQL alike.
Reversing it is a no-op: the keys stay as they are, and the code before this release would
search them with its own keys (a downgrade that needs its search must rewrite them).
"""

from django.db import migrations, transaction

from mawa.names import search_keys

BATCH = 1000
NAME_PARTS = ("given", "father", "grandfather", "family", "mother_given", "mother_family",
              "kunya")


def person_key_rows(values: dict, aliases) -> list[tuple[str, str]]:
    """Sorted (part, key) rows of one person: names by part, aliases under ``alias``."""
    rows = set()
    for part in NAME_PARTS:
        for script in ("ar", "lat"):
            rows.update((part, key) for key in search_keys(values[f"{part}_{script}"] or ""))
    for name_ar, name_lat in aliases:
        rows.update(("alias", key) for key in (*search_keys(name_ar or ""),
                                               *search_keys(name_lat or "")))
    return sorted(rows)


def recompute(apps, schema_editor):
    Person = apps.get_model("reception", "Person")
    PersonAlias = apps.get_model("reception", "PersonAlias")
    PersonNameKey = apps.get_model("reception", "PersonNameKey")
    db = schema_editor.connection.alias
    fields = [f"{part}_{script}" for part in NAME_PARTS for script in ("ar", "lat")]
    last = None
    while True:
        qs = Person.objects.using(db).order_by("pk")
        if last is not None:
            qs = qs.filter(pk__gt=last)
        persons = list(qs.values("pk", *fields)[:BATCH])
        if not persons:
            return
        ids = [p["pk"] for p in persons]
        aliases: dict = {}
        for pid, name_ar, name_lat in PersonAlias.objects.using(db).filter(
                person_id__in=ids).values_list("person_id", "name_ar", "name_lat"):
            aliases.setdefault(pid, []).append((name_ar, name_lat))
        rows = [PersonNameKey(person_id=p["pk"], part=part, key=key)
                for p in persons for part, key in person_key_rows(p, aliases.get(p["pk"], ()))]
        with transaction.atomic(using=db):
            PersonNameKey.objects.using(db).filter(person_id__in=ids).delete()
            PersonNameKey.objects.using(db).bulk_create(rows, batch_size=300)
        last = ids[-1]


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("reception", "0003_namekey_key_person_index")]

    operations = [migrations.RunPython(recompute, migrations.RunPython.noop, elidable=True)]
