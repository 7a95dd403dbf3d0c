"""Every export of personal data leaves through here (protection.md R9, attack test 18;
Primero: permission per export format, password-protected archives, short-lived links).

An export is:

1. asked for by a user who holds the permission of that *kind* of export (``KINDS``, the
   permissions are in ``accounts.roles``) and passed step-up re-authentication (the views use
   ``accounts.views.step_up_required``). The access policy sits above the kernel: accounts
   installs its check here when Django starts (``export_access_install``); until it has,
   every export is refused;
2. given a purpose and a recipient, recorded on the audit stream of the ledger together with the
   kind, the size and the SHA-256 of the encrypted file — never a value from the file;
3. written straight into an AES-256 encrypted zip (WinZip AES, opens in 7-Zip, the Windows
   "extract all" of recent versions, ``unzip`` from p7zip) under ``var/exports/``. The content
   is streamed into the archive, so the million-person register still leaves in constant
   memory; nothing readable touches the disk;
4. locked with a one-time passphrase of 120 random bits that is shown to the user once and is
   stored nowhere readable (an export written by a background job is handed its passphrase
   sealed, and the seal is wiped once the file is written: ``core.export_jobs``);
5. handed out through a signed link bound to that user that works for 15 minutes and once:
   the download renames the file away atomically (a second click finds nothing) and deletes it
   when sent. ``exports_purge`` (run by ``mawa purge``) deletes whatever was never fetched.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.core.audit import audit
from mawa.core.crypto import decrypt_text, encrypt_text
from mawa.core.errors import Forbidden, NotFound, ValidationFailed
from mawa.core.ids import uuid7

LINK_SECONDS = 15 * 60
_SALT = "mawa.core.exports"
# No 0/O, 1/I/L: a passphrase is read aloud over a radio or copied from a screen.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
_PLAIN = ".file"  # suffix of a stored readable document (``export_store``)
_PASSPHRASE_GROUPS = 5  # 5 × 5 characters of a 31-letter alphabet ≈ 124 bits
_SEAL_PURPOSE = "exports"  # the field key that seals a job's passphrase (core.crypto)


@dataclass(frozen=True)
class ExportKind:
    name: str
    permission: str  # a ``Perm`` value of ``accounts.roles`` (a test holds them equal)
    label: object
    member: str  # the file's name inside the archive, without the date
    # False only for what is made to leave readable (see ``export_record``): aggregates made
    # for publication, and single documents printed and handed to whom they concern
    encrypted: bool = True


KINDS: dict[str, ExportKind] = {k.name: k for k in (
    ExportKind("persons_csv", "person.export", _("Person register (CSV)"), "persons.csv"),
    ExportKind("icrc_csv", "export.icrc", _("ICRC internment notification (CSV)"),
               "icrc-notification.csv"),
    ExportKind("icrc_pdf", "export.icrc", _("ICRC internment notification (PDF)"),
               "icrc-notification.pdf"),
    ExportKind("subject_access_pdf", "protection.act", _("Subject access report (PDF)"),
               "subject-access.pdf"),
    ExportKind("custody_reconciliation_csv", "custody.view",
               _("Custody reconciliation (CSV)"), "custody-reconciliation.csv"),
    ExportKind("sitrep_pdf", "report.view", _("Situation report (PDF)"), "sitrep.pdf"),
    ExportKind("stats_hxl", "report.stats.publish", _("Published statistics (HXL CSV)"),
               "stats.hxl.csv", encrypted=False),
    # Printed at the gate or the depot and handed over on paper (custody.exports): who
    # issues the document prints it; every copy is on the ledger.
    ExportKind("custody_receipt_pdf", "custody.record", _("Custody receipt (printed PDF)"),
               "receipt.pdf", encrypted=False),
    ExportKind("custody_labels_pdf", "custody.record", _("Tag labels (printed PDF)"),
               "labels.pdf", encrypted=False),
    ExportKind("custody_handover_pdf", "custody.dispose",
               _("Handover to the country of origin (printed PDF)"), "handover.pdf",
               encrypted=False),
    ExportKind("custody_destruction_pdf", "custody.dispose",
               _("Destruction certificate (printed PDF)"), "destruction.pdf", encrypted=False),
    # Printed by a background job (core.jobs) and handed to the persons they name; stored
    # readable for the owner's single download (``export_store``).
    ExportKind("idcards_pdf", "idcard.print", _("ID cards (printed PDF)"), "idcards.pdf",
               encrypted=False),
    ExportKind("wristbands_pdf", "idcard.print", _("Wristbands (printed PDF)"),
               "wristbands.pdf", encrypted=False),
)}


@dataclass(frozen=True)
class ExportReady:
    export_id: str
    kind: ExportKind
    passphrase: str  # shown once, stored nowhere
    token: str  # for the download link
    filename: str
    size: int
    sha256: str


# The access policy's check: ``require(user, permission, site)`` returns when the user may,
# and otherwise raises (and audits the refusal). Installed by ``AccountsConfig.ready``.
AccessRequire = Callable[[Any, str, Any], None]
_access_require: AccessRequire | None = None


def export_access_install(require: AccessRequire) -> None:
    """Install the access policy's check (``accounts.access.require``). The kernel cannot
    import the policy, which sits above it; the policy hands its check down instead."""
    global _access_require
    _access_require = require


def export_dir() -> Path:
    path = Path(settings.VAR_DIR) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    os.chmod(path, 0o700)
    return path


def _passphrase() -> str:
    groups = ["".join(secrets.choice(_ALPHABET) for _ in range(5))
              for _ in range(_PASSPHRASE_GROUPS)]
    return "-".join(groups)


def passphrase_new() -> str:
    """A one-time passphrase for an export (about 124 bits), to show to the user once."""
    return _passphrase()


def passphrase_seal(passphrase: str, *, context: str) -> str:
    """The passphrase sealed with the kernel's ``exports`` field key (AES-256-GCM, ``context``
    authenticated): what a background job is handed, so that it can lock the file it writes
    while nobody watches without the passphrase ever being stored readable. See
    ``core.export_jobs``."""
    return encrypt_text(_SEAL_PURPOSE, passphrase, context=context)


def passphrase_unseal(sealed: str, *, context: str) -> str:
    return decrypt_text(_SEAL_PURPOSE, sealed, context=context)


def export_check(*, user, kind: str, purpose: str, recipient: str, site=None) -> ExportKind:
    """Refuse (and audit the refusal) unless ``user`` may make this kind of export, with a
    stated purpose and recipient. Call before any data is read."""
    spec = KINDS.get(kind)
    if spec is None:
        raise NotFound()
    if _access_require is None:
        raise Forbidden()  # no policy installed: nothing leaves
    _access_require(user, spec.permission, site)
    errors = {}
    if not (purpose or "").strip():
        errors["purpose"] = [_("State the purpose of the export.")]
    if not (recipient or "").strip():
        errors["recipient"] = [_("Name who receives the file.")]
    if errors:
        raise ValidationFailed(_("Check the highlighted fields."), fields=errors)
    return spec


def export_create(*, user, kind: str, purpose: str, recipient: str,
                  write: Callable[[BinaryIO], object], site=None, detail: dict | None = None,
                  stamp: str = "", passphrase: str = "",
                  then: Callable[[ExportReady], object] | None = None) -> ExportReady:
    """Write an export into an encrypted archive and record it on the ledger.

    ``write`` receives a binary file object inside the archive and writes the content into it
    (stream, do not build the whole file in memory); it runs outside any transaction, and may
    raise to stop (a job's cancel): the partial file is removed. ``detail`` may add counts or
    codes to the ledger entry, never personal values. ``passphrase``: one made by
    ``passphrase_new`` when the export was asked for (a background job, see
    ``core.export_jobs``); by default a new one. ``then(ready)`` runs inside the transaction of
    the ledger entry (a job's delivery, a list recorded as sent): if it raises, the entry and
    the file are gone."""
    import pyzipper

    spec = export_check(user=user, kind=kind, purpose=purpose, recipient=recipient, site=site)
    if not spec.encrypted:
        raise NotFound()
    export_id = uuid7().hex
    passphrase = passphrase or _passphrase()
    final = export_dir() / f"{export_id}.zip"
    partial = final.with_suffix(".partial")
    member = f"{stamp}-{spec.member}" if stamp else spec.member
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as raw, pyzipper.AESZipFile(
                raw, "w", compression=pyzipper.ZIP_DEFLATED,
                encryption=pyzipper.WZ_AES) as archive:
            archive.setpassword(passphrase.encode("ascii"))
            archive.setencryption(pyzipper.WZ_AES, nbits=256)
            with archive.open(member, "w", force_zip64=True) as fh:
                write(fh)
        digest, size = _sha256(partial)
        # The file is complete before it takes its final name; nobody holds a link to it until
        # the ledger entry is written. The entry and the file appear together: if the entry
        # (or ``then``) cannot be written the file is removed and nobody gets a link.
        partial.replace(final)
        token = signing.dumps({"e": export_id, "u": str(user.pk), "n": member}, salt=_SALT,
                              compress=True)
        ready = ExportReady(export_id=export_id, kind=spec, passphrase=passphrase, token=token,
                            filename=f"{member}.zip", size=size, sha256=digest)
        with transaction.atomic():
            audit(actor=user, action="export", model=f"export.{spec.name}", object_id=export_id,
                  detail={"export": spec.name, "purpose": purpose.strip()[:200],
                          "recipient": recipient.strip()[:120], "size": size,
                          "sha256": digest, "encrypted": "zip-aes256",
                          **(detail or {})})
            if then is not None:
                then(ready)
    except BaseException:
        partial.unlink(missing_ok=True)
        final.unlink(missing_ok=True)
        raise
    return ready


def export_record(*, user, kind: str, purpose: str, recipient: str, data: bytes,
                  site=None, detail: dict | None = None) -> None:
    """Record an export that leaves readable (``encrypted=False`` kinds).

    Two sorts: the protected statistics, which have passed disclosure control (protection.md
    R18: no cell under 10, secondary suppression) and exist to be published (HDX); and single
    documents printed to be handed over — a custody receipt to the soldier it names, a
    handover document to the receiving state's delegation. A passphrase would protect nothing
    in either case; what stays is the permission of the kind, the purpose and the recipient,
    and the ledger entry with the size and SHA-256 of what left, so that every copy is
    accounted for."""
    spec = export_check(user=user, kind=kind, purpose=purpose, recipient=recipient, site=site)
    if spec.encrypted:
        raise NotFound()  # personal data never leaves unencrypted
    with transaction.atomic():
        audit(actor=user, action="export", model=f"export.{spec.name}", object_id=uuid7().hex,
              detail={"export": spec.name, "purpose": purpose.strip()[:200],
                      "recipient": recipient.strip()[:120], "size": len(data),
                      "sha256": hashlib.sha256(data).hexdigest(), "encrypted": "no",
                      **(detail or {})})


def export_store(*, user, kind: str, purpose: str, recipient: str,
                 write: Callable[[BinaryIO], object], site=None, detail: dict | None = None,
                 stamp: str = "") -> ExportReady:
    """Store a document that leaves readable (``encrypted=False`` kinds, see
    ``export_record``) for a later download by the same signed link as an encrypted export:
    bound to ``user``, 15 minutes, once. For what a background job (``core.jobs``) produces
    while nobody waits on the request. The ledger entry is ``export_record``'s (size and
    SHA-256 of the stored file); the passphrase is empty."""
    spec = export_check(user=user, kind=kind, purpose=purpose, recipient=recipient, site=site)
    if spec.encrypted:
        raise NotFound()  # personal data never leaves unencrypted
    export_id = uuid7().hex
    final = export_dir() / f"{export_id}{_PLAIN}"
    partial = final.with_suffix(".partial")
    member = f"{stamp}-{spec.member}" if stamp else spec.member
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        digest, size = _sha256(partial)
        with transaction.atomic():
            audit(actor=user, action="export", model=f"export.{spec.name}", object_id=export_id,
                  detail={"export": spec.name, "purpose": purpose.strip()[:200],
                          "recipient": recipient.strip()[:120], "size": size,
                          "sha256": digest, "encrypted": "no", **(detail or {})})
        partial.replace(final)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    token = signing.dumps({"e": export_id, "u": str(user.pk), "n": member, "p": 1},
                          salt=_SALT, compress=True)
    return ExportReady(export_id=export_id, kind=spec, passphrase="", token=token,
                       filename=member, size=size, sha256=digest)


def _sha256(path: Path) -> tuple[str, int]:
    h, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while piece := fh.read(1 << 20):
            h.update(piece)
            size += len(piece)
    return h.hexdigest(), size


@dataclass(frozen=True)
class ExportFile:
    path: Path  # already moved out of reach of a second download; delete after sending
    filename: str


def export_claim(*, user, token: str) -> ExportFile:
    """Take the file behind a download link: the link must be signed, younger than 15
    minutes, the user's own, and unused. Expired, foreign, forged and used links all answer
    ``NotFound`` alike. The download is on the audit stream."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_SECONDS)
    except signing.BadSignature:  # also SignatureExpired
        raise NotFound()
    if data.get("u") != str(getattr(user, "pk", "")) or not str(data.get("e", "")).isalnum():
        raise NotFound()
    plain = bool(data.get("p"))  # ``export_store``: a readable document, not an archive
    source = export_dir() / f"{data['e']}{_PLAIN if plain else '.zip'}"
    taken = source.with_suffix(f".sending-{secrets.token_hex(8)}")
    try:
        # rename is atomic: of two simultaneous clicks exactly one gets the file
        source.rename(taken)
    except FileNotFoundError:
        raise NotFound()
    with transaction.atomic():
        audit(actor=user, action="export.download", model="export", object_id=data["e"])
    return ExportFile(path=taken, filename=data["n"] if plain else f"{data['n']}.zip")


def export_pending(*, user, token: str) -> bool:
    """Whether ``user``'s download link still works: signed, young enough, and its file not
    yet taken (a background job's page shows the link only while it does)."""
    try:
        data = signing.loads(token, salt=_SALT, max_age=LINK_SECONDS)
    except signing.BadSignature:
        return False
    if data.get("u") != str(getattr(user, "pk", "")) or not str(data.get("e", "")).isalnum():
        return False
    return (export_dir() / f"{data['e']}{_PLAIN if data.get('p') else '.zip'}").exists()


def exports_purge(*, now: float | None = None, older_than: int = LINK_SECONDS) -> int:
    """Delete export files whose link has expired (and leftovers of interrupted writes or
    downloads). Returns how many files went."""
    now = time.time() if now is None else now
    removed = 0
    for path in export_dir().iterdir():
        try:
            if path.is_file() and now - path.stat().st_mtime > older_than:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # taken by a download meanwhile
            continue
    return removed
