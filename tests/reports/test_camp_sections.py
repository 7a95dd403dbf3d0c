"""Sections read from the camp app: incidents of sensitive kinds stay need-to-know."""

import datetime as dt
import uuid

from mawa.accounts.roles import Role
from mawa.reports import selectors
from tests.reports.conftest import DAY1, at


def _incident(sites, users, kind, sensitive, n):
    from mawa.camp.models import Incident

    return Incident.objects.create(
        site=sites["NUR"], short_code=f"INC{n}", client_key=uuid.uuid4(), kind=kind,
        is_sensitive=sensitive, severity="high", occurred_at=at(DAY1), summary="—",
        reported_by=users[Role.CAMP_MANAGER])


def test_sensitive_incidents_are_not_counted_for_roles_without_need_to_know(sites, users):
    _incident(sites, users, "fire", False, 1)
    _incident(sites, users, "sgbv", True, 2)
    day = DAY1 + dt.timedelta(days=1)
    manager = selectors.sitrep_incidents(selectors.sitrep_scope(
        user=users[Role.CAMP_MANAGER], day=day))
    protection = selectors.sitrep_incidents(selectors.sitrep_scope(
        user=users[Role.PROTECTION_OFFICER], day=day))
    stored = selectors.sitrep_incidents(selectors.sitrep_scope(user=None, day=day))
    assert manager["total"] == 1 and stored["total"] == 1
    assert protection["total"] == 2
    assert all("sgbv" not in str(r) for r in manager["rows"])
