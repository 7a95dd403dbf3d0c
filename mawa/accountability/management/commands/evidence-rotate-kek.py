from mawa.accountability.keyrotation import kek_rotate
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Rotate the compartment's key-encryption key: re-wrap every evidence file's data "
            "key and re-encrypt the compartment's text fields under a new key (the files "
            "themselves are not rewritten), on the ledger. Stop the service first. The old key "
            "is kept as accountability.kek.retired-<time> unless --destroy-old; then make a "
            "new backup and key escrow.")

    def add_arguments(self, parser):
        parser.add_argument("--destroy-old", action="store_true",
                            help="overwrite and delete the old key once everything opens with "
                                 "the new one")

    def handle(self, *args, **options):
        done = kek_rotate(destroy_old=options["destroy_old"])
        # no counts: how much the compartment holds is not shown outside it (DESIGN.md)
        self.stdout.write(self.style.SUCCESS(
            f"compartment key {done.old_key_id} replaced by {done.new_key_id}: every evidence "
            "file's key re-wrapped and every encrypted text re-encrypted; the evidence files "
            "are unchanged (mawa evidence-fixity checks them)"))
        if done.retired:
            self.stdout.write(f"old key kept as {done.retired}: delete it once a backup and a "
                              "key escrow made from now on are safe (mawa backup, mawa keys "
                              "export-escrow)")
        else:
            self.stdout.write("old key destroyed; make a backup and a key escrow now "
                              "(mawa backup, mawa keys export-escrow)")
