"""Compartment pages: form → access → service → render.

To anyone without the compartment's permissions every page here answers exactly like a URL
that does not exist (Django's own 404 page, also for signed-out visitors, who are not sent to
the login page: a redirect would say that something is here). Denials are audited by
``access.require``.
"""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mawa.accountability import forms, selectors, services
from mawa.accountability.models import Event, EvidenceItem, HoldRecord, Source
from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import MawaError, NotFound, ValidationFailed
from mawa.core.forms import service_errors
from mawa.core.ids import short_code_normalise
from mawa.core.models import SiteKind
from mawa.reception.selectors import persons_visible


def compartment(perm: str = Perm.COMPARTMENT_VIEW):
    """Guard a view: the permission, else the plain 404 of an unknown URL
    (``access.hidden``, also for signed-out visitors, whatever the method or CSRF token), and
    the same 404 for NotFound raised inside: a forbidden record looks exactly like a missing
    one."""

    def decorator(view):
        @access.hidden(perm)
        @wraps(view)
        @never_cache
        def wrapper(request, *args, **kwargs):
            try:
                return view(request, *args, **kwargs)
            except NotFound:
                raise Http404()

        return wrapper

    return decorator


def _home_site(request):
    sites = list(access.sites_for(request.user))
    return next((s for s in sites if s.kind == SiteKind.HQ), None) or request.site or sites[0]


@require_http_methods(["GET", "POST"])
@compartment()
def home(request):
    """The compartment's home and its text search. The search form POSTs so that names stay
    out of URLs, history and access logs (protection.md attack test 17); reading only."""
    user = request.user
    query = (request.POST if request.method == "POST" else request.GET).get("q", "").strip()[:200]
    return render(request, "accountability/home.html", {
        "events": selectors.event_search(user=user, text=query) if query
        else selectors.event_list(user=user),
        "query": query, "counts": selectors.compartment_counts(user=user),
        "can_edit": access.can(user, Perm.COMPARTMENT_EDIT),
        "grants": selectors.break_glass_list(user=user)
        if access.can(user, Perm.COMPARTMENT_EDIT) else []})


@compartment(Perm.COMPARTMENT_EDIT)
def event_create(request):
    form = forms.EventForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(form):
            event = services.event_create(actor=request.user, site=_home_site(request),
                                          **form.cleaned_data)
            messages.success(request, _("Event %(code)s recorded.") % {"code": event.short_code})
            return redirect("accountability:event_detail", event_id=event.id)
    return render(request, "accountability/event_form.html", {"form": form},
                  status=400 if form.errors else 200)


def _event_context(request, event: Event, **forms_given) -> dict:
    return {
        "event": event, "acts": selectors.event_acts(event=event),
        "information": selectors.event_information(event=event),
        "evidence": selectors.event_evidence(event=event),
        "referrals": list(event.referrals.select_related("requested_by", "approved_by")),
        "holds": list(HoldRecord.objects.filter(event=event).select_related(
            "hold", "hold__item", "act")),
        "can_edit": access.can(request.user, Perm.COMPARTMENT_EDIT),
        "act_form": forms_given.get("act_form") or forms.ActForm(),
        "involvement_form": forms_given.get("involvement_form") or forms.InvolvementForm(),
        "source_form": forms_given.get("source_form") or forms.SourceForm(),
        "evidence_form": forms_given.get("evidence_form") or forms.EvidenceForm(),
        "hold_form": forms_given.get("hold_form") or forms.HoldForm(),
        "referral_form": forms_given.get("referral_form") or forms.ReferralForm(),
        "sources": selectors.source_list(user=request.user),
    }


@require_GET
@compartment()
def event_detail(request, event_id):
    event = selectors.event_get(user=request.user, event_id=event_id)
    return render(request, "accountability/event_detail.html", _event_context(request, event))


def _event_for_edit(request, event_id) -> Event:
    return access.get_for_user(Event.objects.all(), request.user, Perm.COMPARTMENT_EDIT,
                               id=event_id)


def _post(request, event_id, form_class, key, action):
    """The shape shared by every "add to this event" form: parse, call one service, and either
    go back to the event or show it again with the form's errors."""
    event = _event_for_edit(request, event_id)
    form = form_class(request.POST, request.FILES)
    if form.is_valid():
        with service_errors(form, passthrough=(NotFound,)):
            message = action(event, form.cleaned_data)
            messages.success(request, message)
            return redirect("accountability:event_detail", event_id=event.id)
    return render(request, "accountability/event_detail.html",
                  _event_context(request, event, **{key: form}), status=400)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def act_add(request, event_id):
    def action(event, data):
        act = services.act_add(actor=request.user, event=event, **data)
        return _("Act %(code)s added.") % {"code": act.short_code}

    return _post(request, event_id, forms.ActForm, "act_form", action)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def involvement_add(request, event_id):
    def action(event, data):
        act = event.acts.filter(pk=data["act"]).first()
        if act is None:
            raise NotFound()
        person = None
        if data["person_code"]:
            person = persons_visible(user=request.user).filter(
                short_code=short_code_normalise(data["person_code"])).first()
            if person is None:
                raise ValidationFailed(_("Check the highlighted fields."), fields={
                    "person_code": [_("No registered person has this code.")]})
        services.involvement_add(actor=request.user, act=act, person=person,
                                 unit=data["unit"], unknown=data["unknown"], role=data["role"],
                                 degree=data["degree"])
        return _("Involvement recorded.")

    return _post(request, event_id, forms.InvolvementForm, "involvement_form", action)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def source_add(request, event_id):
    def action(event, data):
        source = services.source_create(
            actor=request.user, site=event.site, name=data["name"], kind=data["kind"],
            reliability=data["reliability"], consent_recipients=data["consent_recipients"])
        services.information_add(actor=request.user, source=source, event=event,
                                 received_on=data["received_on"],
                                 credibility=data["credibility"], summary=data["summary"])
        return _("Source %(code)s recorded.") % {"code": source.short_code}

    return _post(request, event_id, forms.SourceForm, "source_form", action)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def evidence_upload(request, event_id):
    def action(event, data):
        upload = data["file"]
        source = Source.objects.filter(pk=data["source"]).first() if data["source"] else None
        derived = (EvidenceItem.objects.filter(pk=data["derived_from"], event=event).first()
                   if data["derived_from"] else None)
        item = services.evidence_add(
            actor=request.user, event=event, client_key=data["client_key"], name=upload.name,
            data=upload.read(), source=source, description=data["description"],
            captured_place=data["captured_place"],
            original_location=data["original_location"], derived_from=derived,
            derivation=data["derivation"])
        return _("Evidence %(code)s received; SHA-256 %(hash)s.") % {
            "code": item.short_code, "hash": item.sha256}

    return _post(request, event_id, forms.EvidenceForm, "evidence_form", action)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def hold_set(request, event_id):
    def action(event, data):
        services.item_hold_set(actor=request.user, event=event, item=data["item_code"],
                               reason=data["reason"], act=data["act_code"])
        return _("Legal hold set on %(code)s.") % {"code": data["item_code"].upper()}

    return _post(request, event_id, forms.HoldForm, "hold_form", action)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def referral_create(request, event_id):
    def action(event, data):
        chosen = EvidenceItem.objects.filter(event=event,
                                             pk__in=request.POST.getlist("evidence"))
        referral = services.referral_create(actor=request.user, event=event,
                                            evidence=list(chosen), **data)
        return _("Referral %(code)s waits for a second investigator.") % {
            "code": referral.short_code}

    return _post(request, event_id, forms.ReferralForm, "referral_form", action)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def referral_approve(request, referral_id):
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    try:
        services.referral_approve(actor=request.user, referral=referral)
    except MawaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Referral %(code)s approved.") % {
            "code": referral.short_code})
    return redirect("accountability:event_detail", event_id=referral.event_id)


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def referral_export(request, referral_id):
    referral = selectors.referral_get(user=request.user, referral_id=referral_id)
    try:
        data = services.referral_export(actor=request.user, referral=referral)
    except MawaError as exc:
        if exc.status == 404:
            raise
        messages.error(request, exc.message)
        return redirect("accountability:event_detail", event_id=referral.event_id)
    response = HttpResponse(data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{referral.short_code}.zip"'
    return response


@require_GET
@compartment()
def evidence_detail(request, evidence_id):
    item = selectors.evidence_get(user=request.user, evidence_id=evidence_id)
    return render(request, "accountability/evidence_detail.html", {
        "item": item, "custody": selectors.evidence_custody(item=item),
        "copies": list(item.copies.all()), "handover_form": forms.HandoverForm(),
        "can_edit": access.can(request.user, Perm.COMPARTMENT_EDIT)})


@require_POST
@compartment()
def evidence_download(request, evidence_id):
    item = selectors.evidence_get(user=request.user, evidence_id=evidence_id)
    data = services.evidence_read(actor=request.user, item=item, purpose="download")
    response = HttpResponse(data, content_type=item.content_type)
    response["Content-Disposition"] = f'attachment; filename="{item.short_code}.{item.extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@compartment(Perm.COMPARTMENT_EDIT)
def evidence_handover(request, evidence_id):
    item = selectors.evidence_get(user=request.user, evidence_id=evidence_id)
    form = forms.HandoverForm(request.POST)
    if form.is_valid():
        services.evidence_handover(actor=request.user, item=item, to=form.cleaned_data["to"])
        messages.success(request, _("Handover recorded on the chain of custody."))
    return redirect("accountability:evidence_detail", evidence_id=item.id)


@access.hidden(Perm.USER_MANAGE)
@never_cache
def break_glass(request):
    """Administrators: open a time-boxed, reasoned read access to the compartment (to anyone
    else an unknown URL)."""
    form = forms.BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(form):
            services.break_glass_open(actor=request.user, site=request.site,
                                      **form.cleaned_data)
            messages.warning(request, _("Break-glass access is open; every investigator sees "
                                        "it and your reason."))
            return redirect("accountability:home")
    return render(request, "accountability/break_glass.html", {
        "form": form, "active": selectors.break_glass_active(user=request.user)})
