"""The REST API (django-ninja): one router per app, an OpenAPI schema at /api/docs.

Authentication is the session (same cookie as the pages; ninja enforces CSRF for it).
Domain errors map to JSON once, here. Each app's router is imported by name below and mounted
under the app's name.
"""

from collections.abc import Callable
from typing import Any, cast

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import get_resolver
from django.utils.translation import gettext
from ninja import NinjaAPI, Schema
from ninja.errors import HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import django_auth
from pydantic import Field, JsonValue

from mawa.accountability.api import router as accountability_router
from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp.api import router as camp_router
from mawa.core.errors import MawaError
from mawa.custody.api import router as custody_router
from mawa.matching.api import router as matching_router
from mawa.reception.api import router as reception_router
from mawa.reports.api import router as reports_router

# Django's 404 handler takes the request and the exception (django-stubs types every error
# handler as taking the request alone)
Handler404 = Callable[[HttpRequest, Exception], HttpResponse]


class ErrorOut(Schema):
    """A refusal (``MawaError``): a stable code, a message in the user's language and, for
    invalid input, the messages of each field."""

    code: str
    message: str
    fields: dict[str, list[str]]


class DetailOut(Schema):
    """ninja's own refusals: not signed in (401), the CSRF check (403), a body that is not
    JSON (400)."""

    detail: str


class InvalidItemOut(Schema):
    """One value that does not match the operation's parameters or body: where it is
    (``["body", "payload", "values", "given_ar"]``, ``["query", "limit"]`` …), what is wrong
    in the user's language, and pydantic's error type (``missing``, ``int_parsing`` …)."""

    type: str
    loc: list[str | int]
    msg: str
    ctx: dict[str, JsonValue] | None = Field(
        default=None, description="the limits of the rule broken, e.g. ``{\"le\": 5}``")


class InvalidOut(Schema):
    """A request that does not match the operation's parameters or body (422)."""

    detail: list[InvalidItemOut]


def _ref(model) -> dict:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _error_responses(operation: dict) -> dict:
    """The errors any operation may answer, all mapped once here and in the middleware: a
    refusal or a NUL character (400), a missing or forbidden record (404, never told apart), a
    state that does not allow it (409), the session (401) and role or CSRF refusals (403) when
    the operation needs a signed-in user, and malformed parameters or body (422)."""
    either = {"anyOf": [_ref(ErrorOut), _ref(DetailOut)]}

    def answer(description: str, schema: dict) -> dict:
        return {"description": description, "content": {"application/json": {"schema": schema}}}

    out = {400: answer("Refused", either), 404: answer("Not found", either),
           409: answer("Conflict", _ref(ErrorOut))}
    if operation.get("security"):
        out[401] = answer("Not signed in", _ref(DetailOut))
        out[403] = answer("Forbidden", either)
    if operation.get("parameters") or operation.get("requestBody"):
        out[422] = answer("Invalid parameters or body", _ref(InvalidOut))
    return out


class MawaAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix=None, path_params=None):
        """ninja's schema, with the error answers of every operation documented."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        components = schema.setdefault("components", {}).setdefault("schemas", {})
        for model in (ErrorOut, DetailOut, InvalidOut):
            components[model.__name__] = model.model_json_schema(
                ref_template="#/components/schemas/{model}")
        for operations in schema["paths"].values():
            for operation in operations.values():
                for status, response in _error_responses(operation).items():
                    operation["responses"].setdefault(status, response)
        return schema


class JsonObjectParser(Parser):
    """Every request body of the API is a JSON object. ninja reads any other JSON value (a
    number, a list, null) as an object with every field missing, so that for a body whose
    fields all have defaults — closing a stock check, a search — a malformed request was
    carried out as an empty one; it is refused instead (400, like a body that is not JSON)."""

    def parse_body(self, request):
        data = super().parse_body(request)
        if not isinstance(data, dict):
            raise ValueError("the request body is not a JSON object")
        return data


api = MawaAPI(title="Mawa API", version="1", auth=django_auth, urls_namespace="api",
              parser=JsonObjectParser())


@api.exception_handler(MawaError)
def _domain_error(request: HttpRequest, exc: MawaError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


def _outside_the_compartment(request: HttpRequest):
    """ninja parses and checks a request's body before the endpoint runs, so the compartment's
    guard has not yet spoken: to anyone without the compartment, its endpoints must not answer
    "invalid input" (and list their fields) or "cannot parse the body", but exactly like an
    unknown URL (protection.md R1, attack 2). Returns that answer, or None."""
    if request.path.startswith("/api/accountability/") and not access.can(
            getattr(request, "user", None), Perm.COMPARTMENT_VIEW):
        return cast(Handler404, get_resolver().resolve_error_handler(404))(request, Http404())
    return None


# pydantic's error types → the message in the user's language. Django's own messages (its
# catalogues hold the Arabic), so that a value the API's schema refuses reads like one a form
# refuses.
_INVALID_MESSAGES = {
    "missing": "This field is required.",
    "int_type": "Enter a whole number.", "int_parsing": "Enter a whole number.",
    "int_from_float": "Enter a whole number.", "float_type": "Enter a number.",
    "float_parsing": "Enter a number.", "decimal_parsing": "Enter a number.",
    "decimal_type": "Enter a number.", "finite_number": "Enter a number.",
    "date_type": "Enter a valid date.", "date_parsing": "Enter a valid date.",
    "date_from_datetime_parsing": "Enter a valid date.",
    "date_from_datetime_inexact": "Enter a valid date.",
    "datetime_type": "Enter a valid date/time.", "datetime_parsing": "Enter a valid date/time.",
    "datetime_from_date_parsing": "Enter a valid date/time.",
    "uuid_type": "Enter a valid UUID.", "uuid_parsing": "Enter a valid UUID.",
    "list_type": "Enter a list of values.",
    "less_than_equal": "Ensure this value is less than or equal to %(limit_value)s.",
    "greater_than_equal": "Ensure this value is greater than or equal to %(limit_value)s.",
}


def _invalid_message(error: dict[str, Any]) -> str:
    """The message of one schema violation, in the active language."""
    text = _INVALID_MESSAGES.get(error.get("type", ""), "Enter a valid value.")
    if "%(limit_value)s" not in text:
        return gettext(text)
    ctx = error.get("ctx") or {}
    return gettext(text) % {"limit_value": ctx.get("le", ctx.get("ge", ""))}


@api.exception_handler(ValidationError)
def _invalid_input(request: HttpRequest, exc: ValidationError):
    """ninja's answer (422, each violation with its place and pydantic's type), with each
    message in the user's language instead of pydantic's English."""
    detail = [{**error, "msg": _invalid_message(error)} for error in exc.errors]
    return _outside_the_compartment(request) or api.create_response(
        request, {"detail": detail}, status=422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    return _outside_the_compartment(request) or api.create_response(
        request, {"detail": str(exc)}, status=exc.status_code)  # ninja's answer


class MeOut(Schema):
    id: str
    username: str
    role: str
    permissions: list[str]
    sites: list[str] = Field(description="the codes of the sites the user works at")


@api.get("/me", tags=["accounts"], response=MeOut)
def me(request):
    """The signed-in user, their role, permissions and sites."""
    user = request.auth
    return MeOut(id=str(user.pk), username=user.username, role=user.role,
                 permissions=sorted(access.permissions_of(user)),
                 sites=[s.code for s in access.sites_for(user)])


api.add_router("/reception", reception_router)
api.add_router("/custody", custody_router)
api.add_router("/camp", camp_router)
api.add_router("/matching", matching_router)
api.add_router("/accountability", accountability_router)
api.add_router("/reports", reports_router)
