"""The correction page of a person: the page form onto ``services.person_update`` (the API
uses the same service). The values a correction replaces are kept (``PersonRevision``) and
shown in the person's history."""

from __future__ import annotations

from pathlib import Path

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import Conflict, NotFound, ValidationFailed
from mawa.core.forms import service_errors
from mawa.reception import selectors, services
from mawa.reception.forms import SensitiveForm

# What the page lets an officer correct; sensitive fields (family contact, vulnerabilities)
# stay with the roles that see them, through the API.
FIELDS = (*services.NAME_FIELDS, "birth", "place_of_birth", "nationality", "service_number",
          "rank", "unit", "notes")


def _current(person) -> dict:
    out = {f: getattr(person, f) for f in FIELDS if f != "birth"}
    out["birth"] = person.birth_display
    return out


@never_cache
@require_http_methods(["GET", "POST"])
@access.requires(Perm.PERSON_REGISTER)
def person_correct(request, person_id):
    person = selectors.person_get(user=request.user, person_id=person_id)
    values, errors = _current(person), {}
    if request.method == "POST":
        posted = {f: request.POST.get(f, "").strip() for f in FIELDS}
        changes = {f: v for f, v in posted.items() if v != (values[f] or "")}
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = -1
        try:
            services.person_update(actor=request.user, person=person, version=version,
                                   changes=changes)
        except ValidationFailed as exc:
            errors = exc.fields or {"": [exc.message]}
            values = posted
        except Conflict as exc:
            messages.error(request, exc.message)
            return redirect("reception:person_detail", person_id=person.id)
        else:
            if changes:
                messages.success(request, _("Correction saved; the prior values are kept in "
                                            "the history."))
            return redirect("reception:person_detail", person_id=person.id)
    return render(request, "reception/person_correct.html", {
        "person": person, "values": values, "errors": errors, "fields": FIELDS,
        "labels": _labels()}, status=400 if errors else 200)


def _labels() -> dict:
    from mawa.reception.models import Person

    out = {f.name: f.verbose_name for f in Person._meta.concrete_fields}
    out["birth"] = _("Date of birth")
    return out


@never_cache
@require_http_methods(["GET", "POST"])
@access.requires(Perm.PERSON_SENSITIVE_VIEW)
def person_sensitive(request, person_id):
    """Fill in (or change) the sensitive section of a registered person: family contact for
    notification and vulnerabilities. The same service as a correction (prior values kept)."""
    person = selectors.person_get(user=request.user, person_id=person_id)
    if not selectors.person_sensitive_allowed(user=request.user, person=person):
        raise NotFound()
    current = {f: getattr(person, f) for f in SensitiveForm.FIELDS}
    if request.method == "POST":
        form = SensitiveForm(request.POST)
        if form.is_valid():
            c = form.cleaned_data
            changes = {f: c.get(f) or ([] if f == "vulnerabilities" else "")
                       for f in SensitiveForm.FIELDS}
            changes = {f: v for f, v in changes.items() if v != (current[f] or
                                                                 ([] if f == "vulnerabilities"
                                                                  else ""))}
            with service_errors(form):
                services.person_update(actor=request.user, person=person,
                                       version=c["version"], changes=changes)
                if changes:
                    messages.success(request, _("Saved; the prior values are kept in the "
                                                "history."))
                return redirect("reception:person_detail", person_id=person.id)
    else:
        form = SensitiveForm(initial={**current, "version": person.version})
    return render(request, "reception/person_sensitive.html", {"person": person, "form": form},
                  status=400 if form.errors else 200)


_PHOTO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg"}


@never_cache
@require_http_methods(["GET"])
@access.requires(Perm.PERSON_VIEW)
def person_photo(request, person_id):
    """The stored photo of a person (its EXIF-free working copy), for their page and the
    registration form. The read is audited like the person's page."""
    person = selectors.person_get(user=request.user, person_id=person_id)
    if not person.photo:
        raise NotFound()
    suffix = Path(person.photo.name).suffix.lower()
    with person.photo.open("rb") as fh:
        response = HttpResponse(fh.read(), content_type=_PHOTO_TYPES.get(suffix, "image/jpeg"))
    response["Cache-Control"] = "private, no-store"
    return response
