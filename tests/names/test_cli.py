"""The CSV command line contract, end to end on small files."""

import csv
import json

from mawa.names.cli import main


def _rows(path):
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_dedupe_groups_spellings_and_keeps_brothers_apart(write_csv, tmp_path, capsys):
    src = write_csv(
        "in.csv",
        [
            "1,A,محمد,أحمد,حسن,الحلبي,فاطمة,M,1990-03-05,حلب,SY,,",
            "2,B,Mohammed,Ahmed,Hasan,Al-Halabi,Fatima,M,1990-05-03,Aleppo,SY,,",
            "3,B,Omar,Ahmed,Hasan,Al-Halabi,Fatima,M,1993-11-02,Aleppo,SY,,",
            "4,C,Mhd,Ahmad,,Halabi,,M,1990,,,,",
        ],
    )
    out = tmp_path / "out.csv"
    assert main(["dedupe", str(src), "--output", str(out), "--quiet"]) == 0
    rows = _rows(out)
    assert list(rows[0]) == ["record_id", "cluster_id", "confidence"]
    cluster = {r["record_id"]: r["cluster_id"] for r in rows}
    assert cluster["1"] == cluster["2"] == cluster["4"]
    assert cluster["3"] != cluster["1"]
    assert all(0.0 <= float(r["confidence"]) <= 1.0 for r in rows)


def test_dedupe_reports_bad_rows_with_line_numbers_and_processes_the_rest(
    write_csv, tmp_path, capsys
):
    src = write_csv(
        "in.csv",
        [
            "1,A,Khaled,Omar,,Najjar,,M,00/00/1990,,,,",
            "2,A,Иван,,,,,M,1990,,,,",
            "3,A,Khalid,Omar,,Al-Najjar,,M,1990-13-45,,,,",
            "4,A,too,few,fields",
            ",A,no,id,,,,,,,,,",
            "5,A,,,,,,,,,,,",
            "6,A,Khaled,Omar,,Najjar,,M,1990-02-02,,,,",
        ],
    )
    out = tmp_path / "out.csv"
    assert main(["dedupe", str(src), "--output", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "in.csv:2: problem: birth_date" in err
    assert "in.csv:3: problem: given_name: letters of a script other than Arabic or Latin" in err
    assert "in.csv:4: problem: birth_date" in err
    assert "in.csv:5: skipped: expected 13 fields, found 5" in err
    assert "in.csv:6: skipped: empty record_id" in err
    assert "in.csv:7: problem: no usable name" in err
    ids = [r["record_id"] for r in _rows(out)]
    assert ids == ["1", "2", "3", "5", "6"]


def test_missing_header_columns_is_unusable_input(write_csv, tmp_path, capsys):
    src = write_csv("in.csv", ["1,Mohammed"], header="record_id,given_name")
    assert main(["dedupe", str(src), "--output", str(tmp_path / "o.csv"), "--quiet"]) == 2
    assert "missing columns" in capsys.readouterr().err


def test_missing_input_file_is_unusable_input(tmp_path):
    out = tmp_path / "o.csv"
    assert main(["dedupe", str(tmp_path / "nope.csv"), "--output", str(out), "--quiet"]) == 2


def test_screen_against_followthemoney_jsonl(write_csv, tmp_path, capsys):
    src = write_csv(
        "people.csv",
        [
            "p1,A,عبد الرحمن,خالد,,الجبوري,,M,1980-06-01,الموصل,IQ,,",
            "p2,A,Yusuf,Ali,,Tamimi,,M,1999,,,,",
        ],
    )
    entities = [
        {
            "id": "w1",
            "schema": "Person",
            "properties": {
                "name": ["Abdulrahman Khalid Al-Jubouri"],
                "firstName": ["Abdulrahman"],
                "fatherName": ["Khalid"],
                "lastName": ["Al-Jubouri"],
                "birthDate": ["1980"],
                "birthPlace": ["Mosul"],
                "gender": ["male"],
            },
        },
        {"id": "w2", "schema": "Person", "properties": {"name": ["Abdel Rahman Al-Dulaimi"]}},
        {"id": "w3", "schema": "Company", "properties": {"name": ["Acme"]}},
    ]
    lines = [json.dumps(e, ensure_ascii=False) for e in entities]
    lines.insert(1, '{"id": "broken", "schema": ')
    watch = tmp_path / "list.jsonl"
    watch.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "hits.csv"
    code = main(
        [
            "screen",
            str(src),
            "--watchlist",
            str(watch),
            "--output",
            str(out),
            "--top",
            "5",
            "--quiet",
        ]
    )
    assert code == 0
    err = capsys.readouterr().err
    assert "list.jsonl:2: skipped: broken JSON" in err
    assert "list.jsonl:4: skipped: schema 'Company' is not Person" in err
    rows = _rows(out)
    assert list(rows[0]) == ["record_id", "entity_id", "score", "rank"]
    top = [r for r in rows if r["record_id"] == "p1" and r["rank"] == "1"]
    assert top and top[0]["entity_id"] == "w1" and float(top[0]["score"]) > 0.9
    assert all(0.0 <= float(r["score"]) <= 1.0 for r in rows)
    assert not any(r["record_id"] == "p2" and float(r["score"]) > 0.5 for r in rows)


def test_screen_accepts_a_csv_watch_list(write_csv, tmp_path):
    src = write_csv("people.csv", ["p1,A,Chadi,Hocine,,Kassem,,M,1985,,,,"])
    watch = write_csv("list.csv", ["e1,,شادي,حسين,,قاسم,,M,1985-04-02,,,,"])
    out = tmp_path / "hits.csv"
    assert (
        main(["screen", str(src), "--watchlist", str(watch), "--output", str(out), "--quiet"]) == 0
    )
    rows = _rows(out)
    assert rows[0]["entity_id"] == "e1" and rows[0]["rank"] == "1"
    assert float(rows[0]["score"]) > 0.9
