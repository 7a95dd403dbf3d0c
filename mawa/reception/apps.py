from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReceptionConfig(AppConfig):
    name = "mawa.reception"
    verbose_name = _("Reception")

    def ready(self):
        from mawa.accounts.roles import Perm
        from mawa.core.dashboard import panel_register
        from mawa.core.jobs import job_kind_register
        from mawa.core.keyrotation import encrypted_fields_register
        from mawa.core.nav import NavEntry, nav_register
        from mawa.reception.idcards import JOB_KIND, idcards_job_run
        from mawa.reception.models import IdentityDocument, LifecycleEvent, Person, PersonRevision

        # family contacts, notes, document numbers: sealed with the "reception" field key
        # (``mawa keys rotate --purpose reception`` re-encrypts them)
        encrypted_fields_register(Person, IdentityDocument, LifecycleEvent, PersonRevision)

        nav_register(NavEntry("reception:group_list", _("Arrival groups"), Perm.PERSON_VIEW, 10))
        nav_register(NavEntry("reception:person_list", _("Persons"), Perm.PERSON_VIEW, 11))
        nav_register(NavEntry("reception:person_register", _("Register"), Perm.PERSON_REGISTER,
                              12))
        # pages used now and then, under "Persons" (issue 21: none reachable only by URL)
        persons = "reception:person_list"
        nav_register(NavEntry("reception:import_upload", _("Import persons from a file"),
                              Perm.PERSON_IMPORT, 13, menu=persons))
        nav_register(NavEntry("reception:persons_export", _("Export the register (CSV)"),
                              Perm.PERSON_EXPORT, 14, menu=persons))
        nav_register(NavEntry("reception:icrc_notification", _("ICRC notification (PDF)"),
                              Perm.ICRC_EXPORT, 15, menu=persons, kwargs=(("fmt", "pdf"),)))
        nav_register(NavEntry("reception:icrc_notification", _("ICRC notification (CSV)"),
                              Perm.ICRC_EXPORT, 16, menu=persons, kwargs=(("fmt", "csv"),)))
        panel_register(reception_panel)
        job_kind_register(JOB_KIND, label=_("ID cards of a group"), run=idcards_job_run)
        # encrypted exports written by a job (core.export_jobs): the passphrase is shown when
        # the job starts, sealed for the job, wiped once the file is written
        from mawa.core.export_jobs import export_job_runner
        from mawa.reception import exports as reception_exports
        from mawa.reception import icrc

        job_kind_register(icrc.ICRC_JOB_KIND, label=_("ICRC internment notification"),
                          run=export_job_runner(icrc.icrc_notification_job_run))
        job_kind_register(reception_exports.JOB_KIND, label=_("Export of the register (CSV)"),
                          run=export_job_runner(reception_exports.persons_export_job_run))
        # the audit-trail page (accounts) filters by a record's code: whose ids carry it
        from mawa.core.hooks import hook_register

        hook_register("record.ids_of_code", record_ids_of_code)
        # field operations: the reception's changes made at another node, replayed here
        from mawa.reception.sync import appliers_register

        appliers_register()


def record_ids_of_code(*, code: str, **_kw) -> list:
    """``record.ids_of_code``: the persons and arrival groups with this short code (for the
    auditors' filter; no record content is returned, only ids)."""
    from mawa.core.ids import short_code_normalise
    from mawa.reception.models import ArrivalGroup, Person

    normal = short_code_normalise(code or "")
    if not normal:
        return []
    return [*Person.objects.filter(short_code=normal).values_list("id", flat=True),
            *ArrivalGroup.objects.filter(short_code=normal).values_list("id", flat=True)]


def reception_panel(request):
    """Home-page panel: where the register stands at the user's sites."""
    from django.db.models import Count
    from django.urls import reverse

    from mawa.accounts import access
    from mawa.accounts.roles import Perm
    from mawa.reception.models import Status
    from mawa.reception.selectors import persons_visible

    if not access.can(request.user, Perm.PERSON_VIEW):
        return None
    counts = dict(persons_visible(user=request.user).values_list("status").annotate(
        n=Count("id")).order_by())
    url = reverse("reception:person_list")
    metrics = [{"label": Status(s).label, "value": counts.get(s, 0), "url": f"{url}?status={s}"}
               for s in (Status.ARRIVED, Status.DISARMED, Status.REGISTERED, Status.INTERNED)]
    links = [{"url": reverse("reception:group_list"), "label": _("Arrival groups")}]
    if access.can(request.user, Perm.PERSON_REGISTER):
        links.append({"url": reverse("reception:person_register"), "label": _("Register a person")})
    return {"title": _("Reception"), "metrics": metrics, "links": links}
