"""Camp pages: form → access → service → render. No rule is decided here."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp import forms, plan, selectors, services
from mawa.camp.models import Block, ItemType, RollCallMode, RollCallStatus, Zone
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import MawaError, NotFound, ValidationFailed
from mawa.core.forms import service_errors
from mawa.core.ids import short_code_normalise
from mawa.reception.models import Person


def _camp(request):
    return selectors.camp_get(user=request.user, code=request.GET.get("site"),
                              preferred=getattr(request, "site", None))


def _choices(form, name: str, choices) -> None:
    """Set a field's choices after the form is built. BootstrapMixin has already validated a
    bound form (to mark invalid fields), so the cached errors are dropped and recomputed."""
    form.fields[name].choices = choices
    if form.is_bound:
        form._errors = None


def _blocks(site):
    return [(str(b.id), f"{b.zone.name} · {b.name}") for b in
            Block.objects.filter(site=site).select_related("zone").order_by("zone__order",
                                                                             "name")]


def _person(request, site, code):
    try:
        return selectors.camp_person_get(user=request.user, site=site, code_or_id=code)
    except NotFound:
        # persons handed over but not interned yet are found where the user also works
        normal = short_code_normalise(code or "")
        person = access.scope(Person.objects.all(), request.user,
                              site_field=("site", "current_site")).filter(
            short_code=normal).first() if normal else None
        if person is None:
            raise NotFound(_("No person has the code %(code)s here.") % {"code": code})
        return person


# --- home, plan, layout ------------------------------------------------------------------

@never_cache
@require_GET
@access.requires(Perm.CAMP_VIEW)
def home(request):
    site = _camp(request)
    layout = selectors.camp_layout(user=request.user, site=site)
    return render(request, "camp/home.html", {
        "site": site, "camps": selectors.camp_sites(user=request.user),
        "d": selectors.camp_dashboard(user=request.user, site=site, layout=layout),
        "layout": layout,
        "svg": plan.camp_svg(layout), "out": selectors.people_out(user=request.user,
                                                                   site=site)[:10],
        "discrepancies": selectors.discrepancies_open(user=request.user, site=site),
        "can_manage": access.can(request.user, Perm.CAMP_MANAGE, site),
        "can_operate": access.can(request.user, Perm.CAMP_OPERATE, site)})


@never_cache
@access.requires(Perm.CAMP_MANAGE)
def layout_edit(request):
    site = _camp(request)
    access.require(request.user, Perm.CAMP_MANAGE, site)
    zones = [(str(z.id), z.name) for z in Zone.objects.filter(site=site)]
    data = request.POST if request.method == "POST" else None
    which = request.POST.get("what")
    zone_form = forms.ZoneForm(data if which == "zone" else None, prefix="zone")
    block_form = forms.BlockForm(data if which == "block" else None, prefix="block")
    shelter_form = forms.ShelterForm(data if which == "shelter" else None, prefix="shelter")
    _choices(block_form, "zone", zones)
    _choices(shelter_form, "block", _blocks(site))
    form = {"zone": zone_form, "block": block_form, "shelter": shelter_form}.get(which)
    if form is not None and form.is_valid():
        c = form.cleaned_data
        with service_errors(form):
            if which == "zone":
                services.zone_create(actor=request.user, site=site, name=c["name"])
            elif which == "block":
                services.block_create(actor=request.user, zone=Zone.objects.get(
                    site=site, id=c["zone"]), name=c["name"], x=c["x"], y=c["y"],
                    width=c["width"], height=c["height"])
            else:
                services.shelter_create(actor=request.user, block=Block.objects.get(
                    site=site, id=c["block"]), name=c["name"], kind=c["kind"],
                    capacity=c["capacity"])
            messages.success(request, _("Saved."))
            return redirect(request.get_full_path())
    return render(request, "camp/layout.html", {
        "site": site, "zone_form": zone_form, "block_form": block_form,
        "shelter_form": shelter_form,
        "layout": selectors.camp_layout(user=request.user, site=site)})


@never_cache
@access.requires(Perm.CAMP_VIEW)
def block_detail(request, block_id):
    block = selectors.block_get(user=request.user, block_id=block_id)
    site = block.site
    layout = selectors.camp_layout(user=request.user, site=site)
    view = next(b for b in layout.blocks if b.block.id == block.id)
    form = forms.CheckInForm(request.POST or None)
    _choices(form, "shelter", [(str(s.shelter.id), f"{s.shelter.name} ({s.free})")
                                      for s in view.shelters])
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        with service_errors(form):
            person = _person(request, site, c["code"])
            shelter = selectors.shelter_get(user=request.user, shelter_id=c["shelter"])
            fn = services.assignment_move if c["move"] else services.assignment_check_in
            fn(actor=request.user, person=person, shelter=shelter, client_key=c["client_key"],
               override_reason=c["override_reason"])
            messages.success(request, _("%(code)s housed in %(shelter)s.")
                             % {"code": person.short_code, "shelter": shelter.name})
            return redirect("camp:block", block_id=block.id)
    return render(request, "camp/block.html", {
        "block": block, "view": view, "form": form,
        "svg": plan.block_svg(view),
        "can_operate": access.can(request.user, Perm.CAMP_OPERATE, site)})


@never_cache
@require_GET
@access.requires(Perm.CAMP_VIEW)
def shelter_detail(request, shelter_id):
    shelter = selectors.shelter_get(user=request.user, shelter_id=shelter_id)
    occupants = selectors.shelter_occupants(shelter=shelter)
    return render(request, "camp/shelter.html", {
        "shelter": shelter, "occupants": occupants,
        "free": shelter.capacity - len(occupants),
        "history": selectors.shelter_history(shelter=shelter)})


@never_cache
@access.requires(Perm.CAMP_OPERATE)
def receive(request):
    """Receive arrival groups from the crossing: house a whole group at once."""
    site = _camp(request)
    waiting = selectors.unhoused_persons(user=request.user, site=site)
    groups = {}
    for p in waiting:
        groups.setdefault(p.group_id, []).append(p)
    form = forms.GroupAssignForm(request.POST or None)
    _choices(form, "group", [
        (str(gid or ""), f"{ps[0].group.short_code if ps[0].group else _('No group')} "
                         f"({len(ps)})") for gid, ps in groups.items()])
    _choices(form, "block", _blocks(site))
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        persons = groups.get(next((g for g in groups if str(g or "") == c["group"]), "-"), [])
        with service_errors(form):
            created = services.group_assign(
                actor=request.user, site=site, persons=persons,
                block=Block.objects.get(site=site, id=c["block"]), client_key=c["client_key"],
                policies=c["policies"], override_reason=c["override_reason"])
            messages.success(request, _("%(n)s persons housed.") % {"n": len(created)})
            return redirect("camp:receive")
    return render(request, "camp/receive.html", {"site": site, "groups": groups,
                                                 "form": form})


# --- movements ---------------------------------------------------------------------------

@never_cache
@access.requires(Perm.CAMP_VIEW)
def movements(request):
    site = _camp(request)
    # a roll call's "record a movement" link names the person (``?code=``)
    form = forms.MovementForm(request.POST or None,
                              initial={"code": request.GET.get("code", "")[:30]})
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        details = {k: c[k] for k in ("decision", "declaration_date", "declaration", "witness",
                                     "renunciation_assessment", "assessed_by") if c[k]}
        if c["kind"] == "transfer" and c["destination"]:
            details["camp"] = c["destination"]
        with service_errors(form):
            person = selectors.camp_person_get(user=request.user, site=site,
                                               code_or_id=c["code"])
            services.movement_out(actor=request.user, person=person, kind=c["kind"],
                                  site=site, client_key=c["client_key"],
                                  due_back_at=c["due_back_at"], destination=c["destination"],
                                  note=c["note"], details=details)
            messages.success(request, _("Movement of %(code)s recorded.")
                             % {"code": person.short_code})
            return redirect("camp:movements")
    return render(request, "camp/movements.html", {
        "site": site, "form": form, "out": selectors.people_out(user=request.user, site=site),
        "recent": selectors.movements_recent(user=request.user, site=site)})


@require_POST
@access.requires(Perm.CAMP_VIEW)
def movement_return(request, movement_id):
    movement = selectors.movement_get(user=request.user, movement_id=movement_id)
    try:
        services.movement_return(actor=request.user, movement=movement)
    except MawaError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("%(code)s is back.") % {"code": movement.person.short_code})
    return redirect("camp:movements")


# --- roll calls --------------------------------------------------------------------------

@never_cache
@access.requires(Perm.CAMP_VIEW)
def roll_calls(request):
    site = _camp(request)
    form = forms.RollCallStartForm(request.POST or None)
    _choices(form, "block", _blocks(site))
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        with service_errors(form):
            rc = services.rollcall_start(actor=request.user, block=Block.objects.get(
                site=site, id=c["block"]), mode=c["mode"], client_key=c["client_key"])
            return redirect("camp:rollcall", roll_call_id=rc.id)
    return render(request, "camp/rollcalls.html", {
        "site": site, "form": form,
        "can_operate": access.can(request.user, Perm.CAMP_OPERATE, site),
        "roll_calls": selectors.roll_calls_list(user=request.user, site=site, limit=50)})


def _head_counts(post) -> dict[str, int]:
    """The head counts typed per shelter (``count_<shelter id>``), digits of any script."""
    counts, errors = {}, []
    for key, value in post.items():
        if key.startswith("count_") and value.strip():
            v = to_ascii_digits(value).strip()
            if not v.isdigit():
                errors.append(key)
                continue
            counts[key[6:]] = int(v)
    if errors:
        raise ValidationFailed(_("A head count is a whole number, 0 or more."))
    return counts


@never_cache
@access.requires(Perm.CAMP_VIEW)
def roll_call(request, roll_call_id):
    """The phone page: scan or type ID codes, or enter a head count per shelter; close; see
    who is missing; resolve."""
    rc = selectors.roll_call_get(user=request.user, roll_call_id=roll_call_id)
    scan_form = forms.ScanForm(request.POST if request.POST.get("what") == "scan" else None)
    resolve_form = forms.ResolveForm(request.POST if request.POST.get("what") == "resolve"
                                     else None)
    last = None
    if request.method == "POST":
        what = request.POST.get("what")
        if what == "scan" and scan_form.is_valid():
            with service_errors(scan_form):
                last = services.rollcall_scan(actor=request.user, roll_call=rc,
                                              code=scan_form.cleaned_data["code"])
                request.session["camp_last_scan"] = [last.message, last.expected
                                                     and not last.repeated]
                return redirect("camp:rollcall", roll_call_id=rc.id)
        elif what == "resolve" and resolve_form.is_valid():
            with service_errors(resolve_form):
                services.rollcall_resolve(actor=request.user, roll_call=rc,
                                          reason=resolve_form.cleaned_data["reason"])
                messages.success(request, _("Discrepancy resolved."))
                return redirect("camp:rollcall", roll_call_id=rc.id)
        elif what in ("count", "close"):
            # no form to show again: the refusal is a message above the roll call
            counts_error = None
            try:
                counts = _head_counts(request.POST)
                if what == "count" or counts:  # "finish" saves the counts typed, then closes
                    services.rollcall_count(actor=request.user, roll_call=rc, counts=counts)
                if what == "close":
                    services.rollcall_close(actor=request.user, roll_call=rc)
                elif not request.headers.get("HX-Request"):
                    messages.success(request, _("Counts saved."))
            except MawaError as exc:
                if not request.headers.get("HX-Request"):
                    messages.error(request, exc.message)
                counts_error = exc.message
            if request.headers.get("HX-Request") and what == "count":
                # htmx: the counters, updated with what was just saved
                return render(request, "camp/_rollcall_counts.html", {
                    "rc": rc, "progress": _progress(rc), "saved": counts_error is None,
                    "error": counts_error})
            return redirect("camp:rollcall", roll_call_id=rc.id)
    last_scan = request.session.pop("camp_last_scan", None)
    is_open = rc.status == RollCallStatus.OPEN
    return render(request, "camp/rollcall.html", {
        "rc": rc, "scan_form": scan_form, "resolve_form": resolve_form, "last_scan": last_scan,
        "is_open": is_open,
        "progress": _progress(rc) if is_open else None,
        "findings": None if is_open else _findings(rc),
        "can_operate": access.can(request.user, Perm.CAMP_OPERATE, rc.site),
        "can_person": access.can(request.user, Perm.PERSON_VIEW)})


def _findings(rc) -> dict:
    """The closed roll call's findings; a head count under what was expected says how many
    are missing (a number, never "-1")."""
    findings = selectors.rollcall_findings(roll_call=rc)
    for line in findings["counts"]:
        line.shortfall = max(0, -line.difference)
    return findings


def _progress(rc) -> dict:
    """The roll call's progress, with ``counted``: the heads counted so far (head count) or
    the expected persons scanned (ID cards), the figure the page's header shows."""
    progress = selectors.rollcall_progress(roll_call=rc)
    if rc.mode == RollCallMode.COUNT:
        progress["counted"] = sum(r["counted"] or 0 for r in progress["shelters"])
        progress["entered"] = sum(1 for r in progress["shelters"] if r["counted"] is not None)
    else:
        progress["counted"] = progress["scanned"]
    return progress


# --- distributions -----------------------------------------------------------------------

@never_cache
@access.requires(Perm.CAMP_VIEW)
def distributions(request):
    site = _camp(request)
    items = list(ItemType.objects.filter(site=site).order_by("name_en"))
    choices = [(str(i.id), i.name) for i in items if i.is_active]
    what = request.POST.get("what")
    form = forms.DistributionForm(request.POST if what == "give" else None,
                                  initial={"item": request.GET.get("item")})
    _choices(form, "item", choices)
    item_form = forms.ItemTypeForm(request.POST if what == "item" else None, prefix="item")
    _choices(item_form, "excludes", [(str(i.id), i.name) for i in items])
    stock_form = forms.StockForm(request.POST if what == "stock" else None, prefix="stock")
    _choices(stock_form, "item", choices)
    refusal = None
    if what == "give" and form.is_valid():
        c = form.cleaned_data
        with service_errors(form):
            item = selectors.item_get(user=request.user, item_id=c["item"])
            try:
                dist = services.distribution_record_by_code(
                    actor=request.user, item=item, code=c["code"],
                    client_key=c["client_key"], quantity=c["quantity"])
            except services.Refused as exc:
                refusal = exc  # shown apart, with the rule that refused
            else:
                messages.success(request, _("%(item)s given to %(code)s.")
                                 % {"item": item.name, "code": dist.person.short_code})
                return redirect(f"{request.path}?item={item.id}")
    elif what == "item" and item_form.is_valid():
        c = item_form.cleaned_data
        with service_errors(item_form):
            services.item_type_create(
                actor=request.user, site=site, client_key=c["client_key"],
                data={k: c[k] for k in ("name_ar", "name_en", "kind", "unit", "unit_cost",
                                        "per_person_per_day", "min_interval_hours",
                                        "max_per_day", "entitled_statuses",
                                        "requires_present")},
                excludes=[i for i in items if str(i.id) in c["excludes"]])
            messages.success(request, _("Saved."))
            return redirect(request.path)
    elif what == "stock" and stock_form.is_valid():
        c = stock_form.cleaned_data
        with service_errors(stock_form):
            services.stock_adjust(actor=request.user, item=selectors.item_get(
                user=request.user, item_id=c["item"]), quantity=c["quantity"],
                reason=c["reason"], client_key=c["client_key"])
            messages.success(request, _("Stock updated."))
            return redirect(request.path)
    population = selectors.camp_population(site=site)
    return render(request, "camp/distributions.html", {
        "site": site, "form": form, "item_form": item_form, "stock_form": stock_form,
        "refusal": refusal, "population": population,
        "stock": selectors.stock_rows(user=request.user, site=site, population=population),
        "cost": selectors.hosting_cost(site=site, population=population),
        "recent": selectors.distributions_recent(user=request.user, site=site),
        "can_manage": access.can(request.user, Perm.CAMP_MANAGE, site),
        "can_operate": access.can(request.user, Perm.CAMP_OPERATE, site)})


# --- incidents ---------------------------------------------------------------------------

@never_cache
@access.requires(Perm.CAMP_VIEW)
def incidents(request):
    site = _camp(request)
    form = forms.IncidentForm(request.POST or None, initial={
        "occurred_at": timezone.localtime().replace(second=0, microsecond=0)})
    _choices(form, "block", [("", "—"), *_blocks(site)])
    if request.method == "POST" and form.is_valid():
        c = form.cleaned_data
        with service_errors(form):
            persons = [selectors.camp_person_get(user=request.user, site=site, code_or_id=code)
                       for code in c["codes"].split()]
            incident = services.incident_report(
                actor=request.user, site=site, client_key=c["client_key"], kind=c["kind"],
                severity=c["severity"], occurred_at=c["occurred_at"], summary=c["summary"],
                block=Block.objects.filter(site=site, id=c["block"]).first()
                if c["block"] else None, persons=persons)
            if incident.is_sensitive and not access.can(request.user,
                                                         Perm.INCIDENT_SENSITIVE_VIEW, site):
                messages.success(request, _("Incident recorded. It is sensitive: only protection "
                                            "staff can open it from now on."))
                return redirect(request.get_full_path())
            return redirect("camp:incident", incident_id=incident.id)
    rows = selectors.incidents_visible(user=request.user, site=site).select_related(
        "block").annotate(n_persons=Count("persons")).order_by("is_closed", "-occurred_at")[:100]
    return render(request, "camp/incidents.html", {"site": site, "form": form,
                                                   "incidents": rows})


@never_cache
@access.requires(Perm.CAMP_VIEW)
def incident_detail(request, incident_id):
    incident = selectors.incident_get(user=request.user, incident_id=incident_id)
    form = forms.FollowUpForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        with service_errors(form):
            services.incident_follow_up(actor=request.user, incident=incident,
                                        note=form.cleaned_data["note"],
                                        close=form.cleaned_data["close"])
            return redirect("camp:incident", incident_id=incident.id)
    return render(request, "camp/incident.html", {
        "incident": incident, "form": form, "persons": incident.persons.all(),
        "follow_ups": incident.follow_ups.select_related("actor")})


