from django.core.management.base import CommandError

from mawa.core.management.base import MawaCommand
from mawa.demo.loader import demo_accounts, demo_is_loaded, demo_load


def print_accounts(out, accounts):
    out.write("Demo accounts (user name / password / role / sites):")
    for a in accounts:
        out.write(f"  {a['username']:<13} {a['password']:<18} {a['role']:<20} "
                  f"{','.join(a['sites'])}")
    out.write(
        "Every account signs in with two factors. On its first sign-in Mawa shows a QR code:\n"
        "scan it with an authenticator app (FreeOTP, Aegis, Google Authenticator…) and type the\n"
        "six digits it shows; or type the key printed under the QR code into the app, or on this\n"
        "machine: oathtool --totp -b KEY. Keep the recovery codes shown next.")


class Command(MawaCommand):
    help = "Load the demo scenario into an empty database, or show the demo accounts."

    def add_arguments(self, parser):
        parser.add_argument("--load", action="store_true", help="load into an empty database")
        parser.add_argument("--accounts", action="store_true", help="show the demo accounts")

    def handle(self, *args, **options):
        if options["load"]:
            if demo_is_loaded():
                raise CommandError("the database is not empty; the demo loads only into an "
                                   "empty database")
            print_accounts(self.stdout, demo_load())
            return
        accounts = demo_accounts()
        if not accounts:
            raise CommandError("no demo accounts: run `mawa demo --load` on an empty database")
        print_accounts(self.stdout, accounts)
