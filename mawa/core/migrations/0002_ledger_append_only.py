"""Make the ledger append-only in the database itself.

UPDATE and DELETE on ledger rows (and TRUNCATE on PostgreSQL) raise an error, whatever the
code that tries. Checkpoints are append-only too. Someone with direct file access can still
drop the triggers; the hash chain and the signed checkpoints catch what they do next.
"""

from django.db import migrations

TABLES = ["core_ledgerentry", "core_checkpoint"]


def forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("UPDATE", "DELETE"):
                schema_editor.execute(
                    f"CREATE TRIGGER {table}_no_{op.lower()} BEFORE {op} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, 'ledger is append-only: {op} refused'); END;"
                )
        elif vendor == "postgresql":
            schema_editor.execute(
                "CREATE OR REPLACE FUNCTION mawa_ledger_append_only() RETURNS trigger AS $$ "
                "BEGIN RAISE EXCEPTION 'ledger is append-only: % refused on %', TG_OP, "
                "TG_TABLE_NAME; END; $$ LANGUAGE plpgsql;",
                None,  # no parameters: the % signs are PL/pgSQL's, not placeholders
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION mawa_ledger_append_only();"
            )
            schema_editor.execute(
                f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
                "FOR EACH STATEMENT EXECUTE FUNCTION mawa_ledger_append_only();"
            )
        else:
            raise RuntimeError(f"no append-only triggers for database {vendor}")


def backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "sqlite":
            for op in ("update", "delete"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_{op};")
        elif vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};")


class Migration(migrations.Migration):
    dependencies = [("core", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
