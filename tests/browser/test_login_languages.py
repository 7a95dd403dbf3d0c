"""In a real headless Chromium: every demo account signs in, in Arabic and in English."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def demo_accounts():
    from mawa.demo.loader import demo_load

    return demo_load(scenario=False)  # accounts only: the full scenario is tested elsewhere


@pytest.mark.parametrize("language,direction,sign_in,sign_out", [
    ("ar", "rtl", "تسجيل الدخول", "تسجيل الخروج"),
    ("en", "ltr", "Sign in", "Sign out"),
])
def test_every_demo_account_signs_in(browser_page, demo_accounts, login_in_browser, language,
                                     direction, sign_in, sign_out):
    page = browser_page
    page.context.add_cookies([{"name": "django_language", "value": language,
                               "url": page.base}])
    page.goto(page.base + "/accounts/login/")
    assert page.locator("html").get_attribute("dir") == direction
    assert page.locator("html").get_attribute("lang") == language
    assert sign_in in page.locator("button[type=submit]").inner_text()
    for account in demo_accounts:
        login_in_browser(page, account["username"], account["password"])
        assert page.url.rstrip("/") == page.base, account["username"]
        assert page.locator("html").get_attribute("dir") == direction
        assert sign_out in page.locator("nav").inner_text()
        page.click(f"nav button:has-text('{sign_out}')")
        page.wait_for_url("**/accounts/login/")


def test_wrong_password_shows_the_error_in_arabic(browser_page, demo_accounts):
    page = browser_page
    page.goto(page.base + "/accounts/login/")
    page.fill("input[name=username]", "reception")
    page.fill("input[name=password]", "wrong-password-123")
    page.click("button[type=submit]")
    assert "اسم المستخدم أو كلمة المرور غير صحيحة" in page.get_by_test_id(
        "login-error").inner_text()
    # what was typed is kept
    assert page.input_value("input[name=username]") == "reception"


def test_language_switch_flips_direction_and_text(browser_page, demo_accounts,
                                                  login_in_browser):
    page = browser_page
    admin = next(a for a in demo_accounts if a["username"] == "admin")
    login_in_browser(page, admin["username"], admin["password"])
    page.goto(page.base + "/sites/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.locator("h1").inner_text() == "المواقع"
    page.get_by_test_id("lang-switch").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("dir") == "ltr"
    assert page.locator("h1").inner_text() == "Sites"
    assert page.url.endswith("/sites/")
