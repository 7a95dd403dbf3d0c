"""Tiered registration: what is missing per person and per group."""

from mawa.reception import services
from mawa.reception.completeness import group_completeness, person_completeness_detail
from mawa.reception.services import DocumentInput, PersonInput


def quick(sites, officer, group, **values):
    import uuid

    base = {"given_ar": "خالد", "sex": "male", **values}
    return services.person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                    group=group, data=PersonInput(values=base,
                                                                  approximate_age=30))[0]


def test_a_quick_gate_record_is_tier_one_complete_with_tier_two_items_missing(
        sites, officer, group):
    person = quick(sites, officer, group)
    c = person_completeness_detail(person)
    assert c.tier == 2
    assert not c.tier1_missing
    names = {i.name for i in c.tier2_missing}
    assert {"father", "family", "birth", "service_number", "document", "photo"} <= names


def test_a_full_registration_lacks_only_what_was_not_given(register):
    person = register(grandfather_ar="حسن", mother_given_ar="فاطمة", place_of_birth="حلب",
                      nationality="SY", rank="رقيب", unit="اللواء ٩٣",
                      family_contact_name="أحمد الحلبي", father_lat="Ahmed")[0]
    c = person_completeness_detail(person)
    assert {i.name for i in c.tier2_missing} == {"photo", "document"}
    assert c.tier == 2 and 80 < c.percent < 100


def test_civilians_are_not_asked_for_military_identity(sites, officer, group):
    person = quick(sites, officer, group, category="civilian")
    names = {i.name for i in person_completeness_detail(person).tier2_missing}
    assert not names & {"service_number", "rank", "unit"}


def test_group_completeness_counts_in_one_query(sites, officer, group, register,
                                                django_assert_max_num_queries):
    quick(sites, officer, group)
    quick(sites, officer, group, sex="unknown")
    import uuid

    services.person_register(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
        data=PersonInput(values={"given_ar": "علي", "given_lat": "Ali", "father_ar": "حسن",
                                 "grandfather_ar": "عمر", "family_ar": "العبيدي",
                                 "mother_given_ar": "زينب", "sex": "male",
                                 "place_of_birth": "الأنبار", "nationality": "IQ",
                                 "service_number": "77", "rank": "عريف", "unit": "٩٣",
                                 "family_contact_name": "حسن"},
                         birth="1990-01-02",
                         documents=[DocumentInput(kind="passport", number="P123")]))
    with django_assert_max_num_queries(1):
        c = group_completeness(group)
    assert c.total == 3
    assert c.incomplete_quick == 1  # sex unknown
    assert c.quick_only + c.complete == 2
    assert c.missing_by_name["photo"] == 3
    assert c.missing_by_name["sex"] == 1
    assert c.missing[0][1] == 3


def test_the_group_panel_renders(sites, officer, group):
    from django.template import Context, Template

    quick(sites, officer, group)
    html = Template("{% load reception_completeness %}{% group_completeness_panel group %}"
                    ).render(Context({"group": group}))
    assert 'data-testid="group-completeness"' in html
