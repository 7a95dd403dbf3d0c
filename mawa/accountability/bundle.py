"""Court-ready referral bundles: a BagIt bag (RFC 8493) in a signed zip, and its verifier.

Layout of the zip (every member stored uncompressed, fixed order and fixed timestamps, so the
archive is a deterministic function of its contents)::

    bag/bagit.txt, bag/bag-info.txt
    bag/data/referral.json              the selected records; each source's consent scope
    bag/data/evidence/<code>.<ext>      the evidentiary files, decrypted, byte for byte
    bag/data/ledger/<stream>.jsonl      every entry of the custody streams, from the first
    bag/data/checkpoints.json           signed checkpoints of those streams at export time
    bag/data/public-keys.json           the site public keys that signed them
    bag/manifest-sha256.txt             SHA-256 of every payload file
    bag/tagmanifest-sha256.txt          SHA-256 of the tag files, manifest included
    bag/signature.json                  Ed25519 signature of the tag manifest by the site key

``bundle_verify`` needs no database: it checks that the zip is exactly the canonical archive of
its own members (so a changed byte anywhere — header, padding, directory — is caught), every
manifest hash, the signature, every ledger chain from the genesis hash, every checkpoint
signature and head, and that each evidence file has the hash recorded at intake on its chain.
No RFC 3161 timestamp is added: no timestamp authority is configured (see docs).
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from mawa.core import keys
from mawa.core.ledger import GENESIS, checkpoint_sign, entry_hash
from mawa.core.models import Checkpoint, LedgerEntry, SiteKey

FIXED_TIME = (1980, 1, 1, 0, 0, 0)
BAG = "bag/"


def _canonical_zip(members: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=FIXED_TIME)
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            archive.writestr(info, data)
    return buffer.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _json(obj) -> bytes:
    return (json.dumps(obj, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode()


def _signed_message(tagmanifest: bytes) -> bytes:
    return b"mawa-bundle-v1\n" + _sha(tagmanifest).encode()


# --- build (needs the database) -----------------------------------------------------------

def bundle_build(*, referral, items) -> bytes:
    """The bytes of the bundle of ``referral`` with ``items`` (evidence already checked for
    consent and approval by ``services.referral_export``)."""
    from mawa.accountability import selectors, services

    payload: list[tuple[str, bytes]] = []
    record = selectors.referral_record(referral=referral, items=items)
    payload.append(("data/referral.json", _json(record)))
    for item in items:
        payload.append((f"data/evidence/{item.short_code}.{item.extension}",
                        services.evidence_plaintext(item)))
    streams = [f"event/{referral.event_id}", referral.stream, *(i.stream for i in items)]
    streams += sorted({f"source/{s['id']}" for s in record["sources"]})
    checkpoints = []
    site_code = referral.site.code
    for stream in streams:
        entries = list(LedgerEntry.objects.filter(stream=stream).order_by("seq"))
        if not entries:
            continue
        lines = [json.dumps({"stream": e.stream, "seq": e.seq, "ts": e.ts, "actor": e.actor,
                             "site": e.site, "kind": e.kind, "payload": e.payload,
                             "prev_hash": e.prev_hash, "entry_hash": e.entry_hash},
                            ensure_ascii=False, sort_keys=True) for e in entries]
        payload.append((f"data/ledger/{stream.replace('/', '_')}.jsonl",
                        ("\n".join(lines) + "\n").encode()))
        head = entries[-1]
        cp = checkpoint_sign(stream=stream, seq=head.seq, head_hash=head.entry_hash,
                             site_code=site_code)
        checkpoints.append(cp)
    payload.append(("data/checkpoints.json", _json([
        {"stream": c.stream, "seq": c.seq, "head_hash": c.head_hash, "ts": c.ts, "site": c.site,
         "key_id": c.key_id, "signature": c.signature}
        for c in Checkpoint.objects.filter(pk__in=[c.pk for c in checkpoints])
        .order_by("stream", "seq")])))
    signer = keys.signing_key(site_code)
    public_hex = keys.public_key_bytes(signer.public_key()).hex()
    key_id = keys.key_id_of(bytes.fromhex(public_hex))
    public_keys = {row.key_id: {"site": row.site_code, "public_key": row.public_key}
                   for row in SiteKey.objects.filter(key_id__in={c.key_id for c in checkpoints}
                                                     | {key_id})}
    public_keys[key_id] = {"site": site_code, "public_key": public_hex}
    payload.append(("data/public-keys.json", _json(public_keys)))

    manifest = "".join(f"{_sha(data)}  {name}\n" for name, data in payload).encode()
    bagit = b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = (f"Source-Organization: Mawa\nExternal-Identifier: {referral.short_code}\n"
            f"Payload-Oxum: {sum(len(d) for _, d in payload)}.{len(payload)}\n"
            f"Bag-Group-Identifier: {referral.event.short_code}\n").encode()
    tags = [("bagit.txt", bagit), ("bag-info.txt", info), ("manifest-sha256.txt", manifest)]
    tagmanifest = "".join(f"{_sha(data)}  {name}\n" for name, data in tags).encode()
    signature = {"algorithm": "Ed25519", "key_id": key_id, "site": site_code,
                 "public_key": public_hex, "signed": "sha256 of tagmanifest-sha256.txt",
                 "signature": signer.sign(_signed_message(tagmanifest)).hex()}
    members = [(BAG + n, d) for n, d in tags] + [(BAG + "tagmanifest-sha256.txt", tagmanifest)]
    members += [(BAG + n, d) for n, d in payload]
    members.append((BAG + "signature.json", _json(signature)))
    return _canonical_zip(members)


# --- verify (no database) -----------------------------------------------------------------

@dataclass
class BundleReport:
    files: int = 0
    entries: int = 0
    checkpoints: int = 0
    key_id: str = ""
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def _manifest(text: bytes, report: BundleReport, label: str) -> dict[str, str]:
    out = {}
    for line in text.decode("utf-8").splitlines():
        digest, _, name = line.partition("  ")
        if len(digest) != 64 or not name:
            report.problems.append(f"{label}: malformed line {line!r}")
            continue
        out[name] = digest
    return out


def bundle_verify(data: bytes, *, trusted_keys: set[str] | None = None) -> BundleReport:
    """Check a bundle completely; every problem found is listed (not only the first)."""
    report = BundleReport()
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = [(i.filename, archive.read(i)) for i in archive.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, EOFError) as exc:
        report.problems.append(f"not a readable bundle: {exc}")
        return report
    except Exception as exc:  # zipfile raises assorted errors on corrupt input
        report.problems.append(f"not a readable bundle: {exc.__class__.__name__}: {exc}")
        return report
    if _canonical_zip(members) != data:
        report.problems.append("the archive is not byte-for-byte the canonical form of its own "
                               "contents: it was altered")
    files = dict(members)
    if len(files) != len(members):
        report.problems.append("duplicate member names")

    def get(name: str) -> bytes | None:
        got = files.get(BAG + name)
        if got is None:
            report.problems.append(f"missing {name}")
        return got

    tagmanifest, signature_raw = get("tagmanifest-sha256.txt"), get("signature.json")
    if tagmanifest is None or signature_raw is None:
        return report
    try:
        signature = json.loads(signature_raw)
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(signature["public_key"]))
        public.verify(bytes.fromhex(signature["signature"]), _signed_message(tagmanifest))
        report.key_id = signature["key_id"]
        if hashlib.sha256(bytes.fromhex(signature["public_key"])).hexdigest()[:16] \
                != report.key_id:
            report.problems.append("the signing key id does not match its public key")
    except (InvalidSignature, ValueError, KeyError, TypeError):
        report.problems.append("the signature over the tag manifest does not hold")
    if trusted_keys is not None and report.key_id not in trusted_keys:
        report.problems.append(f"signed by key {report.key_id}, which is not a trusted key")
    for name, digest in _manifest(tagmanifest, report, "tagmanifest").items():
        got = files.get(BAG + name)
        if got is None or _sha(got) != digest:
            report.problems.append(f"tag file {name} does not match the tag manifest")
    manifest_raw = get("manifest-sha256.txt")
    if manifest_raw is None:
        return report
    manifest = _manifest(manifest_raw, report, "manifest")
    payload = {n[len(BAG):]: d for n, d in files.items() if n.startswith(BAG + "data/")}
    for name in sorted(set(payload) - set(manifest)):
        report.problems.append(f"{name} is in the bag but not in the manifest")
    for name, digest in sorted(manifest.items()):
        got = payload.get(name)
        if got is None:
            report.problems.append(f"{name} is in the manifest but missing")
        elif _sha(got) != digest:
            report.problems.append(f"{name} does not match its SHA-256 in the manifest")
        else:
            report.files += 1
    _verify_ledger(payload, report)
    return report


def _verify_ledger(payload: dict[str, bytes], report: BundleReport) -> None:
    heads: dict[str, tuple[int, str]] = {}
    intake: dict[str, str] = {}
    for name, data in sorted(payload.items()):
        if not (name.startswith("data/ledger/") and name.endswith(".jsonl")):
            continue
        prev, expected = GENESIS, 1
        for line in data.decode("utf-8").splitlines():
            try:
                e = json.loads(line)
                digest = entry_hash(prev, e["stream"], e["seq"], e["ts"], e["actor"], e["site"],
                                    e["kind"], e["payload"])
            except (ValueError, KeyError, TypeError):
                report.problems.append(f"{name}: unreadable entry {expected}")
                break
            if e["seq"] != expected or e["prev_hash"] != prev or digest != e["entry_hash"]:
                report.problems.append(f"{e['stream']}#{e['seq']}: the chain does not hold")
                break
            if e["kind"] == "evidence.received":
                body = json.loads(e["payload"])
                intake[body["short_code"]] = body["sha256"]
            report.entries += 1
            prev, expected = digest, expected + 1
            heads[e["stream"]] = (e["seq"], digest)
    try:
        public_keys = json.loads(payload.get("data/public-keys.json", b"{}"))
        checkpoints = json.loads(payload.get("data/checkpoints.json", b"[]"))
    except ValueError:
        report.problems.append("checkpoints or public keys unreadable")
        return
    import rfc8785

    for c in checkpoints:
        report.checkpoints += 1
        key = public_keys.get(c.get("key_id"), {})
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(key["public_key"])).verify(
                bytes.fromhex(c["signature"]), rfc8785.dumps({
                    "head_hash": c["head_hash"], "key_id": c["key_id"], "seq": c["seq"],
                    "site": c["site"], "stream": c["stream"], "ts": c["ts"]}))
        except (InvalidSignature, ValueError, KeyError, TypeError):
            report.problems.append(f"checkpoint of {c.get('stream')} is not validly signed")
            continue
        if heads.get(c["stream"]) != (c["seq"], c["head_hash"]):
            report.problems.append(f"checkpoint of {c['stream']} does not match its chain")
    for name, data in payload.items():
        if name.startswith("data/evidence/"):
            code = name.rsplit("/", 1)[1].rsplit(".", 1)[0]
            if intake.get(code) != _sha(data):
                report.problems.append(f"{name} differs from the hash recorded at intake")
