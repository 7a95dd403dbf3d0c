"""The person and group pages link what reception offers for them: ID cards and wristbands,
the ICRC withhold form (protection officers only), completeness, corrections with their prior
values, and where a merged record went."""

import io
import threading

import pytest
from django.urls import reverse

from mawa.accounts.roles import Role
from mawa.reception import views_import
from mawa.reception.models import Person, PersonRevision


@pytest.fixture
def person(register):
    p, _created = register()
    return p


def _detail(client, p):
    return client.get(reverse("reception:person_detail", args=[p.id]))


def test_the_person_page_links_cards_completeness_and_correction(client_for, users, person):
    page = _detail(client_for(users[Role.RECEPTION_OFFICER]), person).content.decode()
    assert reverse("reception:person_idcard", args=[person.id]) in page
    assert "format=wristband" in page
    assert 'data-testid="person-completeness"' in page
    assert reverse("reception:person_correct", args=[person.id]) in page
    # the ICRC withhold form is a protection decision
    assert 'data-testid="icrc-withhold"' not in page


def test_a_protection_officer_gets_the_icrc_withhold_form(client_for, users, person):
    page = _detail(client_for(users[Role.PROTECTION_OFFICER]), person).content.decode()
    assert 'data-testid="icrc-withhold"' in page
    assert reverse("reception:person_icrc_withhold", args=[person.id]) in page


def test_the_group_page_links_cards_and_completeness(client_for, users, group, person):
    page = client_for(users[Role.RECEPTION_OFFICER]).get(
        reverse("reception:group_detail", args=[group.id])).content.decode()
    assert reverse("reception:group_idcards", args=[group.id]) in page
    assert 'data-testid="group-completeness"' in page or "completeness" in page


def test_a_correction_keeps_the_prior_values_in_the_history(client_for, users, person):
    client = client_for(users[Role.RECEPTION_OFFICER])
    url = reverse("reception:person_correct", args=[person.id])
    assert client.get(url).status_code == 200
    form = {"version": person.version, "given_ar": "محمد", "given_lat": "Mohammed",
            "father_ar": "أحمد", "family_ar": "الحلبي", "family_lat": "al-Halabi",
            "birth": "1990-03-15", "service_number": "A-12345", "unit": "17th Division"}
    response = client.post(url, form)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.unit == "17th Division" and person.version == 2
    revision = PersonRevision.objects.get(person=person)
    assert revision.prior == {"unit": ""}
    page = _detail(client, person).content.decode()
    assert 'data-testid="revisions"' in page


def test_a_stale_or_bad_correction_changes_nothing(client_for, users, person):
    client = client_for(users[Role.RECEPTION_OFFICER])
    url = reverse("reception:person_correct", args=[person.id])
    bad = client.post(url, {"version": person.version, "given_ar": "Mohammed",
                            "family_ar": "الحلبي", "birth": "1990-03-15"})
    assert bad.status_code == 400 and 'data-testid="form-errors"' in bad.content.decode()
    stale = client.post(url, {"version": person.version + 5, "given_ar": "علي",
                              "family_ar": "الحلبي", "birth": "1990-03-15"})
    assert stale.status_code == 302
    person.refresh_from_db()
    assert person.given_ar == "محمد" and person.version == 1


def test_roles_that_cannot_register_cannot_correct(client_for, users, person):
    client = client_for(users[Role.PROTECTION_OFFICER])
    page = _detail(client, person).content.decode()
    assert reverse("reception:person_correct", args=[person.id]) not in page
    assert client.get(reverse("reception:person_correct", args=[person.id])).status_code in (
        403, 404)


def test_a_merged_record_says_where_it_went(client_for, users, register):
    from mawa.matching import services as matching
    from mawa.matching.models import MatchPair

    first, _c = register(service_number="")
    second, _c = register(given_ar="", given_lat="Muhammad", service_number="")
    pair = MatchPair.objects.filter(kind="duplicate").first()
    if pair is None:
        a, b = sorted((first.pk, second.pk), key=str)
        pair = MatchPair.objects.create(kind="duplicate", person_a_id=a, person_b_id=b,
                                        probability=0.9)
    matching.pair_decide(actor=users[Role.RECEPTION_OFFICER], pair=pair, decision="match",
                         reason="Same service book", survivor=first)
    page = _detail(client_for(users[Role.RECEPTION_OFFICER]), second).content.decode()
    assert 'data-testid="merged-into"' in page and first.short_code in page


CSV_GOOD = ("given_ar,given_lat,family_ar,sex,birth,service_number\n"
            "محمد,Mohammed,الحلبي,male,1990-03-15,A-1\n"
            "علي,Ali,العبيدي,m,1985,A-2\n").encode()
CSV_BAD = ("given_ar,given_lat,family_ar,sex,birth,service_number\n"
           "محمد,Mohammed,الحلبي,male,2999-03-15,A-1\n").encode()


@pytest.fixture
def synchronous_import(monkeypatch, settings, tmp_path):
    """The import page runs the import in a thread after the request; here it runs inside
    the request, on the test's database connection."""
    settings.VAR_DIR = tmp_path

    class Now:
        def __init__(self, target, args, daemon):
            self.target, self.args = target, args

        def start(self):
            user, site, result, token, meta = self.args
            views_import.imports.import_commit(user=user, site=site, result=result,
                                               progress=lambda d, t: None)
            meta.update(state="done", done=len(result.people))
            views_import._save_meta(token, meta)

    monkeypatch.setattr(threading, "Thread", Now)


def _upload(client, data):
    response = client.post(reverse("reception:import_upload"),
                           {"file": io.BytesIO(data)}, format="multipart")
    assert response.status_code == 302
    return response["Location"].rstrip("/").rsplit("/", 1)[-1]


def test_the_import_pages_preview_import_and_show_progress(client_for, users, synchronous_import):
    client = client_for(users[Role.RECEPTION_OFFICER])
    token = _upload(client, CSV_GOOD)
    preview = client.get(reverse("reception:import_preview", args=[token]))
    assert preview.status_code == 200 and "Mohammed" in preview.content.decode()
    done = client.post(reverse("reception:import_preview", args=[token]), {"commit": "1"})
    assert done.status_code == 302
    assert Person.objects.count() == 2
    progress = client.get(reverse("reception:import_progress", args=[token]))
    assert progress.status_code == 200 and "100" in progress.content.decode()
    bar = client.get(reverse("reception:import_progress", args=[token]),
                     headers={"HX-Request": "true"})
    assert bar.status_code == 200


def test_a_bad_file_gets_a_report_and_nothing_is_written(client_for, users,
                                                          synchronous_import):
    client = client_for(users[Role.RECEPTION_OFFICER])
    token = _upload(client, CSV_BAD)
    client.post(reverse("reception:import_preview", args=[token]), {"commit": "1"})
    assert Person.objects.count() == 0
    report = client.get(reverse("reception:import_report", args=[token]))
    assert report.status_code == 200
    assert report.content.decode("utf-8-sig").splitlines()[1].startswith("2,birth")


def test_another_users_import_does_not_exist(client_for, users, synchronous_import):
    token = _upload(client_for(users[Role.RECEPTION_OFFICER]), CSV_GOOD)
    other = client_for(users[Role.ADMINISTRATOR])
    assert other.get(reverse("reception:import_progress", args=[token])).status_code in (
        403, 404)
