"""The subject access report (protection.md R8): the page, and the PDF as an encrypted export.
Parse → access (inside ``protection.subject_access``) → one call → shape the answer."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from mawa.accounts.views import step_up_required
from mawa.core.errors import ValidationFailed
from mawa.core.views_exports import export_form_page, export_ready_page
from mawa.protection import subject_access


@never_cache
@require_GET
@login_required
def subject_access_page(request, person_id):
    # no permission decorator: a refusal must answer 404 like a missing person
    report = subject_access.subject_access_report(user=request.user, person_id=person_id)
    return render(request, "protection/subject_access.html", {"report": report})


@never_cache
@login_required
def subject_access_pdf(request, person_id):
    """GET: the form (purpose, recipient). POST: the report as an encrypted PDF export.
    The person is loaded before step-up, so that a refusal is a 404 and not a password
    prompt that would confirm the person exists."""
    person = subject_access.subject_access_person(user=request.user, person_id=person_id)
    return _subject_access_pdf(request, person)


@step_up_required
def _subject_access_pdf(request, person):
    title = _("Subject access report (PDF)")
    action = reverse("protection:subject_access_pdf", args=[person.pk])
    back = reverse("protection:subject_access", args=[person.pk])
    if request.method != "POST":
        return export_form_page(request, title=title, action=action)
    try:
        ready = subject_access.subject_access_pdf_export(
            user=request.user, person_id=person.pk, purpose=request.POST.get("purpose", ""),
            recipient=request.POST.get("recipient", ""))
    except ValidationFailed as exc:
        return export_form_page(request, title=title, action=action, error=exc.message,
                                fields=exc.fields, status=400)
    return export_ready_page(request, ready, back=back)
