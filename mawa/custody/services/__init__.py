"""Writes of custody: surrender and receipts, custody events, lots, legal holds, stock checks.

One module per section (``surrender``, ``photos``, ``events``, ``handover``, ``lots``,
``corrections``, ``holds``, ``stock_checks``, ``stores``); what they share (the one writer
of custody events, ``_record``) is in ``_common``. Import from this package:
``from mawa.custody.services import item_surrender``.

Every function checks access through ``mawa.accounts.access``, runs in one transaction and
writes its ledger entries (stream ``custody/<site code>``) inside it, so a change and its record
commit or fail together. The item rows being changed are locked first (``select_for_update``):
two officers acting on the same item at once are serialised, and the second sees the state the
first left — which is how "one custodian and one location at a time" holds under races.

Invariants (reference/custody.md, "design"), each enforced here and tested:
- one current custodian and location per item: they are single fields of the projection, only
  ``_record`` writes them, from ``derive.apply``;
- lot quantities conserved across split, merge and destruction (``lot_split``, ``lot_merge``,
  ``item_event_record`` for ``destroyed``), and checked again by ``mawa custody verify``;
- nothing under legal hold is destroyed, deactivated, transferred or returned (IDDRS 6.40 §7.1);
- nothing leaves custody without a disposition event (``derive.KINDS``);
- a correction never rewrites history: it is a new event naming the old and new values.
"""

from mawa.custody.services._common import (
    CUSTODIAN_NAME_MAX,
    HOLD_MESSAGE,
    PHOTO_MAX_BYTES,
    serial_key,
    stream_of,
)
from mawa.custody.services.corrections import (
    CORRECTABLE,
    item_correct,
)
from mawa.custody.services.events import (
    item_event_record,
    items_dispatch,
)
from mawa.custody.services.handover import (
    HandoverInput,
    handover_check,
    handover_recipient,
    handover_return,
)
from mawa.custody.services.holds import (
    legal_hold_lift,
    legal_hold_set,
)
from mawa.custody.services.lots import (
    lot_merge,
    lot_split,
)
from mawa.custody.services.photos import (
    image_ok,
    item_photo_add,
)
from mawa.custody.services.stock_checks import (
    WEEKLY_FRACTION,
    discrepancy_resolve,
    sample_draw,
    stock_check_close,
    stock_check_overdue,
    stock_check_rederive,
    stock_check_scan,
    stock_check_start,
    store_expected,
)
from mawa.custody.services.stores import (
    store_create,
)
from mawa.custody.services.surrender import (
    ItemInput,
    SurrenderResult,
    item_input,
    item_surrender,
    receipt_issue,
    receipt_lines,
    receipt_open,
)

__all__ = [
    "CORRECTABLE",
    "CUSTODIAN_NAME_MAX",
    "HOLD_MESSAGE",
    "HandoverInput",
    "ItemInput",
    "PHOTO_MAX_BYTES",
    "SurrenderResult",
    "WEEKLY_FRACTION",
    "discrepancy_resolve",
    "handover_check",
    "handover_recipient",
    "handover_return",
    "image_ok",
    "item_correct",
    "item_event_record",
    "item_input",
    "item_photo_add",
    "item_surrender",
    "items_dispatch",
    "legal_hold_lift",
    "legal_hold_set",
    "lot_merge",
    "lot_split",
    "receipt_issue",
    "receipt_lines",
    "receipt_open",
    "sample_draw",
    "serial_key",
    "stock_check_close",
    "stock_check_overdue",
    "stock_check_rederive",
    "stock_check_scan",
    "stock_check_start",
    "store_create",
    "store_expected",
    "stream_of",
]
