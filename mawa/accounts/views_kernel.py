"""Pages over the kernel's own records — the sites and the ledger. The records belong to
``core``; these pages ask the access policy (who sees which site, which ledger streams are the
compartment's), which sits above core, so they live here. Mounted at ``/sites/`` and
``/ledger/`` by ``mawa.urls``."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import messages
from django.db.models import Sum
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mawa.accounts import access, selectors, services
from mawa.accounts.forms import AuditFilterForm, SiteForm
from mawa.accounts.models import User
from mawa.accounts.roles import Perm
from mawa.core.forms import service_errors
from mawa.core.ledger import ledger_verify
from mawa.core.models import Checkpoint, LedgerHead, Site


@access.requires(Perm.SITE_VIEW)
def sites(request):
    return render(request, "accounts/sites.html", {
        "sites": selectors.site_list(user=request.user),
        "can_location": access.can(request.user, Perm.SITE_LOCATION_VIEW),
        "can_manage": access.can(request.user, Perm.SITE_MANAGE),
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


# --- site administration (issue 21) ----------------------------------------------------------

_LOCATION = ("latitude", "longitude", "location_note")


@never_cache
@require_http_methods(["GET", "POST"])
@access.requires(Perm.SITE_MANAGE)
def site_new(request):
    """Add a crossing or a camp (or a depot, headquarters) with its restricted location."""
    form = SiteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(form):
            site = services.site_create(actor=request.user, values=form.cleaned_data)
            messages.success(request, _("Site %(code)s added.") % {"code": site.code})
            return redirect("sites")
    return render(request, "accounts/site_form.html", {"form": form, "site": None},
                  status=400 if form.errors else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@access.requires(Perm.SITE_MANAGE)
def site_edit(request, site_id):
    """Change a site's names, kind, state or restricted location (reading the location here
    is audited, as on the sites page)."""
    site = access.get_for_user(Site.objects.all(), request.user, Perm.SITE_MANAGE,
                               site_field="id", id=site_id)
    if request.method == "POST":
        form = _site_edit_form(SiteForm(request.POST, initial={"code": site.code}))
        if form.is_valid():
            with service_errors(form):
                services.site_update(actor=request.user, site=site, values=form.cleaned_data)
                messages.success(request, _("Site %(code)s saved.") % {"code": site.code})
                return redirect("sites")
    else:
        location = selectors.site_location_get(user=request.user, site=site)
        form = _site_edit_form(SiteForm(initial={
            "code": site.code, "kind": site.kind, "name_ar": site.name_ar,
            "name_en": site.name_en, "is_active": site.is_active,
            **{k: location[k if k != "location_note" else "note"] for k in _LOCATION}}))
    return render(request, "accounts/site_form.html", {"form": form, "site": site},
                  status=400 if form.errors else 200)


def _site_edit_form(form: SiteForm) -> SiteForm:
    form.fields["code"].disabled = True  # printed in every short code: never changes
    return form


# --- the audit trail, for auditors (issue 21) ------------------------------------------------

@never_cache
@require_GET
@access.requires(Perm.AUDIT_VIEW)
def audit_trail(request):
    """Read-only: who did what to which record, when, from where. Filter by record (a code
    or an id), by user, by day. Reading it is itself on the audit trail."""
    form = AuditFilterForm(request.GET or None)
    rows, more, filters, page = [], False, {}, 0
    if not form.is_bound or form.is_valid():
        c = form.cleaned_data if form.is_bound else {}
        page = c.get("page") or 0
        actor = None
        if c.get("actor"):
            actor = User.objects.filter(username=c["actor"].strip()).first()
            if actor is None:
                form.add_error("actor", _("No user with this user name."))
        if not form.errors:
            rows, more = selectors.audit_trail(
                user=request.user, record=(c.get("record") or "").strip(), actor=actor,
                day=c.get("day"), page=page)
            filters = {k: v for k, v in request.GET.items() if k != "page" and v}
    return render(request, "accounts/audit.html", {
        "form": form, "rows": rows,
        "more_query": urlencode({**filters, "page": page + 1}) if more else ""})
