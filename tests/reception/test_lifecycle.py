"""The lifecycle graph: allowed moves, their requirements, who may make them, the ledger."""

import datetime as dt

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mawa.core.ledger import ledger_payload, ledger_verify
from mawa.core.models import LedgerEntry
from mawa.reception import lifecycle, services
from mawa.reception.models import Category, Status


def _to_interned(person, officer, sites):
    person = services.person_transition(actor=officer, person=person, to=Status.DISARMED)
    person = services.person_transition(actor=officer, person=person, to=Status.REGISTERED)
    return services.person_transition(actor=officer, person=person, to=Status.INTERNED,
                                      details={"camp": "NUR"})


def test_every_status_is_reachable_from_arrived():
    seen, todo = {Status.ARRIVED}, [Status.ARRIVED]
    while todo:
        for t in lifecycle.transitions_from(todo.pop()):
            if t.target not in seen:
                seen.add(t.target)
                todo.append(t.target)
    # "merged" is reached from any state by a reviewer's decision, never from the person page
    assert seen | {Status.MERGED} == set(Status.values)
    assert all(lifecycle.merge_transition(s) for s in seen)
    assert lifecycle.merge_transition(Status.MERGED) is None


def test_terminal_states_have_no_way_out():
    for t in lifecycle.TRANSITIONS:
        assert t.source not in lifecycle.TERMINAL


def test_the_gate_to_camp_path_writes_history_and_ledger(register, officer, sites):
    person, _ = register()
    person = _to_interned(person, officer, sites)
    assert person.status == Status.INTERNED
    assert person.current_site == sites["NUR"]
    assert [e.to_status for e in person.events.order_by("at", "id")] == [
        "arrived", "disarmed", "registered", "interned"]
    entries = LedgerEntry.objects.filter(stream=f"person/{person.id}").order_by("seq")
    assert [e.kind for e in entries] == ["person.registered"] + ["person.transition"] * 3
    last = ledger_payload(entries.last())
    assert (last["from"], last["to"], last["recorded"]) == ("registered", "interned", ["camp"])
    assert person.events.last().ledger_seq == entries.last().seq
    assert ledger_verify().ok


def test_a_step_cannot_be_skipped(register, officer):
    person, _ = register()
    with pytest.raises(Conflict) as exc:
        services.person_transition(actor=officer, person=person, to=Status.INTERNED,
                                   details={"camp": "NUR"})
    assert exc.value.code == "transition_not_allowed"


def test_unknown_target_is_a_conflict(register, officer):
    person, _ = register()
    with pytest.raises(Conflict):
        services.person_transition(actor=officer, person=person, to="vanished")


def test_a_double_submit_moves_once(register, officer):
    person, _ = register()
    services.person_transition(actor=officer, person=person, to=Status.DISARMED,
                               expected_status=Status.ARRIVED)
    with pytest.raises(Conflict):
        services.person_transition(actor=officer, person=person, to=Status.REGISTERED,
                                   expected_status=Status.ARRIVED)


def test_internment_needs_a_camp_the_user_works_at(register, officer, sites):
    person, _ = register()
    services.person_transition(actor=officer, person=person, to=Status.DISARMED)
    services.person_transition(actor=officer, person=person, to=Status.REGISTERED)
    for camp in ("", "RHM", "ZZZ", "XXX"):
        with pytest.raises(ValidationFailed) as exc:
            services.person_transition(actor=officer, person=person, to=Status.INTERNED,
                                       details={"camp": camp})
        assert "camp" in exc.value.fields


def test_repatriation_requires_a_witnessed_voluntary_declaration(register, officer, users,
                                                                  sites):
    person = _to_interned(register()[0], officer, sites)
    protection = users[Role.PROTECTION_OFFICER]
    with pytest.raises(ValidationFailed) as exc:
        services.person_transition(actor=protection, person=person, to=Status.REPATRIATED,
                                   details={"declaration_date": "2020-01-01"})
    assert set(exc.value.fields) == {"declaration", "witness"}
    future = (timezone.now() + dt.timedelta(days=3)).date().isoformat()
    with pytest.raises(ValidationFailed) as exc:
        services.person_transition(actor=protection, person=person, to=Status.REPATRIATED,
                                   details={"declaration_date": future, "declaration": "I wish",
                                            "witness": "ICRC delegate"})
    assert "declaration_date" in exc.value.fields
    person = services.person_transition(
        actor=protection, person=person, to=Status.REPATRIATED,
        details={"declaration_date": "٢٠٢٤-٠٥-٠١", "declaration": "I wish to return",
                 "witness": "ICRC delegate"})
    assert person.status == Status.REPATRIATED
    assert person.events.last().details["declaration_date"] == "2024-05-01"


def test_asylum_referral_requires_a_renunciation_assessment(register, officer, users, sites):
    person = _to_interned(register()[0], officer, sites)
    protection = users[Role.PROTECTION_OFFICER]
    with pytest.raises(ValidationFailed) as exc:
        services.person_transition(actor=protection, person=person,
                                   to=Status.REFERRED_TO_ASYLUM)
    assert set(exc.value.fields) == {"renunciation_assessment", "assessed_by"}
    person = services.person_transition(
        actor=protection, person=person, to=Status.REFERRED_TO_ASYLUM,
        details={"renunciation_assessment": "RA-2024-17", "assessed_by": "UNHCR"})
    assert person.status == Status.REFERRED_TO_ASYLUM


def test_a_reception_officer_cannot_repatriate(register, officer, sites):
    person = _to_interned(register()[0], officer, sites)
    with pytest.raises(Forbidden):
        services.person_transition(actor=officer, person=person, to=Status.REPATRIATED,
                                   details={"declaration_date": "2024-01-01", "declaration": "x",
                                            "witness": "y"})


def test_an_outsider_gets_not_found(register, users):
    person, _ = register()
    with pytest.raises(NotFound):
        services.person_transition(actor=users["outsider"], person=person, to=Status.DISARMED)


def test_camp_staff_hospitalise_and_bring_back(register, officer, users, sites):
    person = _to_interned(register()[0], officer, sites)
    staff = users[Role.CAMP_STAFF]
    person = services.person_transition(actor=staff, person=person, to=Status.HOSPITALISED,
                                        details={"facility": "Camp clinic"})
    person = services.person_transition(actor=staff, person=person, to=Status.INTERNED)
    assert person.status == Status.INTERNED


def test_a_camp_only_user_sees_the_interned_person(register, officer, sites, make_user):
    person = _to_interned(register()[0], officer, sites)
    camp_only = make_user("camp_only", Role.CAMP_STAFF, [sites["NUR"]])
    person = services.person_transition(actor=camp_only, person=person, to=Status.ESCAPED,
                                        details={"note": "missing at roll call"})
    assert person.status == Status.ESCAPED


class TestSeparation:
    def test_a_civilian_is_separated_and_referred(self, register, officer):
        person, _ = register()
        person = services.person_separate(actor=officer, person=person,
                                          category=Category.CIVILIAN,
                                          referral_to="UNHCR reception centre")
        assert person.status == Status.REFERRED_OUT
        assert person.category == Category.CIVILIAN
        assert person.referral_to == "UNHCR reception centre"
        kinds = list(LedgerEntry.objects.filter(stream=f"person/{person.id}")
                     .order_by("seq").values_list("kind", flat=True))
        assert kinds == ["person.registered", "person.categorised", "person.transition"]

    def test_a_referral_needs_a_recipient(self, register, officer):
        person, _ = register()
        with pytest.raises(ValidationFailed):
            services.person_separate(actor=officer, person=person, category=Category.CHILD,
                                     referral_to="")
        person.refresh_from_db()
        assert person.category == Category.COMBATANT  # rolled back with the failed move

    def test_a_separated_child_cannot_be_interned(self, register, officer):
        person, _ = register(category="child", birth="")
        services.person_transition(actor=officer, person=person, to=Status.DISARMED)
        with pytest.raises(Conflict):
            services.person_transition(actor=officer, person=person, to=Status.REGISTERED)

    def test_a_combatant_cannot_be_referred_out(self, register, officer):
        person, _ = register()
        with pytest.raises(Conflict):
            services.person_transition(actor=officer, person=person, to=Status.REFERRED_OUT,
                                       details={"referral_to": "x"})

    def test_an_interned_person_can_no_longer_be_separated_here(self, register, officer,
                                                                 sites):
        person = _to_interned(register()[0], officer, sites)
        with pytest.raises(Conflict):
            services.person_separate(actor=officer, person=person, category=Category.CIVILIAN,
                                     referral_to="x")


def test_a_child_reaches_internment_only_by_the_protection_officers_decision(register, officer,
                                                                           users, sites):
    """Issue 15: children and civilians cannot reach combatant internment without the
    protection officer's decision, on the ledger."""
    person, _ = register(category=Category.CIVILIAN, birth="1990-01-01")
    person = services.person_transition(actor=officer, person=person, to=Status.DISARMED)
    with pytest.raises(Conflict):  # the combatants' track is closed to him
        services.person_transition(actor=officer, person=person, to=Status.REGISTERED)
    with pytest.raises((Forbidden, NotFound)):
        services.person_categorise(actor=officer, person=person, category=Category.COMBATANT,
                                   reason="Says he served")
    protection = users[Role.PROTECTION_OFFICER]
    with pytest.raises(ValidationFailed):
        services.person_categorise(actor=protection, person=person,
                                   category=Category.COMBATANT, reason=" ")
    services.person_categorise(actor=protection, person=person, category=Category.COMBATANT,
                               reason="Military ID found; interview")
    entry = LedgerEntry.objects.get(stream=f"person/{person.id}", kind="person.categorised")
    assert ledger_payload(entry)["decision"] is True
    person.refresh_from_db()
    person = services.person_transition(actor=officer, person=person, to=Status.REGISTERED)
    person = services.person_transition(actor=officer, person=person, to=Status.INTERNED,
                                        details={"camp": "NUR"})
    assert person.status == Status.INTERNED


def test_a_child_by_date_of_birth_is_never_made_a_combatant(register, users):
    from django.utils import timezone as tz

    born = tz.now().date().replace(year=tz.now().year - 15).isoformat()
    person, _ = register(category=Category.CHILD, birth=born)
    with pytest.raises(Conflict) as exc:
        services.person_categorise(actor=users[Role.PROTECTION_OFFICER], person=person,
                                   category=Category.COMBATANT, reason="Looks older")
    assert exc.value.code == "child_not_combatant"
