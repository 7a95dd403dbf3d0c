"""The ``mawa`` command: Django's management commands, plus ``mawa names …`` (pure library).

    mawa setup | demo --accounts | verify | backup FILE | restore FILE | checkpoint | …
    mawa names dedupe INPUT.csv --output OUT.csv
    mawa names screen INPUT.csv --watchlist LIST --output HITS.csv --top 5
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "names":
        # The names engine needs no database and no Django: start it directly.
        from mawa.names.cli import main as names_main

        return names_main(argv[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
    from django.core.management import execute_from_command_line

    argv[0] = "mawa"
    execute_from_command_line(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main())
