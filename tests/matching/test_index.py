"""The registry index and the suggestions shown while an officer types."""

import pytest

from mawa.accounts.roles import Role
from mawa.matching.models import IndexedPerson, IndexKey, NameCount
from mawa.matching.selectors import candidates_for
from mawa.reception.selectors import person_match_candidates

pytestmark = pytest.mark.django_db


def test_registration_indexes_the_person(homsi):
    entry = IndexedPerson.objects.get(person=homsi)
    assert entry.active and entry.record["given_name"] == "محمد"
    assert IndexKey.objects.filter(person=entry).count() >= 3
    assert NameCount.objects.get(pool="given", key="").count == 3  # given, father, grandfather


def test_a_latin_spelling_finds_the_arabic_record(officer, homsi):
    typed = {"given_lat": "Mohammed", "father_lat": "Khalid", "family_lat": "Al-Homsi"}
    found = candidates_for(user=officer, data=typed)
    assert [s.person for s in found] == [homsi]
    assert found[0].probability > 0.3  # names only, no date yet: a suggestion, not a match
    codes = {r["code"] for r in found[0].reasons}
    assert "given_name.exact" in codes or "given_name.variant" in codes


def test_omar_is_not_amr(officer, register):
    register(given_ar="عمرو", father_ar="خالد", family_ar="الحمصي")
    found = candidates_for(user=officer, data={"given_ar": "عمر", "father_ar": "خالد",
                                               "family_ar": "الحمصي"})
    assert all(s.probability < 0.5 for s in found)


def test_service_number_alone_finds_the_person(officer, homsi):
    found = candidates_for(user=officer, data={"service_number": "SY 88412"})
    assert [s.person for s in found] == [homsi]


def test_nothing_is_suggested_from_another_site(users, homsi):
    assert candidates_for(user=users["outsider"], data={"given_ar": "محمد", "father_ar": "خالد",
                                                        "family_ar": "الحمصي"}) == []


def test_roles_without_the_register_see_nothing(users, homsi):
    assert candidates_for(user=users[Role.AUDITOR], data={"given_ar": "محمد",
                                                          "family_ar": "الحمصي"}) == []


def test_reception_selector_keeps_its_contract(officer, homsi):
    found = person_match_candidates(user=officer, data={
        "given_lat": "Mohamad", "father_lat": "Khaled", "family_lat": "Homsi",
        "document_numbers": [""]})
    assert found[0].person == homsi
    assert "name.given" in found[0].reasons
    assert 0 < found[0].score <= 100


def test_a_correction_updates_the_index(officer, homsi):
    from mawa.reception.services import person_update

    person_update(actor=officer, person=homsi, version=homsi.version,
                  changes={"family_ar": "الحلبي"})
    assert IndexedPerson.objects.get(person=homsi).record["family_name"] == "الحلبي"
    found = candidates_for(user=officer, data={"given_ar": "محمد", "father_ar": "خالد",
                                               "grandfather_ar": "حسن", "family_ar": "الحلبي"})
    assert found and found[0].person.pk == homsi.pk


def test_rebuild_gives_the_same_counts(homsi, homsi_again):
    from mawa.matching.services import registry_index_rebuild

    before = sorted(NameCount.objects.values_list("pool", "key", "count"))
    keys = IndexKey.objects.count()
    assert registry_index_rebuild() == 2
    assert sorted(NameCount.objects.values_list("pool", "key", "count")) == before
    assert IndexKey.objects.count() == keys


def test_registry_frequencies_weigh_names_as_the_library_does(register, homsi, homsi_again):
    from mawa.matching import engine
    from mawa.matching.selectors import index_scorer
    from mawa.names import NameFrequencies, Scorer, prepare

    register(given_ar="خالد", father_ar="محمد", family_ar="الحلبي", place_of_birth="Aleppo",
             mother_given_ar="فاطمة", mother_family_ar="الحمصي")
    prepared = [prepare(engine.record_from_json(r))
                for r in IndexedPerson.objects.values_list("record", flat=True)]
    library = NameFrequencies.from_records(prepared)
    assert NameCount.objects.get(pool="given", key="").count == library.n_given == 9
    read = {"given": "given_freq", "family": "family_freq", "place": "place_freq"}
    for p in prepared:
        scorer = index_scorer(query=p)  # only the query's counts, read from NameCount
        for pool, key in NameFrequencies.counts_of(p):
            assert getattr(scorer.freqs, read[pool])(key) == getattr(library, read[pool])(key)
        for q in prepared:
            assert scorer.score(p, q) == Scorer(library).score(p, q)


def test_suggestion_queries_do_not_grow_with_candidates(officer, register,
                                                        django_assert_max_num_queries):
    for i in range(12):
        register(given_ar="محمد", father_ar="خالد", family_ar="الحمصي",
                 birth=f"19{70 + i}")
    with django_assert_max_num_queries(6):
        candidates_for(user=officer, data={"given_ar": "محمد", "father_ar": "خالد",
                                           "family_ar": "الحمصي"})


def test_the_index_listens_to_the_registers_announcements():
    """Reception does not import matching: it announces its writes, and matching's index
    writer is registered for each announcement when the app is ready."""
    from mawa.core.hooks import hook_listeners
    from mawa.matching import services

    assert services.index_on_person_registered in hook_listeners("person.registered")
    assert services.index_on_person_changed in hook_listeners("person.changed")
    assert services.index_on_person_merged in hook_listeners("person.merged")
