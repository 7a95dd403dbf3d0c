"""Break-glass (protection.md R4): reason required, time-boxed, on the ledger, shown to
investigators; while it lasts ``access.permissions_of`` includes compartment *view* only."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from mawa.accountability import selectors, services
from mawa.accounts import access
from mawa.accounts.roles import Perm, Role
from mawa.core.errors import Forbidden, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry

REASON = "Investigator on leave; prosecutor's deadline for case file today"


def test_administrators_cannot_read_the_compartment_by_default(users, event):
    admin = users[Role.ADMINISTRATOR]
    assert Perm.COMPARTMENT_VIEW not in access.permissions_of(admin)
    with pytest.raises(NotFound):
        selectors.event_get(user=admin, event_id=event.id)


def test_a_reason_is_required(users):
    with pytest.raises(ValidationFailed):
        services.break_glass_open(actor=users[Role.ADMINISTRATOR], reason="because")
    assert LedgerEntry.objects.filter(kind="audit.break_glass.refused").exists()


def test_only_administrators_may_break_the_glass(users):
    for role in (Role.RECEPTION_OFFICER, Role.AUDITOR, Role.CUSTODY_OFFICER):
        with pytest.raises((Forbidden, NotFound)):
            services.break_glass_open(actor=users[role], reason=REASON)


def test_no_longer_than_three_hours(users):
    with pytest.raises(ValidationFailed):
        services.break_glass_open(actor=users[Role.ADMINISTRATOR], reason=REASON, minutes=181)


def test_a_grant_gives_read_access_until_it_expires(users, event):
    admin = users[Role.ADMINISTRATOR]
    with time_machine.travel(timezone.now(), tick=False) as clock:
        grant = services.break_glass_open(actor=admin, reason=REASON, minutes=30)
        perms = access.permissions_of(admin)
        assert Perm.COMPARTMENT_VIEW in perms
        assert Perm.COMPARTMENT_EDIT not in perms  # reading only
        assert selectors.event_get(user=admin, event_id=event.id) == event
        read = LedgerEntry.objects.filter(kind="audit.read").order_by("-id").first()
        assert "break_glass" in read.payload
        assert LedgerEntry.objects.filter(stream="break-glass", kind="break_glass.opened",
                                          payload__contains=str(grant.id)).exists()
        clock.shift(dt.timedelta(minutes=31))
        assert Perm.COMPARTMENT_VIEW not in access.permissions_of(admin)
        with pytest.raises(NotFound):
            selectors.event_get(user=admin, event_id=event.id)


def test_closing_a_grant_ends_it_at_once(users):
    admin = users[Role.ADMINISTRATOR]
    grant = services.break_glass_open(actor=admin, reason=REASON)
    services.break_glass_close(actor=admin, grant=grant)
    assert Perm.COMPARTMENT_VIEW not in access.permissions_of(admin)


def test_investigators_see_the_grants_and_their_reasons(users):
    admin = users[Role.ADMINISTRATOR]
    services.break_glass_open(actor=admin, reason=REASON)
    grants = selectors.break_glass_list(user=users[Role.INVESTIGATOR])
    assert [g.reason for g in grants] == [REASON]
    with pytest.raises(NotFound):
        selectors.break_glass_list(user=admin)


def test_the_reason_is_encrypted_at_rest(users):
    from django.db import connection

    services.break_glass_open(actor=users[Role.ADMINISTRATOR], reason=REASON)
    with connection.cursor() as cur:
        cur.execute("SELECT reason FROM accountability_breakglassgrant")
        (stored,) = cur.fetchone()
    assert REASON not in stored and stored.startswith("enc1:")
