"""django-ninja's own refusals answer in the user's language (issue 20 item 6): not signed in
(401), a body it cannot parse (400), the CSRF check (403), a method the path does not take
(405) and its own 404, like every other message of Mawa."""

from __future__ import annotations

import json

import pytest
from django.conf import settings
from django.test import Client

from mawa.accounts.roles import Role
from mawa.core.apitexts import NINJA_TEXTS, ninja_text

pytestmark = pytest.mark.django_db

ENGLISH = {
    401: "You are not signed in.",
    400: "The request body cannot be read: send a JSON object.",
    403: "The CSRF check failed: send the X-CSRFToken header with the token of your session.",
    405: "This method is not allowed here.",
}
ARABIC = {
    401: "لم تسجّل الدخول.",
    400: "تعذّرت قراءة متن الطلب: أرسل كائن JSON.",
    403: "فشل التحقق من CSRF: أرسل الترويسة X-CSRFToken مع رمز جلستك.",
    405: "هذه الطريقة غير مسموح بها هنا.",
}


def _client(language: str, user=None, **kwargs) -> Client:
    client = Client(raise_request_exception=False, **kwargs)
    if user is not None:
        client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client


def _answers(language: str, user) -> dict[int, tuple[str, str]]:
    """status → (the detail, the content type) of each of ninja's refusals."""
    signed_out = _client(language).get("/api/me")
    unparsable = _client(language, user).post("/api/reception/persons/search", "{",
                                              content_type="application/json")
    no_token = _client(language, user, enforce_csrf_checks=True).post(
        "/api/reception/persons/search", "{}", content_type="application/json")
    wrong_method = _client(language, user).delete("/api/me")
    out = {}
    for r in (signed_out, unparsable, no_token, wrong_method):
        out[r.status_code] = (r.json()["detail"], r["Content-Type"])
    assert wrong_method["Allow"] == "GET"
    return out


@pytest.mark.parametrize(("language", "texts"), [("en", ENGLISH), ("ar", ARABIC)])
def test_ninja_refusals_answer_in_the_users_language(users, language, texts):
    answers = _answers(language, users[Role.RECEPTION_OFFICER])
    assert {status: detail for status, (detail, _) in answers.items()} == texts
    assert {ctype for _, ctype in answers.values()} == {"application/json; charset=utf-8"}


def test_every_fixed_text_of_ninja_has_its_message():
    """Each of ninja's texts maps to a message of Mawa (with the detail ninja adds in DEBUG),
    and a text of Mawa's own passes through."""
    from django.utils import translation

    with translation.override("ar"):
        for english in NINJA_TEXTS:
            assert ninja_text(english) != english
            assert ninja_text(f"{english} (Expecting value)") == ninja_text(english)
            assert not ninja_text(english).isascii()
    assert ninja_text("code is not a Mawa short code") == "code is not a Mawa short code"


def test_the_api_404_of_ninja_answers_in_the_users_language():
    """ninja's own 404 (an ``Http404`` raised inside an operation)."""
    from django.http import Http404
    from django.test import RequestFactory
    from django.utils import translation

    from mawa.api import api

    request = RequestFactory().get("/api/me")
    with translation.override("ar"):
        response = api.on_exception(request, Http404())
    assert response.status_code == 404
    assert json.loads(response.content) == {"detail": "غير موجود."}
