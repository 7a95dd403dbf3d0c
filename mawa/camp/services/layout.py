"""The camp's layout: zones, blocks and shelters with their places."""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.camp.models import (
    Block,
    Shelter,
    ShelterKind,
    Zone,
)
from mawa.camp.services._common import _camp, _log, _raise, _text
from mawa.core.errors import ValidationFailed
from mawa.core.models import Site
from mawa.core.services import short_code_next


def zone_create(*, actor, site: Site, name: str, order: int = 0) -> Zone:
    """Add a zone to a camp."""
    _camp(site)
    access.require(actor, Perm.CAMP_MANAGE, site)
    errors: dict = {}
    name = _text(name, "name", errors, limit=80, required=True)
    if order is None or order < 0 or order > 1000:  # a position on the plan's list
        errors.setdefault("order", []).append(_("Between 0 and 1000."))
    _raise(errors)
    with transaction.atomic():
        if Zone.objects.filter(site=site, name=name).exists():
            raise ValidationFailed(_("Check the highlighted fields."), fields={
                "name": [_("This camp already has a zone of that name.")]})
        zone = Zone.objects.create(site=site, short_code=short_code_next(site=site), name=name,
                                   order=order)
        _log(actor=actor, site=site, kind="zone.created", payload={"zone": zone.id})
    return zone


def block_create(*, actor, zone: Zone, name: str, x: int = 0, y: int = 0, width: int = 100,
                 height: int = 80) -> Block:
    """Add a block to a zone; ``x, y, width, height`` place it on the plan."""
    site = zone.site
    access.require(actor, Perm.CAMP_MANAGE, site)
    errors: dict = {}
    name = _text(name, "name", errors, limit=80, required=True)
    for field, value in (("x", x), ("y", y), ("width", width), ("height", height)):
        if value is None or value < 0 or value > 1000:
            errors.setdefault(field, []).append(_("Between 0 and 1000."))
    _raise(errors)
    with transaction.atomic():
        if Block.objects.filter(site=site, name=name).exists():
            raise ValidationFailed(_("Check the highlighted fields."), fields={
                "name": [_("This camp already has a block of that name.")]})
        block = Block.objects.create(site=site, short_code=short_code_next(site=site), zone=zone,
                                     name=name, x=x, y=y, width=width, height=height)
        _log(actor=actor, site=site, kind="block.created", payload={"block": block.id})
    return block


def shelter_create(*, actor, block: Block, name: str, capacity: int,
                   kind: str = ShelterKind.TENT) -> Shelter:
    """Add a shelter (tent, room, hall) with its number of places."""
    site = block.site
    access.require(actor, Perm.CAMP_MANAGE, site)
    errors: dict = {}
    name = _text(name, "name", errors, limit=80, required=True)
    if capacity is None or capacity < 1 or capacity > 10000:
        errors.setdefault("capacity", []).append(_("Between 1 and 10,000 places."))
    if kind not in ShelterKind.values:
        errors.setdefault("kind", []).append(_("Choose a kind from the list."))
    _raise(errors)
    with transaction.atomic():
        if Shelter.objects.filter(block=block, name=name).exists():
            raise ValidationFailed(_("Check the highlighted fields."), fields={
                "name": [_("This block already has a shelter of that name.")]})
        shelter = Shelter.objects.create(site=site, short_code=short_code_next(site=site),
                                         block=block, name=name, capacity=capacity, kind=kind)
        _log(actor=actor, site=site, kind="shelter.created",
             payload={"shelter": shelter.id, "capacity": capacity})
    return shelter


def shelter_capacity_set(*, actor, shelter: Shelter, capacity: int) -> Shelter:
    """Change a shelter's capacity. Lowering it below the people housed is allowed (they are
    not moved) but new check-ins are then refused until it has room."""
    access.require(actor, Perm.CAMP_MANAGE, shelter.site)
    if capacity is None or capacity < 1 or capacity > 10000:
        raise ValidationFailed(_("Check the highlighted fields."),
                               fields={"capacity": [_("Between 1 and 10,000 places.")]})
    with transaction.atomic():
        locked = Shelter.objects.select_for_update().get(pk=shelter.pk)
        before = locked.capacity
        locked.capacity = capacity
        locked.save(update_fields=["capacity"])
        _log(actor=actor, site=locked.site, kind="shelter.capacity",
             payload={"shelter": locked.id, "from": before, "to": capacity})
    return locked
