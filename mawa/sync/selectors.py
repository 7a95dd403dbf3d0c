"""Reads of the sync engine for the pages: the conflicts waiting for a person and one
conflict's two versions side by side. A conflict belongs to the site where its change was
made; a user sees those of the sites in their scope, and any other answers as not found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db.models import QuerySet

from mawa.accounts.access import require, site_ids
from mawa.accounts.roles import Perm
from mawa.core.changes_models import Change, SyncConflict
from mawa.core.errors import NotFound
from mawa.core.models import Site

# fields of a change that say how to replay it, not values of the record ("_…": bookkeeping)
_NOT_VALUES = {"action"}
_VIEW = getattr(Perm, "SYNC_VIEW", Perm.SITE_VIEW)


@dataclass
class FieldRow:
    name: str
    label: str
    current: Any
    incoming: Any
    differs: bool


@dataclass
class ConflictDetail:
    conflict: SyncConflict
    incoming: Change
    current: Change | None
    rows: list[FieldRow]


def _scoped(qs: QuerySet, actor) -> QuerySet:
    ids = site_ids(actor)
    if ids is None:
        return qs
    codes = list(Site.objects.filter(pk__in=ids).values_list("code", flat=True))
    return qs.filter(change__site__in=codes)


def conflicts_open(actor) -> list[SyncConflict]:
    """The conflicts nobody has decided yet, of the actor's sites, oldest first."""
    require(actor, _VIEW)
    qs = SyncConflict.objects.filter(decided_at__isnull=True).select_related("change")
    return list(_scoped(qs, actor).order_by("created_at", "pk"))


def _model(record_type: str):
    app_label, _dot, model_name = record_type.partition(".")
    try:
        return apps.get_model(app_label, model_name)
    except (LookupError, ValueError):
        return None


def conflict_detail(actor, conflict_id) -> ConflictDetail:
    """One conflict of the actor's sites: the change that came, the version here (its last
    change) and, field by field, the value here and the value that came, labelled in the
    reader's language."""
    require(actor, _VIEW)
    try:
        pk = uuid.UUID(str(conflict_id))
    except ValueError:
        raise NotFound() from None
    conflict = _scoped(SyncConflict.objects.select_related("change"), actor).filter(
        pk=pk).first()
    if conflict is None:
        raise NotFound()
    incoming = conflict.change
    current = Change.objects.filter(pk=conflict.current).first() if conflict.current else None
    model = _model(incoming.record_type)
    record = (model._default_manager.filter(pk=incoming.record_id).first()
              if model is not None else None)
    came = incoming.fields if isinstance(incoming.fields, dict) else {}
    held = current.fields if current is not None and isinstance(current.fields, dict) else {}
    names = [n for n in [*came, *(n for n in held if n not in came)]
             if n not in _NOT_VALUES and not n.startswith("_")]
    rows = []
    for name in names:
        label = name
        here = held.get(name)
        if model is not None:
            try:
                label = str(model._meta.get_field(name).verbose_name)
            except FieldDoesNotExist:
                pass
        if record is not None and hasattr(record, name):
            here = getattr(record, name)
        there = came.get(name)
        rows.append(FieldRow(name=name, label=label, current=here, incoming=there,
                             differs=str(here) != str(there)))
    return ConflictDetail(conflict=conflict, incoming=incoming, current=current, rows=rows)
