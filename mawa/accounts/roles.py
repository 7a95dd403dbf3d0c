"""The roles of Mawa and what each may do — defined here, in code, and nowhere else.

A permission is a string ``area.action``. ``ROLE_PERMISSIONS`` is the whole policy at the role
level; ``mawa.accounts.access`` combines it with site scoping and the accountability
compartment, and is the only module views, the API and the CLI ask.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    RECEPTION_OFFICER = "reception_officer", _("Reception officer")
    CUSTODY_OFFICER = "custody_officer", _("Custody officer")
    CAMP_STAFF = "camp_staff", _("Camp staff")
    CAMP_MANAGER = "camp_manager", _("Camp manager")
    PROTECTION_OFFICER = "protection_officer", _("Protection officer")
    INVESTIGATOR = "investigator", _("Investigator")
    AUDITOR = "auditor", _("Auditor")
    ADMINISTRATOR = "administrator", _("Administrator")


class Perm:
    """Permission names. Grep for ``Perm.X`` to find every place that checks one."""

    SITE_VIEW = "site.view"
    SITE_LOCATION_VIEW = "site.location.view"  # exact coordinates of camps are restricted
    SITE_MANAGE = "site.manage"
    USER_MANAGE = "user.manage"
    ADMIN_SITE = "admin.site"  # the Django admin

    PERSON_VIEW = "person.view"
    PERSON_REGISTER = "person.register"
    PERSON_SENSITIVE_VIEW = "person.sensitive.view"  # documents, family contact, vulnerabilities
    PERSON_IMPORT = "person.import"
    PERSON_EXPORT = "person.export"  # the register as CSV (core.exports kind persons_csv)
    ICRC_EXPORT = "export.icrc"  # the ICRC internment notification (kinds icrc_csv, icrc_pdf)
    GROUP_MANAGE = "group.manage"
    IDCARD_PRINT = "idcard.print"
    PROTECTION_ACT = "protection.act"  # separation, ICRC notification, renunciation, release

    CUSTODY_VIEW = "custody.view"
    CUSTODY_RECORD = "custody.record"
    CUSTODY_DISPOSE = "custody.dispose"
    CATALOGUE_MANAGE = "custody.catalogue.manage"

    CAMP_VIEW = "camp.view"
    CAMP_OPERATE = "camp.operate"  # roll calls, distributions, movements, incidents
    CAMP_MANAGE = "camp.manage"  # layout, capacity overrides, rules
    INCIDENT_SENSITIVE_VIEW = "camp.incident.sensitive.view"

    MATCH_REVIEW = "matching.review"
    MATCH_RUN = "matching.run"

    # The accountability compartment. To anyone without these it does not exist (404, never
    # 403), see access.COMPARTMENT_PERMS.
    COMPARTMENT_VIEW = "accountability.view"
    COMPARTMENT_EDIT = "accountability.edit"
    WATCHLIST_MANAGE = "accountability.watchlist"

    LEDGER_VIEW = "ledger.view"
    LEDGER_VERIFY = "ledger.verify"
    AUDIT_VIEW = "audit.view"

    REPORT_VIEW = "report.view"
    STATS_PUBLISH = "report.stats.publish"

    # field operations (issue 17): the sync page, deciding a conflict between two versions of a
    # record, running push/pull (an administrator, or an API token naming it)
    SYNC_VIEW = "sync.view"
    SYNC_DECIDE = "sync.decide"
    SYNC_RUN = "sync.run"


_READ_REGISTRY = {Perm.SITE_VIEW, Perm.PERSON_VIEW}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.RECEPTION_OFFICER: frozenset(_READ_REGISTRY | {
        Perm.PERSON_REGISTER, Perm.PERSON_SENSITIVE_VIEW, Perm.PERSON_IMPORT, Perm.GROUP_MANAGE,
        Perm.IDCARD_PRINT, Perm.CUSTODY_VIEW, Perm.MATCH_REVIEW,
    }),
    Role.CUSTODY_OFFICER: frozenset(_READ_REGISTRY | {
        Perm.CUSTODY_VIEW, Perm.CUSTODY_RECORD, Perm.CUSTODY_DISPOSE,
    }),
    Role.CAMP_STAFF: frozenset(_READ_REGISTRY | {Perm.CAMP_VIEW, Perm.CAMP_OPERATE}),
    Role.CAMP_MANAGER: frozenset(_READ_REGISTRY | {
        Perm.CAMP_VIEW, Perm.CAMP_OPERATE, Perm.CAMP_MANAGE, Perm.SITE_LOCATION_VIEW,
        Perm.REPORT_VIEW, Perm.IDCARD_PRINT, Perm.SYNC_VIEW, Perm.SYNC_DECIDE,
    }),
    Role.PROTECTION_OFFICER: frozenset(_READ_REGISTRY | {
        Perm.PERSON_SENSITIVE_VIEW, Perm.PROTECTION_ACT, Perm.CAMP_VIEW,
        Perm.INCIDENT_SENSITIVE_VIEW, Perm.MATCH_REVIEW, Perm.REPORT_VIEW, Perm.PERSON_EXPORT,
        Perm.ICRC_EXPORT,
    }),
    Role.INVESTIGATOR: frozenset(_READ_REGISTRY | {
        Perm.PERSON_SENSITIVE_VIEW, Perm.CUSTODY_VIEW, Perm.COMPARTMENT_VIEW,
        Perm.COMPARTMENT_EDIT, Perm.WATCHLIST_MANAGE, Perm.MATCH_REVIEW, Perm.MATCH_RUN,
    }),
    Role.AUDITOR: frozenset({
        Perm.SITE_VIEW, Perm.LEDGER_VIEW, Perm.LEDGER_VERIFY, Perm.AUDIT_VIEW, Perm.REPORT_VIEW,
        Perm.CUSTODY_VIEW,
    }),
    Role.ADMINISTRATOR: frozenset({
        Perm.SITE_VIEW, Perm.SITE_LOCATION_VIEW, Perm.SITE_MANAGE, Perm.USER_MANAGE,
        Perm.ADMIN_SITE, Perm.LEDGER_VIEW, Perm.LEDGER_VERIFY, Perm.CATALOGUE_MANAGE,
        Perm.REPORT_VIEW, Perm.STATS_PUBLISH, Perm.MATCH_RUN,
        Perm.SYNC_VIEW, Perm.SYNC_DECIDE, Perm.SYNC_RUN,
    }),
}

ALL_PERMISSIONS = frozenset(v for k, v in vars(Perm).items() if k.isupper())
