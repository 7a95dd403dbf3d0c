"""The sync page: each peer's last contact, what is pending each way, the conflicts waiting;
and one conflict, its two versions side by side, with the decision. Thin: ask ``selectors`` and
``services`` (the engine), which ask ``access``; the site of a conflict is the site where its
change was made, and a manager sees and decides only those of their sites."""

from __future__ import annotations

from django.apps import apps
from django.contrib import messages
from django.db import transaction
from django.shortcuts import redirect, render
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes_models import SyncConflict
from mawa.core.errors import MawaError, NotFound
from mawa.core.models import Site
from mawa.sync import selectors, services

CHOICES = ("current", "incoming")  # keep this side / take the other (``conflict_decide``)


def record_label(record_type: str) -> str:
    """``reception.person`` → the model's name in the reader's language."""
    app_label, _dot, model_name = record_type.partition(".")
    try:
        model = apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return record_type
    return capfirst(str(model._meta.verbose_name))


def _site_of(conflict) -> Site | None:
    return Site.objects.filter(code=conflict.change.site).first()


@never_cache
@require_GET
@access.requires(Perm.SYNC_VIEW)
def status(request):
    conflicts = selectors.conflicts_open(request.user)
    rows = [{"conflict": c, "record": record_label(c.change.record_type)} for c in conflicts]
    return render(request, "sync/status.html", {
        "status": services.sync_status(), "conflicts": rows,
        "may_decide": access.can(request.user, Perm.SYNC_DECIDE)})


@never_cache
@require_http_methods(["GET", "POST"])
@access.requires(Perm.SYNC_VIEW)
def conflict(request, conflict_id):
    detail = selectors.conflict_detail(request.user, conflict_id)
    site = _site_of(detail.conflict)
    if site is not None:
        access.require(request.user, Perm.SYNC_VIEW, site)
    elif access.site_ids(request.user) is not None:
        raise NotFound()
    may_decide = access.can(request.user, Perm.SYNC_DECIDE, site)
    if request.method == "POST":
        return _decide(request, detail.conflict, site)
    return render(request, "sync/conflict.html", {
        "detail": detail, "conflict": detail.conflict, "incoming": detail.incoming,
        "current": detail.current, "rows": detail.rows,
        "record": record_label(detail.incoming.record_type), "may_decide": may_decide})


def _decide(request, conflict, site):
    access.require(request.user, Perm.SYNC_DECIDE, site)
    choice = request.POST.get("choice", "")
    here = redirect("sync:conflict", conflict_id=conflict.pk)
    if choice not in CHOICES:
        messages.error(request, _("Choose which version to keep."))
        return here
    try:
        with transaction.atomic():
            # one decision, however many times the buttons are pressed
            locked = SyncConflict.objects.select_for_update().select_related("change").get(
                pk=conflict.pk)
            if locked.decided_at is not None:
                messages.info(request, _("This conflict was already decided."))
                return here
            services.conflict_decide(actor=request.user, conflict=locked, choice=choice)
    except MawaError as exc:
        messages.error(request, str(exc.message))
        return here
    messages.success(request, _("Decision recorded."))
    return redirect("sync:status")
