"""Request context (address, request id, site) and the mapping of domain errors to answers."""

from __future__ import annotations

import logging
import sqlite3
import time

from django.db import IntegrityError
from django.http import HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _

from mawa.core import context
from mawa.core.errors import MawaError
from mawa.core.health import database_errors
from mawa.core.ids import uuid7

log = logging.getLogger("mawa.request")


class RequestContextMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = request.headers.get("X-Request-Id", "")[:64] or uuid7().hex
        address = request.META.get("REMOTE_ADDR", "")
        token = context.set_current(context.ActionContext(
            address=address, channel="api" if request.path.startswith("/api/") else "web",
            request_id=request_id))
        started = time.perf_counter()
        try:
            response = self.get_response(request)
        finally:
            context.reset(token)
        response["X-Request-Id"] = request_id
        log.info("%s %s", request.method, request.path, extra={
            "status_code": response.status_code, "path": request.path, "method": request.method,
            "duration_ms": round((time.perf_counter() - started) * 1000, 1)})
        return response


def wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", "")


class DomainErrorMiddleware:
    """Turn a ``MawaError`` raised anywhere in a view into the right answer, once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, MawaError):
            return None
        if wants_json(request):
            return JsonResponse(exception.as_dict(), status=exception.status)
        template = "htmx_error.html" if request.headers.get("HX-Request") else "error.html"
        return render(request, template, {"error": exception}, status=exception.status)


class ArabicFirstLocaleMiddleware:
    """Arabic unless the user chose English (language cookie, set by the switch and at sign-in
    from the account's preference). The browser's Accept-Language is ignored on purpose: shared
    devices at a border post often run an English system."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.conf import settings
        from django.utils import translation

        language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", request.LANGUAGE_CODE)
        patch = response.get("Vary", "")
        if "Cookie" not in patch:
            response["Vary"] = f"{patch}, Cookie" if patch else "Cookie"
        return response


class RefuseNulMiddleware:
    """Refuse text input that carries NUL characters (query strings, form fields, JSON).

    No field of Mawa holds a NUL, PostgreSQL text cannot store one (it raises instead), and a
    NUL inside a name or number is an attack on whatever reads the value next. Uploaded files
    are not text and are left to ``core.uploads``.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from mawa.core.errors import ValidationFailed

        if self._carries_nul(request):
            error = ValidationFailed(_("The request contains a NUL character, which no field "
                                       "accepts."), code="nul_character")
            if wants_json(request):
                return JsonResponse(error.as_dict(), status=400)
            return render(request, "error.html", {"error": error}, status=400)
        return self.get_response(request)

    @staticmethod
    def _carries_nul(request) -> bool:
        if "\x00" in request.META.get("QUERY_STRING", "") or "%00" in request.META.get(
                "QUERY_STRING", ""):
            return True
        if "\x00" in request.path:
            return True
        if request.method in ("POST", "PUT", "PATCH"):
            content_type = request.content_type or ""
            if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
                # text fields only: uploaded files are in request.FILES, checked by core.uploads
                return any("\x00" in v for _name, values in request.POST.lists() for v in values)
            if content_type.endswith("json"):
                body = request.body
                return b"\x00" in body or b"\\u0000" in body.lower()
        return False


def _request_language(request) -> str:
    """The page language as ``ArabicFirstLocaleMiddleware`` chooses it (the cookie, else
    Arabic), read again here: the database error may come before that middleware ran."""
    from django.conf import settings

    language = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME)
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def is_database_failure(exc: BaseException | None) -> bool:
    """A ``DatabaseError`` that means the database cannot be read or reached (damaged, locked,
    gone); an ``IntegrityError`` is a refused write, not a failing database."""
    return isinstance(exc, database_errors()) and not isinstance(
        exc, (IntegrityError, sqlite3.IntegrityError))


def database_error_response(request) -> HttpResponse:
    """503 and a translated page (JSON for the API) that reads nothing from the database: no
    base template, no context processors (they read the user and the sites)."""
    language = _request_language(request)
    with translation.override(language):
        message = _("Mawa cannot read its database just now, so nothing was shown or saved. "
                    "Tell the administrator: the database may be damaged (mawa verify).")
        if wants_json(request):
            response: HttpResponse = JsonResponse(
                {"code": "database_unavailable", "message": message, "fields": {}}, status=503)
        else:
            response = HttpResponse(render_to_string("core/database_error.html", {
                "message": message, "language": language,
                "direction": "rtl" if translation.get_language_bidi() else "ltr"}),
                status=503)
    response["Content-Language"] = language
    response["Retry-After"] = "60"
    log.error("database error on %s %s", request.method, request.path,
              extra={"path": request.path, "method": request.method, "status_code": 503})
    return response


class DatabaseErrorMiddleware:
    """A view that meets a damaged or unreachable database (``DatabaseError``) answers the
    translated database page with 503, not a bare 500. Errors raised in other middleware
    (the session, the user) reach ``core.views.server_error`` (``handler500``), which answers
    the same page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if is_database_failure(exception):
            return database_error_response(request)
        return None
