"""The report page, its PDF, stored reports and the home panel, by role."""

import datetime as dt
import io
import shutil
import subprocess
import time

import pytest
import pyzipper

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry
from tests.reports.conftest import DAY1

DAY3 = (DAY1 + dt.timedelta(days=2)).isoformat()


@pytest.mark.parametrize("language,heading", [("ar", "تقرير الحالة"),
                                               ("en", "Situation report")])
def test_the_page_renders_in_both_languages(register, users, client_for, settings, language,
                                            heading):
    client = client_for(users[Role.CAMP_MANAGER])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    page = client.get("/reports/", {"date": DAY3, "site": "ALL"})
    assert page.status_code == 200
    html = page.content.decode()
    assert heading in html and "<svg" in html
    assert 'data-figure="population_total"' in html


def test_figures_link_to_records_for_roles_allowed_to_see_them(register, users, client_for):
    manager = client_for(users[Role.CAMP_MANAGER]).get("/reports/", {"date": DAY3})
    assert 'href="/reception/persons/?status=interned"' in manager.content.decode()
    auditor = client_for(users[Role.AUDITOR]).get("/reports/", {"date": DAY3})
    assert auditor.status_code == 200
    assert "/reception/persons/" not in auditor.content.decode()


def test_another_site_answers_like_a_missing_one(register, users, client_for):
    client = client_for(users[Role.CAMP_MANAGER])
    other = client.get("/reports/", {"date": DAY3, "site": "ZZZ"})
    missing = client.get("/reports/", {"date": DAY3, "site": "QQQ"})
    assert other.status_code == missing.status_code == 404
    api = client.get("/api/reports/sitrep", {"date": DAY3, "site": "ZZZ"})
    assert api.status_code == 404


def test_a_role_without_reports_is_refused(register, users, client_for):
    assert client_for(users[Role.RECEPTION_OFFICER]).get("/reports/").status_code == 403


def test_a_bad_date_is_a_clear_message(register, users, client_for):
    page = client_for(users[Role.CAMP_MANAGER]).get("/reports/", {"date": "not a date"})
    assert page.status_code == 200 and b"invalid-feedback" in page.content


@pytest.mark.parametrize("day", ["0001-01-01", "0001-01-30", "9999-12-31"])
def test_a_day_at_the_end_of_the_calendar_is_a_clear_message(register, users, client_for,
                                                             settings, day):
    """Was a server error (the report reads the 30 days before its day); the page, its PDF
    and the API share the one check in ``selectors.sitrep_scope``."""
    client = client_for(users[Role.CAMP_MANAGER])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/reports/", {"date": day})
    assert page.status_code in (200, 400), page.status_code
    assert b"Choose a valid date." in page.content
    assert client.get("/reports/", {"date": day, "format": "pdf"}).status_code < 500


def test_arabic_indic_digits_in_the_date(register, users, client_for):
    page = client_for(users[Role.ADMINISTRATOR]).get("/reports/", {"date": "٢٠٢٥-٠٣-٠٣"})
    assert page.status_code == 200 and b'data-figure="population_total"' in page.content


def test_before_the_first_arrival_says_so(register, users, client_for, settings):
    client = client_for(users[Role.ADMINISTRATOR])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/reports/", {"date": "2024-01-01"})
    assert b"before the first arrival" in page.content


def test_api_gives_the_same_figures(register, users, client_for):
    data = client_for(users[Role.ADMINISTRATOR]).get(
        "/api/reports/sitrep", {"date": DAY3}).json()
    assert data["population"]["total"] == 8 and data["site"] == "ALL"


def test_every_report_read_and_export_is_audited(register, users, client_for):
    client = client_for(users[Role.CAMP_MANAGER])
    before = LedgerEntry.objects.filter(stream="audit", payload__contains="reports.sitrep").count()
    client.get("/reports/", {"date": DAY3})
    stepped_up(client).post(f"/reports/?date={DAY3}&format=pdf",
                            {"purpose": "weekly briefing", "recipient": "head of mission"})
    after = LedgerEntry.objects.filter(stream="audit", payload__contains="reports.sitrep")
    assert after.count() == before + 2
    assert {e.kind for e in after} == {"audit.read", "audit.export"}
    assert '"recipient":"head of mission"' in after.last().payload


def stepped_up(client):
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    return client


def sitrep_pdf(client, **params) -> bytes:
    """The PDF download: step-up, purpose and recipient, then the encrypted file's link."""
    query = "&".join(f"{k}={v}" for k, v in {**params, "format": "pdf"}.items())
    response = stepped_up(client).post(f"/reports/?{query}", {"purpose": "briefing",
                                                             "recipient": "HQ"})
    assert response.status_code == 200, response.status_code
    ready = response.context["ready"]
    data = b"".join(client.get(f"/exports/{ready.token}/").streaming_content)
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(ready.passphrase.encode())
        return archive.read(archive.namelist()[0])


def test_the_pdf_leaves_only_encrypted_with_purpose_and_recipient(register, users,
                                                                  client_for):
    client = client_for(users[Role.CAMP_MANAGER])
    assert client.get("/reports/", {"date": DAY3, "format": "pdf"}).status_code == 302
    stepped_up(client)
    form = client.get("/reports/", {"date": DAY3, "format": "pdf"})
    assert form.status_code == 200 and b'name="purpose"' in form.content
    assert client.post(f"/reports/?date={DAY3}&format=pdf",
                       {"purpose": "", "recipient": ""}).status_code == 400
    assert sitrep_pdf(client, date=DAY3).startswith(b"%PDF")


@pytest.mark.parametrize("language", ["ar", "en"])
def test_pdf_has_the_charts_and_the_language(register, users, client_for, settings, language,
                                             tmp_path):
    client = client_for(users[Role.CAMP_MANAGER])
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    content = sitrep_pdf(client, date=DAY3)
    assert content.startswith(b"%PDF")
    pdf = tmp_path / "r.pdf"
    pdf.write_bytes(content)
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True,
                              text=True).stdout
        assert ("ملخص" if language == "ar" else "Summary") in text
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdf),
                        str(tmp_path / "p")], check=True)
        assert list(tmp_path.glob("p-*.png"))


def test_home_panel_by_role(register, users, client_for):
    manager = client_for(users[Role.CAMP_MANAGER]).get("/")
    assert b"/reports/?date=" in manager.content
    officer = client_for(users[Role.RECEPTION_OFFICER]).get("/")
    assert b"/reports/?date=" not in officer.content


@pytest.mark.parametrize("role", [Role.ADMINISTRATOR, Role.CAMP_MANAGER])
def test_api_answers_the_whole_report_through_its_schema(register, users, client_for, role):
    """The typed schema of the report (``SitrepOut``) keeps every figure of every section:
    the answer is the report itself, dates as ISO text, decimals as text."""
    import json

    from mawa.reports import services
    from mawa.reports.api import _plain

    user = users[role]
    data = client_for(user).get("/api/reports/sitrep", {"date": DAY3}).json()
    report = services.sitrep_get(user=user, day=dt.date.fromisoformat(DAY3), fmt="json")
    expected = json.loads(json.dumps({"day": DAY3, "site": "ALL", **_plain(report)},
                                     default=str))
    assert data == expected
