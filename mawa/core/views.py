"""The kernel's own pages: the health check, the home page (panels that each app adds, see
``core.dashboard``) and the CSRF refusal. Pages that ask the access policy live above core
(``accounts.views_kernel``: sites, ledger)."""

import sys

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mawa.core.audit import audit
from mawa.core.dashboard import dashboard_panels
from mawa.core.health import database_health
from mawa.core.middleware import database_error_response, is_database_failure


@require_GET
def healthz(request):
    """Liveness and readiness: the database answers and, on SQLite, its quick check holds
    (``core.health``: at most once a minute per process). 503 with a JSON status otherwise."""
    problem = database_health()
    if problem is not None:
        return JsonResponse({"status": "error", "database": problem.kind}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


@login_required
def home(request):
    return render(request, "core/home.html", {"panels": dashboard_panels(request)})


def csrf_failure(request, reason=""):
    audit(actor=request.user if request.user.is_authenticated else None,
          action="csrf_failure", outcome="denied", detail={"path": request.path[:200]})
    return render(request, "error.html", {"error": {
        "message": _("The form had expired or was not sent from Mawa. Reload the page and "
                     "try again; nothing was saved."), "code": "csrf"}}, status=403)


def server_error(request):
    """``handler500``: a database that raises (damaged, unreachable) gets the translated
    database page with 503, whichever middleware or view met it; anything else the plain
    500 page (no template that reads the database)."""
    exc = sys.exc_info()[1]
    if is_database_failure(exc):
        return database_error_response(request)
    return HttpResponseServerError(loader.get_template("500.html").render())
