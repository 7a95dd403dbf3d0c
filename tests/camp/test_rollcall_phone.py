"""Issue 21, point 6: roll call one-handed — head count by default, counts that update as
they are saved (htmx), "finish" that says it saves, discrepancies with the next step."""

import re
import uuid

import pytest
from django.urls import reverse

from mawa.camp.models import RollCall

pytestmark = pytest.mark.django_db


def _start(c, layout, **extra):
    c.post(reverse("camp:rollcalls"), {"block": layout["A1"].id, "client_key": uuid.uuid4(),
                                       "mode": "count", **extra})
    rc = RollCall.objects.get()
    return rc, reverse("camp:rollcall", args=[rc.id])


def test_head_count_is_the_default_method(client_for, staff, layout):
    html = client_for(staff).get(reverse("camp:rollcalls")).content.decode()
    assert '<option value="count" selected>' in html
    assert 'data-testid="rc-start"' in html


def test_no_start_form_without_camp_operate(client_for, protection, layout):
    html = client_for(protection).get(reverse("camp:rollcalls")).content.decode()
    assert 'data-testid="rc-start"' not in html


def test_saved_counts_update_the_header(client_for, staff, housed, layout):
    c = client_for(staff)
    rc, url = _start(c, layout)
    t1, t2 = layout["A1/T1"], layout["A1/T2"]
    part = c.post(url, {"what": "count", f"count_{t1.id}": "٣"}, HTTP_HX_REQUEST="true")
    html = part.content.decode()
    assert html.startswith('<div id="rc-counts"') or 'id="rc-counts"' in html[:80]
    assert 'data-testid="rc-scanned">3<' in html and 'data-testid="rc-saved"' in html
    page = c.get(url).content.decode()
    assert 'data-testid="rc-scanned">3<' in page
    c.post(url, {"what": "count", f"count_{t2.id}": "1"}, HTTP_HX_REQUEST="true")
    assert 'data-testid="rc-scanned">4<' in c.get(url).content.decode()


def test_finish_saves_the_counts_typed_then_reconciles(client_for, staff, housed, layout):
    c = client_for(staff)
    rc, url = _start(c, layout)
    t1, t2 = layout["A1/T1"], layout["A1/T2"]
    c.post(url, {"what": "close", f"count_{t1.id}": "3", f"count_{t2.id}": "1"})
    rc.refresh_from_db()
    assert rc.status == "discrepancy"
    page = c.get(url).content.decode()
    # "T2: 1 person missing", never "T2: -1", with the next steps as buttons
    said = re.search(r'data-testid="count-missing">([^<]*)<', page).group(1)
    assert said == "شخص واحد مفقود" and "-" not in said
    assert reverse("camp:shelter", args=[t2.id]) in page
    assert reverse("camp:movements") in page


def test_missing_person_has_next_steps(client_for, staff, housed, layout):
    c = client_for(staff)
    rc, url = _start(c, layout, mode="scan")
    for p in housed[1:3]:
        c.post(url, {"what": "scan", "code": p.short_code})
    c.post(url, {"what": "close"})
    page = c.get(url).content.decode()
    missing = housed[0]
    assert reverse("reception:person_detail", args=[missing.id]) in page
    assert f'{reverse("camp:movements")}?code={missing.short_code}' in page
    form = c.get(f'{reverse("camp:movements")}?code={missing.short_code}').content.decode()
    assert f'value="{missing.short_code}"' in form
