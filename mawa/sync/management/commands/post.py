"""``mawa post``: enrol a crossing post.

    mawa post create CODE --output FILE [--name-ar NAME] [--name-en NAME] [--standby-of POST]
    mawa post join FILE
"""

from pathlib import Path

from django.utils.translation import gettext as _

from mawa.core.management.base import MawaCommand
from mawa.sync.enrol import EnrolmentRefused, enrolment_write, post_create, post_join


class Command(MawaCommand):
    help = ("Crossing posts: `create CODE --output FILE` (at headquarters) writes the enrolment "
            "file of post CODE, creating its site if missing; `join FILE` (on a fresh "
            "installation at the post) makes this installation that post.")

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="enrol a post (at headquarters)")
        create.add_argument("code", help="the post's site code, e.g. QAM")
        create.add_argument("--output", required=True, help="the enrolment file to write")
        create.add_argument("--name-ar", default="", help="the site's name in Arabic (new site)")
        create.add_argument("--name-en", default="", help="the site's name in English (new site)")
        create.add_argument("--standby-of", default=None, metavar="POST",
                            help="enrol a standby laptop of post POST (CODE: e.g. POST2)")
        join = sub.add_parser("join", help="join as the post an enrolment file names")
        join.add_argument("file")

    def handle(self, *args, action, **options):
        if action == "create":
            self._create(options)
        else:
            self._join(options["file"])

    def _create(self, options):
        output = Path(options["output"])
        made = post_create(options["code"], name_ar=options["name_ar"],
                           name_en=options["name_en"], standby_of=options["standby_of"])
        enrolment_write(output, made.data)
        out = self.stdout
        if made.site_created:
            out.write(f"site {made.site_code} created (a crossing)")
        out.write(f"node {made.code} ({made.role}) enrolled at site {made.site_code}")
        out.write(f"headquarters key fingerprint: {made.hq_fingerprint}")
        out.write(f"{made.code} key fingerprint: {made.post_fingerprint}")
        out.write(f"accounts that sign in at {made.code}: "
                  f"{', '.join(made.users_signing_in) or '-'}")
        out.write(self.style.SUCCESS(
            f"enrolment file written to {output} (0600). It holds the post's keys and its "
            "accounts: carry it by hand, run `mawa post join FILE` on the post's fresh "
            "installation, then delete it."))

    def _join(self, name):
        try:
            data = Path(name).read_bytes()
        except OSError as exc:
            raise EnrolmentRefused(_("The enrolment file cannot be read: %(error)s")
                                   % {"error": exc.strerror or exc}, code="enrolment_missing"
                                   ) from None
        joined = post_join(data)
        out = self.stdout
        out.write(f"this installation is now node {joined.code} ({joined.role}) of site "
                  f"{joined.site_code}, operation {joined.installation}")
        out.write(f"headquarters: {joined.hq_code}, key fingerprint {joined.hq_fingerprint} "
                  "(compare it with the one `mawa post create` printed)")
        out.write(f"keys installed: the signing key of {joined.code}, the key shared with "
                  f"{joined.hq_code}")
        out.write(f"reference data applied: {joined.sites} sites, nodes "
                  f"{', '.join(joined.nodes)}")
        out.write(f"accounts that sign in here: {', '.join(joined.users_signing_in) or '-'}")
        out.write(self.style.SUCCESS(f"joined as {joined.code}: delete the enrolment file."))
