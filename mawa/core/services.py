"""Writes of core records."""

from __future__ import annotations

from django.db import transaction
from django.db.models import F

from mawa.core.ids import short_code_make
from mawa.core.models import ShortCodeCounter, Site


def short_codes_reserve(*, site: Site, count: int) -> list[str]:
    """Reserve the next ``count`` consecutive short codes of ``site`` (e.g. ``RHM-00042-K``).

    Call inside the transaction that creates the records: the counter row is locked until it
    commits, so two registrations never get the same number, and a rolled-back one gives its
    numbers back. Three statements whatever ``count``.
    """
    if count <= 0:
        return []
    with transaction.atomic():
        ShortCodeCounter.objects.bulk_create([ShortCodeCounter(site=site, last_number=0)],
                                             ignore_conflicts=True)
        ShortCodeCounter.objects.filter(site=site).update(last_number=F("last_number") + count)
        last = ShortCodeCounter.objects.select_for_update().get(site=site).last_number
    return [short_code_make(site.code, n) for n in range(last - count + 1, last + 1)]


def short_code_next(*, site: Site) -> str:
    """Reserve the next short code of ``site``: ``short_codes_reserve`` of one."""
    return short_codes_reserve(site=site, count=1)[0]


def short_code_adopt(*, site: Site, code: str) -> str:
    """Take ``code``, minted for ``site`` on another node (a change replayed here), and move
    the site's counter past its number so that this node never mints it again (a standby
    promoted to post goes on after the last code it received). Returns ``code``."""
    number = int(code.split("-")[1])
    with transaction.atomic():
        ShortCodeCounter.objects.bulk_create([ShortCodeCounter(site=site, last_number=0)],
                                             ignore_conflicts=True)
        ShortCodeCounter.objects.filter(site=site, last_number__lt=number).update(
            last_number=number)
    return code
