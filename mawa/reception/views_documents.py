"""Pages that hand out documents: ID cards, the ICRC notification, the register export.
Parse → access (inside the functions called) → one call → shape the answer."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import ValidationFailed
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
    cards = idcards.idcards_prepare(user=request.user, persons=[person], fmt=fmt)
    return _pdf(idcards.idcards_render(cards, fmt=fmt), f"{fmt}-{person.short_code}.pdf")


@never_cache
@require_GET
@access.requires(Perm.IDCARD_PRINT)
def group_idcards(request, group_id):
    group = selectors.arrival_group_get(user=request.user, group_id=group_id)
    fmt = _fmt(request)
    persons = idcards.group_cards_persons(user=request.user, group=group)
    cards = idcards.idcards_prepare(user=request.user, persons=persons, fmt=fmt)
    return _pdf(idcards.idcards_render(cards, fmt=fmt), f"{fmt}s-{group.short_code}.pdf")


@never_cache
@require_GET
@access.requires(Perm.PROTECTION_ACT)
def icrc_notification(request, fmt):
    rows, withheld = icrc.icrc_notification_rows(user=request.user)
    stamp = timezone.localdate().isoformat()
    if fmt == "csv":
        response = HttpResponse(icrc.icrc_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="icrc-notification-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response
    return _pdf(icrc.icrc_pdf(rows, withheld=withheld), f"icrc-notification-{stamp}.pdf")


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
def persons_export(request):
    """GET: the form (purpose, recipient). POST: the streamed CSV."""
    if request.method != "POST":
        return render(request, "reception/export_form.html", {})
    purpose = " — ".join(x for x in (request.POST.get("purpose", "").strip(),
                                     request.POST.get("recipient", "").strip()) if x)
    try:
        columns = exports.persons_export_start(user=request.user, purpose=purpose)
    except ValidationFailed as exc:
        return render(request, "reception/export_form.html", {"error": exc.message,
                                                              "post": request.POST}, status=400)
    response = StreamingHttpResponse(
        exports.persons_export_lines(user=request.user, columns=columns),
        content_type="text/csv; charset=utf-8")
    stamp = timezone.localdate().isoformat()
    response["Content-Disposition"] = f'attachment; filename="persons-{stamp}.csv"'
    response["Cache-Control"] = "no-store"
    return response
