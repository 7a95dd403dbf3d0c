"""``mawa keys``: the key escrow, the database key and the rotation of field keys."""

from pathlib import Path

from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Keys: `export-escrow FILE` writes every key to one passphrase-encrypted file to "
            "keep off the machine (needed to restore a backup); `create-db-key` makes the "
            "SQLCipher key of a new installation; `rotate-field-key PURPOSE` re-encrypts the "
            "fields of PURPOSE under a new key.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        escrow = sub.add_parser("export-escrow", help="write the encrypted key escrow file")
        escrow.add_argument("file")
        escrow.add_argument("--passphrase-file",
                            help="take the passphrase (16 characters or more) from the first "
                                 "line of this file (- for standard input) instead of "
                                 "generating one")
        sub.add_parser("create-db-key", help="create the database key (SQLCipher) before the "
                                             "database exists")
        rotate = sub.add_parser("rotate-field-key", help="re-encrypt fields under a new key")
        rotate.add_argument("purpose", help="e.g. accounts")

    def handle(self, *args, action, **options):
        if action == "export-escrow":
            from mawa.core.backup import escrow_export, passphrase_new, read_passphrase_file

            chosen = options.get("passphrase_file")
            passphrase = read_passphrase_file(chosen) if chosen else passphrase_new()
            names = escrow_export(Path(options["file"]), passphrase=passphrase)
            self.stdout.write(self.style.SUCCESS(
                f"{len(names)} keys written to {options['file']}, encrypted: "
                f"{', '.join(names)}. Keep this file off the machine, apart from the backups."))
            if not chosen:
                self.stdout.write(f"Passphrase (shown once, stored nowhere): {passphrase}")
                self.stdout.write("Write it down and keep it apart from the file: without it "
                                  "the escrow, and so every backup, cannot be opened.")
        elif action == "create-db-key":
            from mawa.core.db.encrypt import db_key_create

            path = db_key_create()
            self.stdout.write(self.style.SUCCESS(
                f"database key written to {path}: `mawa setup` (or `mawa migrate`) now makes "
                "an encrypted database. Export a new key escrow (mawa keys export-escrow): "
                "without this key no backup can be restored."))
        else:
            from mawa.core.keyrotation import field_key_rotate

            count = field_key_rotate(purpose=options["purpose"])
            self.stdout.write(self.style.SUCCESS(
                f"field key {options['purpose']} rotated: {count} values re-encrypted"))
