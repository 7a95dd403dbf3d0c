"""``mawa sitrep``: PDF on the command line, and the stored daily reports."""

import datetime as dt
import hashlib

import pytest
from django.core.management import CommandError, call_command

from mawa.accounts.roles import Role
from mawa.reports.models import StoredReport
from tests.reports.conftest import DAY1
from tests.reports.test_stored import stored_pdf


@pytest.fixture(autouse=True)
def _var(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def test_sitrep_pdf_from_the_command_line(register, tmp_path):
    out = tmp_path / "r.pdf"
    call_command("sitrep", "--date", DAY1.isoformat(), "--site", "NUR", "--pdf", str(out),
                 "--language", "en")
    assert out.read_bytes().startswith(b"%PDF")


def test_an_unknown_site_is_refused(register):
    with pytest.raises(CommandError):
        call_command("sitrep", "--date", DAY1.isoformat(), "--site", "QQQ")


def test_store_yesterday_and_list_it_by_scope(register, users, client_for, time_machine):
    time_machine.move_to(dt.datetime(2025, 3, 3, 6, tzinfo=dt.UTC))
    call_command("sitrep", "--yesterday", "--store", "--language", "en")
    stored = StoredReport.objects.all()
    assert {(r.site.code if r.site else "ALL") for r in stored} == {"ALL", "RHM", "NUR", "ZZZ",
                                                                    "HQ"}
    assert {r.day for r in stored} == {dt.date(2025, 3, 2)}
    call_command("sitrep", "--yesterday", "--store", "--language", "en")  # idempotent
    assert StoredReport.objects.count() == 5

    manager = client_for(users[Role.CAMP_MANAGER])
    listed = manager.get("/reports/stored/").content.decode()
    zzz = StoredReport.objects.get(site__code="ZZZ")
    nur = StoredReport.objects.get(site__code="NUR")
    everything = StoredReport.objects.get(site=None)
    assert f"/reports/stored/{nur.pk}/" in listed
    assert f"/reports/stored/{zzz.pk}/" not in listed
    assert f"/reports/stored/{everything.pk}/" not in listed
    assert manager.get(f"/reports/stored/{zzz.pk}/").status_code == 404
    assert manager.get(f"/reports/stored/{everything.pk}/").status_code == 404
    # the download is a controlled export (tests/reports/test_stored.py): the file that
    # leaves, once decrypted, is the one the timer stored
    pdf = stored_pdf(manager, nur)
    assert pdf.startswith(b"%PDF") and hashlib.sha256(pdf).hexdigest() == nur.sha256
    auditor = client_for(users[Role.AUDITOR])
    assert stored_pdf(auditor, everything).startswith(b"%PDF")
