"""The REST API (django-ninja): one router per app, an OpenAPI schema at /api/docs.

Authentication is the session (same cookie as the pages; ninja enforces CSRF for it) or an API
token of an integration (``Authorization: Bearer …``, ``accounts.ApiToken``: scoped, expiring,
revocable, every use on the ledger; no CSRF token, no cookie).
Domain errors map to JSON once, here. Each app's router is imported by name below and mounted
under the app's name.
"""

from functools import wraps
from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.http import Http404, HttpRequest, HttpResponseNotAllowed
from django.utils.translation import gettext
from ninja import NinjaAPI, Schema
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.operation import PathView
from ninja.parser import Parser
from ninja.security import HttpBearer, django_auth
from pydantic import Field, JsonValue

from mawa.accountability.api import router as accountability_router
from mawa.accounts import access
from mawa.accounts import services as accounts_services
from mawa.accounts.hidden import hidden_permissions
from mawa.camp.api import router as camp_router
from mawa.core.apitexts import ninja_text
from mawa.core.errors import Forbidden, MawaError
from mawa.custody.api import router as custody_router
from mawa.matching.api import router as matching_router
from mawa.reception.api import router as reception_router
from mawa.reports.api import router as reports_router
from mawa.sync.api import router as sync_router


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


def _path_view(path_view: PathView) -> None:
    """Make the Django view of one API path (every method of it) carry what the middleware
    and the user need: the compartment's mark (``access.hidden``) when its operations are
    the compartment's, and ninja's "Method not allowed" (405, plain English text) as a JSON
    answer in the user's language."""
    if getattr(path_view, "mawa_ready", False):  # ``urls`` read again
        return
    path_view.mawa_ready = True  # type: ignore[attr-defined]
    marks = {method: hidden_permissions(op.view_func)
             for op in path_view.operations for method in op.methods}
    if len({bool(perms) for perms in marks.values()}) > 1:
        # another method would answer 405 and tell that the path exists
        raise ImproperlyConfigured(f"an API path mixes compartment and other operations: "
                                   f"{[op.view_func.__name__ for op in path_view.operations]}")
    hidden = {method: perms[0] for method, perms in marks.items() if perms}
    get_view = path_view.get_view

    def view_get():
        view = get_view()

        @wraps(view)
        def answer(request: HttpRequest, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code == 405 and isinstance(response, HttpResponseNotAllowed):
                allowed = response["Allow"]
                response = api.create_response(
                    request, {"detail": ninja_text("Method not allowed")}, status=405)
                response["Allow"] = allowed
            return response

        if hidden:
            answer.mawa_hidden = hidden  # type: ignore[attr-defined]
        return answer

    path_view.get_view = view_get  # type: ignore[method-assign]


class MawaAPI(NinjaAPI):
    def _get_urls(self):
        for bound in self._get_bound_routers():
            for path_view in bound.path_operations.values():
                _path_view(path_view)
        return super()._get_urls()

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


class TokenAuth(HttpBearer):
    """An integration's API token (``Authorization: Bearer mawa_…``). The request's user is the
    token's, with the token's scope attached (``access.TokenScope``): every access check of
    the request sees only its permissions and sites. A header with an unknown, expired or
    revoked token answers 401; a writing method with a read-only token 403. Asked before the
    session, so that a bearer request is never asked for a CSRF token."""

    def __call__(self, request: HttpRequest):
        use = accounts_services.api_token_for_request(request)
        if use is None:
            return None
        if use.refusal == "read_only":
            raise Forbidden(gettext("This API token is read-only."))
        if use.user is None:
            raise AuthenticationError()
        return use.user

    def authenticate(self, request: HttpRequest, token: str):  # pragma: no cover - __call__
        return None


api = MawaAPI(title="Mawa API", version="1", auth=[TokenAuth(), django_auth],
              urls_namespace="api", parser=JsonObjectParser())


@api.exception_handler(MawaError)
def _domain_error(request: HttpRequest, exc: MawaError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


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
    return api.create_response(request, {"detail": detail}, status=422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError):
    """ninja's answer (not signed in, the CSRF check, a body it cannot parse …), its fixed
    English texts in the user's language."""
    return api.create_response(request, {"detail": ninja_text(str(exc))},
                               status=exc.status_code)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"detail": ninja_text("Not Found")}, status=404)


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
api.add_router("/sync", sync_router)
