import json

from mawa.core.ledger import checkpoint_all, checkpoints_export
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Sign a checkpoint of every stream that moved (run from cron); --export writes all "
            "checkpoints to a file to keep off the machine.")

    def add_arguments(self, parser):
        parser.add_argument("--export", metavar="FILE")

    def handle(self, *args, **options):
        made = checkpoint_all()
        self.stdout.write(f"{made} new checkpoint(s) signed")
        if options["export"]:
            with open(options["export"], "w", encoding="utf-8") as fh:
                json.dump(checkpoints_export(), fh, indent=1)
            self.stdout.write(f"checkpoints exported to {options['export']}")
