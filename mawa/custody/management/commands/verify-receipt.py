import sys

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from django.core.management.base import CommandError

from mawa.core import keys
from mawa.core.management.base import MawaCommand
from mawa.custody.receipts import payload_verify


class Command(MawaCommand):
    help = ("Verify a receipt's QR code text offline (MAWA1.…). Exit 0 when the signature "
            "holds, 2 when it does not. Give --public-key to check against a site's public key "
            "(64 hex digits) without this installation's keys.")

    def add_arguments(self, parser):
        parser.add_argument("code", nargs="?", help="the text read from the QR code; - or "
                            "nothing to read it from standard input")
        parser.add_argument("--public-key", help="the issuing site's Ed25519 public key, hex")

    def handle(self, *args, **options):
        text = options["code"]
        if not text or text == "-":
            text = sys.stdin.read()
        public_keys = None
        if options["public_key"]:
            try:
                raw = bytes.fromhex(options["public_key"].strip())
                public_keys = {keys.key_id_of(raw): Ed25519PublicKey.from_public_bytes(raw)}
            except ValueError:
                raise CommandError("--public-key must be 64 hexadecimal digits", returncode=2)
        body = payload_verify(text, public_keys=public_keys)
        self.stdout.write(self.style.SUCCESS(
            f"receipt {body['r']} verified: issued at {body['s']} on {body['t']} to "
            f"{body['b']}, signed by key {body['k']}"))
        if "i" in body:
            for tag, kind, model, serial, cond, qty, accepted in body["i"]:
                status = "accepted" if accepted else "REFUSED"
                self.stdout.write(f"  {tag}  {kind}  {model}  {serial}  {cond}  {qty}  {status}")
        else:
            self.stdout.write(f"  {body['c']} items; SHA-256 of the lines: {body['h']}")
