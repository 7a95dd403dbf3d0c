"""The services' clock, which a replay may set.

Every service reads the time through ``django.utils.timezone.now()`` (as Django's
``auto_now`` fields and ``timezone.localdate()`` do, and the ledger's ``ledger_now``). The demo
and the scenario test replay an operation day by day *through the services*: inside
``clock_set(moment)`` that call answers the replay's time instead of the wall clock, so an
arrival, a surrender, a roll call or a ledger entry recorded "on day 3" carries day 3's time,
exactly as if the officer had recorded it then. Nothing is written behind the services' back.

    with clock_set(first_morning) as clock:
        ...                                # everything recorded at first_morning
        clock.set(first_morning + dt.timedelta(hours=2))
        ...                                # and now two hours later

Only for replays run by one process (the demo loader, tests); never inside a request.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.utils import timezone

_lock = threading.Lock()


class ReplayClock:
    """The time a replay is at; ``now()`` answers it (aware, UTC)."""

    def __init__(self, moment: dt.datetime) -> None:
        self.moment = moment

    def set(self, moment: dt.datetime) -> None:
        if timezone.is_naive(moment):
            raise ValueError("the replay clock takes aware datetimes")
        self.moment = moment.astimezone(dt.UTC)

    def advance(self, delta: dt.timedelta) -> None:
        self.moment = self.moment + delta

    def now(self) -> dt.datetime:
        return self.moment


@contextmanager
def clock_set(moment: dt.datetime) -> Iterator[ReplayClock]:
    """Run the block with ``timezone.now()`` answering the replay clock, starting at
    ``moment``; the wall clock is back when the block ends (even on an error). Not nested."""
    if not _lock.acquire(blocking=False):
        raise RuntimeError("a replay clock is already set")
    clock = ReplayClock(moment)
    clock.set(moment)
    real = timezone.now
    timezone.now = clock.now
    try:
        yield clock
    finally:
        timezone.now = real
        _lock.release()
