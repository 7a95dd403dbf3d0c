"""Bulk import: bad files get a precise report and write nothing; the corrected file goes in."""

import io

import pytest
from openpyxl import Workbook

from mawa.accounts.roles import Role
from mawa.core.errors import ValidationFailed
from mawa.core.ledger import ledger_verify
from mawa.reception import imports
from mawa.reception.models import Person

HEADER = "given_ar,given_lat,family_ar,sex,birth,service_number,document_kind,document_number\n"
GOOD = HEADER + ("محمد,Mohammed,الحلبي,male,1990-03-15,A-1,passport,P1\n"
                 "علي,Ali,العبيدي,m,1985,A-2,,\n")


def check(users, sites, data: bytes, name="f.csv"):
    table = imports.table_read(data, name)
    return imports.import_check(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                                table=table)


def test_a_good_file_is_imported_with_history_and_ledger(users, sites):
    result = check(users, sites, GOOD.encode())
    assert result.ok, result.problems
    written = imports.import_commit(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                                    result=result)
    assert len(written) == 2 and Person.objects.count() == 2
    assert all(p.events.count() == 1 for p in Person.objects.all())
    assert ledger_verify().ok


def test_every_bad_row_is_reported_and_nothing_is_written(users, sites):
    bad = HEADER + ("محمد,Mohammed,الحلبي,male,1990-02-30,A-1,,\n"      # impossible date
                    "علي,Ali,العبيدي,male,2099,A-2,,\n"                 # after arrival / year
                    "سامر,Samer,<script>x</script>,male,1980,A-3,,\n"    # markup
                    "خالد,Khaled,الشمري,male,1980,A-4,laissez-passer,9\n"  # unknown kind
                    "فراسFiras,,الزعبي,male,1980,A-5,,\n"                # mixed scripts
                    "محمد,Mohammed,الحلبي,male,1990-02-30,A-1,,\n")
    result = check(users, sites, bad.encode())
    rows = {p.row for p in result.problems}
    assert {2, 3, 4, 5, 6, 7} <= rows
    columns = {(p.row, p.column) for p in result.problems}
    assert (2, "birth") in columns and (5, "document_kind") in columns
    assert (6, "given_ar") in columns
    with pytest.raises(ValidationFailed):
        imports.import_commit(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                              result=result)
    assert Person.objects.count() == 0
    report = result.report_csv().decode("utf-8-sig")
    assert report.splitlines()[0] == "row,column,reason"


def test_duplicates_in_the_file_and_in_the_register_are_flagged(users, sites, register):
    register(service_number="A-2")
    dup = HEADER + ("محمد,Mohammed,الحلبي,male,1990-03-15,A-9,,\n"
                    "محمد,Muhammad,الحلبي,male,1990-03-15,A-8,,\n"
                    "علي,Ali,العبيدي,male,1985,A-2,,\n")
    reasons = [(p.row, p.reason) for p in check(users, sites, dup.encode()).problems]
    assert any(r == 3 for r, _ in reasons)  # same person as row 2
    assert any(r == 4 for r, _ in reasons)  # service number already registered


def test_windows_1256_csv_is_read(users, sites):
    result = check(users, sites, GOOD.encode("cp1256"))
    assert result.table.encoding == "windows-1256"
    assert result.ok and result.people[0].values["given_ar"] == "محمد"


def test_xlsx_with_merged_header_cells_is_refused_with_the_range(users, sites):
    wb = Workbook()
    ws = wb.active
    ws.append(["Name", "", "sex"])
    ws.append(["محمد", "الحلبي", "male"])
    ws.merge_cells("A1:B1")
    buf = io.BytesIO()
    wb.save(buf)
    with pytest.raises(imports.ImportRefused) as exc:
        imports.table_read(buf.getvalue(), "gate.xlsx")
    assert "A1:B1" in str(exc.value.message)


def test_xlsx_is_imported(users, sites):
    wb = Workbook()
    ws = wb.active
    for line in GOOD.strip().splitlines():
        ws.append(line.split(","))
    buf = io.BytesIO()
    wb.save(buf)
    result = check(users, sites, buf.getvalue(), "gate.xlsx")
    assert result.ok, result.problems


def test_the_same_file_twice_is_refused(users, sites):
    officer = users[Role.RECEPTION_OFFICER]
    imports.import_commit(user=officer, site=sites["RHM"], result=check(users, sites,
                                                                        GOOD.encode()))
    again = imports.table_read(GOOD.encode(), "f.csv")
    result = imports.import_check(user=officer, site=sites["RHM"], table=again)
    with pytest.raises(ValidationFailed):
        imports.import_commit(user=officer, site=sites["RHM"], result=result)
    assert Person.objects.count() == 2


def test_roles_without_import_are_refused(users, sites):
    from mawa.core.errors import Forbidden

    with pytest.raises(Forbidden):
        imports.import_check(user=users[Role.CAMP_STAFF], site=sites["RHM"],
                             table=imports.table_read(GOOD.encode(), "f.csv"))


def test_the_command_line_imports_and_refuses(users, sites, tmp_path):
    from django.core.management import CommandError, call_command

    good = tmp_path / "good.csv"
    good.write_bytes(GOOD.encode())
    call_command("import", "persons", str(good), user="reception_officer", site="RHM")
    assert Person.objects.count() == 2
    bad = tmp_path / "bad.csv"
    bad.write_bytes((HEADER + "x,,,male,1990-13-01,,,\n").encode())
    with pytest.raises(CommandError):
        call_command("import", "persons", str(bad), user="reception_officer", site="RHM",
                     report=str(tmp_path / "r.csv"))
    assert (tmp_path / "r.csv").exists() and Person.objects.count() == 2
