"""Issue 21, point 4: the registration page as an officer at a queue needs it — hints that do
not look like values, the duplicate panel part by part with the officer's decision recorded to
the review queue, the photo shown, the sensitive section reachable after registration."""

import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from mawa.accounts.roles import Role
from mawa.core.errors import ValidationFailed
from mawa.matching.models import MatchPair
from mawa.reception import services
from mawa.reception.compare import compare_parts
from mawa.reception.models import Person
from mawa.reception.services import PersonInput

pytestmark = pytest.mark.django_db


def _form_key(html: str) -> str:
    return re.search(r'name="client_key" value="([^"]+)"', html).group(1)


def _khalil(register):
    person, _ = register(given_ar="محمد", given_lat="Mohammed", father_ar="أحمد",
                         grandfather_ar="خليل", family_ar="الحلبي", family_lat="al-Halabi",
                         service_number="A-12345")
    return person


def test_placeholders_are_hints_not_values(officer_client):
    html = officer_client.get(reverse("reception:person_register")).content.decode()
    assert 'placeholder="1990-03-15"' not in html and 'placeholder="SY"' not in html
    birth = re.search(r'<input[^>]*id="id_birth"[^>]*>', html).group(0)
    assert "hint-placeholder" in birth and 'placeholder="سنة-شهر-يوم"' in birth


def test_comparison_marks_the_grandfather_that_differs(register):
    person = _khalil(register)
    rows = {r.part: r for r in compare_parts(
        {"given_lat": "Mohamad", "father_ar": "احمد", "grandfather_ar": "بلال",
         "family_ar": "الحلبي"}, person)}
    assert rows["given"].state == "same"  # across scripts
    assert rows["father"].state == "same"
    assert rows["grandfather"].state == "differs"
    assert (rows["grandfather"].typed_ar, rows["grandfather"].record_ar) == ("بلال", "خليل")
    assert "mother_given" not in rows  # neither side has it


def test_panel_shows_both_records_part_by_part(officer_client, register):
    person = _khalil(register)
    html = officer_client.post(reverse("reception:person_matches"), {
        "given_ar": "محمد", "father_ar": "أحمد", "grandfather_ar": "بلال",
        "family_ar": "الحلبي", "service_number": "A-12345"}).content.decode()
    assert person.short_code in html
    row = re.search(r'<tr class="dup-differs" data-part="grandfather".*?</tr>', html, re.S)
    assert row and "بلال" in row.group(0) and "خليل" in row.group(0)
    # Arabic and Latin in their own elements, never run together
    assert '<div dir="rtl" lang="ar">محمد</div><div dir="ltr" lang="en">Mohammed</div>' in html
    assert f'name="decide_{person.pk}"' in html and 'value="not_match"' in html


def test_panel_keeps_the_decision_while_typing_goes_on(officer_client, register):
    person = _khalil(register)
    html = officer_client.post(reverse("reception:person_matches"), {
        "given_ar": "محمد", "family_ar": "الحلبي", f"decide_{person.pk}": "unsure"}
    ).content.decode()
    assert re.search(rf'name="decide_{person.pk}"[^>]*value="unsure"[^>]*checked', html)


def _post_registration(client, group, **extra):
    url = reverse("reception:person_register") + f"?group={group.id}"
    page = client.get(url)
    data = {"client_key": _form_key(page.content.decode()), "group": str(group.id),
            "given_ar": "محمد", "father_ar": "أحمد", "grandfather_ar": "بلال",
            "family_ar": "الحلبي", "sex": "male", "category": "combatant", **extra}
    return client.post(url, data)


def test_not_him_is_decided_on_the_ledger(officer_client, register, group):
    other = _khalil(register)
    response = _post_registration(officer_client, group, **{f"decide_{other.pk}": "not_match"})
    assert response.status_code == 302
    new = Person.objects.exclude(pk=other.pk).get()
    pair = MatchPair.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {new.pk, other.pk}
    assert pair.decision == "not_match" and pair.ledger_seq


def test_unsure_leaves_the_pair_open_in_the_review_queue(officer_client, register, group):
    other = _khalil(register)
    _post_registration(officer_client, group, **{f"decide_{other.pk}": "unsure"})
    pair = MatchPair.objects.get()
    assert pair.decision == "" and other.pk in (pair.person_a_id, pair.person_b_id)


def test_same_person_joins_the_new_record_to_the_existing_one(officer_client, register,
                                                              group):
    other = _khalil(register)
    response = _post_registration(officer_client, group, **{f"decide_{other.pk}": "match"})
    assert response.url == reverse("reception:person_detail", args=[other.pk])
    pair = MatchPair.objects.get()
    assert pair.decision == "match"
    new = Person.objects.exclude(pk=other.pk).get()
    from mawa.reception.selectors import person_merged_into

    assert person_merged_into(person=new).survivor_id == other.pk


def test_unknown_decision_is_refused(register, officer):
    other = _khalil(register)
    new, _ = register(given_ar="محمد", family_ar="الحلبي", grandfather_ar="بلال")
    with pytest.raises(ValidationFailed):
        services.person_duplicates_decide(actor=officer, person=new,
                                          decisions={str(other.pk): "maybe"})


def test_a_role_without_review_cannot_decide(register, users):
    from mawa.core.errors import Forbidden

    other = _khalil(register)
    new, _ = register(given_ar="محمد", family_ar="الحلبي", grandfather_ar="بلال")
    with pytest.raises(Forbidden):
        services.person_duplicates_decide(actor=users[Role.CAMP_STAFF], person=new,
                                          decisions={str(other.pk): "not_match"})


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (30, 40), (120, 80, 40)).save(out, format="PNG")
    return out.getvalue()


def test_the_stored_photo_is_shown_on_the_person_page(officer_client, sites, officer):
    import uuid

    person, _ = services.person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "سامر", "sex": "male"},
                         photo=SimpleUploadedFile("p.png", _png())))
    html = officer_client.get(reverse("reception:person_detail", args=[person.pk])
                              ).content.decode()
    url = reverse("reception:person_photo", args=[person.pk])
    assert f'src="{url}"' in html
    photo = officer_client.get(url)
    assert photo.status_code == 200 and photo["Content-Type"].startswith("image/")
    assert Image.open(io.BytesIO(photo.content)).size == (30, 40)


def test_no_photo_answers_404_and_an_outsider_never_sees_it(client_for, users, register):
    person, _ = register()
    url = reverse("reception:person_photo", args=[person.pk])
    assert client_for(users[Role.RECEPTION_OFFICER]).get(url).status_code == 404
    assert client_for(users["outsider"]).get(url).status_code == 404


def test_sensitive_section_is_filled_in_after_registration(officer_client, register):
    person, _ = register()
    detail = officer_client.get(reverse("reception:person_detail", args=[person.pk]))
    url = reverse("reception:person_sensitive", args=[person.pk])
    assert url in detail.content.decode()
    response = officer_client.post(url, {
        "version": person.version, "family_contact_name": "فاطمة",
        "family_contact_relation": "أم", "family_contact_phone": "٠٩٩٩١٢٣",
        "vulnerabilities": ["wounded"]})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.family_contact_name == "فاطمة" and person.family_contact_phone == "0999123"
    assert person.vulnerabilities == ["wounded"]
    assert person.revisions.count() == 1  # the prior (empty) values are kept


def test_sensitive_page_is_closed_to_roles_without_it(client_for, users, register):
    person, _ = register()
    url = reverse("reception:person_sensitive", args=[person.pk])
    assert client_for(users[Role.CAMP_STAFF]).get(url).status_code in (403, 404)


def test_an_import_joins_the_arrival_group_chosen_on_the_page(client_for, users, group,
                                                               monkeypatch, settings,
                                                               tmp_path):
    """Issue 21, point 7 (one gap): the arrival group of an import is chosen on the page."""
    import threading

    from mawa.reception import views_import
    from tests.reception.test_person_page import CSV_GOOD

    settings.VAR_DIR = tmp_path

    class Now:  # the import runs inside the request, on the test's database connection
        def __init__(self, target, args, daemon):
            self.args = args

        def start(self):
            user, site, result, token, meta = self.args
            views_import.imports.import_commit(user=user, site=site, result=result,
                                               progress=lambda d, t: None)

    monkeypatch.setattr(threading, "Thread", Now)
    client = client_for(users[Role.RECEPTION_OFFICER])
    page = client.get(reverse("reception:import_upload")).content.decode()
    assert f'<option value="{group.id}"' in page and group.short_code in page
    response = client.post(reverse("reception:import_upload"),
                           {"file": io.BytesIO(CSV_GOOD), "group": str(group.id)},
                           format="multipart")
    token = response["Location"].rstrip("/").rsplit("/", 1)[-1]
    client.post(reverse("reception:import_preview", args=[token]), {"commit": "1"})
    assert Person.objects.count() == 2
    assert set(Person.objects.values_list("group_id", flat=True)) == {group.id}
