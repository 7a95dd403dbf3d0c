"""``mawa custody verify``: recompute every item's state from the custody events on the ledger
and name every item whose stored state disagrees (or whose events do not add up)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from mawa.core.ledger import ledger_verify
from mawa.core.models import LedgerEntry, LedgerHead
from mawa.custody import derive
from mawa.custody.models import Item


@dataclass
class CustodyReport:
    streams: int = 0
    entries: int = 0
    items: int = 0
    chain_failures: list = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.chain_failures and not self.problems


def custody_streams() -> list[str]:
    return list(LedgerHead.objects.filter(stream__startswith="custody/")
                .values_list("stream", flat=True))


def _entries(streams):
    rows = (LedgerEntry.objects.filter(stream__in=streams)
            .exclude(kind__in=("receipt_opened", "receipt_issued", "store_created",
                               "stock_check_started", "stock_check_closed",
                               "discrepancy_resolved"))
            .values_list("stream", "seq", "kind", "actor", "site", "payload")
            .iterator(chunk_size=20000))
    for stream, seq, kind, actor, site, payload in rows:
        yield {"ref": f"{stream}#{seq}", "kind": kind, "actor": actor, "site": site,
               "payload": json.loads(payload)}


def _shown(item: tuple) -> dict:
    (state, custodian, custodian_name, site, store, bay, rack, quantity, on_hold, seal,
     deactivated, remarked, n) = item
    return {"state": state, "custodian": str(custodian or ""), "custodian_name": custodian_name,
            "site": site, "store": str(store or ""), "bay": bay, "rack": rack,
            "quantity": quantity, "on_hold": on_hold, "seal": seal, "deactivated": deactivated,
            "remarked": remarked, "n": n}


def custody_verify(*, chains: bool = True) -> CustodyReport:
    """Check the custody streams' hash chains, then replay them and compare with the items."""
    report = CustodyReport()
    streams = custody_streams()
    report.streams = len(streams)
    if chains:
        chain = ledger_verify(streams=streams)
        report.entries = chain.entries
        report.chain_failures = [str(f) for f in chain.failures]
    states, problems = derive.replay(_entries(streams))
    report.problems.extend(problems)
    seen = set()
    rows = Item.objects.values_list(
        "id", "short_code", "state", "custodian_id", "custodian_name", "location_site__code",
        "store_id", "bay", "rack", "quantity", "on_hold", "seal", "deactivated", "remarked",
        "item_seq").iterator(chunk_size=20000)
    for row in rows:
        item_id, code, rest = str(row[0]), row[1], row[2:]
        report.items += 1
        seen.add(item_id)
        derived = states.get(item_id)
        if derived is None:
            report.problems.append(f"{code}: no custody event on the ledger")
            continue
        shown = _shown(rest)
        if shown != derived:
            diff = sorted(k for k in shown if shown[k] != derived.get(k))
            report.problems.append(f"{code}: shown state differs from its events in "
                                   f"{', '.join(diff)}")
    for item_id in states.keys() - seen:
        report.problems.append(f"item {item_id}: events on the ledger but no item record")
    return report
