"""Issue 15: a merged duplicate counts nowhere (group counts, reports) and prints nothing."""

import uuid

import pytest
from django.utils import timezone

from mawa.accounts.roles import Role
from mawa.core.services import short_code_next
from mawa.matching import services
from mawa.matching.models import MatchPair, PairKind
from mawa.reception import selectors as reception
from mawa.reception.idcards import group_cards_persons
from mawa.reception.models import ArrivalGroup, LifecycleEvent, Person, Status


@pytest.fixture
def pair_in_group(sites, users, homsi, homsi_again):
    group = ArrivalGroup.objects.create(
        site=sites["RHM"], short_code=short_code_next(site=sites["RHM"]),
        client_key=uuid.uuid4(), arrived_at=timezone.now(), reported_count=2,
        created_by=users[Role.RECEPTION_OFFICER])
    Person.objects.filter(pk__in=[homsi.pk, homsi_again.pk]).update(group=group)
    return group


def _merge(officer, homsi):
    pair = MatchPair.objects.get(kind=PairKind.DUPLICATE)
    services.pair_decide(actor=officer, pair=pair, decision="match", reason="Same book",
                         survivor=homsi)


def test_the_merge_is_a_lifecycle_move(officer, homsi, homsi_again, pair_in_group):
    _merge(officer, homsi)
    homsi_again.refresh_from_db()
    assert homsi_again.status == Status.MERGED
    assert LifecycleEvent.objects.filter(person=homsi_again, to_status=Status.MERGED).exists()


def test_a_merged_duplicate_is_not_counted_in_its_group(officer, homsi, pair_in_group):
    assert reception.arrival_group_counts([pair_in_group.id])[pair_in_group.id] \
        .registered_total == 2
    _merge(officer, homsi)
    assert reception.arrival_group_counts([pair_in_group.id])[pair_in_group.id] \
        .registered_total == 1


def test_a_merged_duplicate_gets_no_id_card(officer, homsi, pair_in_group, users):
    _merge(officer, homsi)
    cards = group_cards_persons(user=users[Role.RECEPTION_OFFICER], group=pair_in_group)
    assert [p.pk for p in cards] == [homsi.pk]


def test_a_merged_duplicate_is_not_in_the_report(officer, homsi, pair_in_group):
    from mawa.reports import selectors as reports

    scope = reports.sitrep_scope(user=None, day=timezone.now().date())
    assert reports.sitrep_population(scope)["total"] == 2
    _merge(officer, homsi)
    assert reports.sitrep_population(scope)["total"] == 1
    assert reports.sitrep_arrivals(scope)["total"] == 1
