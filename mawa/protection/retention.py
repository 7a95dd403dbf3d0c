"""Retention: what is kept how long, and the purge that really deletes (protection.md R7,
attack test 20; UNHCR data-protection policy §2.7, ICRC Handbook ch. 2 "data retention").

Periods per retention label of the field registry (``reception.fieldinfo.RETENTION``), counted
from the end of internment (release, repatriation, referral to asylum, referral out):

- ``internment+1y`` and ``until_notified``: the field is blanked one year after internment
  ended (languages, family contact) — the row stays;
- ``internment+10y``: the record itself goes after ten years (not yet automated: see
  docs/security.md, open points);
- export files: 15 minutes after they were made (``core.exports``); temporary files
  (``var/tmp``): one day; uploaded import files (``var/imports``, kept between the upload,
  the preview and the import): ``settings.MAWA_IMPORT_FILE_SECONDS``, by default the longest
  session (12 hours) — ``reception.imports.uploads_purge``.

A person is spared while any item they surrendered is under an unlifted legal hold (IDDRS 6.40:
do not destroy what may be evidence). Every run leaves one ledger entry with counts only — no
names, no ids of the purged.
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from mawa.core.exports import exports_purge
from mawa.core.jobs import jobs_prune
from mawa.core.ledger import ledger_append
from mawa.custody.models import LegalHold
from mawa.reception.fieldinfo import PERSON_FIELDS
from mawa.reception.imports import uploads_purge
from mawa.reception.models import Person

RETENTION_DAYS = {"internment+1y": 365, "until_notified": 365, "internment+10y": 3652}
TEMP_SECONDS = 24 * 3600
ENDED = ("released", "repatriated", "referred_to_asylum", "referred_out")


def _blank(field):
    return [] if field.get_internal_type() == "JSONField" else ""


def persons_fields_purge(*, now: dt.datetime) -> dict[str, int]:
    """Blank the one-year fields of persons whose internment ended over a year ago."""
    counts = {}
    held = LegalHold.objects.filter(lifted_at__isnull=True, item__receipt__person__isnull=False
                                    ).values("item__receipt__person_id")
    for label, days in RETENTION_DAYS.items():
        if label == "internment+10y":
            continue
        names = [n for n, info in PERSON_FIELDS.items() if info.retention == label]
        if not names:
            continue
        fields = {n: Person._meta.get_field(n) for n in names}
        due = (Person.objects.filter(status__in=ENDED,
                                     status_changed_at__lt=now - dt.timedelta(days=days))
               .exclude(id__in=held))
        # only rows still holding something: a second run changes nothing and counts 0
        holding = Q()
        for n, f in fields.items():
            holding |= ~Q(**{n: _blank(f)})
        counts[label] = due.filter(holding).update(
            **{n: _blank(f) for n, f in fields.items()})
    return counts


def files_purge(*, now: float) -> dict[str, int]:
    removed_tmp = 0
    tmp = Path(settings.VAR_DIR) / "tmp"
    if tmp.is_dir():
        for path in tmp.rglob("*"):
            if path.is_file() and now - path.stat().st_mtime > TEMP_SECONDS:
                path.unlink(missing_ok=True)
                removed_tmp += 1
    return {"exports": exports_purge(now=now), "temp_files": removed_tmp,
            "import_files": uploads_purge(now=now)}


def purge_run(*, actor=None, now: dt.datetime | None = None) -> dict:
    """Apply the retention schedule once; returns the counts, which are also on the ledger."""
    now = now or timezone.now()
    with transaction.atomic():
        counts = {"fields": persons_fields_purge(now=now)}
        ledger_append(stream="retention", kind="retention.purged",
                      actor=actor or "system:retention", site=None,
                      payload={"counts": counts["fields"], "at": now.isoformat()})
    # files after the commit: a rolled-back purge must not have deleted anything
    counts["files"] = files_purge(now=max(time.time(), now.timestamp()))
    counts["jobs"] = jobs_prune(now=now)
    return counts
