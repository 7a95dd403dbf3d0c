"""The review queue: suggestions, decisions on the ledger, never asked twice, merges."""

import pytest

from mawa.accounts.roles import Role
from mawa.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.matching import selectors, services
from mawa.matching.models import IndexedPerson, MatchPair, PairKind, PersonMerge
from mawa.reception.models import LifecycleEvent, Person

pytestmark = pytest.mark.django_db


def _pair(homsi, homsi_again):
    return MatchPair.objects.get(kind=PairKind.DUPLICATE, person_a__in=[homsi, homsi_again],
                                 person_b__in=[homsi, homsi_again])


def test_a_second_registration_of_a_man_waits_for_review(officer, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    assert pair.probability >= services.REVIEW_THRESHOLD and not pair.decision
    assert selectors.pair_queue(user=officer) == [pair]
    assert selectors.pair_count_open(user=officer) == 1


def test_the_decision_is_on_the_ledger_with_the_change(officer, homsi, homsi_again):
    pair = selectors.pair_get(user=officer, pair_id=_pair(homsi, homsi_again).pk)
    decided = services.pair_decide(actor=officer, pair=pair, decision="not_match",
                                   reason="Different mothers")
    entry = LedgerEntry.objects.get(stream=f"match/{pair.pk}")
    assert entry.kind == "match.decided" and decided.ledger_seq == entry.seq
    assert "Different mothers" not in entry.payload  # reasons are personal: only a hash
    assert selectors.pair_queue(user=officer) == []


def test_a_pair_is_never_asked_twice(officer, users, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    services.pair_decide(actor=officer, pair=pair, decision="unsure", reason="Need papers")
    with pytest.raises(Conflict):
        services.pair_decide(actor=officer, pair=pair, decision="match", reason="again")
    run = services.match_run_dedupe(actor=users[Role.INVESTIGATOR])
    assert run.pairs_found >= 1 and run.pairs_new == 0
    assert MatchPair.objects.filter(kind=PairKind.DUPLICATE).count() == 1
    assert selectors.pair_queue(user=officer) == []


def test_a_decision_needs_a_reason_and_a_known_choice(officer, homsi, homsi_again):
    with pytest.raises(ValidationFailed) as exc:
        services.pair_decide(actor=officer, pair=_pair(homsi, homsi_again), decision="maybe",
                             reason=" ")
    assert set(exc.value.fields) == {"decision", "reason"}


def test_merge_keeps_both_records_and_histories(officer, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    services.pair_decide(actor=officer, pair=pair, decision="match", reason="Same service book",
                         survivor=homsi)
    merge = PersonMerge.objects.get()
    assert (merge.survivor, merge.duplicate) == (homsi, homsi_again)
    assert Person.objects.filter(pk__in=[homsi.pk, homsi_again.pk]).count() == 2
    assert LifecycleEvent.objects.filter(person=homsi_again).exists()
    kinds = set(LedgerEntry.objects.filter(stream=f"person/{homsi_again.pk}")
                .values_list("kind", flat=True))
    assert {"person.registered", "person.merged_into"} <= kinds
    assert LedgerEntry.objects.filter(stream=f"person/{homsi.pk}",
                                      kind="person.merged_from").exists()
    assert not IndexedPerson.objects.get(person=homsi_again).active
    assert selectors.person_merge_of(person=homsi_again) == merge
    # the duplicate is no longer suggested; the survivor is
    from mawa.matching.selectors import candidates_for

    found = candidates_for(user=officer, data={"given_lat": "Muhammad", "father_lat": "Khaled",
                                               "family_lat": "al-Homsi"})
    assert [s.person.pk for s in found] == [homsi.pk]


def test_the_dedupe_run_finds_pairs_missed_at_registration(users, register):
    from mawa.matching.models import IndexedPerson, IndexKey

    a = register(given_ar="يوسف", father_ar="عبد الرحمن", family_ar="الخطيب", birth="1993")
    b = register(given_lat="Youssef", father_lat="Abdelrahman", family_lat="El-Khatib",
                 birth="1993-06-02")
    MatchPair.objects.all().delete()
    assert IndexKey.objects.exists() and IndexedPerson.objects.count() == 2
    run = services.match_run_dedupe(actor=users[Role.INVESTIGATOR])
    assert run.records == 2
    assert MatchPair.objects.filter(person_a__in=[a, b], person_b__in=[a, b]).exists()


def test_an_import_is_deduplicated_against_the_registry(users, homsi, register):
    MatchPair.objects.all().delete()
    new = register(given_lat="Mohamed", father_lat="Khalid", grandfather_lat="Hassan",
                   family_lat="Homsi", place_of_birth="Homs")
    MatchPair.objects.all().delete()
    run = services.match_run_dedupe(actor=users[Role.ADMINISTRATOR], person_ids=[new.pk])
    assert run.kind == "dedupe_persons" and run.pairs_new == 1


def test_who_may_review_and_run(users, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    for role in (Role.CUSTODY_OFFICER, Role.AUDITOR, Role.CAMP_STAFF):
        with pytest.raises((NotFound, Forbidden)):
            selectors.pair_get(user=users[role], pair_id=pair.pk)
    with pytest.raises(NotFound):
        selectors.pair_get(user=users["outsider"], pair_id=pair.pk)
    with pytest.raises(Forbidden):
        services.match_run_dedupe(actor=users[Role.RECEPTION_OFFICER])


def test_pages(client_for, officer, users, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    client = client_for(officer)
    page = client.get("/matching/")
    assert page.status_code == 200 and homsi.short_code in page.content.decode()
    page = client.get(f"/matching/pairs/{pair.pk}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "data-testid=\"explanation\"" in body and "side-by-side" in body
    assert client.post(f"/matching/pairs/{pair.pk}/", {"decision": "match"}).status_code == 400
    answer = client.post(f"/matching/pairs/{pair.pk}/", {
        "decision": "match", "reason": "Same man", "survivor": str(homsi.pk)})
    assert answer.status_code == 302
    pair.refresh_from_db()
    assert pair.decision == "match" and pair.decided_by == officer
    assert client_for(users[Role.CUSTODY_OFFICER]).get("/matching/").status_code == 403


def test_arabic_page_translates_the_reasons(client_for, officer, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    client = client_for(officer)
    client.cookies["django_language"] = "ar"
    body = client.get(f"/matching/pairs/{pair.pk}/").content.decode()
    assert "اسم الأب" in body  # Father's name


def test_api_decides_once(client_for, officer, homsi, homsi_again):
    pair = _pair(homsi, homsi_again)
    client = client_for(officer)
    listed = client.get("/api/matching/pairs").json()
    assert [p["id"] for p in listed] == [str(pair.pk)]
    url = f"/api/matching/pairs/{pair.pk}/decision"
    ok = client.post(url, {"decision": "not_match", "reason": "Brothers"},
                     content_type="application/json")
    assert ok.status_code == 200 and ok.json()["decision"] == "not_match"
    again = client.post(url, {"decision": "match", "reason": "x"},
                        content_type="application/json")
    assert again.status_code == 409 and again.json()["code"] == "already_decided"
