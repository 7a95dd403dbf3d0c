"""``mawa matching dedupe-registry | import-watchlist FILE … | screen-registry | reindex |
train [--version V] | promote-model VERSION``."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import CommandError

from mawa.core.management.base import MawaCommand
from mawa.matching import learning, services


class Command(MawaCommand):
    help = "Identity resolution: de-duplicate the registry, import watch lists, screen."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        d = sub.add_parser("dedupe-registry", help="suggest duplicates across the registry")
        d.add_argument("--threshold", type=float, default=services.REVIEW_THRESHOLD)
        w = sub.add_parser("import-watchlist", help="import FollowTheMoney JSON lines or CSV")
        w.add_argument("file", type=Path)
        w.add_argument("--source", required=True)
        w.add_argument("--version", required=True, dest="list_version")
        w.add_argument("--licence", required=True)
        w.add_argument("--no-screen", action="store_true", help="do not screen the registry")
        sub.add_parser("screen-registry", help="screen the registry against the active lists")
        sub.add_parser("reindex", help="rebuild the matching index from the register")
        t = sub.add_parser("train", help="train a candidate scorer from the review decisions")
        t.add_argument("--version", default="", dest="model_version")
        p = sub.add_parser("promote-model", help="score with a candidate model from now on")
        p.add_argument("model_version", metavar="VERSION")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "dedupe-registry":
            run = services.match_run_dedupe(actor=None, threshold=options["threshold"])
            self.stdout.write(f"{run.records} persons, {run.pairs_found} pairs found, "
                              f"{run.pairs_new} new suggestions for review (run {run.id})")
        elif action == "import-watchlist":
            try:
                content = options["file"].read_bytes()
            except OSError as exc:
                raise CommandError(f"cannot read {options['file']}: {exc.strerror}") from None
            result = services.watchlist_import(
                actor=None, content=content, source=options["source"],
                version=options["list_version"], licence=options["licence"],
                file_name=options["file"].name, screen=not options["no_screen"])
            wl = result.watchlist
            self.stdout.write(f"{wl.source} {wl.version}: {wl.entity_count} entities, "
                              f"{wl.report.get('skipped', 0)} rows skipped")
            for line, message in wl.report.get("first_skipped", []):
                self.stderr.write(f"  {options['file'].name}:{line}: skipped: {message}")
            if result.run:
                self.stdout.write(f"screened {result.run.records} persons: "
                                  f"{result.run.pairs_new} new hits")
        elif action == "screen-registry":
            run = services.registry_screen(actor=None)
            self.stdout.write(f"screened {run.records} persons: {run.pairs_found} hits, "
                              f"{run.pairs_new} new")
        elif action == "reindex":
            n = services.registry_index_rebuild()
            self.stdout.write(f"{n} persons indexed")
        elif action == "train":
            c = learning.model_train(actor=None, version=options["model_version"])
            self.stdout.write(f"candidate model {c.version}: {c.trained_on} decisions, "
                              f"held out {c.held_out}; model in use on the same pairs "
                              f"{c.current_held_out}. Promote it with "
                              f"`mawa matching promote-model {c.version}`.")
        elif action == "promote-model":
            learning.model_promote(actor=None, version=options["model_version"])
            self.stdout.write(f"model {options['model_version']} is now in use")
