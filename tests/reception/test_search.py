"""The person search by name, number and code (``selectors.person_search``).

Every result is compared with a plain Python reading of the rule — a person is found when
each name key of the search is one of their name keys (or their service or document number is
the number typed), and is visible when registered at or held at one of the user's sites —
newest first, page after page. The search starts from its smallest side (the rarest key, the
group and status asked, or the user's sites) and the tests build data where each side is the
smallest, so that every walk is checked.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mawa.accounts.roles import Role
from mawa.names import search_keys
from mawa.reception import selectors, services
from mawa.reception.models import Person, PersonNameKey, Status
from mawa.reception.services import DocumentInput, PersonInput
from mawa.reception.values import document_key


def expected(user, q: str = "", *, status=None, group_id=None) -> list:
    """Ids the search must return, newest first: the rule, read naively in Python."""
    from mawa.accounts import access

    sites = access.site_ids(user)
    keys = set(search_keys(q, query=True)[:6])
    number = document_key(q)
    by_number = bool(number) and any(ch.isdigit() for ch in number)
    carried: dict = {}
    for person_id, key in PersonNameKey.objects.values_list("person_id", "key"):
        carried.setdefault(person_id, set()).add(key)
    out = []
    for p in Person.objects.prefetch_related("documents"):
        if sites is not None and p.site_id not in sites and p.current_site_id not in sites:
            continue
        if status and p.status != status or group_id and p.group_id != group_id:
            continue
        by_name = keys <= carried.get(p.id, set())
        numbered = by_number and (p.service_number == number or any(
            document_key(d.number) == number for d in p.documents.all()))
        if by_name and not by_number or (by_number and (numbered or keys and by_name)):
            out.append(p.id)
    return sorted(out, reverse=True)


def all_pages(user, q: str, *, limit: int, **filters) -> list:
    """Every page of a search, following the cursor; the ids in the order they came."""
    seen, after = [], None
    for _ in range(100):
        page = selectors.person_search(user=user, q=q, after=after, limit=limit, **filters)
        seen += [p.id for p in page.persons]
        assert len(page.persons) <= limit
        after = page.next_cursor
        if not after:
            return seen
    raise AssertionError("the cursor never ended")


@pytest.fixture
def outsider(users):
    """A reception officer at ZZZ only."""
    return users["outsider"]


@pytest.fixture
def at_zzz(sites, outsider):
    """Register a person at ZZZ (the outsider's crossing)."""

    def make(**values):
        base = {"sex": "male", "given_ar": "زيد"}
        base.update(values)
        person, _ = services.person_register(
            actor=outsider, site=sites["ZZZ"], client_key=uuid.uuid4(),
            data=PersonInput(values=base, birth="1990"))
        return person

    return make


@pytest.fixture
def move_to_nur(make_user, sites):
    """The lifecycle from ZZZ to the NUR camp, by an officer working at both: the person is
    then held at NUR, still registered at ZZZ."""
    mover = make_user("mover", Role.RECEPTION_OFFICER, [sites["ZZZ"], sites["NUR"]])

    def move(person):
        for to, details in (("disarmed", {}), ("registered", {}),
                            ("interned", {"camp": "NUR"})):
            person = services.person_transition(actor=mover, person=person, to=to,
                                                details=details)
        return person

    return move


def walk_sql(ctx) -> str:
    """The query that walked the search (after the counts), as SQL text."""
    found = [q["sql"] for q in ctx.captured_queries
             if "DISTINCT" in q["sql"] or "UNION ALL" in q["sql"]
             or ("EXISTS" in q["sql"] and "count(*)" not in q["sql"])]
    assert len(found) == 1, found
    return found[0]


def test_every_token_must_match_some_part_and_a_key_carried_twice_counts_once(register):
    twice, _ = register(given_ar="محمد", father_ar="محمد", family_ar="الحلبي",
                        given_lat="Mohammed", family_lat="Halabi")
    no_latin = {"given_lat": "", "family_lat": ""}
    plain, _ = register(given_ar="محمد", father_ar="أحمد", family_ar="الحلبي", **no_latin)
    other_family, _ = register(given_ar="محمد", father_ar="علي", family_ar="السوري",
                               **no_latin)
    other_given, _ = register(given_ar="أحمد", father_ar="سعيد", family_ar="الحلبي",
                              **no_latin)
    officer = twice.registered_by
    # محمد and Mohammed are one key, carried as given and as father's name
    assert PersonNameKey.objects.filter(person=twice, key="muhammad").count() == 2

    def ids(q, **kw):
        return [p.id for p in selectors.person_search(user=officer, q=q, **kw).persons]

    assert ids("محمد الحلبي") == [plain.id, twice.id]
    assert ids("الحلبي  محمد") == [plain.id, twice.id]  # any order, any part
    assert ids("محمد محمد") == [other_family.id, plain.id, twice.id]  # one condition
    assert ids("أحمد الحلبي") == [other_given.id, plain.id]  # father's name of one
    # across scripts: the Latin spelling finds the persons registered in Arabic only, too
    assert ids("Mohammed al-Halabi") == [plain.id, twice.id]
    assert ids("محمد الحلبي السوري") == []
    # one result per page: the person carrying the key twice comes once, nobody is skipped
    assert all_pages(officer, "محمد", limit=1) == [other_family.id, plain.id, twice.id]
    assert all_pages(officer, "محمد", limit=2) == [other_family.id, plain.id, twice.id]


def test_a_person_at_another_site_is_never_found_one_moved_to_mine_is(
        register, at_zzz, move_to_nur, outsider, users, sites):
    officer = users[Role.RECEPTION_OFFICER]  # RHM and NUR
    mine, _ = register(given_ar="زيد", family_ar="الحلبي")
    elsewhere = at_zzz(family_ar="الحلبي")
    moved = move_to_nur(at_zzz(family_ar="الحلبي"))
    assert moved.site == sites["ZZZ"] and moved.current_site == sites["NUR"]

    def ids(user, q):
        return [p.id for p in selectors.person_search(user=user, q=q).persons]

    assert ids(officer, "زيد الحلبي") == sorted([mine.id, moved.id], reverse=True)
    assert ids(officer, "زيد الحلبي") == expected(officer, "زيد الحلبي")
    # registered at ZZZ, so still seen there after the move; RHM's person never
    assert ids(outsider, "زيد الحلبي") == sorted([elsewhere.id, moved.id], reverse=True)
    assert ids(outsider, elsewhere.short_code) == [elsewhere.id]
    assert ids(outsider, mine.short_code) == []
    # every site (headquarters roles): all three
    assert ids(users[Role.INVESTIGATOR], "زيد الحلبي") == sorted(
        [mine.id, elsewhere.id, moved.id], reverse=True)


@pytest.fixture
def crowd(register, at_zzz, move_to_nur, users):
    """Fourteen persons at RHM (محمد common, الحلبي rarer, one carrying محمد twice, some
    disarmed), three at ZZZ (one moved to the NUR camp)."""
    officer = users[Role.RECEPTION_OFFICER]
    made = []
    for i, (given, father, family) in enumerate((
            ("محمد", "أحمد", "الحلبي"), ("محمد", "محمد", "الحلبي"), ("محمد", "علي", "السوري"),
            ("أحمد", "محمد", "الحلبي"), ("محمد", "أحمد", "الشامي"), ("محمد", "خالد", "الحلبي"),
            ("علي", "محمد", "السوري"), ("محمد", "محمد", "الشامي"), ("محمد", "عمر", "الحلبي"),
            ("عمر", "علي", "الشامي"), ("محمد", "أحمد", "السوري"), ("محمد", "سعيد", "الحلبي"),
            ("سعيد", "محمد", "الحلبي"), ("محمد", "أحمد", "الحلبي"))):
        person, _ = register(given_ar=given, father_ar=father, family_ar=family,
                             service_number=f"S-{i}")
        if i % 4 == 1:
            services.person_transition(actor=officer, person=person, to="disarmed")
        made.append(person)
    made.append(at_zzz(given_ar="محمد", family_ar="الحلبي"))
    made.append(move_to_nur(at_zzz(given_ar="محمد", family_ar="الحلبي")))
    made.append(at_zzz(given_ar="زيد", family_ar="الحلبي"))
    return made


SEARCHES = ("محمد", "محمد الحلبي", "الحلبي محمد أحمد", "محمد محمد", "Mohammed", "زيد", "عمرو",
            "محمد 12345", "S-3", ".")


@pytest.mark.parametrize("limit", [2, 5])
def test_pages_follow_the_rule_without_duplicates_or_gaps(crowd, users, outsider, group,
                                                          limit):
    for user in (users[Role.RECEPTION_OFFICER], outsider, users[Role.INVESTIGATOR]):
        for q in SEARCHES:
            for filters in ({}, {"status": Status.DISARMED},
                            {"status": Status.ARRIVED, "group_id": group.id}):
                got = all_pages(user, q, limit=limit, **filters)
                assert len(got) == len(set(got)), (user, q, filters)
                assert got == expected(user, q, **filters), (user, q, filters)


def test_the_walk_starts_from_the_smallest_side(crowd, users, outsider):
    officer = users[Role.RECEPTION_OFFICER]

    def walk(user, q, **filters):
        with CaptureQueriesContext(connection) as ctx:
            page = selectors.person_search(user=user, q=q, **filters)
        assert [p.id for p in page.persons] == expected(user, q, **filters)
        return walk_sql(ctx)

    # the rarer key (الشامي: 3 persons, محمد: 13) drives, the other is probed
    sql = walk(officer, "محمد الشامي")
    assert "DISTINCT" in sql and "personnamekey" in sql.split("WHERE")[0]
    # a status fewer persons have than any key drives: the persons, each key probed
    sql = walk(officer, "محمد", status=Status.DISARMED)
    assert "DISTINCT" not in sql and "UNION ALL" not in sql and "EXISTS" in sql
    # a user whose sites hold fewer persons than the key: their sites, newest first
    assert "UNION ALL" in walk(outsider, "محمد")


def test_a_key_nobody_carries_ends_the_search_after_the_counts(crowd, users):
    officer = users[Role.RECEPTION_OFFICER]
    with CaptureQueriesContext(connection) as ctx:
        page = selectors.person_search(user=officer, q="محمد عمرو")
    assert page.persons == [] and page.next_cursor is None
    register_reads = [q["sql"] for q in ctx.captured_queries if "reception_" in q["sql"]]
    assert len(register_reads) == 1 and "count(*)" in register_reads[0]


def test_number_or_name(register, users, sites):
    """Text with a digit is also a number: the persons with that service or document number,
    or those carrying every name key of the text, newest first, on every page."""
    officer = users[Role.RECEPTION_OFFICER]
    by_service, _ = register(given_ar="علي", service_number="12345")
    by_document, _ = services.person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "عمر", "sex": "male"},
                         documents=[DocumentInput(kind="passport", number="12-345")]))
    by_key, _ = register(given_ar="سعيد", service_number="S-9")
    # name keys are derived data (the identity engine may recompute them by other rules): a
    # key made of digits must be found like any other
    PersonNameKey.objects.create(person=by_key, part="alias", key="12345")
    register(given_ar="محمد", service_number="S-10")
    newest_first = sorted([by_service.id, by_document.id, by_key.id], reverse=True)
    numbered = sorted([by_service.id, by_document.id], reverse=True)
    for limit in (1, 2, 50):
        assert all_pages(officer, "12345", limit=limit) == newest_first
        # Arabic-Indic digits: the same number; as a name key they stay other characters
        assert all_pages(officer, "١٢٣٤٥", limit=limit) == numbered
    assert expected(officer, "12345") == newest_first
    assert expected(officer, "١٢٣٤٥") == numbered
    # names and a number no one has: the name keys include "12345", which only by_key carries
    # (and the fixture's Latin given name, Mohammed, which محمد finds across scripts)
    assert all_pages(officer, "خالد 12345", limit=50) == expected(officer, "خالد 12345") == []
    assert all_pages(officer, "محمد 12345", limit=50) == expected(officer, "محمد 12345") == [
        by_key.id]
    assert all_pages(officer, "سعيد 12345", limit=50) == [by_key.id]


def test_a_search_reads_the_register_a_fixed_number_of_times(register, users, group):
    """Counts, walk, rows: three reads of the register whatever the number of matches and of
    keys (the audit entry of the search is not counted here)."""
    officer = users[Role.RECEPTION_OFFICER]

    def register_reads(q, **filters):
        with CaptureQueriesContext(connection) as ctx:
            selectors.person_search(user=officer, q=q, **filters)
        return sum("reception_" in c["sql"] for c in ctx.captured_queries)

    for i in range(3):
        register(given_ar="محمد", family_ar="الحلبي", service_number=f"A{i}")
    searches = ("محمد", "محمد الحلبي", "محمد الحلبي أحمد", "A1")
    few = [register_reads(q) for q in searches]
    for i in range(12):
        register(given_ar="محمد", family_ar="الحلبي", father_ar="أحمد",
                 service_number=f"B{i}")
    many = [register_reads(q) for q in searches]
    # a number: counts (its one name key, "a1", is carried by nobody), numbers, rows
    assert few == many == [3, 3, 3, 3]
    assert register_reads("محمد", status=Status.ARRIVED, group_id=group.id) == 3
