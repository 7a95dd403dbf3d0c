"""Pages that hand out documents: ID cards, the ICRC notification, the register export.
Parse → access (inside the functions called) → one call → shape the answer."""

from __future__ import annotations

from functools import partial

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.accounts.views import step_up_required
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.views_exports import export_job_page
from mawa.reception import exports, icrc, idcards, selectors


def _pdf(data: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def _fmt(request) -> str:
    fmt = request.GET.get("format", "card")
    return fmt if fmt in idcards.FORMATS else "card"


@never_cache
@require_GET
@access.requires(Perm.IDCARD_PRINT)
def person_idcard(request, person_id):
    person = selectors.person_get(user=request.user, person_id=person_id, purpose="idcard")
    fmt = _fmt(request)
    return _pdf(idcards.idcard_person_pdf(user=request.user, person=person, fmt=fmt),
                f"{fmt}-{person.short_code}.pdf")


@never_cache
@access.requires(Perm.IDCARD_PRINT)
def group_idcards(request, group_id):
    """GET: choose the format and the cards (whole group, not yet printed, or ticked).
    POST: start the job that prints them and go to its page (progress, download)."""
    group = selectors.arrival_group_get(user=request.user, group_id=group_id)
    access.require(request.user, Perm.IDCARD_PRINT, group.site)
    error, status = None, 200
    if request.method == "POST":
        try:
            job = idcards.idcards_job_start(
                user=request.user, group=group, fmt=request.POST.get("format", "card"),
                selection=request.POST.get("selection", "all"),
                person_ids=request.POST.getlist("person"))
        except ValidationFailed as exc:
            error, status = exc.message, 400
        else:
            return redirect("core:job_detail", job_id=job.pk)
    persons = idcards.group_cards_persons(user=request.user, group=group)
    chosen = set(request.POST.getlist("person"))
    return render(request, "reception/group_idcards.html", {
        "group": group, "persons": persons, "error": error, "chosen": chosen,
        "fmt": request.POST.get("format") or _fmt(request),
        "selection": request.POST.get("selection", "all")}, status=status)


@never_cache
@access.requires(Perm.ICRC_EXPORT)
@step_up_required
def icrc_notification(request, fmt):
    """GET: the form (purpose, recipient). POST: start the job that writes the notification
    as an encrypted export; the page shows the passphrase once and the job's progress, then
    its download."""
    if fmt not in ("csv", "pdf"):
        raise NotFound()
    return export_job_page(request, title=_("ICRC internment notification (%(fmt)s)") % {
        "fmt": fmt.upper()}, start=partial(icrc.icrc_notification_job_start,
                                           user=request.user, fmt=fmt))


@require_POST
@access.requires(Perm.PROTECTION_ACT)
def person_icrc_withhold(request, person_id):
    person = selectors.person_get(user=request.user, person_id=person_id)
    withheld = request.POST.get("withheld") == "1"
    try:
        icrc.person_icrc_withhold(actor=request.user, person=person, withheld=withheld,
                                  reason=request.POST.get("reason", ""))
    except ValidationFailed as exc:
        for msgs in exc.fields.values():
            for m in msgs:
                messages.error(request, m)
    else:
        messages.success(request, _("Withheld from ICRC notification.") if withheld
                         else _("Included in ICRC notification again."))
    return redirect("reception:person_detail", person_id=person.id)


@never_cache
@access.requires(Perm.PERSON_EXPORT)
@step_up_required
def persons_export(request):
    """GET: the form (purpose, recipient). POST: start the job that streams the register into
    an encrypted file; the page shows the passphrase once and the job's progress, then a
    15-minute, single-use link."""
    return export_job_page(request, title=_("Export the register (CSV)"),
                           start=partial(exports.persons_export_job_start, user=request.user))
