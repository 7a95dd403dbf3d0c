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
from mawa.core import display
from mawa.core.changes_models import SyncConflict
from mawa.core.errors import MawaError, NotFound
from mawa.core.models import Site
from mawa.sync import selectors, services
from mawa.sync.keys import NotEnrolled

CHOICES = ("current", "incoming")  # keep this side / take the other (``conflict_decide``)


def _model(record_type: str):
    app_label, _dot, model_name = record_type.partition(".")
    try:
        return apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return None


def record_label(record_type: str) -> str:
    """``reception.person`` → the model's name in the reader's language."""
    model = _model(record_type)
    return record_type if model is None else capfirst(str(model._meta.verbose_name))


def _shown(model, name: str, value) -> str:
    """A stored value as the reader reads it: a choice's label, yes/no, a date, "—"."""
    field = display.model_field(model, name)
    if field is not None and getattr(field, "choices", None) and not isinstance(value, bool):
        return display.choice_label(model, name, value)
    return display.value_text(display.moment(value) if isinstance(value, str) else value)


def _rows(detail) -> list[dict]:
    """The conflict's fields side by side, labelled and shown in the reader's language."""
    model = _model(detail.incoming.record_type)
    return [{"label": capfirst(str(r.label)) if r.label != r.name else display.field_label(
                 model, r.name),
             "current": _shown(model, r.name, r.current),
             "incoming": _shown(model, r.name, r.incoming), "differs": r.differs}
            for r in detail.rows]


def _site_of(conflict) -> Site | None:
    return Site.objects.filter(code=conflict.change.site).first()


@never_cache
@require_GET
@access.requires(Perm.SYNC_VIEW)
def status(request):
    conflicts = selectors.conflicts_open(request.user)
    rows = [{"conflict": c, "record": record_label(c.change.record_type)} for c in conflicts]
    try:
        sync = services.sync_status()
    except NotEnrolled:  # a single installation that never enrolled a post
        sync = None
    return render(request, "sync/status.html", {
        "status": sync, "conflicts": rows,
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
        "current": detail.current, "rows": _rows(detail),
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
