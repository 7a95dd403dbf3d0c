"""Writes of core records."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from mawa.core.ids import short_code_make
from mawa.core.models import ShortCodeCounter, Site


def short_code_next(*, site: Site) -> str:
    """Reserve the next short code of ``site`` (e.g. ``RHM-00042-K``).

    Call inside the transaction that creates the record: the counter row is locked until it
    commits, so two registrations never get the same number, and a rolled-back one gives its
    number back.
    """
    with transaction.atomic():
        ShortCodeCounter.objects.bulk_create([ShortCodeCounter(site=site, last_number=0)],
                                             ignore_conflicts=True)
        ShortCodeCounter.objects.filter(site=site).update(last_number=F("last_number") + 1)
        number = ShortCodeCounter.objects.select_for_update().get(site=site).last_number
    return short_code_make(site.code, number)
