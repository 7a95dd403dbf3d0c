"""Issue 17 in a real headless Chromium: a camp manager finds a conflict on the sync page, sees
the two versions side by side in their language and decides it — once, even when the button is
pressed twice in a hurry."""

import pytest

from mawa.accounts.roles import Role
from mawa.core.changes_models import SyncConflict
from mawa.sync import services as sync_services
from tests.sync.test_page import _conflict, _person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TEXTS = {
    "ar": {"dir": "rtl", "title": "المزامنة", "heading": "تعارض يجب البت فيه",
           "keep": "أبقِ النسخة الموجودة هنا", "done": "سُجّل القرار.",
           "empty": "لا يوجد تعارض بانتظار القرار."},
    "en": {"dir": "ltr", "title": "Synchronisation", "heading": "A conflict to decide",
           "keep": "Keep the version here", "done": "Decision recorded.",
           "empty": "No conflict is waiting."},
}


@pytest.fixture
def nodes(sites):
    import uuid

    from mawa.core.changes_models import Node, NodeRole

    installation = uuid.uuid4()
    Node.objects.create(code="HQ", role=NodeRole.HQ, site=sites["HQ"], public_key="00" * 32,
                        is_self=True, installation=installation)
    Node.objects.create(code="QAM", role=NodeRole.POST, site=sites["RHM"],
                        public_key="11" * 32, installation=installation)


@pytest.mark.parametrize("language", ["ar", "en"])
def test_a_manager_decides_a_conflict(browser_page, login_in_browser, users, sites, nodes,
                                      monkeypatch, language):
    texts = TEXTS[language]
    conflict = _conflict(_person(users[Role.RECEPTION_OFFICER], sites["RHM"], "Muhammad"),
                         "RHM")
    calls = []
    decide = sync_services.conflict_decide

    def counted(**kw):
        calls.append(kw["choice"])
        return decide(**kw)

    monkeypatch.setattr(sync_services, "conflict_decide", counted)
    manager = users[Role.CAMP_MANAGER]
    page = browser_page
    login_in_browser(page, manager.username, language=language)
    assert page.locator("html").get_attribute("dir") == texts["dir"]
    page.locator("nav a[data-nav]", has_text=texts["title"]).first.click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith(texts["title"])
    assert "QAM" in page.get_by_test_id("peer-list").inner_text()
    page.get_by_test_id("conflict-row").locator("a").click()
    page.wait_for_load_state()
    assert page.locator("h1").inner_text().startswith(texts["heading"])
    table = page.get_by_test_id("side-by-side")
    assert "Muhammad" in table.inner_text() and "Mohamed" in table.inner_text()
    assert "qam_officer" in page.get_by_test_id("side-incoming").inner_text()
    assert page.get_by_test_id("field-row").count() >= 1
    button = page.get_by_test_id("keep-current")
    assert button.inner_text().strip() == texts["keep"]
    button.dblclick()
    page.wait_for_url("**/sync/")
    assert texts["done"] in page.locator("main").inner_text()
    assert page.get_by_test_id("no-conflicts").inner_text() == texts["empty"]
    conflict.refresh_from_db()
    assert conflict.decision == "current" and conflict.decided_by == manager.username
    assert calls == ["current"]
    assert SyncConflict.objects.filter(decided_at__isnull=True).count() == 0
