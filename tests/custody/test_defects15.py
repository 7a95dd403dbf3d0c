"""Defects met on the way (issue 15), custody side."""

import uuid

from mawa.custody.models import Receipt


def _open(c, person, **extra):
    return c.post("/custody/surrender/", {"client_key": str(uuid.uuid4()),
                                          "person": person.short_code, **extra})


def test_a_receipt_is_never_recorded_at_another_site_than_the_working_one_without_a_word(
        client_for, officer, person, depot, sites):
    c = client_for(officer)
    c.post("/accounts/site/", {"site_id": str(depot.pk)})
    page = _open(c, person)
    assert page.status_code == 200 and not Receipt.objects.exists()  # choose the crossing
    assert "field-error" in page.content.decode()
    assert _open(c, person, site=str(sites["RHM"].pk)).status_code == 302  # chosen: recorded
    assert Receipt.objects.get().site == sites["RHM"]
    c.post("/accounts/site/", {"site_id": str(sites["RHM"].pk)})
    form = c.get("/custody/surrender/").content.decode()
    assert f'value="{sites["RHM"].pk}" selected' in form  # the working crossing is the default


def test_a_split_lot_child_is_not_a_new_surrender_at_the_depot(officer, surrender, store, sites):
    from mawa.custody import selectors, services
    from mawa.custody.models import Kind

    lot = surrender(kind=Kind.AMMUNITION, quantity=440)
    services.item_event_record(actor=officer, item=lot, kind="dispatched",
                               data={"to_site": "DEP", "escort": "Convoy 3"})
    services.item_event_record(actor=officer, item=lot, kind="received",
                               data={"store": str(store.pk)})
    lot.refresh_from_db()
    (child,) = services.lot_split(actor=officer, item=lot, parts=[100], client_key=uuid.uuid4())
    assert child.site == sites["RHM"] and child.location_site == store.site
    ammo = [line for line in selectors.reconciliation(user=officer)["lines"]
            if line["kind"] == Kind.AMMUNITION]
    assert [(line["site"], line["surrendered"]) for line in ammo] == [("RHM", 440)]
