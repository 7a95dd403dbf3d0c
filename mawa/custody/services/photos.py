"""Photos of an item, a marking or a headstamp."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core import uploads
from mawa.custody.models import (
    Item,
    ItemPhoto,
)
from mawa.custody.services._common import (
    PHOTO_MAX_BYTES,
    _check,
    _locked,
    _record,
)


def image_ok(content: bytes) -> bool:
    """A photo by its content (core.uploads: magic bytes, full decode, pixel cap)."""
    try:
        uploads.upload_check(content, allowed=uploads.PHOTO_TYPES, max_bytes=PHOTO_MAX_BYTES)
    except uploads.UploadRefused:
        return False
    return True


def item_photo_add(*, actor, item: Item, subject: str, upload) -> ItemPhoto:
    """Attach a photo of the item, a marking or a headstamp (JPEG, PNG or WebP)."""
    access.require(actor, Perm.CUSTODY_RECORD, item.location_site)
    if subject not in ItemPhoto.Subject.values:
        _check({"subject": [_("Choose what the photo shows.")]})
    content = upload.read(PHOTO_MAX_BYTES + 1) if upload else b""
    if not content or len(content) > PHOTO_MAX_BYTES or not image_ok(content):
        _check({"photo": [_("This file is not a photo (JPEG, PNG or WebP, at most 8 MB).")]})
    # Kept re-encoded, without EXIF (where the phone was when it took the photo); the hash on
    # the ledger is the stored file's.
    content = uploads.image_working_copy(content).data
    digest = hashlib.sha256(content).hexdigest()
    with transaction.atomic():
        item = _locked(item)
        photo = ItemPhoto(item=item, subject=subject, sha256=digest)
        photo.image.save(f"{item.short_code}-{digest[:12]}.img", ContentFile(content),
                         save=False)
        photo.save(force_insert=True)
        _record(actor=actor, site=item.location_site, kind="photographed",
                data={"photo": str(photo.pk), "subject": subject, "sha256": digest},
                lines=[(item, {})])
    return photo
