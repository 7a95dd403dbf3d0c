"""The REST API (django-ninja): one router per app, an OpenAPI schema at /api/docs.

Authentication is the session (same cookie as the pages; ninja enforces CSRF for it).
Domain errors map to
JSON once, here.
"""

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.security import django_auth

from mawa.core.errors import MawaError

api = NinjaAPI(title="Mawa API", version="1", auth=django_auth,
               urls_namespace="api")


@api.exception_handler(MawaError)
def _domain_error(request: HttpRequest, exc: MawaError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


@api.exception_handler(ValidationError)
def _invalid_input(request: HttpRequest, exc: ValidationError):
    """ninja checks a request's body before the endpoint runs, so the compartment's guard
    has not yet spoken: to anyone without the compartment, its endpoints must not answer
    "invalid input" (and list their fields), but exactly like an unknown URL (protection.md
    R1, attack 2)."""
    from mawa.accounts import access
    from mawa.accounts.roles import Perm

    if request.path.startswith("/api/accountability/") and not access.can(
            getattr(request, "user", None), Perm.COMPARTMENT_VIEW):
        from django.http import Http404
        from django.urls import get_resolver

        return get_resolver().resolve_error_handler(404)(request, Http404())
    return api.create_response(request, {"detail": exc.errors}, status=422)  # ninja's answer


@api.get("/me", tags=["accounts"])
def me(request):
    """The signed-in user, their role, permissions and sites."""
    from mawa.accounts import access

    user = request.auth
    return {
        "id": str(user.pk),
        "username": user.username,
        "role": user.role,
        "permissions": sorted(access.permissions_of(user)),
        "sites": [s.code for s in access.sites_for(user)],
    }


for _module in ("mawa.reception.api", "mawa.custody.api", "mawa.camp.api", "mawa.matching.api",
                "mawa.accountability.api", "mawa.reports.api"):
    try:
        _mod = __import__(_module, fromlist=["router"])
    except ModuleNotFoundError as exc:
        if exc.name != _module:
            raise
        continue
    api.add_router("/" + _module.split(".")[1], _mod.router)
