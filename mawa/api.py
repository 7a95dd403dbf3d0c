"""The REST API (django-ninja): one router per app, an OpenAPI schema at /api/docs.

Authentication is the session (same cookie as the pages; ninja enforces CSRF for it).
Domain errors map to
JSON once, here.
"""

from django.http import HttpRequest
from ninja import NinjaAPI
from ninja.security import django_auth

from mawa.core.errors import MawaError

api = NinjaAPI(title="Mawa API", version="1", auth=django_auth,
               urls_namespace="api")


@api.exception_handler(MawaError)
def _domain_error(request: HttpRequest, exc: MawaError):
    return api.create_response(request, exc.as_dict(), status=exc.status)


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
