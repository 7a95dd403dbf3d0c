"""The services' replay clock (core.clock): inside ``clock_set`` the services' time, and the
ledger's, is the replay's moment; outside it, the wall clock."""

import datetime as dt

import pytest
from django.utils import timezone

from mawa.core.clock import clock_set
from mawa.core.ledger import ledger_now

MOMENT = dt.datetime(2026, 11, 20, 6, 30, tzinfo=dt.UTC)


def test_inside_the_block_the_services_time_is_the_replays_and_moves_when_set():
    with clock_set(MOMENT) as clock:
        assert timezone.now() == MOMENT
        assert timezone.localdate() == MOMENT.date()
        assert ledger_now() == "2026-11-20T06:30:00.000000Z"
        clock.advance(dt.timedelta(hours=2))
        assert timezone.now() == MOMENT + dt.timedelta(hours=2)
        clock.set(MOMENT + dt.timedelta(days=1))
        assert timezone.localdate() == dt.date(2026, 11, 21)
    assert timezone.now() - dt.datetime.now(dt.UTC) < dt.timedelta(minutes=1)


def test_the_wall_clock_is_back_after_an_error_and_clocks_do_not_nest():
    with pytest.raises(RuntimeError), clock_set(MOMENT), clock_set(MOMENT):
        pass
    with pytest.raises(ZeroDivisionError), clock_set(MOMENT):
        1 / 0  # noqa: B018
    assert timezone.now().year >= 2026 and timezone.now() != MOMENT
    with pytest.raises(ValueError), clock_set(dt.datetime(2026, 1, 1)):
        pass
