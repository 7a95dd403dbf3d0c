from mawa.core.i18n import compile_catalogues
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = "Compile the Arabic/English translation catalogues (.po → .mo) without gettext."

    def handle(self, *args, **options):
        for path in compile_catalogues():
            self.stdout.write(f"compiled {path}")
