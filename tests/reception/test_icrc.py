"""ICRC notification: who appears, who is withheld and why, who may decide, and the audit."""

import pytest

from mawa.accounts.roles import Role
from mawa.core.errors import Forbidden, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.reception import icrc, services
from mawa.reception.models import Status
from mawa.reception.services import persons_transition


@pytest.fixture
def interned(register, users, sites):
    people = [register()[0], register(given_ar="علي", given_lat="Ali", service_number="B-2")[0]]
    officer = users[Role.RECEPTION_OFFICER]
    persons_transition(actor=officer, persons=people, to=Status.DISARMED)
    persons_transition(actor=officer, persons=people, to=Status.REGISTERED)
    persons_transition(actor=officer, persons=people, to=Status.INTERNED,
                       details={"camp": sites["NUR"]})
    return people


def test_interned_persons_are_notified_with_what_the_family_needs(interned, users):
    rows, withheld = icrc.icrc_notification_rows(user=users[Role.PROTECTION_OFFICER])
    assert {r["short_code"] for r in rows} == {p.short_code for p in interned}
    assert withheld == 0
    assert rows[0]["father_ar"] and rows[0]["interned_on"] and rows[0]["held_at"]
    assert LedgerEntry.objects.filter(kind="audit.export").exists()


def test_a_withheld_person_is_left_out_with_a_recorded_reason(interned, users):
    officer = users[Role.PROTECTION_OFFICER]
    icrc.person_icrc_withhold(actor=officer, person=interned[0], withheld=True,
                              reason="Family at risk of reprisals")
    rows, withheld = icrc.icrc_notification_rows(user=officer)
    assert [r["short_code"] for r in rows] == [interned[1].short_code]
    assert withheld == 1
    entry = LedgerEntry.objects.filter(stream=f"person/{interned[0].id}",
                                       kind="person.icrc_withheld").get()
    assert "reprisals" not in entry.payload  # the reason stays in the register


def test_withholding_needs_a_reason(interned, users):
    with pytest.raises(ValidationFailed):
        icrc.person_icrc_withhold(actor=users[Role.PROTECTION_OFFICER], person=interned[0],
                                  withheld=True, reason=" ")


@pytest.mark.parametrize("role", [Role.RECEPTION_OFFICER, Role.CAMP_MANAGER, "outsider"])
def test_only_protection_may_withhold_or_notify(interned, users, role):
    with pytest.raises((Forbidden, NotFound)):
        icrc.person_icrc_withhold(actor=users[role], person=interned[0], withheld=True,
                                  reason="x")
    with pytest.raises((Forbidden, NotFound)):
        icrc.icrc_notification_rows(user=users[role])


@pytest.mark.django_db(transaction=True)
def test_the_csv_and_pdf_are_served_to_protection(interned, users, client_for):
    import io
    import time

    import pyzipper

    from mawa.core import jobs

    client = client_for(users[Role.PROTECTION_OFFICER])
    session = client.session
    session["auth_at"] = time.time()  # step-up done
    session.save()

    def fetch(fmt):
        page = client.post(f"/reception/icrc/notification.{fmt}",
                           {"purpose": "notification", "recipient": "ICRC delegation"})
        assert page.status_code == 200  # the job started; the passphrase is shown now
        jobs.jobs_work(batch=True, worker_id="test-worker")  # the worker writes the file
        link = client.get(f"/jobs/{page.context['job'].pk}/").context["link"]
        data = b"".join(client.get(link).streaming_content)
        with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
            archive.setpassword(page.context["passphrase"].encode())
            return archive.read(archive.namelist()[0])

    text = fetch("csv").decode("utf-8-sig")
    assert interned[0].short_code in text and "محمد" in text
    assert fetch("pdf").startswith(b"%PDF")


def test_csv_cells_cannot_become_formulas():
    assert icrc._safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert icrc._safe_cell("+963 944 000 000") == "+963 944 000 000"


def _export(user, **kw):
    return icrc.icrc_notification_export(user=user, fmt="csv", purpose="GC III art. 122",
                                         recipient="ICRC Central Tracing Agency", **kw)


def _codes_on_next_list(user):
    rows, _withheld = icrc.icrc_notification_rows(user=user)
    return {r["short_code"]: r["change"] for r in rows}


def test_each_list_sent_is_recorded_and_the_next_holds_the_changes(interned, users, register,
                                                                    sites):
    """Issue 15: notifications follow the people (GC III arts. 122–123)."""
    protection = users[Role.PROTECTION_OFFICER]
    officer = users[Role.RECEPTION_OFFICER]
    _export(protection)
    last = icrc.icrc_last_list()
    assert last["recipient"] == "ICRC Central Tracing Agency"
    assert set(last["notified"]) == {str(p.pk) for p in interned}
    assert _codes_on_next_list(protection) == {}  # nothing changed since
    services.person_transition(actor=protection, person=interned[0], to=Status.HOSPITALISED,
                               details={"facility": "Central hospital"})
    new = register(given_ar="سامر", given_lat="Samer", service_number="C-3")[0]
    persons_transition(actor=officer, persons=[new], to=Status.DISARMED)
    persons_transition(actor=officer, persons=[new], to=Status.REGISTERED)
    persons_transition(actor=officer, persons=[new], to=Status.INTERNED,
                       details={"camp": sites["NUR"]})
    changes = _codes_on_next_list(protection)
    assert set(changes) == {interned[0].short_code, new.short_code}
    _export(protection)
    services.person_transition(actor=protection, person=interned[1], to=Status.RELEASED,
                               details={"decision": "Order 7"})
    assert set(_codes_on_next_list(protection)) == {interned[1].short_code}


def test_a_withheld_person_appears_once_the_withholding_is_lifted(interned, users):
    protection = users[Role.PROTECTION_OFFICER]
    icrc.person_icrc_withhold(actor=protection, person=interned[0], withheld=True,
                              reason="Family at risk of reprisals")
    _export(protection)
    assert _codes_on_next_list(protection) == {}
    icrc.person_icrc_withhold(actor=protection, person=interned[0], withheld=False)
    assert set(_codes_on_next_list(protection)) == {interned[0].short_code}
