"""Purpose, sensitivity tier and retention of every reception field (protection.md R17).

ICRC/UNHCR data-protection guidance asks that each item of personal data have a stated purpose
and retention, and that access follow need-to-know. This is the one registry of that; the
field-level read rule (``selectors.person_visible_fields``) and the future retention purge read
it, and ``tests/reception/test_fieldinfo.py`` fails when a model field is missing here.

Tiers:
- ``system``: identifiers and bookkeeping, no personal content;
- ``operational``: needed by every registry role to do their work (name, status, group);
- ``sensitive``: only with ``person.sensitive.view`` (documents, family contact,
  vulnerabilities, protection flags): a leak of these can endanger the person or their family.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

SYSTEM, OPERATIONAL, SENSITIVE = "system", "operational", "sensitive"

TIER_LABELS = {SYSTEM: _("system"), OPERATIONAL: _("operational"), SENSITIVE: _("sensitive")}

# Retention periods, counted from the end of internment (release, repatriation, referral).
RETENTION = {
    "record": _("kept for the life of the record; destroyed with it"),
    "internment+10y": _("10 years after internment ends (settlement of upkeep costs, "
                        "Hague Convention V art. 12)"),
    "internment+1y": _("1 year after internment ends"),
    "until_notified": _("until the family has been notified, then at most 1 year"),
    "ledger": _("permanent (tamper-evident history)"),
}


@dataclass(frozen=True)
class FieldInfo:
    purpose: object
    tier: str
    retention: str


_ID = _("identify the person without confusion with another")
_ID_NAME = FieldInfo(_ID, OPERATIONAL, "internment+10y")
_SYS = FieldInfo(_("record keeping"), SYSTEM, "record")
_IDEM = FieldInfo(_("prevent a retried save from creating a second record"), SYSTEM, "record")
_FAMILY = FieldInfo(_("notify the family through the ICRC (GC III art. 122)"), SENSITIVE,
                    "until_notified")

PERSON_FIELDS: dict[str, FieldInfo] = {
    "id": _SYS, "site": _SYS, "short_code": FieldInfo(_ID, SYSTEM, "record"),
    "created_at": _SYS, "updated_at": _SYS, "version": _SYS, "client_key": _IDEM,
    "content_hash": _IDEM, "registered_by": _SYS, "completeness": _SYS,
    "group": FieldInfo(_("account for everyone who crossed together"), OPERATIONAL,
                       "internment+10y"),
    "current_site": FieldInfo(_("know where the person is held"), OPERATIONAL,
                              "internment+10y"),
    "arrived_at": FieldInfo(_("date internment began (Hague Convention V art. 11)"),
                            OPERATIONAL, "internment+10y"),
    **{f"{part}_{script}": _ID_NAME
       for part in ("given", "father", "grandfather", "family", "mother_given",
                    "mother_family")
       for script in ("ar", "lat")},
    "kunya_ar": _ID_NAME, "kunya_lat": _ID_NAME,
    "sex": FieldInfo(_("identification; separate housing and care"), OPERATIONAL,
                     "internment+10y"),
    "birth_year": _ID_NAME, "birth_month": _ID_NAME, "birth_day": _ID_NAME,
    "birth_precision": _ID_NAME,
    "place_of_birth": _ID_NAME,
    "nationality": FieldInfo(_("identification; repatriation to the country of origin"),
                             OPERATIONAL, "internment+10y"),
    "languages": FieldInfo(_("communicate with the person"), OPERATIONAL, "internment+1y"),
    "service_number": FieldInfo(_("military identity (GC III art. 17)"), OPERATIONAL,
                                "internment+10y"),
    "rank": FieldInfo(_("military identity; treatment by rank (GC III art. 44–45)"),
                      OPERATIONAL, "internment+10y"),
    "unit": FieldInfo(_("military identity"), OPERATIONAL, "internment+10y"),
    "branch": FieldInfo(_("military identity"), OPERATIONAL, "internment+10y"),
    "family_contact_name": _FAMILY, "family_contact_relation": _FAMILY,
    "family_contact_phone": _FAMILY, "family_contact_address": _FAMILY,
    "photo": FieldInfo(_("recognise the person at roll calls and on the ID card"),
                       OPERATIONAL, "internment+1y"),
    "vulnerabilities": FieldInfo(_("medical and protection care"), SENSITIVE,
                                 "internment+1y"),
    "vulnerability_notes": FieldInfo(_("medical and protection care"), SENSITIVE,
                                     "internment+1y"),
    "category": FieldInfo(_("separate civilians and children from combatants (IDDRS 5.40)"),
                          OPERATIONAL, "internment+10y"),
    "status": FieldInfo(_("know where the person stands in internment"), OPERATIONAL,
                        "internment+10y"),
    "status_changed_at": FieldInfo(_("know where the person stands in internment"),
                                   OPERATIONAL, "internment+10y"),
    "referral_to": FieldInfo(_("trace separated civilians and children after referral"),
                             OPERATIONAL, "internment+10y"),
    "icrc_withheld": FieldInfo(_("protect a person at risk from disclosure"), SENSITIVE,
                               "internment+10y"),
    "icrc_withheld_reason": FieldInfo(_("protect a person at risk from disclosure"),
                                      SENSITIVE, "internment+10y"),
    "notes": FieldInfo(_("working notes of the registering officer"), OPERATIONAL,
                       "internment+1y"),
}

GROUP_FIELDS: dict[str, FieldInfo] = {
    "id": _SYS, "site": _SYS, "short_code": _SYS, "created_at": _SYS, "updated_at": _SYS,
    "version": _SYS, "client_key": _IDEM, "created_by": _SYS,
    "arrived_at": FieldInfo(_("account for who crossed when"), OPERATIONAL, "internment+10y"),
    "reported_count": FieldInfo(_("compare announced and registered people"), OPERATIONAL,
                                "internment+10y"),
    "facilitated_by": FieldInfo(_("account for who facilitated the crossing"), OPERATIONAL,
                                "internment+10y"),
    "formation": FieldInfo(_("military identity of the group"), OPERATIONAL,
                           "internment+10y"),
    "notes": FieldInfo(_("working notes"), OPERATIONAL, "internment+1y"),
}

DOCUMENT_FIELDS: dict[str, FieldInfo] = {
    "id": _SYS, "person": _SYS, "created_at": _SYS, "number_key": _SYS,
    **{name: FieldInfo(_("verify identity; return of documents at release"), SENSITIVE,
                       "internment+10y")
       for name in ("kind", "number", "issuer", "expiry", "scan")},
}

ALIAS_FIELDS: dict[str, FieldInfo] = {
    "id": _SYS, "person": _SYS,
    "name_ar": _ID_NAME, "name_lat": _ID_NAME,
}

REGISTRY = {
    "reception.person": PERSON_FIELDS,
    "reception.arrivalgroup": GROUP_FIELDS,
    "reception.identitydocument": DOCUMENT_FIELDS,
    "reception.personalias": ALIAS_FIELDS,
}

SENSITIVE_PERSON_FIELDS = frozenset(n for n, i in PERSON_FIELDS.items() if i.tier == SENSITIVE)
