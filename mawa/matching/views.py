"""Pages: the review queue, one pair side by side, runs, watch lists. Thin: parse, ask
``selectors``/``services`` (which ask ``access``), render. The watch-list pages belong to the
compartment: to anyone else they answer like unknown URLs (``access.hidden``)."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.forms import service_errors
from mawa.matching import selectors, services
from mawa.matching.forms import DecisionForm, WatchlistImportForm
from mawa.matching.models import PairKind
from mawa.matching.reasons import reasons_display
from mawa.reception.models import Person

# What the side-by-side table shows, in order (label, attribute or callable).
_ROWS = [
    ("given", "given_ar", "given_lat"), ("father", "father_ar", "father_lat"),
    ("grandfather", "grandfather_ar", "grandfather_lat"), ("family", "family_ar", "family_lat"),
    ("mother_given", "mother_given_ar", "mother_given_lat"), ("kunya", "kunya_ar", "kunya_lat"),
]


def _person_side(person: Person) -> dict:
    return {"person": person, "names": [(p, getattr(person, a), getattr(person, b))
                                        for p, a, b in _ROWS],
            "merged": selectors.person_merge_of(person=person)}


def _queue_page(request, kind: str):
    decided = request.GET.get("decided") == "1"
    pairs = selectors.pair_queue(user=request.user, kind=kind, decided=decided)
    return render(request, "matching/queue.html", {"pairs": pairs, "decided": decided,
                                                   "kind": kind})


@never_cache
@require_GET
@access.requires(Perm.MATCH_REVIEW)
def queue(request):
    return _queue_page(request, PairKind.DUPLICATE)


@access.hidden(Perm.COMPARTMENT_VIEW)
@never_cache
@require_GET
def hits(request):
    return _queue_page(request, PairKind.WATCHLIST)


@never_cache
@require_http_methods(["GET", "POST"])
def pair_detail(request, pair_id):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    pair = selectors.pair_get(user=request.user, pair_id=pair_id)
    form = DecisionForm(request.POST or None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            survivor = None
            if form.cleaned_data.get("survivor") and pair.person_b is not None:
                survivor = {pair.person_a.pk: pair.person_a,
                            pair.person_b.pk: pair.person_b}.get(form.cleaned_data["survivor"])
            with service_errors(form) as run:
                services.pair_decide(actor=request.user, pair=pair,
                                     decision=form.cleaned_data["decision"],
                                     reason=form.cleaned_data["reason"], survivor=survivor)
                messages.success(request, _("Decision recorded."))
                target = "matching:hits" if pair.kind == PairKind.WATCHLIST else "matching:queue"
                return redirect(target)
            status = run.status
    context = {"pair": pair, "form": form, "reasons": reasons_display(pair.reasons),
               "a": _person_side(pair.person_a),
               "b": _person_side(pair.person_b) if pair.person_b is not None else None,
               "entry": pair.entry}
    return render(request, "matching/pair.html", context, status=status)


@never_cache
@require_GET
def runs(request):
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return render(request, "matching/runs.html", {
        "runs": selectors.run_list(user=request.user),
        "may_run": access.can(request.user, Perm.MATCH_RUN)})


@require_POST
@access.requires(Perm.MATCH_RUN)
def run_start(request):
    run = services.match_run_dedupe(actor=request.user)
    messages.success(request, _("De-duplication finished: %(new)s new suggestions.")
                     % {"new": run.pairs_new})
    return redirect("matching:runs")


@access.hidden(Perm.COMPARTMENT_VIEW)
@never_cache
@require_http_methods(["GET", "POST"])
def watchlists(request):
    may_import = access.can(request.user, Perm.WATCHLIST_MANAGE)
    form = WatchlistImportForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        access.require(request.user, Perm.WATCHLIST_MANAGE)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            with service_errors(form):
                result = services.watchlist_import(
                    actor=request.user, content=upload.read(), file_name=upload.name,
                    source=form.cleaned_data["source"], version=form.cleaned_data["version"],
                    licence=form.cleaned_data["licence"])
                messages.success(request, _("Watch list imported: %(n)s entities, %(hits)s new "
                                            "hits.") % {"n": result.watchlist.entity_count,
                                                        "hits": result.run.pairs_new
                                                        if result.run else 0})
                return redirect("matching:watchlists")
        status = 400
    return render(request, "matching/watchlists.html", {
        "watchlists": selectors.watchlist_list(user=request.user), "form": form,
        "may_import": may_import}, status=status)
