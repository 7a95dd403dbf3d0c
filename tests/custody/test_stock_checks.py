"""Stock checks (IDDRS 4.10 §7.3): a sample anyone can re-derive, discrepancies on record."""

import datetime as dt
import math
import uuid

import pytest
from django.utils import timezone

from mawa.core.errors import Conflict, NotFound
from mawa.core.models import LedgerEntry
from mawa.custody import services
from mawa.custody.models import Kind, State, StockCheck
from mawa.custody.verify import custody_verify

pytestmark = pytest.mark.django_db


@pytest.fixture
def stocked(officer, surrender, gate_store):
    items = [surrender() for _ in range(23)]
    lot = surrender(kind=Kind.AMMUNITION, quantity=500)
    for item in [*items, lot]:
        services.item_event_record(actor=officer, item=item, kind="stored",
                                   data={"store": str(gate_store.pk), "bay": "B1"})
    return items, lot


def test_weekly_sample_is_ten_percent_and_rederives(officer, gate_store, stocked):
    check = services.stock_check_start(actor=officer, store=gate_store, scope="weekly",
                                       client_key=uuid.uuid4())
    assert len(check.population) == 23 and len(check.sample) == math.ceil(2.3)
    start = LedgerEntry.objects.get(kind="stock_check_started")
    assert check.seed == start.prev_hash  # the head before the check began
    assert services.stock_check_rederive(check)
    assert services.sample_draw(check.seed, check.population, "weekly") == check.sample
    assert check.expected_counts == {"SA-assault": 23, "ammunition": 500}


def test_a_tampered_sample_does_not_rederive(officer, gate_store, stocked):
    check = services.stock_check_start(actor=officer, store=gate_store, scope="weekly",
                                       client_key=uuid.uuid4())
    check.sample = sorted(check.population)[:3]
    check.save(update_fields=["sample"])
    assert not services.stock_check_rederive(check) or check.sample == sorted(
        services.sample_draw(check.seed, check.population, "weekly"))


def test_full_check_samples_every_serial(officer, gate_store, stocked):
    check = services.stock_check_start(actor=officer, store=gate_store, scope="full",
                                       client_key=uuid.uuid4())
    assert check.sample == check.population


def test_one_open_check_per_store(officer, gate_store, stocked):
    services.stock_check_start(actor=officer, store=gate_store, scope="weekly",
                               client_key=uuid.uuid4())
    with pytest.raises(Conflict):
        services.stock_check_start(actor=officer, store=gate_store, scope="full",
                                   client_key=uuid.uuid4())


def test_a_clean_check_has_no_discrepancy(officer, gate_store, stocked):
    items, lot = stocked
    check = services.stock_check_start(actor=officer, store=gate_store, scope="weekly",
                                       client_key=uuid.uuid4())
    by_tag = {i.short_code: i for i in items}
    for tag in check.sample:
        services.stock_check_scan(actor=officer, check=check, code=tag.lower(),
                                  serial=by_tag[tag].serial_number)
    services.stock_check_scan(actor=officer, check=check, code=lot.short_code, quantity=500)
    check = services.stock_check_close(actor=officer, check=check,
                                       counted={"SA-assault": 23, "ammunition": 500})
    assert check.status == "closed" and not check.discrepancies.exists()
    assert services.stock_check_overdue(gate_store) == ["full"]
    assert custody_verify().ok


def test_missing_item_opens_a_discrepancy_resolved_as_loss(officer, gate_store, stocked):
    items, _lot = stocked
    check = services.stock_check_start(actor=officer, store=gate_store, scope="weekly",
                                       client_key=uuid.uuid4())
    for tag in check.sample[1:]:
        services.stock_check_scan(actor=officer, check=check, code=tag)
    check = services.stock_check_close(actor=officer, check=check, counted={"SA-assault": 22})
    discs = list(check.discrepancies.order_by("id"))
    assert len(discs) == 2  # the count and the unseen sampled weapon
    unseen = next(d for d in discs if d.item_id)
    assert unseen.item.short_code == check.sample[0]
    assert unseen.item.events.filter(kind="discrepancy_reported").exists()
    services.discrepancy_resolve(actor=officer, discrepancy=unseen, resolution="loss",
                                 note="Reported to HQ")
    unseen.item.refresh_from_db()
    assert unseen.item.state == State.MISSING
    assert LedgerEntry.objects.filter(kind="discrepancy_resolved").count() == 1
    assert custody_verify().ok


def test_a_wrong_serial_is_a_discrepancy(officer, gate_store, stocked):
    check = services.stock_check_start(actor=officer, store=gate_store, scope="full",
                                       client_key=uuid.uuid4())
    services.stock_check_scan(actor=officer, check=check, code=check.sample[0], serial="NOPE")
    check = services.stock_check_close(actor=officer, check=check, counted={})
    assert any("serial differs" in d.description for d in check.discrepancies.all())


def test_an_unknown_tag_is_refused(officer, gate_store, stocked):
    check = services.stock_check_start(actor=officer, store=gate_store, scope="weekly",
                                       client_key=uuid.uuid4())
    with pytest.raises(NotFound):
        services.stock_check_scan(actor=officer, check=check, code="RHM-99999-A")


def test_overdue_checks(gate_store):
    assert services.stock_check_overdue(gate_store) == ["weekly", "full"]
    StockCheck.objects.filter(store=gate_store).delete()
    later = timezone.now() + dt.timedelta(days=400)
    assert "weekly" in services.stock_check_overdue(gate_store, now=later)
