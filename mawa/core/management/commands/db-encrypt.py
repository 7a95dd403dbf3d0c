from mawa.core.db.encrypt import db_encrypt
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Convert the plain SQLite database to an encrypted one (SQLCipher), in place: "
            "stop the service first. Uses the database key file, or creates it; writes a new "
            "file, checks it (integrity, row counts, the ledger verifies) and only then "
            "replaces the database. Refused on PostgreSQL, on an encrypted database, and when "
            "the new file exists already.")

    def handle(self, *args, **options):
        key_file = db_encrypt()
        self.stdout.write(self.style.SUCCESS(
            f"database encrypted with SQLCipher under the key {key_file}"))
        self.stdout.write("Now: export a new key escrow (mawa keys export-escrow), since "
                          "restoring a backup from now on needs this key; make a new backup; "
                          "destroy the backups made before, which hold the database as it was.")
