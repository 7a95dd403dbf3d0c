"""``{% load reception_completeness %}{% group_completeness_panel group %}`` on the group page:
how complete the group's registrations are (tiered registration, issue 3 part 6)."""

from django import template

from mawa.reception.completeness import group_completeness, person_completeness_detail

register = template.Library()


@register.inclusion_tag("reception/completeness_group.html")
def group_completeness_panel(group):
    return {"group": group, "c": group_completeness(group)}


@register.inclusion_tag("reception/completeness_person.html")
def person_completeness_panel(person):
    return {"person": person, "c": person_completeness_detail(person)}
