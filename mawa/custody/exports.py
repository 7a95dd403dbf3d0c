"""What custody data leaves Mawa as, each through ``core.exports``.

- The reconciliation table (kind ``custody_reconciliation_csv``): counts only, but counts of
  weapons and ammunition by site are what an armed group would want to know, so they leave
  like personal data — permission, step-up, purpose and recipient on the ledger, AES-256 zip,
  15-minute single-use link.
- The printed documents (kinds ``custody_receipt_pdf``, ``custody_labels_pdf``,
  ``custody_handover_pdf``, ``custody_destruction_pdf``): the receipt handed to the soldier,
  the tag labels fixed to the items, the handover document signed with the receiving state's
  delegation, the destruction certificate signed by the officer, the monitor and the
  certifying officer. They are made to
  leave on paper, so they are not encrypted and printing stays one click; but each print is
  checked against its kind's permission at the document's site and recorded
  (``exports.export_record``: who, which document, size and SHA-256 of the very bytes served,
  a fixed purpose and the recipient), so the ledger accounts for every copy that left.
"""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from mawa.core import exports, keys
from mawa.core.errors import NotFound
from mawa.core.pdf import render_pdf
from mawa.custody.models import HandoverBatch, Item, Receipt, State
from mawa.custody.receipts import payload_verify, qr_svg_data_uri
from mawa.custody.selectors import DestructionCertificate, reconciliation

# The purposes of the printed documents are fixed: printing them has one purpose each.
RECEIPT_PURPOSE = "receipt handed to the person"
LABELS_PURPOSE = "tag labels fixed to the items"
HANDOVER_PURPOSE = "handover to the delegation"
HANDOVER_RECIPIENT = "the receiving state's delegation"
DESTRUCTION_PURPOSE = "destruction certificate"
DESTRUCTION_RECIPIENT = "the destruction file"


def reconciliation_csv(report: dict) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["site", "kind", "category", *report["columns"]])
    for line in report["lines"]:
        writer.writerow([line["site"], line["kind"], line["category"],
                         *(line[c] for c in report["columns"])])
    return out.getvalue().encode("utf-8")


def reconciliation_export(*, user, purpose: str, recipient: str) -> exports.ExportReady:
    """Check, read the user's reconciliation, and write it into an encrypted export."""
    exports.export_check(user=user, kind="custody_reconciliation_csv", purpose=purpose,
                         recipient=recipient)
    report = reconciliation(user=user)
    data = reconciliation_csv(report)
    return exports.export_create(user=user, kind="custody_reconciliation_csv", purpose=purpose,
                                 recipient=recipient, write=lambda fh: fh.write(data),
                                 detail={"lines": len(report["lines"])},
                                 stamp=timezone.localdate().isoformat())


# --- printed documents -------------------------------------------------------------------

def _printed(*, user, kind: str, purpose: str, recipient: str, site, render, detail: dict
             ) -> bytes:
    """Check the kind's permission at ``site`` before anything is rendered, render, and record
    the bytes that will be served. Rendering is slow work: no transaction is open around it
    (the ledger entry is written in its own, after)."""
    exports.export_check(user=user, kind=kind, purpose=purpose, recipient=recipient, site=site)
    pdf = render()
    exports.export_record(user=user, kind=kind, purpose=purpose, recipient=recipient,
                          data=pdf, site=site, detail=detail)
    return pdf


def _bearer(receipt: Receipt) -> str:
    """The code of who holds the receipt (never a name: the ledger keeps no personal value)."""
    return receipt.person.short_code if receipt.person_id else receipt.group.short_code


def receipt_print(*, user, receipt: Receipt) -> bytes:
    """The signed receipt as a PDF, printed for the person who handed the items in. Only an
    issued receipt has one (an open one answers like a missing one)."""

    def render() -> bytes:
        if receipt.status != Receipt.Status.ISSUED:
            raise NotFound()
        items = list(receipt.items.order_by("id"))
        return render_pdf("custody/receipt_pdf.html", {
            "receipt": receipt, "items": items, "qr": qr_svg_data_uri(receipt.signed_payload),
            "accepted": [i for i in items if i.state != State.REFUSED],
            "refused": [i for i in items if i.state == State.REFUSED],
            "key_id": payload_verify(receipt.signed_payload)["k"],
            "public_key": keys.public_key_bytes(
                keys.signing_key(receipt.site.code).public_key()).hex()})

    return _printed(user=user, kind="custody_receipt_pdf", purpose=RECEIPT_PURPOSE,
                    recipient=_bearer(receipt), site=receipt.site, render=render,
                    detail={"receipt": receipt.short_code})


def labels_print(*, user, items: list[Item], site, receipt: Receipt | None = None) -> bytes:
    """Tag labels (tag code and QR) for ``items``: one item's, or every accepted item of a
    receipt. ``site`` is where they are printed and fixed: the receipt's gate, or where the
    single item is now."""

    def render() -> bytes:
        labels = [{"item": i, "qr": qr_svg_data_uri(i.short_code, scale=4)} for i in items]
        return render_pdf("custody/labels_pdf.html", {"labels": labels})

    detail = {"labels": len(items)}
    detail.update({"receipt": receipt.short_code} if receipt is not None
                  else {"items": [i.short_code for i in items]})
    return _printed(user=user, kind="custody_labels_pdf", purpose=LABELS_PURPOSE,
                    recipient=f"custody {site.code}", site=site, render=render, detail=detail)


def handover_print(*, user, batch: HandoverBatch) -> bytes:
    """The bilingual handover document of a batch (``selectors.handover_get`` loads it with its
    condition report), printed to be signed with the receiving state's delegation."""
    # the recipient is named by role: the delegation's names stay in the batch record and
    # its custody event, the audit stream keeps no personal value
    return _printed(user=user, kind="custody_handover_pdf", purpose=HANDOVER_PURPOSE,
                    recipient=HANDOVER_RECIPIENT, site=batch.site,
                    render=lambda: render_pdf("custody/handover_pdf.html",
                                              {"batch": batch, "lines": batch.report}),
                    detail={"batch": batch.short_code, "items": len(batch.report)})


def destruction_print(*, user, certificate: DestructionCertificate) -> bytes:
    """The destruction certificate of a destruction plan (``selectors.destruction_get``):
    the items, method, witnesses, the evidence checks done (no legal hold, allegation
    links) and the signatures, printed in the active language."""
    return _printed(user=user, kind="custody_destruction_pdf", purpose=DESTRUCTION_PURPOSE,
                    recipient=DESTRUCTION_RECIPIENT, site=certificate.site,
                    render=lambda: render_pdf("custody/destruction_pdf.html",
                                              {"certificate": certificate}),
                    detail={"plan": certificate.plan,
                            "items": [ln.item.short_code for ln in certificate.lines]})
