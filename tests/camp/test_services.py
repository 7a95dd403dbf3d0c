"""The camp's services against the database: each rule, each bad input of the issue."""

import datetime as dt
import uuid

import pytest
from django.utils import timezone, translation

from mawa.camp import selectors, services
from mawa.camp.models import (
    Assignment,
    ItemType,
    Movement,
    RollCallStatus,
)
from mawa.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.reception.models import LifecycleEvent, Status

pytestmark = pytest.mark.django_db


def key():
    return uuid.uuid4()


# --- layout and assignments --------------------------------------------------------------

def test_layout_counts_capacity_and_occupancy_at_every_level(housed, layout, manager, camp):
    plan = selectors.camp_layout(user=manager, site=camp)
    assert plan.capacity == 8 and plan.occupied == 5
    a1 = next(b for b in plan.blocks if b.block.name == "A1")
    assert (a1.capacity, a1.occupied, a1.fill_class) == (6, 5, "fill-mid")
    assert [s.occupied for s in a1.shelters] == [3, 2]


def test_layout_reads_in_a_fixed_number_of_queries(housed, manager, camp,
                                                   django_assert_max_num_queries):
    with django_assert_max_num_queries(6):
        selectors.camp_layout(user=manager, site=camp)


def test_a_person_cannot_be_in_two_shelters_at_once(housed, layout, staff):
    with pytest.raises(Conflict) as exc:
        services.assignment_check_in(actor=staff, person=housed[0], shelter=layout["A2/T1"],
                                     client_key=key())
    assert exc.value.code == "already_assigned"
    assert "T1" in str(exc.value.message)
    assert Assignment.objects.filter(person=housed[0], end_at__isnull=True).count() == 1


def test_a_retried_check_in_returns_the_first_assignment(layout, make_person, staff):
    p, k = make_person(), key()
    first = services.assignment_check_in(actor=staff, person=p, shelter=layout["A2/T1"],
                                         client_key=k)
    again = services.assignment_check_in(actor=staff, person=p, shelter=layout["A2/T1"],
                                         client_key=k)
    assert first.pk == again.pk and Assignment.objects.filter(person=p).count() == 1


def test_over_capacity_is_refused_unless_a_manager_gives_a_reason(housed, layout, make_person,
                                                                  staff, manager):
    extra = make_person()
    with pytest.raises(Conflict) as exc:
        services.assignment_check_in(actor=staff, person=extra, shelter=layout["A1/T1"],
                                     client_key=key())
    assert exc.value.code == "over_capacity"
    with pytest.raises(Forbidden):
        services.assignment_check_in(actor=staff, person=extra, shelter=layout["A1/T1"],
                                     client_key=key(), override_reason="storm")
    a = services.assignment_check_in(actor=manager, person=extra, shelter=layout["A1/T1"],
                                     client_key=key(), override_reason="storm damage in A2")
    assert a.override_reason == "storm damage in A2"


def test_move_checks_out_and_in_keeping_history(housed, layout, staff):
    services.assignment_move(actor=staff, person=housed[0], shelter=layout["A2/T1"],
                             client_key=key(), reason="request")
    history = selectors.person_camp_history(person=housed[0])
    assert history["current"].shelter == layout["A2/T1"]
    assert len(history["assignments"]) == 2 and history["assignments"][1].end_at is not None


def test_a_repatriated_person_cannot_be_housed(layout, make_person, staff):
    with pytest.raises(Conflict) as exc:
        services.assignment_check_in(actor=staff, person=make_person(status="repatriated"),
                                     shelter=layout["A2/T1"], client_key=key())
    assert exc.value.code == "not_housable"


def test_group_assignment_interns_and_separates_officers(layout, make_person, manager, camp,
                                                         sites):
    people = [make_person(status="registered", site=sites["RHM"], rank="Captain", unit="17"),
              make_person(status="registered", site=sites["RHM"], rank="نقيب", unit="17"),
              make_person(status="registered", site=sites["RHM"], rank="Private", unit="17"),
              make_person(status="registered", site=sites["RHM"], rank="Sergeant", unit="17")]
    created = services.group_assign(actor=manager, site=camp, persons=people,
                                    block=layout["A1"], client_key=key())
    assert len(created) == 4
    by_shelter: dict = {}
    for a in created:
        by_shelter.setdefault(a.shelter_id, set()).add(
            services.rank_is_officer(a.person.rank))
    assert all(len(kinds) == 1 for kinds in by_shelter.values())  # never mixed
    for p in people:
        p.refresh_from_db()
        assert p.status == Status.INTERNED and p.current_site == camp
    assert LifecycleEvent.objects.filter(to_status=Status.INTERNED).count() == 4


def test_group_assignment_is_all_or_nothing(layout, make_person, manager, camp):
    people = [make_person() for _ in range(3)]
    with pytest.raises(Conflict) as exc:
        services.group_assign(actor=manager, site=camp, persons=people, block=layout["A2"],
                              client_key=key())
    assert exc.value.code == "over_capacity"
    assert not Assignment.objects.exists()


def test_group_assignment_retried_places_nobody_twice(layout, make_person, manager, camp):
    people = [make_person() for _ in range(2)]
    k = key()
    services.group_assign(actor=manager, site=camp, persons=people, block=layout["A1"],
                          client_key=k)
    services.group_assign(actor=manager, site=camp, persons=people, block=layout["A1"],
                          client_key=k)
    assert Assignment.objects.count() == 2


def test_split_units_spreads_a_unit_over_shelters(layout, make_person, manager, camp):
    people = [make_person(unit="Brigade 5") for _ in range(2)]
    created = services.group_assign(actor=manager, site=camp, persons=people,
                                    block=layout["A1"], client_key=key(),
                                    policies=["split_units"])
    assert len({a.shelter_id for a in created}) == 2


def test_rank_words_in_both_scripts():
    assert services.rank_is_officer("Lt. Colonel")
    assert services.rank_is_officer("ملازم أول")
    assert not services.rank_is_officer("Sergeant")
    assert not services.rank_is_officer("رقيب")


def test_staff_of_another_site_see_no_camp(housed, make_user, sites, camp):
    from mawa.accounts.roles import Role

    elsewhere = make_user("elsewhere", Role.CAMP_MANAGER, [sites["ZZZ"]])
    with pytest.raises(NotFound):
        selectors.camp_layout(user=elsewhere, site=camp)
    with pytest.raises(NotFound):
        selectors.block_get(user=elsewhere, block_id=housed[0].camp_assignments.get().block_id)


# --- movements ---------------------------------------------------------------------------

def test_hospital_movement_moves_the_lifecycle_and_back(housed, staff, camp):
    due = timezone.now() + dt.timedelta(days=2)
    m = services.movement_out(actor=staff, person=housed[0], kind="hospital", site=camp,
                              client_key=key(), due_back_at=due, destination="Central hospital")
    housed[0].refresh_from_db()
    assert housed[0].status == Status.HOSPITALISED
    assert [r.movement for r in selectors.people_out(user=staff, site=camp)] == [m]
    services.movement_return(actor=staff, movement=m)
    housed[0].refresh_from_db()
    assert housed[0].status == Status.INTERNED
    assert LedgerEntry.objects.filter(stream=f"person/{housed[0].id}").count() == 2


def test_an_overdue_person_is_flagged(housed, staff, camp):
    m = services.movement_out(actor=staff, person=housed[1], kind="visit", site=camp,
                              client_key=key(), due_back_at=timezone.now()
                              + dt.timedelta(hours=1))
    Movement.objects.filter(pk=m.pk).update(due_back_at=timezone.now() - dt.timedelta(hours=1))
    rows = selectors.people_out(user=staff, site=camp)
    assert rows[0].overdue


def test_a_temporary_movement_needs_a_due_back_time(housed, staff, camp):
    with pytest.raises(ValidationFailed) as exc:
        services.movement_out(actor=staff, person=housed[0], kind="visit", site=camp,
                              client_key=key())
    assert "due_back_at" in exc.value.fields


def test_repatriation_needs_protection_and_its_declaration(housed, staff, protection, camp):
    with pytest.raises(Forbidden):
        services.movement_out(actor=staff, person=housed[2], kind="repatriation", site=camp,
                              client_key=key())
    with pytest.raises(ValidationFailed):
        services.movement_out(actor=protection, person=housed[2], kind="repatriation",
                              site=camp, client_key=key())
    services.movement_out(actor=protection, person=housed[2], kind="repatriation", site=camp,
                          client_key=key(), details={
                              "declaration_date": timezone.localdate().isoformat(),
                              "declaration": "I wish to go home", "witness": "ICRC delegate"})
    housed[2].refresh_from_db()
    assert housed[2].status == Status.REPATRIATED
    assert not Assignment.objects.filter(person=housed[2], end_at__isnull=True).exists()


# --- roll calls --------------------------------------------------------------------------

def test_scan_roll_call_lists_missing_and_unexpected(housed, layout, make_person, staff, camp):
    out = services.movement_out(actor=staff, person=housed[4], kind="hospital", site=camp,
                                client_key=key(), due_back_at=timezone.now()
                                + dt.timedelta(days=1), destination="Clinic")
    stranger = make_person()
    rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key())
    for p in housed[:3]:
        assert services.rollcall_scan(actor=staff, roll_call=rc, code=p.short_code).expected
    # Arabic-Indic digits and lower case are the same code
    code = stranger.short_code.lower().translate(str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩"))
    assert not services.rollcall_scan(actor=staff, roll_call=rc, code=code).expected
    assert services.rollcall_scan(actor=staff, roll_call=rc, code=housed[0].short_code).repeated
    rc = services.rollcall_close(actor=staff, roll_call=rc)
    assert (rc.expected, rc.present, rc.missing, rc.unexpected) == (4, 3, 1, 1)
    assert rc.status == RollCallStatus.DISCREPANCY
    found = selectors.rollcall_findings(roll_call=rc)
    assert [ln.person for ln in found["missing"]] == [housed[3]]  # not the one in hospital
    assert [ln.person for ln in found["unexpected"]] == [stranger]
    assert out.is_open
    with pytest.raises(ValidationFailed):
        services.rollcall_resolve(actor=staff, roll_call=rc, reason="  ")
    rc = services.rollcall_resolve(actor=staff, roll_call=rc, reason="found at the clinic")
    assert rc.status == RollCallStatus.RESOLVED


def test_count_roll_call_reconciles_per_shelter(housed, layout, staff):
    rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key(),
                                 mode="count")
    services.rollcall_count(actor=staff, roll_call=rc, counts={
        layout["A1/T1"].id: 3, str(layout["A1/T2"].id): 1})
    rc = services.rollcall_close(actor=staff, roll_call=rc)
    assert (rc.expected, rc.present, rc.missing) == (5, 4, 1)
    counts = selectors.rollcall_findings(roll_call=rc)["counts"]
    assert [(c.shelter, c.difference) for c in counts] == [(layout["A1/T2"], -1)]


def test_roll_call_of_a_block_with_nobody_is_refused(layout, staff):
    with pytest.raises(Conflict) as exc:
        services.rollcall_start(actor=staff, block=layout["A2"], client_key=key())
    assert exc.value.code == "nobody_housed"


def test_a_bad_code_is_refused_with_a_message(housed, layout, staff):
    rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key())
    with pytest.raises(ValidationFailed) as exc:
        services.rollcall_scan(actor=staff, roll_call=rc, code="RHM-00001-Z")
    assert exc.value.code == "bad_code"


def test_reconciliation_reads_in_a_few_queries(housed, layout, staff,
                                               django_assert_max_num_queries):
    rc = services.rollcall_start(actor=staff, block=layout["A1"], client_key=key())
    with django_assert_max_num_queries(3):
        selectors.rollcall_reconcile(rc)


# --- distributions -----------------------------------------------------------------------

@pytest.fixture
def meals(camp, manager):
    lunch = services.item_type_create(actor=manager, site=camp, client_key=key(), data={
        "name_ar": "غداء", "name_en": "Lunch", "unit_cost": "2.50", "max_per_day": 1})
    iftar = services.item_type_create(actor=manager, site=camp, client_key=key(), data={
        "name_ar": "إفطار", "name_en": "Iftar", "unit_cost": "3.00", "max_per_day": 1},
        excludes=[lunch])
    for item in (lunch, iftar):
        services.stock_adjust(actor=manager, item=item, quantity=10, reason="delivery",
                              client_key=key())
    lunch.refresh_from_db()
    iftar.refresh_from_db()
    return lunch, iftar


def test_a_distribution_is_recorded_and_stock_goes_down(housed, meals, staff, camp):
    lunch, _ = meals
    services.distribution_record(actor=staff, item=lunch, person=housed[0], client_key=key())
    lunch.refresh_from_db()
    assert lunch.stock == 9
    assert selectors.camp_dashboard(user=staff, site=camp)["distributed_today"] == 1


def test_max_per_day_refuses_and_says_so(housed, meals, staff):
    lunch, _ = meals
    services.distribution_record(actor=staff, item=lunch, person=housed[0], client_key=key())
    with pytest.raises(services.Refused) as exc, translation.override("en"):
        services.distribution_record(actor=staff, item=lunch, person=housed[0],
                                     client_key=key())
    assert exc.value.code == "rule_max_per_day" and "maximum per day" in str(exc.value)


def test_mutually_exclusive_types_refuse_each_other(housed, meals, staff):
    lunch, iftar = meals
    services.distribution_record(actor=staff, item=iftar, person=housed[0], client_key=key())
    with pytest.raises(services.Refused) as exc:
        services.distribution_record(actor=staff, item=lunch, person=housed[0],
                                     client_key=key())
    assert exc.value.code == "rule_excludes" and "إفطار" in str(exc.value)


def test_distribution_to_a_repatriated_person_is_refused(meals, make_person, staff):
    lunch, _ = meals
    with pytest.raises(services.Refused) as exc:
        services.distribution_record(actor=staff, item=lunch,
                                     person=make_person(status="repatriated"), client_key=key())
    assert exc.value.code == "rule_entitled"


def test_a_person_out_of_the_camp_gets_no_meal(housed, meals, staff, camp):
    lunch, _ = meals
    services.movement_out(actor=staff, person=housed[0], kind="visit", site=camp,
                          client_key=key(), due_back_at=timezone.now() + dt.timedelta(hours=3))
    with pytest.raises(services.Refused) as exc:
        services.distribution_record(actor=staff, item=lunch, person=housed[0],
                                     client_key=key())
    assert exc.value.code == "rule_present"


def test_a_rule_that_excludes_itself_is_refused(meals, manager):
    lunch, _ = meals
    with pytest.raises(ValidationFailed) as exc:
        services.item_type_update(actor=manager, item=lunch, data={}, excludes=[lunch])
    assert "excludes" in exc.value.fields
    assert list(lunch.excludes.all()) != [lunch]


def test_negative_stock_is_refused(meals, manager):
    lunch, _ = meals
    with pytest.raises(ValidationFailed) as exc:
        services.stock_adjust(actor=manager, item=lunch, quantity=-11, reason="spoiled",
                              client_key=key())
    assert exc.value.code == "negative_stock"
    assert ItemType.objects.get(pk=lunch.pk).stock == 10


def test_days_of_supply_and_cost_of_hosting(housed, meals, staff, camp):
    lunch, _ = meals
    services.distribution_record(actor=staff, item=lunch, person=housed[0], client_key=key())
    rows = {r.item.name_en: r for r in selectors.stock_rows(user=staff, site=camp)}
    assert rows["Lunch"].days_of_supply == pytest.approx(9 / 5)
    cost = selectors.hosting_cost(site=camp, days=1)
    assert str(cost.total) == "2.50" and str(cost.per_person_per_day) == "0.50"


# --- incidents ---------------------------------------------------------------------------

def test_sensitive_incidents_only_for_protection(housed, staff, protection, camp):
    services.incident_report(actor=staff, site=camp, client_key=key(), kind="fire",
                             severity="high", occurred_at=timezone.now(), summary="Tent fire")
    secret = services.incident_report(actor=protection, site=camp, client_key=key(),
                                      kind="sgbv", severity="critical",
                                      occurred_at=timezone.now(), summary="…",
                                      persons=[housed[0]])
    assert selectors.incidents_visible(user=staff, site=camp).count() == 1
    assert selectors.incidents_visible(user=protection, site=camp).count() == 2
    with pytest.raises(NotFound):
        selectors.incident_get(user=staff, incident_id=secret.id)
    assert selectors.camp_dashboard(user=staff, site=camp)["incidents_open"] == 1
    services.incident_follow_up(actor=protection, incident=secret, note="referred", close=True)
    secret.refresh_from_db()
    assert secret.is_closed


# --- dashboard ---------------------------------------------------------------------------

def test_dashboard_numbers_equal_the_register(housed, make_person, staff, camp, layout):
    from mawa.reception.models import Person

    make_person(status="hospitalised")
    d = selectors.camp_dashboard(user=staff, site=camp)
    assert d["population"] == Person.objects.filter(
        current_site=camp, status__in=["interned", "hospitalised", "detained"]).count() == 6
    assert d["housed"] == Assignment.objects.filter(end_at__isnull=True).count() == 5
    assert d["capacity"] == 8


def test_dashboard_in_a_fixed_number_of_queries(housed, staff, camp,
                                                django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        selectors.camp_dashboard(user=staff, site=camp)


def test_camp_writes_are_on_the_ledger(housed):
    assert LedgerEntry.objects.filter(stream="camp/NUR", kind="camp.assignment.check_in") \
        .count() == 5
