"""Issue 20, item 2: family contacts, vulnerabilities and their notes, the reason for
withholding from the ICRC, lifecycle notes, the values a correction replaced and document
numbers are sealed with the "reception" field key
(``mawa.core.fields.EncryptedTextField``); ``IdentityDocument.number_key`` becomes the keyed
hash of the normalised number (``values.document_lookup``), no longer the number itself.

The columns become text first, then the rows are sealed in batches of 500 (plain ``SELECT``
and ``UPDATE`` by primary key: the same on SQLite and PostgreSQL; a run stopped half-way can be
run again, sealed values are left). Reversible: going back opens every value with the key
(which must still be in the key directory) and restores the plain number keys.

The plaintext of the rows converted stays in free pages of the SQLite file and in older WAL
frames until they are overwritten: run ``VACUUM`` after this migration on a database that held
real data (``sqlite3 FILE 'VACUUM'`` with the service stopped), and make a new backup; older backups
still hold the clear values and should be destroyed once the new one is safe.
"""

from django.db import migrations, models

import mawa.core.fields
from mawa.core.fields import columns_convert
from mawa.reception.values import document_key, document_lookup

PERSON = ["family_contact_name", "family_contact_relation", "family_contact_phone",
          "family_contact_address", "vulnerability_notes", "vulnerabilities",
          "icrc_withheld_reason"]


def seal(apps, schema_editor):
    columns_convert(apps.get_model("reception", "Person"), PERSON, seal=True)
    columns_convert(apps.get_model("reception", "LifecycleEvent"), ["note"], seal=True)
    columns_convert(apps.get_model("reception", "PersonRevision"), ["prior"], seal=True)
    columns_convert(apps.get_model("reception", "IdentityDocument"), ["number"], seal=True,
                    also=lambda pk, plain: {"number_key": document_lookup(plain["number"])})


def unseal(apps, schema_editor):
    columns_convert(apps.get_model("reception", "Person"), PERSON, seal=False)
    columns_convert(apps.get_model("reception", "LifecycleEvent"), ["note"], seal=False)
    columns_convert(apps.get_model("reception", "PersonRevision"), ["prior"], seal=False)
    columns_convert(apps.get_model("reception", "IdentityDocument"), ["number"], seal=False,
                    also=lambda pk, plain: {"number_key": document_key(plain["number"])[:60]})


class Migration(migrations.Migration):

    dependencies = [
        ('reception', '0004_namekeys_from_mawa_names'),
    ]

    operations = [
        migrations.AlterField(
            model_name='identitydocument',
            name='number',
            field=mawa.core.fields.EncryptedTextField(purpose='reception', verbose_name='document number'),
        ),
        migrations.AlterField(
            model_name='identitydocument',
            name='number_key',
            field=models.CharField(editable=False, max_length=64),
        ),
        migrations.AlterField(
            model_name='lifecycleevent',
            name='note',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception'),
        ),
        migrations.AlterField(
            model_name='person',
            name='family_contact_address',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception', verbose_name='family contact: address'),
        ),
        migrations.AlterField(
            model_name='person',
            name='family_contact_name',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception', verbose_name='family contact: name'),
        ),
        migrations.AlterField(
            model_name='person',
            name='family_contact_phone',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception', verbose_name='family contact: telephone'),
        ),
        migrations.AlterField(
            model_name='person',
            name='family_contact_relation',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception', verbose_name='family contact: relationship'),
        ),
        migrations.AlterField(
            model_name='person',
            name='vulnerability_notes',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception', verbose_name='vulnerability notes'),
        ),
        migrations.AlterField(
            model_name='personrevision',
            name='prior',
            field=mawa.core.fields.EncryptedJSONField(purpose='reception'),
        ),
        migrations.AlterField(
            model_name='person',
            name='vulnerabilities',
            field=mawa.core.fields.EncryptedJSONField(blank=True, default=list, purpose='reception', verbose_name='vulnerabilities'),
        ),
        migrations.AlterField(
            model_name='person',
            name='icrc_withheld_reason',
            field=mawa.core.fields.EncryptedTextField(blank=True, purpose='reception', verbose_name='reason for withholding'),
        ),
        migrations.RunPython(seal, unseal, elidable=False),
    ]
