"""Dedupe blocking: tolerant keys, sorted neighbourhood, pair completeness, bounded cost."""

from bench.names.evaluate import pair_completeness
from bench.names.generate import write_dataset
from mawa.names import NameRecord, Report, prepare, read_records_csv
from mawa.names._blocking import dedupe_keys, prepared_keys
from mawa.names._cluster import candidate_blocks, sorted_neighbourhood


def _keys(**kw):
    return dedupe_keys(prepare(NameRecord("x", **kw)))


def test_year_off_by_one_and_typo_in_family_still_share_a_key():
    a = _keys(given_name="Khaled", father_name="Omar", family_name="Najjar",
              birth_date="1985-04-04")
    b = _keys(given_name="خالد", father_name="عمر", family_name="نجاز", birth_date="1986-04-04")
    assert a & b


def test_day_month_swap_with_a_typo_in_two_names_shares_a_key():
    a = _keys(given_name="Wissam", father_name="Yasser", family_name="Ghannam",
              birth_date="1985-04-07")
    b = _keys(given_name="Wisam", father_name="Yaser", family_name="Ghanam",
              birth_date="1985-07-04")
    assert a & b


def test_french_and_english_spellings_share_a_phonetic_key():
    a = _keys(given_name="Chadi", father_name="Moustafa", family_name="El-Djabri")
    b = _keys(given_name="Shadi", father_name="Mustafa", family_name="Al-Jabri")
    assert a & b


def test_service_number_with_swapped_digits_shares_a_key():
    a = _keys(given_name="Ali", military_id="123456")
    b = _keys(given_name="Hasan", military_id="132456")
    c = _keys(given_name="Omar", military_id="123457")
    assert a & b and a & c


def test_keys_the_django_side_stores_are_unchanged_by_dedupe_keys():
    p = prepare(NameRecord("x", given_name="Ali", family_name="Homsi", birth_date="1990"))
    assert prepared_keys(p) <= dedupe_keys(p) | prepared_keys(p)
    assert not any(k[0].islower() for k in prepared_keys(p))


def test_sorted_neighbourhood_costs_a_bounded_number_of_comparisons_per_record():
    records = [prepare(NameRecord(str(i), given_name="Ali", father_name="Omar",
                                  family_name=f"Fam{i % 7}")) for i in range(300)]
    blocks = sorted_neighbourhood(records, window=4)
    assert all(len(b) <= 4 for b in blocks)
    per_record = sum(len(b) * (len(b) - 1) for b in blocks) / len(records)
    assert per_record <= 3 * 4 * 2


def test_blocking_reaches_nearly_all_true_pairs_of_a_generated_population(tmp_path):
    write_dataset(tmp_path, people=400, seed=3, builtin=True)
    pc = pair_completeness(tmp_path)
    assert pc["completeness"] >= 0.97
    assert pc["pairs_per_record"] <= 60
    # Every block is small.
    with (tmp_path / "records.csv").open(encoding="utf-8", newline="") as f:
        prepared = [prepare(r) for _l, r in read_records_csv(f, Report("r"))]
    assert max(len(b) for b in candidate_blocks(prepared)) <= 150
