from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MatchingConfig(AppConfig):
    name = "mawa.matching"
    verbose_name = _("Identity resolution")

    def ready(self):
        from mawa.accounts.roles import Perm
        from mawa.core.dashboard import panel_register
        from mawa.core.hooks import hook_register
        from mawa.core.nav import NavEntry, nav_register
        from mawa.matching import services
        from mawa.matching.selectors import person_candidates_answer, person_merge_answer

        nav_register(NavEntry("matching:queue", _("Duplicates"), Perm.MATCH_REVIEW, 30))
        # The accountability compartment: only investigators see this entry.
        nav_register(NavEntry("matching:hits", _("Watch-list hits"), Perm.COMPARTMENT_VIEW, 31))
        nav_register(NavEntry("matching:runs", _("Matching runs"), Perm.MATCH_RUN, 32))
        panel_register(matching_panel)
        # Matching hangs off reception: the register announces its writes (documented in
        # reception.services), and the index follows them in the same transaction; new
        # persons are screened against the active watch lists by the worker, after the
        # commit (services.screening_enqueue: a task, ``services.screen_persons``).
        hook_register("person.registered", services.index_on_person_registered)
        hook_register("person.changed", services.index_on_person_changed)
        hook_register("person.merged", services.index_on_person_merged)
        # an import's row the officer imported although it may be a registered person
        hook_register("person.review_requested", services.queue_on_review_requested)
        # the registering officer's word on the records suggested while typing (issue 21)
        hook_register("person.duplicates_decided", services.pair_decide_at_registration)
        # reception's questions (it does not import matching): who looks like these typed
        # rows (suggestions while typing, an import's check), where was this person merged to
        hook_register("person.candidates", person_candidates_answer)
        hook_register("person.merged_into", person_merge_answer)


def matching_panel(request):
    """Home-page panel: open duplicate suggestions the user may decide (never hit counts)."""
    from django.urls import reverse

    from mawa.accounts import access
    from mawa.accounts.roles import Perm
    from mawa.matching.selectors import pair_count_open

    if not access.can(request.user, Perm.MATCH_REVIEW):
        return None
    url = reverse("matching:queue")
    return {"title": _("Identity resolution"),
            "metrics": [{"label": _("Possible duplicates to review"),
                         "value": pair_count_open(user=request.user), "url": url}],
            "links": [{"url": url, "label": _("Review queue")}]}
