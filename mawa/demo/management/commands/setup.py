from django.core.management import call_command

from mawa.core import keys
from mawa.core.i18n import compile_catalogues
from mawa.core.ledger import checkpoint_all
from mawa.core.management.base import MawaCommand
from mawa.core.models import Site
from mawa.demo.loader import demo_accounts, demo_is_loaded, demo_load
from mawa.demo.management.commands.demo import print_accounts


class Command(MawaCommand):
    help = ("Prepare this installation: translations, database migrations, static files, the "
            "demo scenario when the database is empty, and signed ledger checkpoints.")

    def add_arguments(self, parser):
        parser.add_argument("--no-demo", action="store_true")
        parser.add_argument("--demo-size", type=int, default=None, metavar="N",
                            help="about N persons registered in the demo (default: the "
                                 "whole story, some 4,200)")

    def handle(self, *args, **options):
        compile_catalogues()
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        if not options["no_demo"] and not demo_is_loaded():
            self.stdout.write("Loading the demo scenario…")
            size = options["demo_size"]
            demo_load(**({"size": max(30, size)} if size else {}))
        # Every site holds its own signing key, made on first run (never silently replaced).
        for site in Site.objects.all():
            keys.signing_key(site.code)
        checkpoint_all()
        accounts = demo_accounts()
        if accounts:
            print_accounts(self.stdout, accounts)
