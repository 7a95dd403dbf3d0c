"""The audit trail, written to the ledger's ``audit`` stream.

Records who did what to which record, when, from which site and address — never the values
(ICRC data-protection guidance: the audit trail must not become a second copy of the data).
Call these functions inside the transaction of the action: if the audit write fails, the action
fails with it.

One shape of entry: ``audit_items`` builds the entries for any number of records (a batch
write adds them to its own ledger batch: one statement for the records' entries and their
audit entries); ``audit_many`` appends them; ``audit`` and ``audit_change`` are one of them.
"""

from __future__ import annotations

from mawa.core import context
from mawa.core.ledger import LedgerItem, ledger_append, ledger_append_many

AUDIT_STREAM = "audit"


def _model_label(obj=None, model: str | None = None) -> str:
    if model:
        return model
    if obj is not None:
        return obj._meta.label_lower
    return ""


def audit_items(*, actor, action: str, model: str, object_ids: list, site=None,
                outcome: str = "ok", detail: dict | None = None) -> list[LedgerItem]:
    """The audit entries of ``action`` on the records ``object_ids`` of ``model`` (a label
    such as ``reception.person``), to append with ``ledger_append_many``. ``detail`` may carry
    codes and ids, never personal values."""
    ctx = context.current()
    site = site or ctx.site_code or None
    kind = f"audit.{action}"
    out = []
    for oid in object_ids:
        payload = {"action": action, "model": model, "object_id": str(oid), "outcome": outcome,
                   "address": ctx.address, "channel": ctx.channel}
        if detail:
            payload["detail"] = detail
        out.append(LedgerItem(AUDIT_STREAM, kind, payload, actor, site))
    return out


def audit_many(*, actor, action: str, model: str, object_ids: list, site=None,
               outcome: str = "ok", detail: dict | None = None) -> None:
    """Write the audit entries of ``action`` on many records (one ledger batch)."""
    ledger_append_many(audit_items(actor=actor, action=action, model=model,
                                   object_ids=object_ids, site=site, outcome=outcome,
                                   detail=detail))


def audit(*, actor, action: str, obj=None, model: str | None = None, object_id=None,
          outcome: str = "ok", detail: dict | None = None, site=None):
    """Write one audit entry and return it. ``detail`` may carry codes and ids, never personal
    values."""
    oid = object_id if object_id is not None else (obj.pk if obj is not None else "")
    (item,) = audit_items(actor=actor, action=action, model=_model_label(obj, model),
                          object_ids=[oid], site=site, outcome=outcome, detail=detail)
    return ledger_append(stream=item.stream, kind=item.kind, payload=item.payload,
                         actor=item.actor, site=item.site)


def audit_read(*, actor, obj) -> None:
    """Record that ``actor`` read a record marked sensitive."""
    audit(actor=actor, action="read", obj=obj)


def audit_change(*, actor, obj, action: str = "update", fields: list[str] | None = None) -> None:
    """Record a create/update of a record; ``fields`` names what changed, never the values."""
    audit(actor=actor, action=action, obj=obj,
          detail={"fields": sorted(fields)} if fields else None)
