"""The database page and the health check on any database (SQLite and PostgreSQL): a
``DatabaseError`` that means the database cannot be read answers the translated 503 page (JSON
for the API); a refused write (``IntegrityError``) is not taken for a damaged database; the
quick check is cached per process."""

from __future__ import annotations

import json

import pytest
from django.db import IntegrityError, OperationalError
from django.test import RequestFactory

from mawa.core import health
from mawa.core.middleware import DatabaseErrorMiddleware, is_database_failure


def test_only_a_failing_database_gets_the_database_page():
    assert is_database_failure(OperationalError("database disk image is malformed"))
    assert not is_database_failure(IntegrityError("UNIQUE constraint failed"))
    assert not is_database_failure(ValueError("no"))


@pytest.mark.parametrize("language, words, direction", [
    ("ar", "لا يستطيع مأوى قراءة قاعدة بياناته", "rtl"),
    ("en", "Mawa cannot read its database just now", "ltr")])
def test_a_view_meeting_a_database_error_answers_the_translated_page(language, words,
                                                                     direction):
    request = RequestFactory().get("/persons/", HTTP_COOKIE=f"django_language={language}")
    middleware = DatabaseErrorMiddleware(lambda r: None)
    response = middleware.process_exception(request, OperationalError("disk I/O error"))
    body = response.content.decode()
    assert response.status_code == 503 and response["Content-Language"] == language
    assert words in body and f'dir="{direction}"' in body


def test_the_api_gets_json():
    request = RequestFactory().get("/api/persons/")
    response = DatabaseErrorMiddleware(lambda r: None).process_exception(
        request, OperationalError("database disk image is malformed"))
    assert response.status_code == 503
    assert json.loads(response.content)["code"] == "database_unavailable"


@pytest.mark.django_db
def test_healthz_runs_the_check_once_a_minute(client, monkeypatch):
    health.database_health_forget()
    calls = []
    original = health.database_check
    monkeypatch.setattr(health, "database_check", lambda **kw: calls.append(1) or original())
    for _ in range(3):
        response = client.get("/healthz")
        assert response.status_code == 200 and response.json()["status"] == "ok"
    from django.db import connection

    assert len(calls) == (1 if connection.vendor == "sqlite" else 0)
    health.database_health_forget()
