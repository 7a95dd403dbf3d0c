"""In a real headless Chromium: an officer prints a group's ID cards — the group page starts
a job, its page shows the progress (htmx polling) and hands out one PDF of every card."""

import io

import pytest
from pypdf import PdfReader

from mawa.accounts.roles import Role
from mawa.core import jobs

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_printing_a_groups_cards_is_a_job_with_progress_and_one_pdf(
        browser_page, login_in_browser, users, group, register):
    people = [register(given_lat=name, service_number=f"S-{i}")[0]
              for i, name in enumerate(["Ali", "Omar", "Hassan"])]
    page = browser_page
    login_in_browser(page, users[Role.RECEPTION_OFFICER].username, language="en")
    page.goto(page.base + f"/reception/groups/{group.id}/")
    page.click("[data-testid=group-idcards]")
    page.wait_for_selector("[data-testid=idcards-form]")
    page.click("[data-testid=idcards-start]")
    page.wait_for_url("**/jobs/*/")
    assert page.get_attribute("[data-testid=job]", "data-state") == "queued"
    assert page.locator("[data-testid=job-cancel]").is_visible()

    jobs.jobs_work(batch=True)  # the worker, here in the test's thread

    # the page polls and shows the job done, with the cards counted and the download
    page.wait_for_selector("[data-testid=job][data-state=done]")
    assert "3 / 3" in page.inner_text("[data-testid=job-state]")
    assert page.inner_text("[data-testid=job-bar]").strip() == "100%"
    with page.expect_download() as info:
        page.click("[data-testid=job-download]")
    download = info.value
    assert download.suggested_filename.endswith("idcards.pdf")
    with open(download.path(), "rb") as fh:
        reader = PdfReader(io.BytesIO(fh.read()))
    text = "".join(p.extract_text() for p in reader.pages)
    assert len(reader.pages) == 1  # three cards on one sheet
    assert all(p.short_code in text for p in people)
    # the link worked once: the page now says so
    page.reload()
    page.wait_for_selector("[data-testid=job-taken]")
