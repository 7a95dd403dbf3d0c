"""Defects met on the way (issue 15), reception side."""

from django.urls import reverse


def test_a_bad_group_cursor_gives_the_first_page_like_the_person_list(officer_client, group):
    url = reverse("reception:group_list")
    r = officer_client.get(url + "?before=notauuid")
    assert r.status_code == 200
    assert group.formation in r.content.decode()
    assert officer_client.get(reverse("reception:person_list") + "?after=notauuid").status_code \
        == 200
