import json

import pytest
from django.conf import settings
from django.test import Client

from mawa.accounts.roles import Role
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"


def audit_kinds():
    return list(LedgerEntry.objects.filter(stream="audit").order_by("seq")
                .values_list("kind", flat=True))


def test_login_rotates_the_session_and_is_audited(users, signed_in_client):
    client = Client()
    client.get("/accounts/login/")
    client.cookies[settings.SESSION_COOKIE_NAME] = "attacker-chosen-session-id"
    response = client.post("/accounts/login/", {"username": "reception_officer",
                                                "password": PASSWORD})
    assert response.status_code == 302
    assert client.cookies[settings.SESSION_COOKIE_NAME].value != "attacker-chosen-session-id"
    signed_in_client(users[Role.AUDITOR])
    assert "audit.login" in audit_kinds()


def test_session_cookie_flags(users, signed_in_client):
    client = signed_in_client(users[Role.RECEPTION_OFFICER])
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"]
    assert cookie["samesite"] == "Lax"
    assert settings.SESSION_COOKIE_AGE <= 30 * 60  # idle timeout
    assert settings.SESSION_SAVE_EVERY_REQUEST


def test_unknown_user_and_wrong_password_get_the_same_answer_and_are_audited(users):
    client = Client()
    wrong = client.post("/accounts/login/", {"username": "reception_officer",
                                             "password": "not the password"})
    unknown = client.post("/accounts/login/", {"username": "nobody", "password": "whatever1"})
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.context["form"].non_field_errors() == unknown.context["form"].non_field_errors()
    failed = LedgerEntry.objects.filter(kind="audit.login_failed").order_by("seq")
    assert failed.count() == 2
    payloads = [json.loads(e.payload) for e in failed]
    assert payloads[0]["detail"] == {"known_account": True}
    assert payloads[1]["detail"] == {"known_account": False}
    # the typed user name is never stored
    assert all("nobody" not in e.payload for e in failed)


def test_logout_requires_post_and_is_audited(users, client_for):
    client = client_for(users[Role.AUDITOR])
    assert client.get("/accounts/logout/").status_code == 405
    assert client.post("/accounts/logout/").status_code == 302
    assert "audit.logout" in audit_kinds()


def test_forged_csrf_token_is_refused_and_audited(users):
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": "reception_officer",
                                                "password": PASSWORD,
                                                "csrfmiddlewaretoken": "forged"})
    assert response.status_code == 403
    assert "audit.csrf_failure" in audit_kinds()


def test_passwords_are_hashed_with_argon2id(users):
    from django.contrib.auth.hashers import get_hasher

    user = users[Role.RECEPTION_OFFICER]
    assert user.password.startswith("argon2$argon2id$")
    assert get_hasher("default").algorithm == "argon2"


def test_password_policy_refuses_short_and_common_passwords(users):
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    for bad in ("short1", "password123", "1234567890123"):
        with pytest.raises(ValidationError):
            validate_password(bad, users[Role.AUDITOR])
    validate_password("grain-of-sand-over-the-dune", users[Role.AUDITOR])


def test_production_settings_use_argon2_first():
    from mawa import settings as prod

    assert prod.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def test_language_choice_is_remembered_on_the_account(users, client_for):
    user = users[Role.CAMP_STAFF]
    client = client_for(user)
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    user.refresh_from_db()
    assert user.language == "en"
