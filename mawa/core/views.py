from django.contrib.auth.decorators import login_required
from django.db import connection
from django.db.models import Sum
from django.http import JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import selectors
from mawa.core.ledger import ledger_verify
from mawa.core.models import Checkpoint, LedgerHead, Site


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
    from mawa.core.dashboard import dashboard_panels

    return render(request, "core/home.html", {"panels": dashboard_panels(request)})


@access.requires(Perm.SITE_VIEW)
def sites(request):
    return render(request, "core/sites.html", {
        "sites": selectors.site_list(user=request.user),
        "can_location": access.can(request.user, Perm.SITE_LOCATION_VIEW),
    })


@require_POST
@access.requires(Perm.SITE_LOCATION_VIEW)
def site_location(request, site_id):
    site = access.get_for_user(Site.objects.all(), request.user, Perm.SITE_LOCATION_VIEW,
                               site_field="id", id=site_id)
    location = selectors.site_location_get(user=request.user, site=site)
    return render(request, "core/_site_location.html", {"site": site, "location": location})


@access.requires(Perm.LEDGER_VIEW)
def ledger(request):
    visible = access.ledger_streams(LedgerHead.objects.all(), request.user)
    report = None
    if request.method == "POST":
        access.require(request.user, Perm.LEDGER_VERIFY)
        report = ledger_verify()  # every chain, the compartment's too
        if report.ok:
            # what was verified, counted over the streams this user may see
            report.streams = visible.count()
            report.entries = visible.aggregate(n=Sum("seq"))["n"] or 0
            report.checkpoints = access.ledger_streams(Checkpoint.objects.all(),
                                                       request.user).count()
    streams = visible.order_by("stream")[:200]
    return render(request, "core/ledger.html", {"report": report, "streams": streams,
                                                "stream_count": visible.count()})


def csrf_failure(request, reason=""):
    from mawa.core.audit import audit

    audit(actor=request.user if request.user.is_authenticated else None,
          action="csrf_failure", outcome="denied", detail={"path": request.path[:200]})
    return render(request, "error.html", {"error": {
        "message": _("The form had expired or was not sent from Mawa. Reload the page and "
                     "try again; nothing was saved."), "code": "csrf"}}, status=403)
