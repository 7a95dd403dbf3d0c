"""Custody pages: parse, ask access, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.accounts.views import step_up_required
from mawa.core.digits import to_ascii_digits
from mawa.core.errors import MawaError, NotFound, ValidationFailed
from mawa.core.forms import service_errors
from mawa.core.ids import short_code_normalise
from mawa.core.models import Site, SiteKind
from mawa.core.views_exports import export_page
from mawa.custody import exports as custody_exports
from mawa.custody import forms, selectors, services
from mawa.custody.exports import reconciliation_export
from mawa.custody.models import Condition, Item, Kind, LegalHold, State, Store
from mawa.custody.receipts import payload_verify
from mawa.reception.models import ArrivalGroup
from mawa.reception.selectors import person_search, persons_visible

# --- stores and items --------------------------------------------------------------------

@access.requires(Perm.CUSTODY_VIEW)
def index(request):
    rows = selectors.store_list(user=request.user)
    return render(request, "custody/index.html", {
        "rows": rows, "open_discrepancies": selectors.discrepancies_open(
            user=request.user).count(),
        "store_form": forms.StoreForm(),
        "can_record": access.can(request.user, Perm.CUSTODY_RECORD)})


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def store_create(request):
    form = forms.StoreForm(request.POST)
    if form.is_valid() and request.site is not None:
        store = services.store_create(actor=request.user, site=request.site,
                                      name=form.cleaned_data["name"],
                                      name_ar=form.cleaned_data["name_ar"],
                                      kind=form.cleaned_data["kind"])
        return redirect("custody:store_detail", code=store.short_code)
    messages.error(request, _("Give the store a name."))
    return redirect("custody:index")


@access.requires(Perm.CUSTODY_VIEW)
def store_detail(request, code):
    store = selectors.store_get(user=request.user, code=code)
    before = request.GET.get("before") or None
    items = selectors.item_list(user=request.user, store=store, before=before,
                                state=State.IN_CUSTODY)
    return render(request, "custody/store_detail.html", {
        "store": store, "items": items, "overdue": services.stock_check_overdue(store),
        "checks": store.checks.order_by("-id")[:10], "check_form": forms.CheckStartForm(),
        "next_before": items[-1].pk if len(items) == 50 else None,
        "can_record": access.can(request.user, Perm.CUSTODY_RECORD, store.site)})


@access.requires(Perm.CUSTODY_VIEW)
def item_list(request):
    g = request.GET
    items = selectors.item_list(user=request.user, q=g.get("q", "").strip(),
                                state=g.get("state", ""), kind=g.get("kind", ""),
                                category=g.get("category", ""), before=g.get("before") or None,
                                surrendered_at=_site_param(request, g.get("site", "")))
    query = g.copy()
    query.pop("before", None)
    return render(request, "custody/item_list.html", {
        "items": items, "q": g.get("q", ""), "query": query.urlencode(),
        "next_before": items[-1].pk if len(items) == 50 else None,
        "states": State.choices, "kinds": Kind.choices, "state": g.get("state", ""),
        "kind": g.get("kind", "")})


def _site_param(request, code):
    if not code:
        return None

    return access.sites_for(request.user).filter(code=code).first() or Site(code="--")


def _item_context(request, item: Item, **extra) -> dict:
    user = request.user
    stores = Store.objects.filter(site=item.location_site, is_active=True)
    return {
        "item": item, "history": selectors.item_history(item=item),
        "holds": selectors.item_holds(user=user, item=item),
        "duplicates": selectors.duplicates_of(user=user, item=item),
        "photos": item.photos.order_by("created_at"),
        "can_record": access.can(user, Perm.CUSTODY_RECORD, item.location_site),
        "can_hold": access.can(user, Perm.COMPARTMENT_EDIT),
        "can_certify_destruction": item.state == State.DESTROYED and access.can(
            user, Perm.CUSTODY_DISPOSE, item.location_site),
        "event_form": extra.pop("event_form", None) or forms.EventForm(stores=stores),
        "photo_form": extra.pop("photo_form", None) or forms.PhotoForm(),
        "split_form": extra.pop("split_form", None) or forms.SplitForm(),
        "hold_form": forms.HoldForm(), **extra}


@access.requires(Perm.CUSTODY_VIEW)
def item_detail(request, code):
    item = selectors.item_get(user=request.user, code=code)
    return render(request, "custody/item_detail.html", _item_context(request, item))


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def item_event(request, code):
    item = selectors.item_get(user=request.user, code=code)
    stores = Store.objects.filter(is_active=True, site__in=access.sites_for(request.user))
    form = forms.EventForm(request.POST, stores=stores)
    if form.is_valid():
        with service_errors(form):
            result = services.item_event_record(actor=request.user, item=item,
                                                kind=form.cleaned_data["kind"],
                                                data=form.cleaned_data)
            messages.success(request, _("Recorded."))
            return redirect("custody:item_detail", code=result.short_code)
    return render(request, "custody/item_detail.html",
                  _item_context(request, item, event_form=form), status=400)


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def item_split(request, code):
    item = selectors.item_get(user=request.user, code=code)
    form = forms.SplitForm(request.POST)
    if form.is_valid():
        with service_errors(form):
            children = services.lot_split(actor=request.user, item=item,
                                          parts=form.cleaned_data["parts"].split(),
                                          client_key=form.cleaned_data["client_key"])
            messages.success(request, _("New lots: %(codes)s") % {
                "codes": ", ".join(c.short_code for c in children)})
            return redirect("custody:item_detail", code=item.short_code)
    return render(request, "custody/item_detail.html",
                  _item_context(request, item, split_form=form), status=400)


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def item_photo(request, code):
    item = selectors.item_get(user=request.user, code=code)
    form = forms.PhotoForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        with service_errors(form) as run:
            services.item_photo_add(actor=request.user, item=item,
                                    subject=form.cleaned_data["subject"],
                                    upload=form.cleaned_data["photo"])
            return redirect("custody:item_detail", code=item.short_code)
        status = run.status
    return render(request, "custody/item_detail.html",
                  _item_context(request, item, photo_form=form), status=status)


@access.requires(Perm.CUSTODY_VIEW)
def photo_file(request, code, photo_id):
    item = selectors.item_get(user=request.user, code=code)
    photo = item.photos.filter(pk=photo_id).first()
    if photo is None:
        raise NotFound()
    with photo.image.open("rb") as fh:
        return HttpResponse(fh.read(), content_type="image/jpeg")


@access.hidden(Perm.COMPARTMENT_EDIT)
@require_POST
def item_hold(request, code):
    item = selectors.item_get(user=request.user, code=code)
    form = forms.HoldForm(request.POST)
    if form.is_valid():
        services.legal_hold_set(actor=request.user, item=item, reason=form.cleaned_data["reason"])
    return redirect("custody:item_detail", code=item.short_code)


@access.hidden(Perm.COMPARTMENT_EDIT)
@require_POST
def hold_lift(request, code, hold_id):
    item = selectors.item_get(user=request.user, code=code)
    hold = LegalHold.objects.filter(item=item, pk=hold_id).first()
    if hold is None:
        raise NotFound()
    services.legal_hold_lift(actor=request.user, hold=hold)
    return redirect("custody:item_detail", code=item.short_code)


@access.requires(Perm.CUSTODY_VIEW)
def item_label(request, code):
    item = selectors.item_get(user=request.user, code=code)
    pdf = custody_exports.labels_print(user=request.user, items=[item],
                                       site=item.location_site)
    return _pdf_response(pdf, f"label-{item.short_code}.pdf")


@access.requires(Perm.CUSTODY_DISPOSE)
def destruction_pdf(request, code):
    """Print the destruction certificate of the plan under which this item was destroyed
    (kind ``custody_destruction_pdf``: checked and on the ledger)."""
    certificate = selectors.destruction_get(user=request.user, code=code)
    pdf = custody_exports.destruction_print(user=request.user, certificate=certificate)
    return _pdf_response(pdf, f"destruction-{certificate.lines[0].item.short_code}.pdf")


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    """A printed document, opened in the browser's viewer to be printed at once."""
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    return response


# --- surrender and receipts --------------------------------------------------------------

@access.requires(Perm.CUSTODY_RECORD)
def surrender_start(request):
    # Surrenders happen at a crossing: the receipt is recorded at the working site; when that
    # is not a crossing (a depot, a camp) the officer must choose the crossing, never silently.
    crossings = {str(s.pk): s for s in request.user_sites if s.kind == SiteKind.CROSSING}
    working = request.site if request.site is not None and str(request.site.pk) in crossings \
        else None
    form = forms.SurrenderStartForm(request.POST or None,
                                    initial={"site": str(working.pk) if working else ""})
    form.fields["site"].choices = [("", "—"), *((k, str(s)) for k, s in crossings.items())]
    candidates: list = []
    if request.method == "POST" and form.is_valid():
        site = crossings[form.cleaned_data["site"]]
        person = group = None
        gcode = short_code_normalise(form.cleaned_data["group"] or "")
        if form.cleaned_data["person_id"] or form.cleaned_data["person"]:
            person, candidates = _surrender_person(request, form)
        elif form.cleaned_data["group"]:
            group = access.scope(ArrivalGroup.objects.all(), request.user).filter(
                short_code=gcode).first()
            if group is None:
                form.add_error("group", _("No arrival group with this code at your sites."))
        else:
            form.add_error("person", _("Give the person's name, code or service number, or "
                                       "the group's code."))
        if form.is_valid():
            with service_errors(form):
                receipt = services.receipt_open(actor=request.user, site=site, person=person,
                                                group=group, witness=form.cleaned_data["witness"],
                                                client_key=form.cleaned_data["client_key"])
                return redirect("custody:receipt_detail", code=receipt.short_code)
    return render(request, "custody/surrender_start.html", {"form": form,
                                                            "candidates": candidates})


def _surrender_person(request, form):
    """The person handing items in: the one chosen in the look-up list, or the only one the
    typed name, code or service number finds (several: the list to choose from)."""
    chosen = form.cleaned_data["person_id"]
    if chosen:
        person = persons_visible(user=request.user).filter(pk=chosen).first()
        if person is None:
            form.add_error("person", _("No person with this code at your sites."))
        return person, []
    found = person_search(user=request.user, q=form.cleaned_data["person"],
                          limit=LOOKUP_MAX).persons
    if len(found) == 1:
        return found[0], []
    if not found:
        form.add_error("person", _("Nobody with this name, code or service number at your "
                                   "sites."))
    else:
        form.add_error("person", _("Several persons match: choose one in the list."))
    return None, found


LOOKUP_MAX = 8  # persons offered under the look-up field


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def surrender_person_lookup(request):
    """htmx: the persons a typed name, code or service number finds, to choose from (POST:
    a name typed must not land in the address bar or the logs)."""
    q = to_ascii_digits(request.POST.get("person", "")).strip()
    found = person_search(user=request.user, q=q, limit=LOOKUP_MAX).persons \
        if len(q) >= 2 else []
    return render(request, "custody/_person_lookup.html", {"candidates": found, "q": q})


def _receipt_context(request, receipt, form=None):
    return {"receipt": receipt, "items": list(receipt.items.select_related("catalogue")
                                              .order_by("id")),
            "form": form or forms.ItemForm(),
            "can_record": access.can(request.user, Perm.CUSTODY_RECORD, receipt.site)}


@access.requires(Perm.CUSTODY_VIEW)
def receipt_detail(request, code):
    receipt = selectors.receipt_get(user=request.user, code=code)
    form = None
    if request.method == "POST":
        access.require(request.user, Perm.CUSTODY_RECORD, receipt.site)
        form = forms.ItemForm(request.POST, request.FILES)
        if form.is_valid():
            with service_errors(form):
                photo = form.cleaned_data.get("photo")
                if photo is not None and not services.image_ok(photo.read()):
                    raise ValidationFailed(_("Check the highlighted fields."), fields={
                        "photo": [_("This file is not a photo (JPEG, PNG or WebP, at most "
                                    "8 MB).")]})
                result = services.item_surrender(
                    actor=request.user, receipt=receipt,
                    client_key=form.cleaned_data["client_key"],
                    data=services.item_input(form.cleaned_data))
                if photo is not None and result.created:
                    photo.seek(0)
                    services.item_photo_add(actor=request.user, item=result.item,
                                            subject="item", upload=photo)
                if result.duplicate_serial:
                    messages.warning(request, _("Recorded as %(code)s. The same serial number "
                                                "is already recorded on another item: check "
                                                "the make and markings.") % {
                                                    "code": result.item.short_code})
                else:
                    messages.success(request, _("Recorded as %(code)s.") % {
                        "code": result.item.short_code})
                return redirect("custody:receipt_detail", code=receipt.short_code)
    status = 400 if form is not None else 200
    return render(request, "custody/receipt_detail.html",
                  _receipt_context(request, receipt, form), status=status)


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def receipt_issue(request, code):
    receipt = selectors.receipt_get(user=request.user, code=code)
    services.receipt_issue(actor=request.user, receipt=receipt)
    return redirect("custody:receipt_detail", code=receipt.short_code)


@access.requires(Perm.CUSTODY_VIEW)
def receipt_pdf(request, code):
    """Print the signed receipt (kind ``custody_receipt_pdf``: checked and on the ledger)."""
    receipt = selectors.receipt_get(user=request.user, code=code)
    pdf = custody_exports.receipt_print(user=request.user, receipt=receipt)
    return _pdf_response(pdf, f"receipt-{receipt.short_code}.pdf")


@access.requires(Perm.CUSTODY_VIEW)
def receipt_labels(request, code):
    receipt = selectors.receipt_get(user=request.user, code=code)
    items = [i for i in receipt.items.order_by("id") if i.state != State.REFUSED]
    pdf = custody_exports.labels_print(user=request.user, items=items, site=receipt.site,
                                       receipt=receipt)
    return _pdf_response(pdf, f"labels-{receipt.short_code}.pdf")


# --- return to the country of origin -----------------------------------------------------

HANDOVER_LIST_MAX = 500  # items of one store offered on the page


@access.requires(Perm.CUSTODY_VIEW)
def handover_list(request):
    return render(request, "custody/handover_list.html", {
        "batches": selectors.handover_list(user=request.user),
        "can_dispose": access.can(request.user, Perm.CUSTODY_DISPOSE)})


def _by_item(request, prefix: str, items) -> dict[str, str]:
    """``{tag: value}`` of the per-item fields ``<prefix>-<tag>`` sent with the page."""
    return {i.short_code: request.POST[f"{prefix}-{i.short_code}"] for i in items
            if f"{prefix}-{i.short_code}" in request.POST}


@access.requires(Perm.CUSTODY_DISPOSE)
def handover_new(request):
    """Prepare a handover (choose the store, tick its items, name the receiving party, its
    delegation and the agreement), review it with the condition of each item at return, and
    complete it. The service decides; ``step`` says which page comes next:
    nothing → prepare, ``review`` → the condition report, ``complete`` → the batch,
    ``edit`` → back to preparing with what was typed."""
    user = request.user
    bound = request.method == "POST"
    code = (request.POST if bound else request.GET).get("store", "")
    store = selectors.store_get(user=user, code=code) if code else None
    candidates = selectors.item_list(user=user, store=store, state=State.IN_CUSTODY,
                                     limit=HANDOVER_LIST_MAX) if store else []
    form = forms.HandoverForm(request.POST if bound else None,
                              tags=[i.short_code for i in candidates],
                              initial={"store": store.short_code if store else ""})
    stores = access.scope(Store.objects.filter(is_active=True).select_related("site")
                          .order_by("site__code", "name"), user)
    context = {"form": form, "store": store, "candidates": candidates,
               "stores": [s for s in stores if access.can(user, Perm.CUSTODY_DISPOSE, s.site)],
               "chosen": set(request.POST.getlist("items")), "truncated":
               len(candidates) == HANDOVER_LIST_MAX}
    step = request.POST.get("step", "") if bound else ""
    if step not in ("review", "complete"):
        return render(request, "custody/handover_new.html", context)
    if not form.is_valid():
        return render(request, "custody/handover_new.html", context, status=400)
    items = selectors.items_by_tag(user=user, tags=form.cleaned_data["items"])
    conditions = _by_item(request, "condition", items)
    request_data = {"items": items, "recipient": form.cleaned_data["recipient"],
                    "delegation": form.delegation_names(),
                    "document": form.cleaned_data["document"],
                    "witness": form.cleaned_data["witness"], "conditions": conditions,
                    "notes": _by_item(request, "note", items)}
    # a refusal shows the page where it can be put right: the review for a completion
    page = "custody/handover_review.html" if step == "complete" else "custody/handover_new.html"
    status = 400
    with service_errors(form) as run:
        if step == "complete":
            batch = services.handover_return(actor=user,
                                             client_key=form.cleaned_data["client_key"],
                                             **request_data)
            messages.success(request, _("Handed over as batch %(code)s.") % {
                "code": batch.short_code})
            return redirect("custody:handover_detail", code=batch.short_code)
        services.handover_check(actor=user, **request_data)
        page, status = "custody/handover_review.html", 200
    if run.error is not None:
        # 400 for a field to put right; 409 for a legal hold or an item that cannot go:
        # nothing was handed over
        status = run.status
    context.update(items=items, lines=[
        {"item": i, "condition": conditions.get(i.short_code, i.condition),
         "note": request.POST.get(f"note-{i.short_code}", "")} for i in items],
        conditions=Condition.choices, recipient=services.handover_recipient(
            request_data["recipient"], request_data["delegation"]))
    return render(request, page, context, status=status)


@access.requires(Perm.CUSTODY_VIEW)
def handover_detail(request, code):
    batch = selectors.handover_get(user=request.user, code=code)
    return render(request, "custody/handover_detail.html", {
        "batch": batch, "lines": batch.report,
        "can_print": access.can(request.user, Perm.CUSTODY_DISPOSE, batch.site)})


@access.requires(Perm.CUSTODY_VIEW)
def handover_pdf(request, code):
    """Print the bilingual handover document of a batch, to be signed with the delegation
    (kind ``custody_handover_pdf``: checked and on the ledger)."""
    batch = selectors.handover_get(user=request.user, code=code)
    pdf = custody_exports.handover_print(user=request.user, batch=batch)
    return _pdf_response(pdf, f"handover-{batch.short_code}.pdf")


def verify_public(request):
    """Public, no sign-in: check a receipt's QR text against the site keys (offline)."""
    form = forms.VerifyForm(request.POST or request.GET or None)
    body = error = None
    if form.is_bound and form.is_valid():
        try:
            body = payload_verify(form.cleaned_data["code"])
        except MawaError as exc:
            error = exc.message
    lines = [dict(zip(("tag", "kind", "model", "serial", "condition", "quantity", "accepted"),
                      line, strict=False)) for line in (body or {}).get("i", [])]
    return render(request, "custody/verify.html", {"form": form, "body": body, "error": error,
                                                   "lines": lines},
                  status=400 if error else 200)


# --- stock checks ------------------------------------------------------------------------

@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def check_start(request, code):
    store = selectors.store_get(user=request.user, code=code)
    form = forms.CheckStartForm(request.POST)
    if not form.is_valid():
        raise ValidationFailed(_("Check the highlighted fields."))
    check = services.stock_check_start(actor=request.user, store=store,
                                       scope=form.cleaned_data["scope"],
                                       client_key=form.cleaned_data["client_key"])
    return redirect("custody:check_detail", code=check.short_code)


def _check_context(request, check, scan_form=None):
    lines = {line.item.short_code: line for line in check.lines.select_related("item")}
    sample = [{"tag": t, "line": lines.get(t)} for t in check.sample]
    return {"check": check, "sample": sample, "lines": lines.values(),
            "scan_form": scan_form or forms.ScanForm(),
            "categories": sorted(check.expected_counts.items()),
            "rederives": services.stock_check_rederive(check),
            "discrepancies": check.discrepancies.select_related("item"),
            "resolve_form": forms.ResolveForm(),
            "can_record": access.can(request.user, Perm.CUSTODY_RECORD, check.site)}


@access.requires(Perm.CUSTODY_VIEW)
def check_detail(request, code):
    check = selectors.check_get(user=request.user, code=code)
    return render(request, "custody/check_detail.html", _check_context(request, check))


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def check_scan(request, code):
    check = selectors.check_get(user=request.user, code=code)
    form = forms.ScanForm(request.POST)
    status = 200
    if form.is_valid():
        with service_errors(form) as run:
            services.stock_check_scan(actor=request.user, check=check,
                                      code=form.cleaned_data["code"],
                                      serial=form.cleaned_data["serial"],
                                      quantity=form.cleaned_data["quantity"])
            form = None
        if run.error is not None:
            status = 400
    else:
        status = 400
    if request.headers.get("HX-Request"):
        # htmx swaps only 2xx answers; the partial carries the error message itself
        return render(request, "custody/_check_lines.html", _check_context(request, check, form))
    return render(request, "custody/check_detail.html", _check_context(request, check, form),
                  status=status)


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def check_close(request, code):
    check = selectors.check_get(user=request.user, code=code)
    counted = {k[6:]: v for k, v in request.POST.items() if k.startswith("count_")}
    for key, value in counted.items():
        value = to_ascii_digits(value).strip()
        if value and not value.isdigit():
            raise ValidationFailed(_("Counts are whole numbers."), fields={key: [
                _("Counts are whole numbers.")]})
        counted[key] = value
    services.stock_check_close(actor=request.user, check=check, counted=counted)
    return redirect("custody:check_detail", code=check.short_code)


@require_POST
@access.requires(Perm.CUSTODY_RECORD)
def discrepancy_resolve(request, code, disc_code):
    check = selectors.check_get(user=request.user, code=code)
    disc = check.discrepancies.filter(short_code=disc_code).first()
    if disc is None:
        raise NotFound()
    form = forms.ResolveForm(request.POST)
    if form.is_valid():
        services.discrepancy_resolve(actor=request.user, discrepancy=disc,
                                     resolution=form.cleaned_data["resolution"],
                                     note=form.cleaned_data["note"])
    else:
        messages.error(request, _("Say how the discrepancy was resolved and what was done."))
    return redirect("custody:check_detail", code=check.short_code)


# --- reconciliation ----------------------------------------------------------------------

@access.requires(Perm.CUSTODY_VIEW)
def reconciliation(request):
    if request.GET.get("format") == "csv":
        return _reconciliation_export(request)
    report = selectors.reconciliation(user=request.user)
    return render(request, "custody/reconciliation.html", {"report": report})


@step_up_required
def _reconciliation_export(request):
    """GET: the form (purpose, recipient). POST: the table as an encrypted export."""
    return export_page(request, title=_("Custody reconciliation (CSV)"),
                       back=reverse("custody:reconciliation"),
                       make=lambda **asked: reconciliation_export(user=request.user, **asked))
