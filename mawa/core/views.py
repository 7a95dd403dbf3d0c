"""The kernel's own pages: the health check, the home page (panels that each app adds, see
``core.dashboard``) and the CSRF refusal. Pages that ask the access policy live above core
(``accounts.views_kernel``: sites, ledger)."""

from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from mawa.core.audit import audit
from mawa.core.dashboard import dashboard_panels


@require_GET
def healthz(request):
    """Liveness and readiness: the database answers."""
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
    except Exception:
        return JsonResponse({"status": "error", "database": "unreachable"}, status=503)
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
