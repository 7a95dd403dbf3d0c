from pathlib import Path

from django.core.management.base import CommandError

from mawa.accountability.bundle import bundle_verify
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Check a referral bundle offline: the archive's every byte, every SHA-256 in its "
            "manifests, the site signature, every ledger chain and signed checkpoint, and each "
            "evidence file against the hash taken at intake. Exit 0 when all holds, 1 otherwise.")

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--trusted-key", action="append",
                            help="key id the bundle must be signed with (repeatable); compare "
                                 "with the id the sender gave you by another channel")

    def handle(self, *args, **options):
        try:
            data = Path(options["file"]).read_bytes()
        except OSError as exc:
            raise CommandError(f"cannot read {options['file']}: {exc}", returncode=2)
        trusted = set(options["trusted_key"]) if options["trusted_key"] else None
        report = bundle_verify(data, trusted_keys=trusted)
        self.stdout.write(f"{report.files} files, {report.entries} ledger entries, "
                          f"{report.checkpoints} checkpoints; signed by key {report.key_id or '?'}")
        if report.ok:
            self.stdout.write(self.style.SUCCESS("bundle verified: every byte, hash, chain and "
                                                 "signature holds"))
            return
        for problem in report.problems:
            self.stderr.write(f"FAILED: {problem}")
        raise CommandError("bundle verification failed", returncode=1)
