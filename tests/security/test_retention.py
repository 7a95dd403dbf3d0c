"""Retention purge (protection.md R7, attack test 20): clock travel, really gone, legal holds
spared, a content-free ledger entry."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.utils import timezone

from mawa.core import exports
from mawa.core.models import LedgerEntry
from mawa.protection.retention import purge_run
from mawa.reception.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def released(users, sites, name, *, years_ago: float):
    from mawa.reception.services import PersonInput, person_register

    person = person_register(
        actor=users["reception_officer"], site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": name, "sex": "male",
                                 "family_contact_name": "أم " + name,
                                 "family_contact_phone": "+963 944 111 222"}, birth="1990"))[0]
    Person.objects.filter(pk=person.pk).update(
        status="released",
        status_changed_at=timezone.now() - dt.timedelta(days=365 * years_ago))
    return person


def test_expired_fields_are_blanked_and_fresh_ones_kept(users, sites):
    old = released(users, sites, "قديم", years_ago=2)
    recent = released(users, sites, "حديث", years_ago=0.5)
    counts = purge_run()
    assert counts["fields"]["until_notified"] == 1
    old.refresh_from_db()
    recent.refresh_from_db()
    assert old.family_contact_name == "" and old.family_contact_phone == ""
    assert recent.family_contact_name == "أم حديث"


def test_purged_values_are_gone_from_the_database(users, sites):
    from django.db import connection

    released(users, sites, "زائل", years_ago=3)
    purge_run()
    with connection.cursor() as cur:
        cur.execute("SELECT COUNT(*) FROM reception_person WHERE family_contact_phone LIKE %s",
                    ["%944 111 222%"])
        assert cur.fetchone()[0] == 0


def test_a_legal_hold_spares_the_person(users, sites, monkeypatch):
    person = released(users, sites, "محجوز", years_ago=3)
    from mawa.protection import retention

    class Held:
        @staticmethod
        def filter(**kw):
            class Q:
                @staticmethod
                def values(*a):
                    return Person.objects.filter(pk=person.pk).values("id")
            return Q
    monkeypatch.setattr("mawa.custody.models.LegalHold.objects", Held)
    retention.purge_run()
    person.refresh_from_db()
    assert person.family_contact_name == "أم محجوز"


def test_the_run_is_on_the_ledger_without_content(users, sites):
    person = released(users, sites, "مسجل", years_ago=2)
    purge_run()
    entry = LedgerEntry.objects.filter(kind="retention.purged").last()
    assert entry is not None
    assert "مسجل" not in entry.payload and str(person.id) not in entry.payload
    assert person.id.hex not in entry.payload


def test_a_second_run_purges_nothing_more(users, sites):
    released(users, sites, "مرة", years_ago=2)
    purge_run()
    assert purge_run()["fields"]["until_notified"] == 0


def test_expired_exports_and_temp_files_are_deleted(users, settings):
    import os
    import time

    ready = exports.export_create(user=users["protection_officer"], kind="persons_csv",
                                  purpose="p", recipient="r", write=lambda fh: fh.write(b"x"))
    tmp = settings.VAR_DIR / "tmp"
    tmp.mkdir()
    stale = tmp / "upload-123.csv"
    stale.write_text("names")
    os.utime(stale, (time.time() - 2 * 86400,) * 2)
    counts = purge_run(now=timezone.now() + dt.timedelta(minutes=16))
    assert counts["files"]["exports"] == 1 and counts["files"]["temp_files"] == 1
    assert not (exports.export_dir() / f"{ready.export_id}.zip").exists()
    assert not stale.exists()


def test_the_command_runs(users, sites, capsys):
    from django.core.management import call_command

    call_command("purge")
    assert "purged" in capsys.readouterr().out
