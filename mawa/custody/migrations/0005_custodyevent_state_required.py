"""Every custody event now has its time and its state after (filled by 0004): NOT NULL, and the
two indexes the situation report reads them by. A separate migration so that, on PostgreSQL,
the ALTER TABLEs do not run in the transaction that updated every row."""

from django.db import migrations, models

STATES = [
    ("in_custody", "In custody"), ("in_transit", "In transit"),
    ("out_on_access", "Out of the store (access)"), ("missing", "Missing (loss reported)"),
    ("refused", "Refused at the gate"), ("consumed", "Split or merged into other lots"),
    ("destroyed", "Destroyed"), ("transferred", "Transferred to the national authority"),
    ("returned", "Returned to the country of origin"),
]


class Migration(migrations.Migration):

    dependencies = [
        ("custody", "0004_custodyevent_state"),
    ]

    operations = [
        migrations.AlterField(
            model_name="custodyevent",
            name="at",
            field=models.DateTimeField(),
        ),
        migrations.AlterField(
            model_name="custodyevent",
            name="to_state",
            field=models.CharField(max_length=14, choices=STATES),
        ),
        migrations.AlterField(
            model_name="custodyevent",
            name="to_quantity",
            field=models.PositiveIntegerField(),
        ),
        migrations.AddIndex(
            model_name="custodyevent",
            index=models.Index(fields=["at"], name="custody_event_at"),
        ),
        migrations.AddIndex(
            model_name="custodyevent",
            index=models.Index(fields=["kind", "at"], name="custody_event_kind_at"),
        ),
    ]
