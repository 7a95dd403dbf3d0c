"""The stored daily situation reports (``mawa sitrep --yesterday --store``) leave like the
report made on demand (protection.md R9, attack test 18): permission, step-up, purpose and
recipient on the ledger, AES-256 zip with a one-time passphrase, 15-minute single-use link —
and only the file the timer stored, unaltered."""

import datetime as dt
import hashlib
import io
import json
import time

import pytest
import pyzipper

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry
from mawa.reports.models import StoredReport
from mawa.reports.services import SYSTEM_ACTOR, reports_dir

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 2)


@pytest.fixture(autouse=True)
def _var(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def stepped_up(client):
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    return client


def _ready(client, report, **post):
    data = {"purpose": "weekly briefing", "recipient": "head of mission", **post}
    return stepped_up(client).post(f"/reports/stored/{report.pk}/", data)


def stored_pdf(client, report) -> bytes:
    """Download a stored report as its user does: step-up, purpose and recipient, the link,
    the passphrase."""
    response = _ready(client, report)
    assert response.status_code == 200, response.status_code
    ready = response.context["ready"]
    data = b"".join(client.get(f"/exports/{ready.token}/").streaming_content)
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(ready.passphrase.encode())
        return archive.read(archive.namelist()[0])


def _store(site, content: bytes) -> StoredReport:
    code = site.code if site else "ALL"
    name = f"sitrep-{DAY.isoformat()}-{code}-en.pdf"
    folder = reports_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(content)
    return StoredReport.objects.create(day=DAY, site=site, language="en", file_name=name,
                                       sha256=hashlib.sha256(content).hexdigest(),
                                       size=len(content), created_by=SYSTEM_ACTOR)


@pytest.fixture
def nur(sites):
    return _store(sites["NUR"], b"%PDF-1.7\nSITREP-NUR-7d1f internees 412\n%%EOF\n")


@pytest.fixture
def zzz(sites):
    return _store(sites["ZZZ"], b"%PDF-1.7\nSITREP-ZZZ\n%%EOF\n")


def _exports() -> list[dict]:
    return [json.loads(e.payload) for e in LedgerEntry.objects.filter(
        stream="audit", kind="audit.export").order_by("seq")]


def test_a_stored_report_leaves_encrypted_with_purpose_and_recipient(client_for, users, nur):
    client = client_for(users[Role.CAMP_MANAGER])
    assert client.get(f"/reports/stored/{nur.pk}/").status_code == 302  # step-up first
    form = stepped_up(client).get(f"/reports/stored/{nur.pk}/")
    assert form.status_code == 200 and b'name="purpose"' in form.content
    refused = _ready(client, nur, purpose="", recipient="")
    assert refused.status_code == 400 and _exports() == []

    ready = _ready(client, nur).context["ready"]
    zipped = b"".join(client.get(f"/exports/{ready.token}/").streaming_content)
    assert b"SITREP-NUR-7d1f" not in zipped  # unreadable without the passphrase
    with pyzipper.AESZipFile(io.BytesIO(zipped)) as archive:
        archive.setpassword(ready.passphrase.encode())
        (member,) = archive.namelist()
        assert archive.read(member) == (reports_dir() / nur.file_name).read_bytes()
    assert member == f"{DAY.isoformat()}-NUR-en-sitrep.pdf"
    assert client.get(f"/exports/{ready.token}/").status_code == 404  # single use

    (entry,) = _exports()  # the export's one record
    detail = entry["detail"]
    assert (detail["export"], detail["purpose"], detail["recipient"]) == (
        "sitrep_pdf", "weekly briefing", "head of mission")
    assert detail["sha256"] == hashlib.sha256(zipped).hexdigest()
    assert (detail["stored"], detail["stored_sha256"]) == (str(nur.pk), nur.sha256)


def test_who_may_not_see_a_report_cannot_download_it(client_for, users, nur, zzz, settings):
    reception = stepped_up(client_for(users[Role.RECEPTION_OFFICER]))
    assert reception.get(f"/reports/stored/{nur.pk}/").status_code == 403
    manager = client_for(users[Role.CAMP_MANAGER])
    # another site's report is missing, before any step-up and after it
    assert manager.get(f"/reports/stored/{zzz.pk}/").status_code == 404
    assert _ready(manager, zzz).status_code == 404
    assert _exports() == []
    assert list((settings.VAR_DIR / "exports").glob("*.zip")) == []


def test_an_altered_stored_file_is_not_sent(client_for, users, nur, settings):
    (reports_dir() / nur.file_name).write_bytes(b"%PDF-1.7\nSITREP-NUR forged\n%%EOF\n")
    client = client_for(users[Role.CAMP_MANAGER])
    client.cookies["django_language"] = "en"
    response = _ready(client, nur)
    assert response.status_code == 409 and b"SHA-256" in response.content
    assert _exports() == []
    assert list((settings.VAR_DIR / "exports").glob("*.zip")) == []


def test_a_stored_report_whose_file_is_gone_answers_404(client_for, users, nur):
    (reports_dir() / nur.file_name).unlink()
    assert _ready(client_for(users[Role.CAMP_MANAGER]), nur).status_code == 404
    assert _exports() == []
