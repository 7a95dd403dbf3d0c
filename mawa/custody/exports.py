"""The reconciliation table as a controlled export (``core.exports`` kind
``custody_reconciliation_csv``): counts only, but counts of weapons and ammunition by site are
what an armed group would want to know, so they leave like personal data — permission,
step-up, purpose and recipient on the ledger, AES-256 zip, 15-minute single-use link."""

from __future__ import annotations

import csv
import io

from django.utils import timezone

from mawa.core import exports
from mawa.custody.selectors import reconciliation


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
