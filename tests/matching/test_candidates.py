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
