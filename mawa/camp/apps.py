from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CampConfig(AppConfig):
    name = "mawa.camp"
    verbose_name = _("Internment camp")

    def ready(self):
        # here, not at the top: the registry imports apps.py before the models exist
        from mawa.accounts.roles import Perm
        from mawa.camp.models import Incident, IncidentFollowUp, Movement
        from mawa.camp.panels import camp_panel
        from mawa.camp.replay import appliers_register
        from mawa.camp.services.movements import camp_follow_transition
        from mawa.core.dashboard import panel_register
        from mawa.core.hooks import hook_register
        from mawa.core.keyrotation import encrypted_fields_register
        from mawa.core.nav import NavEntry, nav_register

        nav_register(NavEntry("camp:home", _("Camp"), Perm.CAMP_VIEW, 30))
        nav_register(NavEntry("camp:rollcalls", _("Roll calls"), Perm.CAMP_OPERATE, 31))
        nav_register(NavEntry("camp:distributions", _("Distributions"), Perm.CAMP_OPERATE, 32))
        panel_register(camp_panel)
        # movement notes and incident narratives: sealed with the "camp" field key
        encrypted_fields_register(Movement, Incident, IncidentFollowUp)
        # the camp follows the person's lifecycle (reception announces every move): a stay,
        # a roll-call expectation and the entitlements move with the person, in one write
        hook_register("person.transitioned", camp_follow_transition)
        # changes made at a post (or at headquarters) replayed through the same services
        appliers_register()
