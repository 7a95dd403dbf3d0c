"""Issue 15, defect (a): a file whose rows include a few "possibly already registered" is not
refused whole; the officer decides those rows (import and queue for review, or leave out) and
the rest is imported."""

import pytest

from mawa.accounts.roles import Role
from mawa.core.errors import ValidationFailed
from mawa.matching.models import MatchPair
from mawa.reception import imports
from mawa.reception.models import Person

HEADER = "given_ar,given_lat,father_ar,family_ar,family_lat,sex,birth\n"


@pytest.fixture
def known(register):
    return [register(given_ar=g, given_lat=lat, family_ar="الحلبي", family_lat="al-Halabi",
                     service_number=f"K-{i}", birth="1990")[0]
            for i, (g, lat) in enumerate([("محمد", "Mohammed"), ("عمر", "Omar"),
                                          ("خالد", "Khaled")])]


def _file():
    rows = [f"{g},{lat},أحمد,الحلبي,al-Halabi,male,1990" for g, lat in
            [("محمد", "Mohammed"), ("عمر", "Omar"), ("خالد", "Khaled")]]
    rows += [f"سامر{chr(0x0627 + i % 3)},Samer,يوسف,العبيدي{'ي' * i},,male,{1970 + i}"
             for i in range(7)]
    return (HEADER + "\n".join(rows) + "\n").encode()


def _check(users, sites):
    table = imports.table_read(_file(), "gate.csv")
    return imports.import_check(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                                table=table)


def test_possible_duplicates_are_decisions_not_errors(users, sites, known):
    result = _check(users, sites)
    assert result.ok, result.errors
    assert [p.row for p in result.decisions] == [2, 3, 4]
    assert all(p.candidates for p in result.decisions)


def test_undecided_rows_write_nothing(users, sites, known):
    result = _check(users, sites)
    before = Person.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        imports.import_commit(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                              result=result, decisions={2: "import"})
    assert exc.value.code == "import_decisions_needed"
    assert Person.objects.count() == before


def test_decided_rows_import_the_rest_and_queue_the_imported_for_review(users, sites, known):
    result = _check(users, sites)
    before = Person.objects.count()
    written = imports.import_commit(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                                    result=result,
                                    decisions={2: "import", 3: "skip", 4: "skip"})
    assert len(written) == 8 and Person.objects.count() == before + 8
    first = written[0]
    assert first.given_lat == "Mohammed"
    pair = MatchPair.objects.get()
    assert {pair.person_a_id, pair.person_b_id} == {first.pk, known[0].pk}
    assert not Person.objects.filter(given_lat="Omar").exclude(pk=known[1].pk).exists()
