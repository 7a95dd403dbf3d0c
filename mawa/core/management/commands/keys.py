"""``mawa keys``: the key escrow and the rotation of field keys."""

from pathlib import Path

from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Keys: `export-escrow FILE` writes every key to one file to keep off the machine "
            "(needed to restore a backup); `rotate-field-key PURPOSE` re-encrypts the fields "
            "of PURPOSE under a new key.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        escrow = sub.add_parser("export-escrow", help="write the key escrow file")
        escrow.add_argument("file")
        rotate = sub.add_parser("rotate-field-key", help="re-encrypt fields under a new key")
        rotate.add_argument("purpose", help="e.g. accounts")

    def handle(self, *args, action, **options):
        if action == "export-escrow":
            from mawa.core.backup import escrow_export

            names = escrow_export(Path(options["file"]))
            self.stdout.write(self.style.SUCCESS(
                f"{len(names)} keys written to {options['file']}: {', '.join(names)}. Keep this "
                "file off the machine, apart from the backups."))
        else:
            from mawa.core.keyrotation import field_key_rotate

            count = field_key_rotate(purpose=options["purpose"])
            self.stdout.write(self.style.SUCCESS(
                f"field key {options['purpose']} rotated: {count} values re-encrypted"))
