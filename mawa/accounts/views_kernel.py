"""Pages over the kernel's own records — the sites and the ledger. The records belong to
``core``; these pages ask the access policy (who sees which site, which ledger streams are the
compartment's), which sits above core, so they live here. Mounted at ``/sites/`` and
``/ledger/`` by ``mawa.urls``."""

from __future__ import annotations

from django.db.models import Sum
from django.shortcuts import render
from django.views.decorators.http import require_POST

from mawa.accounts import access, selectors
from mawa.accounts.roles import Perm
from mawa.core.ledger import ledger_verify
from mawa.core.models import Checkpoint, LedgerHead, Site


@access.requires(Perm.SITE_VIEW)
def sites(request):
    return render(request, "accounts/sites.html", {
        "sites": selectors.site_list(user=request.user),
        "can_location": access.can(request.user, Perm.SITE_LOCATION_VIEW),
    })


@require_POST
@access.requires(Perm.SITE_LOCATION_VIEW)
def site_location(request, site_id):
    site = access.get_for_user(Site.objects.all(), request.user, Perm.SITE_LOCATION_VIEW,
                               site_field="id", id=site_id)
    location = selectors.site_location_get(user=request.user, site=site)
    return render(request, "accounts/_site_location.html", {"site": site, "location": location})


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
    return render(request, "accounts/ledger.html", {"report": report, "streams": streams,
                                                    "stream_count": visible.count()})
