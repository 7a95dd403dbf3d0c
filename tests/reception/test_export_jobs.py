"""The ICRC notification and the register export as background jobs (issue 16): the
passphrase is shown once on the page that starts the job, handed to the job sealed and wiped
from the Job row once the file is written; the real worker loop writes the encrypted file;
progress, cancel between batches, a translated failure, owner-only download, the ledger."""

from __future__ import annotations

import io
import json
import time

import pytest
import pyzipper
from django.utils import translation

from mawa.accounts.roles import Role
from mawa.core import export_jobs, exports, jobs
from mawa.core.errors import ValidationFailed
from mawa.core.models import Job, JobState, LedgerEntry
from mawa.reception import exports as reception_exports
from mawa.reception import icrc
from mawa.reception.models import Status
from mawa.reception.services import persons_transition

pytestmark = pytest.mark.django_db(transaction=True)

ASKED = {"purpose": "GC III art. 122", "recipient": "ICRC Central Tracing Agency"}


def work():
    jobs.jobs_work(batch=True, worker_id="test-worker")


def stepped_up(client_for, user):
    client = client_for(user)
    session = client.session
    session["auth_at"] = time.time()  # step-up done
    session.save()
    return client


def opened(data: bytes, passphrase: str) -> bytes:
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(passphrase.encode())
        return archive.read(archive.namelist()[0])


def row_text(job: Job) -> str:
    """Everything the Job row holds, as text."""
    values = Job.objects.filter(pk=job.pk).values().get()
    return json.dumps(values, default=str)


def left_files() -> list[str]:
    return sorted(p.name for p in exports.export_dir().iterdir())


@pytest.fixture
def interned(register, users, sites):
    people = [register()[0], register(given_ar="علي", given_lat="Ali", service_number="B-2")[0]]
    officer = users[Role.RECEPTION_OFFICER]
    persons_transition(actor=officer, persons=people, to=Status.DISARMED)
    persons_transition(actor=officer, persons=people, to=Status.REGISTERED)
    persons_transition(actor=officer, persons=people, to=Status.INTERNED,
                       details={"camp": sites["NUR"]})
    return people


PAGES = {"icrc_csv": ("/reception/icrc/notification.csv", icrc.ICRC_JOB_KIND),
         "icrc_pdf": ("/reception/icrc/notification.pdf", icrc.ICRC_JOB_KIND),
         "persons_csv": ("/reception/persons/export/", reception_exports.JOB_KIND)}


@pytest.mark.parametrize("export", list(PAGES))
def test_the_page_starts_a_job_whose_file_opens_with_the_passphrase_shown_once(
        export, interned, users, client_for, make_user, sites):
    path, kind = PAGES[export]
    protection = users[Role.PROTECTION_OFFICER]
    client = stepped_up(client_for, protection)
    page = client.post(path, ASKED)
    assert page.status_code == 200
    passphrase = page.context["passphrase"]
    assert passphrase.encode() in page.content  # shown once, here
    job = Job.objects.get(pk=page.context["job"].pk)
    assert job.kind == kind and job.state == JobState.QUEUED and job.owner == protection
    assert passphrase not in row_text(job)  # sealed, never readable
    assert job.params[export_jobs.SEALED] and job.params["purpose"] == ASKED["purpose"]
    assert not LedgerEntry.objects.filter(kind="audit.export",
                                          payload__contains=f'"export":"{export}"').exists()

    work()

    job.refresh_from_db()
    assert job.state == JobState.DONE and job.total and job.done == job.total
    assert export_jobs.SEALED not in job.params and passphrase not in row_text(job)
    assert "passphrase" not in job.params and passphrase.encode() not in \
        client.get(f"/jobs/{job.pk}/").content  # the job's page never shows it again
    entry = LedgerEntry.objects.get(kind="audit.export", payload__contains=f'"export":"{export}"')
    assert ASKED["purpose"] in entry.payload and ASKED["recipient"] in entry.payload
    assert str(job.pk) in entry.payload and passphrase not in entry.payload
    assert "محمد" not in entry.payload and interned[0].short_code not in entry.payload

    # someone else sees neither the job nor its file
    other = client_for(make_user("other-protection", Role.PROTECTION_OFFICER, [sites["RHM"]]))
    assert other.get(f"/jobs/{job.pk}/").status_code == 404
    assert other.get(f"/jobs/{job.pk}/progress/").status_code == 404
    assert other.get(f"/exports/{job.result_token}/").status_code == 404
    assert jobs.job_result_available(job)  # still there for its owner

    client = client_for(protection)
    progress = client.get(f"/jobs/{job.pk}/progress/")
    link = progress.context["link"]
    assert link
    data = b"".join(client.get(link).streaming_content)
    content = opened(data, passphrase)
    if export == "icrc_pdf":
        assert content.startswith(b"%PDF")
    else:
        text = content.decode("utf-8-sig")
        assert interned[0].short_code in text and interned[1].short_code in text
    with pytest.raises(RuntimeError):
        opened(data, exports.passphrase_new())  # no other passphrase opens it
    assert client.get(link).status_code == 404  # once


def test_the_icrc_job_records_the_list_sent_in_the_delivery(interned, users):
    protection = users[Role.PROTECTION_OFFICER]
    job, _passphrase = icrc.icrc_notification_job_start(user=protection, fmt="csv", **ASKED)
    assert icrc.icrc_last_list() == {}  # nothing sent before the file exists
    work()
    last = icrc.icrc_last_list()
    assert last["recipient"] == ASKED["recipient"]
    assert set(last["notified"]) == {str(p.pk) for p in interned}
    job.refresh_from_db()
    assert job.result_count == 2


def test_the_long_pdf_is_rendered_in_chunks_with_progress_and_every_person(
        interned, register, users, sites, monkeypatch):
    from pypdf import PdfReader

    monkeypatch.setattr(icrc, "ICRC_PDF_CHUNK", 1)
    protection = users[Role.PROTECTION_OFFICER]
    job, passphrase = icrc.icrc_notification_job_start(user=protection, fmt="pdf", **ASKED)
    seen = []
    original = jobs._Progress.__call__

    def spy(self, done, total):
        seen.append((done, total))
        original(self, done, total)

    monkeypatch.setattr(jobs._Progress, "__call__", spy)
    work()
    job.refresh_from_db()
    assert job.state == JobState.DONE
    assert seen == [(0, 2), (1, 2), (2, 2)]
    claimed = exports.export_claim(user=protection, token=job.result_token)
    pdf = PdfReader(io.BytesIO(opened(claimed.path.read_bytes(), passphrase)))
    text = "".join(page.extract_text() for page in pdf.pages)
    for person in interned:
        assert person.short_code in text


def test_cancel_stops_the_register_export_between_batches_and_leaves_nothing(
        register, users, monkeypatch):
    for i, name in enumerate(["Ali", "Omar", "Hassan"]):
        register(given_lat=name, service_number=f"X-{i}")
    monkeypatch.setattr(reception_exports, "CHUNK", 1)
    protection = users[Role.PROTECTION_OFFICER]
    job, passphrase = reception_exports.persons_export_job_start(user=protection, **ASKED)
    assert job.total == 3
    original = jobs._Progress.__call__

    def click_cancel_after_the_first_batch(self, done, total):
        if done == 1:
            jobs.job_cancel(user=protection, job_id=job.pk)
        original(self, done, total)

    monkeypatch.setattr(jobs._Progress, "__call__", click_cancel_after_the_first_batch)
    before = left_files()
    work()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and not job.result_token
    assert left_files() == before  # no partial file, no file
    assert not LedgerEntry.objects.filter(kind="audit.export",
                                          payload__contains='"export":"persons_csv"').exists()
    assert export_jobs.SEALED not in job.params and passphrase not in row_text(job)


def test_a_failed_export_job_says_why_in_the_users_language_and_delivers_nothing(
        interned, users, client_for, monkeypatch):
    from django.utils.translation import gettext_lazy as _

    def refused(**kwargs):
        raise ValidationFailed(_("Check the highlighted fields."))

    monkeypatch.setattr(icrc, "icrc_notification_rows", refused)
    protection = users[Role.PROTECTION_OFFICER]
    with translation.override("ar"):
        job, passphrase = icrc.icrc_notification_job_start(user=protection, fmt="csv", **ASKED)
    before = left_files()
    work()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error == "Check the highlighted fields."
    assert left_files() == before and not job.result_token
    assert export_jobs.SEALED not in job.params
    client = client_for(protection)
    with translation.override("ar"):
        expected = str(_("Check the highlighted fields."))
    assert expected != job.error
    page = client.get(f"/jobs/{job.pk}/", HTTP_ACCEPT_LANGUAGE="ar")
    assert expected in page.content.decode()
    assert icrc.icrc_last_list() == {}  # no list recorded as sent


@pytest.mark.parametrize("start", ["icrc", "persons"])
def test_starting_an_export_job_checks_permission_purpose_and_recipient(start, users):
    def go(user, **asked):
        if start == "icrc":
            return icrc.icrc_notification_job_start(user=user, fmt="csv", **asked)
        return reception_exports.persons_export_job_start(user=user, **asked)

    from mawa.core.errors import Forbidden, NotFound

    with pytest.raises((Forbidden, NotFound)):
        go(users[Role.CAMP_MANAGER], **ASKED)
    with pytest.raises(ValidationFailed):
        go(users[Role.PROTECTION_OFFICER], purpose=" ", recipient="x")
    with pytest.raises(ValidationFailed):
        go(users[Role.PROTECTION_OFFICER], purpose="x", recipient="")
    assert not Job.objects.exists()


def test_a_sealed_passphrase_does_not_open_for_another_job(interned, users):
    protection = users[Role.PROTECTION_OFFICER]
    one, _p1 = icrc.icrc_notification_job_start(user=protection, fmt="csv", **ASKED)
    two, _p2 = icrc.icrc_notification_job_start(user=protection, fmt="csv", **ASKED)
    from mawa.core.crypto import DecryptionFailed

    with pytest.raises(DecryptionFailed):
        exports.passphrase_unseal(one.params[export_jobs.SEALED],
                                  context=export_jobs._context(two.pk))
