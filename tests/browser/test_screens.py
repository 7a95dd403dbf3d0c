"""The screenshots of issue 21's "done when", in Arabic, taken from the real pages.

``MAWA_SCREENS=1`` writes them to ``docs/screens/`` (PNG, kept under 300 KB); otherwise they go
to a temporary directory, and the test still checks what they show: the phone pages fit 390 px,
codes stay whole, each value sits on the row of its label."""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 860}
MAX_BYTES = 300_000


def save(page, path: Path, *, full_page: bool = False) -> None:
    """A screenshot, palette-reduced when it would pass the size limit."""
    data = page.screenshot(full_page=full_page)
    if len(data) > MAX_BYTES:
        from PIL import Image

        image = Image.open(io.BytesIO(data)).convert("RGB").quantize(colors=128)
        out = io.BytesIO()
        image.save(out, format="PNG", optimize=True)
        data = out.getvalue()
    assert len(data) <= MAX_BYTES, (path.name, len(data))
    path.write_bytes(data)


@pytest.fixture
def screens_dir(tmp_path):
    if os.environ.get("MAWA_SCREENS"):
        path = Path(__file__).resolve().parents[2] / "docs" / "screens"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path


def same_row(page, label_selector: str, value_selector: str) -> bool:
    """The label and its value share a line (their vertical extents overlap)."""
    a = page.locator(label_selector).first.bounding_box()
    b = page.locator(value_selector).first.bounding_box()
    return a["y"] < b["y"] + b["height"] and b["y"] < a["y"] + a["height"]


def test_screens_of_the_officer_pages_in_arabic(chromium, live_server, small_operation,
                                                login_in_browser, screens_dir):
    from mawa.accounts.models import User
    from mawa.accounts.roles import Role
    from mawa.camp import services as camp
    from mawa.camp.models import Assignment
    from mawa.custody.models import Item

    accounts = {a["role"]: a for a in small_operation}
    base = live_server.url
    # an open head count for this morning, a few tents counted
    block = Assignment.objects.filter(end_at__isnull=True).select_related("block").first().block
    camp.rollcall_start(actor=User.objects.get(role=Role.CAMP_STAFF), block=block, mode="count",
                        day=dt.date.today(), client_key=uuid.uuid4())
    item = Item.objects.filter(kind="weapon", state="in_custody").exclude(
        serial_number="").order_by("short_code").first()

    def signed_in(role, viewport):
        context = chromium.new_context(viewport=viewport, device_scale_factor=1)
        page = context.new_page()
        page.set_default_timeout(15000)
        page.base = base
        account = accounts[role]
        login_in_browser(page, account["username"], account["password"], language="ar")
        return context, page

    # the person list on a phone
    context, page = signed_in(Role.RECEPTION_OFFICER, PHONE)
    page.goto(base + "/reception/persons/")
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    code = page.locator("#rows a.code").first
    box = code.bounding_box()
    assert box["height"] < 30, "a code broken over two lines"
    save(page, screens_dir / "person-list-phone-ar.png")
    # the registration page, on a desk
    page.set_viewport_size(DESKTOP)
    page.goto(base + "/reception/persons/new/")
    save(page, screens_dir / "registration-ar.png")
    context.close()

    # the roll call on a phone
    context, page = signed_in(Role.CAMP_STAFF, PHONE)
    page.goto(base + "/camp/rollcalls/")
    page.locator("main .list-group-item a[href*='/camp/rollcalls/']").first.click()
    page.wait_for_load_state()
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    save(page, screens_dir / "rollcall-phone-ar.png")
    context.close()

    # the custody item page, on a desk
    context, page = signed_in(Role.CUSTODY_OFFICER, DESKTOP)
    page.goto(f"{base}/custody/items/{item.short_code}/")
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert same_row(page, "dt:has-text('الرقم التسلسلي')", "dd.code")
    save(page, screens_dir / "custody-item-ar.png")
    context.close()
