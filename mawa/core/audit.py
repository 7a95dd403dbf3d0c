"""The audit trail, written to the ledger's ``audit`` stream.

Records who did what to which record, when, from which site and address — never the values
(ICRC data-protection guidance: the audit trail must not become a second copy of the data).
Call these functions inside the transaction of the action: if the audit write fails, the action
fails with it.
"""

from __future__ import annotations

from mawa.core import context
from mawa.core.ledger import ledger_append

AUDIT_STREAM = "audit"


def _model_label(obj=None, model: str | None = None) -> str:
    if model:
        return model
    if obj is not None:
        return obj._meta.label_lower
    return ""


def audit(*, actor, action: str, obj=None, model: str | None = None, object_id=None,
          outcome: str = "ok", detail: dict | None = None, site=None):
    """Write one audit entry. ``detail`` may carry codes and ids, never personal values."""
    ctx = context.current()
    payload = {
        "action": action,
        "model": _model_label(obj, model),
        "object_id": str(object_id if object_id is not None else (obj.pk if obj is not None
                                                                   else "")),
        "outcome": outcome,
        "address": ctx.address,
        "channel": ctx.channel,
    }
    if detail:
        payload["detail"] = detail
    return ledger_append(stream=AUDIT_STREAM, kind=f"audit.{action}", payload=payload,
                         actor=actor, site=site or ctx.site_code or None)


def audit_read(*, actor, obj) -> None:
    """Record that ``actor`` read a record marked sensitive."""
    audit(actor=actor, action="read", obj=obj)


def audit_change(*, actor, obj, action: str = "update", fields: list[str] | None = None) -> None:
    """Record a create/update of a record; ``fields`` names what changed, never the values."""
    audit(actor=actor, action=action, obj=obj,
          detail={"fields": sorted(fields)} if fields else None)
