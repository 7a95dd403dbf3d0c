"""Camp pages: every page renders for camp staff; the roll call and a refused distribution
work through the forms; another site's camp answers 404."""

import uuid

import pytest
from django.urls import reverse

from mawa.camp import services
from mawa.camp.models import RollCall

pytestmark = pytest.mark.django_db


@pytest.fixture
def lunch(camp, manager):
    item = services.item_type_create(actor=manager, site=camp, client_key=uuid.uuid4(), data={
        "name_ar": "غداء", "name_en": "Lunch", "max_per_day": 1})
    services.stock_adjust(actor=manager, item=item, quantity=5, reason="delivery",
                          client_key=uuid.uuid4())
    return item


def test_every_camp_page_renders(client_for, staff, housed, layout, lunch):
    c = client_for(staff)
    for url in (reverse("camp:home"), reverse("camp:rollcalls"), reverse("camp:movements"),
                reverse("camp:distributions"), reverse("camp:incidents"),
                reverse("camp:receive"), reverse("camp:block", args=[layout["A1"].id]),
                reverse("camp:shelter", args=[layout["A1/T1"].id])):
        assert c.get(url).status_code == 200, url
    home = c.get(reverse("camp:home")).content.decode()
    assert "<svg" in home and reverse("camp:block", args=[layout["A1"].id]) in home


def test_scan_roll_call_through_the_page(client_for, staff, housed, layout):
    c = client_for(staff)
    r = c.post(reverse("camp:rollcalls"), {"block": layout["A1"].id, "mode": "scan",
                                           "client_key": uuid.uuid4()})
    rc = RollCall.objects.get()
    assert r.status_code == 302
    url = reverse("camp:rollcall", args=[rc.id])
    for p in housed[1:]:
        c.post(url, {"what": "scan", "code": p.short_code})
    c.post(url, {"what": "close"})
    page = c.get(url).content.decode()
    assert housed[0].short_code in page
    rc.refresh_from_db()
    assert rc.missing == 1


def test_refused_distribution_shows_the_rule(client_for, staff, housed, lunch):
    c = client_for(staff)
    url = reverse("camp:distributions")
    data = {"what": "give", "item": lunch.id, "code": housed[0].short_code, "quantity": "١"}
    assert c.post(url, {**data, "client_key": uuid.uuid4()}).status_code == 302
    page = c.post(url, {**data, "client_key": uuid.uuid4()}).content.decode()
    assert "data-testid=\"refusal\"" in page and "rule" not in page.split("refusal")[0][-5:]


def test_camp_staff_of_another_site_get_404(client, make_user, sites, layout):
    from mawa.accounts.roles import Role

    other = make_user("far", Role.CAMP_STAFF, [sites["ZZZ"]])
    client.force_login(other)
    assert client.get(reverse("camp:block", args=[layout["A1"].id])).status_code == 404


def test_home_panel_matches_the_dashboard(client_for, staff, housed):
    from mawa.camp.panels import camp_panel

    class R:
        user, site = staff, None

    panel = camp_panel(R())
    assert panel["metrics"][1]["value"] == 5



def test_the_block_page_names_the_block_not_the_template_block(client_for, staff, housed,
                                                               layout):
    # inside {% block %} the name ``block`` is the template block itself ("camp", "title")
    html = client_for(staff).get(reverse("camp:block", args=[layout["A1"].id])).content.decode()
    heading = html.split("<h1", 1)[1].split("</h1>", 1)[0]
    title = html.split("<title>", 1)[1].split("</title>", 1)[0]
    assert "A1" in heading and "camp" not in heading
    assert "A1" in title and "title" not in title


def test_the_population_by_status_is_in_words_of_the_page_language(client_for, staff, housed):
    from django.utils import translation

    with translation.override("ar"):
        html = client_for(staff).get(reverse("camp:home") + "?site=NUR").content.decode()
    assert "محتجز" in html and "· interned" not in html
