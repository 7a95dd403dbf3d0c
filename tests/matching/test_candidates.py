"""Which indexed persons are scored for a query: large blocks, empty keys, merged persons, and
the name counts kept with one upsert. Block sizes are made small here (``MAX_BLOCK``) so that
a handful of persons behave as the common names of a million-person registry do."""

import pytest

from mawa.matching import engine, selectors, services
from mawa.matching.models import IndexedPerson, IndexKey, MatchPair, NameCount, PairKind
from mawa.names import NameFrequencies, name_keys, prepare

pytestmark = pytest.mark.django_db


def _typed(data: dict):
    return prepare(engine.typed_record(data))


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(selectors, "MAX_BLOCK", 3)


def test_a_query_with_only_a_large_block_scores_its_newest_members(small_blocks, register):
    """Given and family name typed so far, shared by more persons than ``MAX_BLOCK``: the
    newest are scored (every member shares the one key, so that is the old ranking too)."""
    persons = [register(given_ar="محمد", father_ar=father, family_ar="الحمصي", birth=year)
               for father, year in (("خالد", "1970"), ("سامر", "1975"), ("وائل", "1980"),
                                    ("نبيل", "1985"), ("طارق", "1990"))]
    query = _typed({"given_ar": "محمد", "family_ar": "الحمصي"})
    assert len(name_keys(query)) == 1
    found = selectors.index_candidates(query, limit=10, max_candidates=2)
    assert {pid for pid, _p, _m in found} == {persons[-1].pk, persons[-2].pk}
    assert len(selectors.index_candidates(query, limit=10, max_candidates=10)) == 5


def test_an_empty_key_does_not_hide_the_large_blocks(small_blocks, officer, register):
    """A family name nobody has (a typo) empties the keys with the family; the keys of given,
    father and grandfather are large blocks. The smallest non-empty one is still scored."""
    target = None
    for family in ("الحمصي", "الحلبي", "الشامي", "الخطيب", "الزعبي"):
        target = register(given_ar="محمد", father_ar="خالد", grandfather_ar="حسن",
                          family_ar=family, birth="1988")
    query = {"given_ar": "محمد", "father_ar": "خالد", "grandfather_ar": "حسن",
             "family_ar": "الزغبي"}
    keys = sorted(name_keys(_typed(query)))
    sizes = selectors._block_sizes(keys)
    assert any(sizes[k] == 0 for k in keys)
    assert all(sizes[k] == 0 or sizes[k] > selectors.MAX_BLOCK for k in keys)
    found = selectors.candidates_for(user=officer, data=query)
    assert target.pk in [s.person.pk for s in found]
    assert found[0].person.pk == target.pk  # الزعبي, one letter off (غ for ع), ranks first


def test_candidates_rank_by_shared_keys_across_small_blocks(register):
    """Several usable blocks: the person sharing most keys comes first (grouped count)."""
    same = register(given_ar="يوسف", father_ar="عبد الرحمن", grandfather_ar="سعيد",
                    family_ar="الخطيب", birth="1993")
    register(given_ar="يوسف", father_ar="عبد الرحمن", family_ar="الشامي", birth="1970")
    query = _typed({"given_ar": "يوسف", "father_ar": "عبد الرحمن", "grandfather_ar": "سعيد",
                    "family_ar": "الخطيب"})
    found = selectors.index_candidates(query, limit=10, max_candidates=1)
    assert [pid for pid, _p, _m in found] == [same.pk]


@pytest.fixture
def merged(officer, homsi, homsi_again):
    pair = MatchPair.objects.get(kind=PairKind.DUPLICATE)
    services.pair_decide(actor=officer, pair=pair, decision="match", reason="Same service book",
                         survivor=homsi)
    homsi_again.refresh_from_db()  # the merge moved the duplicate to "merged" (issue 15)
    return homsi_again


def test_a_merged_person_keeps_no_keys(merged, homsi):
    assert not IndexedPerson.objects.get(person=merged).active
    assert not IndexKey.objects.filter(person_id=merged.pk).exists()
    assert IndexKey.objects.filter(person_id=homsi.pk).exists()


def test_a_correction_of_a_merged_person_adds_no_keys(officer, merged):
    from mawa.reception.services import person_update

    person_update(actor=officer, person=merged, version=merged.version,
                  changes={"family_lat": "al-Halabi"})
    assert IndexedPerson.objects.get(person=merged).record["family_name"] == "al-Halabi"
    assert not IndexKey.objects.filter(person_id=merged.pk).exists()


def test_a_rebuild_gives_keys_to_active_persons_only(merged, homsi):
    keys = sorted(IndexKey.objects.values_list("person_id", "key"))
    assert services.registry_index_rebuild() == 2
    assert not IndexedPerson.objects.get(person=merged).active
    assert sorted(IndexKey.objects.values_list("person_id", "key")) == keys


def test_name_counts_follow_registrations_and_corrections(officer, register):
    """The upsert adds, creates and subtracts: counts stay those of the library."""
    from mawa.reception.services import person_update

    a = register(given_ar="محمد", father_ar="خالد", family_ar="الحمصي")
    register(given_ar="محمد", father_ar="سامر", family_ar="الحلبي")
    person_update(actor=officer, person=a, version=a.version, changes={"family_ar": "الشامي"})
    prepared = [prepare(engine.record_from_json(r))
                for r in IndexedPerson.objects.values_list("record", flat=True)]
    library = NameFrequencies.from_records(prepared)
    stored = {(p, k): n for p, k, n in NameCount.objects.values_list("pool", "key", "count")}
    expected = {}
    for p in prepared:
        for pool, key in NameFrequencies.counts_of(p):
            expected[(pool, key)] = expected.get((pool, key), 0) + 1
            expected[(pool, "")] = expected.get((pool, ""), 0) + 1
    assert {k: n for k, n in stored.items() if n} == expected
    assert stored[("given", "")] == library.n_given == 4
    homsi_key = next(k for p, k in NameFrequencies.counts_of(
        _typed({"family_ar": "الحمصي"})) if p == "family")
    assert stored[("family", homsi_key)] == 0  # corrected away, the row stays at zero


def test_a_batch_answers_each_query_as_it_is_answered_alone(officer, users, register):
    """``candidates_many`` pools its reads (an import checks a thousand rows at once); each
    row gets what the registration form would show for it, and reception, asking through its
    hook, gets the same persons in its own terms."""
    from mawa.reception.selectors import person_candidates_many, person_match_candidates

    for values, birth in [
        ({"given_ar": "محمد", "given_lat": "Mohammed", "family_ar": "الحلبي"}, "1990"),
        ({"given_ar": "محمّد", "given_lat": "Muhammad", "family_lat": "Al-Halabi"}, "1991"),
        ({"given_ar": "أحمد", "given_lat": "Ahmad", "family_ar": "الحلبي"}, "1985"),
        ({"given_ar": "خالد", "given_lat": "Khaled", "family_ar": "العبيدي"}, "1970"),
        ({"given_lat": "Khalid", "family_lat": "al-Obeidi"}, "1971"),
        ({"given_ar": "عمر", "family_ar": "الشمري", "father_ar": "حسن"}, "1988"),
    ]:
        register(birth=birth, **values)
    queries = [
        {"given_ar": "محمد", "family_ar": "الحلبي"},
        {"given_lat": "Mohamad", "family_lat": "Halabi"},
        {"given_ar": "خالد", "given_lat": "Khalid", "family_lat": "Obeidi"},
        {"given_ar": "عمر", "father_ar": "حسن", "family_ar": "الشمري"},
        {"given_ar": "سامر", "family_ar": "الزعبي"},
        {"given_lat": "Ahmed"},
        {},
    ]

    def seen(suggestions):
        return [(s.person.pk, round(s.probability, 9), s.reasons) for s in suggestions]

    batched = selectors.candidates_many(user=officer, queries=queries)
    assert sum(map(len, batched)) >= 6  # the comparison is about real candidates
    for query, found in zip(queries, batched, strict=True):
        assert seen(found) == seen(selectors.candidates_for(user=officer, data=query)), query
    asked = person_candidates_many(user=officer, queries=queries)
    for query, found, mine in zip(queries, batched, asked, strict=True):
        assert [c.person.pk for c in mine] == [s.person.pk for s in found], query
        assert [(c.person.pk, c.reasons, c.score) for c in mine] == [
            (c.person.pk, c.reasons, c.score)
            for c in person_match_candidates(user=officer, data=query)], query
    # a user who sees nothing of the register gets nothing from it
    assert not any(selectors.candidates_many(user=users["outsider"], queries=queries))
    assert not any(person_candidates_many(user=users["outsider"], queries=queries))


def test_a_batch_reads_the_large_blocks_newest_first(small_blocks, monkeypatch, officer,
                                                     register):
    """In a batch, a query whose only block is larger than ``MAX_BLOCK`` gets that block's
    newest persons, as it would alone."""
    monkeypatch.setattr(selectors, "TYPING_CANDIDATES", 3)
    homsis = [register(given_ar="محمد", father_ar=father, family_ar="الحمصي")
              for father in ("خالد", "سامر", "وائل", "نبيل", "طارق")]
    register(given_ar="يوسف", father_ar="سعيد", family_ar="الخطيب")
    queries = [{"given_ar": "محمد", "family_ar": "الحمصي"},
               {"given_ar": "يوسف", "father_ar": "سعيد", "family_ar": "الخطيب"}]
    batched = selectors.candidates_many(user=officer, queries=queries, limit=10)
    for query, found in zip(queries, batched, strict=True):
        assert [s.person.pk for s in found] == [
            s.person.pk for s in selectors.candidates_for(user=officer, data=query, limit=10)]
    assert {s.person.pk for s in batched[0]} == {p.pk for p in homsis[-3:]}
    assert len(batched[1]) == 1
