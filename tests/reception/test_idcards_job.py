"""A group's ID cards as a background job (issue 16): one PDF of every card, through the real
worker loop; "printed" audited only for cards delivered; "not yet printed" and a selection;
``mawa cards`` through the same function."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from pypdf import PdfReader

from mawa.accounts.roles import Role
from mawa.core import jobs
from mawa.core.models import Job, JobState, LedgerEntry
from mawa.reception import idcards

pytestmark = pytest.mark.django_db(transaction=True)


def prints() -> int:
    return LedgerEntry.objects.filter(kind="audit.idcard.print").count()


def work():
    jobs.jobs_work(batch=True, worker_id="test-worker")


def download(client, job) -> bytes:
    response = client.get(f"/exports/{job.result_token}/")
    assert response.status_code == 200
    return b"".join(response.streaming_content)


@pytest.fixture
def three(register):
    return [register(given_lat=name, service_number=f"S-{i}")[0]
            for i, name in enumerate(["Ali", "Omar", "Hassan"])]


def test_the_group_job_delivers_one_pdf_of_every_card_and_audits_them_then(
        three, group, officer, client):
    client.force_login(officer)
    response = client.post(f"/reception/groups/{group.id}/idcards/",
                           {"format": "card", "selection": "all"})
    job = Job.objects.get(pk=response["Location"].split("/")[2])
    assert job.state == JobState.QUEUED and job.subject == group.short_code
    assert prints() == 0  # nothing printed yet
    work()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.result_count == 3
    assert prints() == 3
    export = LedgerEntry.objects.get(kind="audit.export")
    assert '"export":"idcards_pdf"' in export.payload and '"cards":3' in export.payload
    pdf = download(client, job)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for person in three:
        assert person.short_code in text


def test_wristbands_are_one_page_each_across_chunks(register, group, officer, client,
                                                   monkeypatch):
    monkeypatch.setitem(idcards.CHUNK, "wristband", 2)  # three chunks for five bands
    people = [register(given_lat=name, service_number=f"W-{i}")[0]
              for i, name in enumerate(["Ali", "Omar", "Hassan", "Zaid", "Bakr"])]
    job = idcards.idcards_job_start(user=officer, group=group, fmt="wristband")
    work()
    job.refresh_from_db()
    assert job.state == JobState.DONE and (job.done, job.total) == (5, 5)
    client.force_login(officer)
    pages = PdfReader(io.BytesIO(download(client, job))).pages
    assert len(pages) == 5
    assert [p.short_code in pages[i].extract_text()
            for i, p in enumerate(sorted(people, key=lambda p: p.short_code))] == [True] * 5


def test_a_failed_batch_writes_no_print(three, group, officer, monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(idcards, "render_pdf_chunked", broken)
    job = idcards.idcards_job_start(user=officer, group=group)
    work()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error == jobs.ERROR_GENERIC
    assert prints() == 0 and not LedgerEntry.objects.filter(kind="audit.export").exists()


def test_not_yet_printed_and_a_selection(three, group, officer):
    first = idcards.idcards_job_start(user=officer, group=group, selection="selected",
                                      person_ids=[three[0].pk])
    work()
    first.refresh_from_db()
    assert first.result_count == 1
    rest = idcards.idcards_job_start(user=officer, group=group, selection="unprinted")
    work()
    rest.refresh_from_db()
    assert rest.state == JobState.DONE and rest.result_count == 2
    # the wristbands were never printed: all three are still to do in that format
    assert len(idcards.idcards_select(user=officer, group=group, fmt="wristband",
                                      selection="unprinted")) == 3
    again = idcards.idcards_job_start(user=officer, group=group, selection="unprinted")
    work()
    again.refresh_from_db()
    assert again.state == JobState.FAILED
    assert again.error == "There is no card to print in this selection."
    assert prints() == 3


def test_who_may_not_print_cannot_start_the_job(three, group, users):
    from mawa.core.errors import Forbidden, NotFound

    for who in (users[Role.CUSTODY_OFFICER], users["outsider"]):
        with pytest.raises((Forbidden, NotFound)):
            idcards.idcards_job_start(user=who, group=group)
    assert not Job.objects.exists()


def test_mawa_cards_writes_the_same_pdf_and_audits_it(three, group, officer, tmp_path):
    out = tmp_path / "cards.pdf"
    call_command("cards", "--group", group.short_code.lower(), "--output", str(out),
                 "--user", officer.username)
    reader = PdfReader(str(out))
    assert "".join(p.extract_text() for p in reader.pages).count("RHM-") >= 3
    assert prints() == 3
    with pytest.raises(CommandError) as exc:  # never overwrites
        call_command("cards", "--group", group.short_code, "--output", str(out))
    assert exc.value.returncode == 1 or "exists" in str(exc.value)
    with pytest.raises(CommandError) as exc:
        call_command("cards", "--group", "NOPE-1", "--output", str(tmp_path / "x.pdf"))
    assert exc.value.returncode == 2
    # without --user: the operator as the system, wristbands
    call_command("cards", "--group", group.short_code, "--output", str(tmp_path / "w.pdf"),
                 "--kind", "wristband")
    assert len(PdfReader(str(tmp_path / "w.pdf")).pages) == 3
    assert prints() == 6


@pytest.mark.parametrize("n,pages", [(idcards.CARDS_PER_PAGE, 1),
                                     (idcards.CARDS_PER_PAGE + 1, 2)])
def test_a_chunk_fills_whole_sheets(n, pages, sites):
    """``CARDS_PER_PAGE`` is what the sheet template lays on a page: chunks of whole sheets
    leave no half-empty sheet in the middle of a batch."""
    from mawa.reception.models import ArrivalGroup, Person

    group = ArrivalGroup(short_code="RHM-G0001-X")
    cards = []
    for i in range(n):
        person = Person(given_ar="محمد", given_lat="Mohammed", family_ar="الحلبي", sex="male",
                        birth_year=1990, current_site=sites["RHM"], group=group)
        person.short_code = f"RHM-{i + 1:05d}-K"
        cards.append({"person": person, "qr": idcards.qr_data_uri(person.short_code),
                      "photo": ""})
    pdf = idcards.idcards_render(cards, fmt="card")
    assert len(PdfReader(io.BytesIO(pdf)).pages) == pages
    assert idcards.CHUNK["card"] % idcards.CARDS_PER_PAGE == 0
