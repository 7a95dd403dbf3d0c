"""Name frequencies built from counts kept elsewhere weigh names as counting the records does."""

from collections import Counter

import pytest

from mawa.names import NameFrequencies, NameRecord, Scorer, parse_name, place_key, prepare

POPULATION = [
    NameRecord("1", given_name="محمد", father_name="أحمد", grandfather_name="حسن",
               family_name="الحلبي", mother_name="فاطمة الحمصي", birth_place="حلب"),
    NameRecord("2", given_name="Mohammed", father_name="Ahmed", family_name="Al-Halabi",
               birth_place="Aleppo"),
    NameRecord("3", given_name="Omar", father_name="Mohammed", family_name="Halabi"),
    NameRecord("4", given_name="خالد", father_name="محمد", family_name="الحمصي",
               birth_place="حمص"),
    NameRecord("5", given_name="Abd al-Rahman", father_name="Khalid", family_name="Al-Najjar",
               mother_name="Huda", birth_place="Homs"),
    NameRecord("6", given_name="Ahmad", family_name="Najjar"),
]


def _freq(f: NameFrequencies, pool: str, key: str) -> float:
    return {"given": f.given_freq, "family": f.family_freq, "place": f.place_freq}[pool](key)


def test_counts_of_gives_the_first_unit_of_each_name_and_the_place():
    p = prepare(NameRecord("x", given_name="محمد", father_name="Ahmed",
                           grandfather_name="Mohammed", family_name="الحلبي",
                           mother_name="فاطمة الحمصي", birth_place="Aleppo"))
    muhammad, ahmad = parse_name("محمد")[0].fkey, parse_name("Ahmed")[0].fkey
    fatima = parse_name("فاطمة")[0].fkey
    halabi = parse_name("الحلبي", family=True)[0].fkey
    counts = Counter(NameFrequencies.counts_of(p))
    assert counts == Counter({("given", muhammad): 2, ("given", ahmad): 1, ("given", fatima): 1,
                              ("family", halabi): 1, ("place", place_key("حلب")): 1})
    assert NameFrequencies.counts_of(prepare(NameRecord("y", given_name="Omar"))) == [
        ("given", parse_name("Omar")[0].fkey)]


def test_from_counts_of_every_record_weighs_names_as_from_records():
    prepared = [prepare(r) for r in POPULATION]
    counted = NameFrequencies.from_records(prepared)
    counts = Counter(pair for p in prepared for pair in NameFrequencies.counts_of(p))
    rebuilt = NameFrequencies.from_counts(counts)
    assert (rebuilt.n_given, rebuilt.n_family, rebuilt.n_places) == (
        counted.n_given, counted.n_family, counted.n_places) == (14, 6, 4)
    for pool, key in counts:
        assert _freq(rebuilt, pool, key) == _freq(counted, pool, key)
    # and the scores built on them are the same, reasons and all
    for a in prepared:
        for b in prepared:
            assert Scorer(rebuilt).score(a, b) == Scorer(counted).score(a, b)
    # common names weigh less than rare ones: the counts are really used
    muhammad = parse_name("محمد")[0].fkey
    assert rebuilt.given[muhammad] == 4
    assert rebuilt.given_freq(muhammad) > rebuilt.given_freq(parse_name("Omar")[0].fkey)


def test_partial_counts_with_totals_weigh_the_names_they_hold_as_all_counts_do():
    prepared = [prepare(r) for r in POPULATION]
    counts = Counter(pair for p in prepared for pair in NameFrequencies.counts_of(p))
    full = NameFrequencies.from_counts(counts)
    totals = {pool: sum(n for (p, _k), n in counts.items() if p == pool)
              for pool in NameFrequencies.POOLS}
    query = prepared[1]  # Mohammed Ahmed Al-Halabi, Aleppo
    wanted = set(NameFrequencies.counts_of(query))
    partial = NameFrequencies.from_counts({k: n for k, n in counts.items() if k in wanted},
                                          totals=totals)
    assert len(partial.given) + len(partial.family) + len(partial.places) < len(counts)
    for pool, key in wanted:
        assert _freq(partial, pool, key) == _freq(full, pool, key)
    assert Scorer(partial).score(query, prepared[0]) == Scorer(full).score(query, prepared[0])
    # without the totals the partial counts would be read as the whole population
    alone = NameFrequencies.from_counts({k: n for k, n in counts.items() if k in wanted})
    muhammad = parse_name("محمد")[0].fkey
    assert alone.given_freq(muhammad) != full.given_freq(muhammad)


def test_a_pool_missing_from_totals_counts_as_empty():
    freqs = NameFrequencies.from_counts({("given", "ali"): 3}, totals={"given": 10})
    assert (freqs.n_given, freqs.n_family, freqs.n_places) == (10, 0, 0)
    assert freqs.given["ali"] == 3


@pytest.mark.parametrize("counts, totals, message", [
    ({("places", "halab"): 1}, None, "unknown pool 'places'"),
    ({("given", ""): 4}, None, "empty key in pool 'given'"),
    ({("given", "ali"): 1}, {"surname": 3}, "unknown pool 'surname'"),
])
def test_from_counts_refuses_unknown_pools_and_empty_keys(counts, totals, message):
    with pytest.raises(ValueError, match=message):
        NameFrequencies.from_counts(counts, totals=totals)
