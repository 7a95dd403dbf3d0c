"""Issue 20, item 2: the matching index and the watch lists hold national ID numbers as the
register now does, as keyed hashes (``reception.values.document_lookup``), never in clear:
each indexed record's ``national_id`` and its ``N|`` blocking key, and each watch-list entry's
``national_id`` and key, are rewritten. Equal numbers still give equal keys, so duplicates and
watch-list hits by national ID are found as before (a number one character off is no longer
"near": the hashes of two close numbers are unrelated).

One-way: the hashes cannot give the numbers back, and going back needs ``mawa`` to rebuild the
index from the register (the reverse does nothing).
"""

from django.db import migrations

from mawa.names import NameRecord, prepare
from mawa.reception.values import document_lookup


def _key(national_id: str) -> str:
    return "N|" + prepare(NameRecord(record_id="x", national_id=national_id)).national_id


def _rewrite(model, key_model, owner: str, *, keyed, batch: int = 500) -> None:
    """``keyed``: the field telling whether a row has blocking keys (merged persons have
    none), or ``None`` when every row has them."""
    after = None
    while True:
        rows = model.objects.order_by("pk")
        if after is not None:
            rows = rows.filter(pk__gt=after)
        rows = list(rows.values_list("pk", "record", keyed or "pk")[:batch])
        if not rows:
            return
        for pk, record, has_keys in rows:
            after = pk
            old = (record or {}).get("national_id") or ""
            if not old or (len(old) == 64 and all(c in "0123456789abcdef" for c in old)):
                continue  # none, or hashed already (a rerun)
            new = document_lookup(old)
            model.objects.filter(pk=pk).update(record={**record, "national_id": new})
            key_model.objects.filter(**{owner: pk, "key": _key(old)}).delete()
            if has_keys:
                key_model.objects.get_or_create(**{owner: pk, "key": _key(new)})


def hash_national_ids(apps, schema_editor):
    _rewrite(apps.get_model("matching", "IndexedPerson"), apps.get_model("matching", "IndexKey"),
             "person_id", keyed="active")
    _rewrite(apps.get_model("matching", "WatchlistEntry"),
             apps.get_model("matching", "WatchlistKey"), "entry_id", keyed=None)


class Migration(migrations.Migration):

    dependencies = [
        ("matching", "0003_indexkey_no_person_index"),
        ("reception", "0005_sensitive_fields_encrypted"),
    ]

    operations = [
        migrations.RunPython(hash_national_ids, migrations.RunPython.noop, elidable=False),
    ]
