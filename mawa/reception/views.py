"""Reception pages: form → access → service → render. No rule is decided here."""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.errors import ValidationFailed
from mawa.core.forms import service_errors
from mawa.core.models import SiteKind
from mawa.reception import lifecycle, selectors, services
from mawa.reception.compare import compare_parts
from mawa.reception.forms import NAME_PART_LABELS, ArrivalGroupForm, PersonForm, SearchForm
from mawa.reception.models import Status


def _crossing(request):
    """The crossing the user works at now (the site switch in the menu), if it is one."""
    site = getattr(request, "site", None)
    if site is not None and site.kind == SiteKind.CROSSING:
        return site
    return next((s for s in access.sites_for(request.user) if s.kind == SiteKind.CROSSING), None)


@require_GET
@access.requires(Perm.PERSON_VIEW)
def group_list(request):
    groups = selectors.arrival_group_list(user=request.user, before=request.GET.get("before")
                                          or None)
    return render(request, "reception/group_list.html", {
        "groups": groups, "can_manage": access.can(request.user, Perm.GROUP_MANAGE),
        "next_before": groups[-1].id if len(groups) == 50 else None})


@never_cache
@access.requires(Perm.GROUP_MANAGE)
def group_create(request):
    site = _crossing(request)
    if request.method == "POST":
        form = ArrivalGroupForm(request.POST)
        if form.is_valid():
            with service_errors(form):
                if site is None:
                    raise ValidationFailed(_("You do not work at a crossing."))
                group = services.arrival_group_create(
                    actor=request.user, site=site, **form.cleaned_data)
                messages.success(request, _("Arrival group %(code)s logged.")
                                 % {"code": group.short_code})
                return redirect("reception:group_detail", group_id=group.id)
    else:
        form = ArrivalGroupForm(initial={"arrived_at": timezone.localtime().replace(
            second=0, microsecond=0)})
    return render(request, "reception/group_form.html", {"form": form, "site": site})


@never_cache
@require_GET
@access.requires(Perm.PERSON_VIEW)
def group_detail(request, group_id):
    group = selectors.arrival_group_get(user=request.user, group_id=group_id)
    return render(request, "reception/group_detail.html", {
        "group": group, "pending": selectors.group_persons_pending(user=request.user,
                                                                   group=group),
        "can_register": access.can(request.user, Perm.PERSON_REGISTER, group.site),
        "can_idcard": access.can(request.user, Perm.IDCARD_PRINT, group.site)})


def _register_context(request, form, group):
    return {"form": form, "group": group,
            "sensitive": access.can(request.user, Perm.PERSON_SENSITIVE_VIEW),
            "site": group.site if group else _crossing(request)}


_DECIDE = "decide_"


def _duplicate_decisions(post) -> dict[str, str]:
    """The officer's "same person / not him / unsure" on each suggested record, as posted by
    the duplicate panel (``decide_<record id>``)."""
    return {k[len(_DECIDE):]: v for k, v in post.items() if k.startswith(_DECIDE) and v}


@never_cache
@access.requires(Perm.PERSON_REGISTER)
def person_register(request):
    group_id = request.POST.get("group") or request.GET.get("group")
    group = selectors.arrival_group_get(user=request.user, group_id=group_id) \
        if group_id else None
    if request.method == "POST":
        form = PersonForm(request.POST, request.FILES)
        if form.is_valid():
            site = group.site if group else _crossing(request)
            with service_errors(form):
                if site is None:
                    raise ValidationFailed(_("You do not work at a crossing."))
                person, created = services.person_register(
                    actor=request.user, site=site, client_key=form.cleaned_data["client_key"],
                    group=group, data=form.to_input(sensitive=access.can(
                        request.user, Perm.PERSON_SENSITIVE_VIEW, site)))
                decisions = _duplicate_decisions(request.POST)
                if created and decisions:
                    services.person_duplicates_decide(actor=request.user, person=person,
                                                      decisions=decisions)
                    merged = selectors.person_merged_into(person=person)
                    if merged is not None:
                        messages.success(request, _(
                            "%(code)s registered and recorded as the same person as "
                            "%(other)s; both histories are kept.")
                            % {"code": person.short_code,
                               "other": merged.survivor.short_code})
                        return redirect("reception:person_detail",
                                        person_id=merged.survivor_id)
                if created:
                    messages.success(request, _("%(code)s registered.")
                                     % {"code": person.short_code})
                else:
                    messages.info(request, _("Already saved as %(code)s.")
                                  % {"code": person.short_code})
                if request.POST.get("then") == "next" and group:
                    return redirect(f"{request.path}?group={group.id}")
                return redirect("reception:person_detail", person_id=person.id)
        return render(request, "reception/person_form.html",
                      _register_context(request, form, group), status=400)
    form = PersonForm(initial={"group": group.id if group else None})
    return render(request, "reception/person_form.html", _register_context(request, form, group))


@require_POST
@access.requires(Perm.PERSON_REGISTER)
def person_matches(request):
    """htmx: possible existing records for what is being typed."""
    data = {k: request.POST.get(k, "") for k in request.POST if k != "csrfmiddlewaretoken"}
    data["document_numbers"] = [request.POST.get("document_number", "")]
    candidates = selectors.person_match_candidates(user=request.user, data=data, limit=5)
    chosen = _duplicate_decisions(request.POST)
    return render(request, "reception/_matches.html", {
        "candidates": [{"c": c, "rows": [(NAME_PART_LABELS[r.part], r)
                                         for r in compare_parts(data, c.person)],
                        "chosen": chosen.get(str(c.person.pk), "")} for c in candidates],
        "can_decide": access.can(request.user, Perm.MATCH_REVIEW)})


@never_cache
@require_GET
@access.requires(Perm.PERSON_VIEW)
def person_detail(request, person_id):
    person = selectors.person_get(user=request.user, person_id=person_id)
    return render(request, "reception/person_detail.html", _detail_context(request, person))


def _detail_context(request, person, *, failed=None, form_errors=None, posted=None):
    user = request.user
    sensitive = selectors.person_sensitive_allowed(user=user, person=person)
    transitions = services.person_transitions_allowed(actor=user, person=person)
    camps = [s for s in access.sites_for(user) if s.kind == SiteKind.CAMP
             and s.id != person.current_site_id]
    return {"person": person, "sensitive": sensitive,
            "documents": selectors.person_documents(user=user, person=person),
            "aliases": list(person.aliases.all()),
            "history": selectors.person_history(person=person),
            "transitions": transitions, "camps": camps, "failed": failed,
            "form_errors": form_errors or {}, "posted": posted or {},
            "can_separate": person.category == "combatant" and any(
                t.target == Status.REFERRED_OUT for t in lifecycle.transitions_from(
                    person.status)) and access.can(user, Perm.PERSON_REGISTER,
                                                   person.current_site),
            "can_idcard": access.can(user, Perm.IDCARD_PRINT, person.current_site),
            # the group page answers only where the group was logged (no dead link)
            "group_visible": person.group_id is not None and access.can(
                user, Perm.PERSON_VIEW, person.group.site),
            "can_protect": access.can(user, Perm.PROTECTION_ACT, person.current_site),
            "can_correct": access.can(user, Perm.PERSON_REGISTER, person.current_site),
            # identity resolution decides what a merge is; the page says where the record went
            "merged_into": selectors.person_merged_into(person=person),
            # corrections keep the values they replaced (PersonRevision, protection.md R8)
            "revisions": list(person.revisions.select_related("actor").order_by("-version")),
            "public_fields": _correctable()}


def _correctable():
    from mawa.reception.views_person import FIELDS

    return FIELDS


@require_POST
@access.requires(Perm.PERSON_VIEW)
def person_transition(request, person_id):
    person = selectors.person_get(user=request.user, person_id=person_id)
    to = request.POST.get("to", "")
    transition = lifecycle.transition_find(person.status, to)
    details = {r.name: request.POST.get(r.name, "") for r in (transition.requires
                                                               if transition else ())}
    try:
        if request.POST.get("separate"):
            person = services.person_separate(actor=request.user, person=person,
                                              category=request.POST.get("category", ""),
                                              referral_to=request.POST.get("referral_to", ""),
                                              note=request.POST.get("note", ""))
        else:
            person = services.person_transition(
                actor=request.user, person=person, to=to, details=details,
                note=request.POST.get("note", ""),
                expected_status=request.POST.get("expected_status") or None)
    except ValidationFailed as exc:
        return render(request, "reception/person_detail.html", _detail_context(
            request, person, failed=to or "separate", form_errors=exc.fields,
            posted=request.POST), status=400)
    messages.success(request, _("%(code)s is now: %(status)s")
                     % {"code": person.short_code, "status": person.get_status_display()})
    return redirect("reception:person_detail", person_id=person.id)


@never_cache
@require_http_methods(["GET", "POST"])
@access.requires(Perm.PERSON_VIEW)
def person_list(request):
    """The person search. The page's form POSTs: a name typed into a GET form would land in the
    address bar, the browser history, proxy and server access logs and the Referer of the next
    page (protection.md attack test 17). A GET with ``?q=`` is still read (old bookmarks);
    searches by code need no secrecy. Reading only, so a POST here changes nothing."""
    data = request.POST if request.method == "POST" else request.GET
    form = SearchForm(data)
    c = form.cleaned_data if form.is_valid() else {}
    page = selectors.person_search(user=request.user, q=c.get("q", ""),
                                   status=c.get("status") or None, group_id=c.get("group"),
                                   after=c.get("after"))
    more = {k: v for k, v in data.items() if k in ("q", "status", "group") and v}
    if page.next_cursor:
        more["after"] = str(page.next_cursor)
    template = "reception/_person_rows.html" if request.headers.get("HX-Request") \
        else "reception/person_list.html"
    return render(request, template, {
        "page": page, "form": form, "statuses": Status.choices,
        "more_json": json.dumps(more, ensure_ascii=False)})
