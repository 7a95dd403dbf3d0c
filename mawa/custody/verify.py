"""``mawa custody verify``: recompute every item's state from the custody events on the ledger
and name every item whose stored state disagrees (or whose events do not add up)."""

from __future__ import annotations

import json
import multiprocessing
import os
from dataclasses import dataclass, field

from django.db import connection, connections

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


_NOT_ITEM_EVENTS = ("receipt_opened", "receipt_issued", "store_created", "stock_check_started",
                    "stock_check_closed", "discrepancy_resolved")


def _rows(streams):
    # Ledger id order is append order: an item's events nearly always arrive in the order of
    # their number, across streams too, so the fold below can apply each one as it comes.
    # values_list + iterator streams the rows (a server-side cursor on PostgreSQL): no model
    # instances, no list of five million rows in memory.
    return (LedgerEntry.objects.filter(stream__in=streams)
            .exclude(kind__in=_NOT_ITEM_EVENTS).order_by("id")
            .values_list("stream", "seq", "kind", "actor", "site", "payload")
            .iterator(chunk_size=20000))


def replay(rows) -> tuple[dict[str, dict], list[str]]:
    """Fold ledger rows ``(stream, seq, kind, actor, site, payload text)`` into item states.

    The same check as ``derive.replay`` — every event applied with ``derive.apply`` in the order
    of its number, every recorded ``after`` compared with the state the events give, lot
    quantities conserved by splits and merges, no event number missing or repeated — but
    streaming: only each item's current state is kept (memory grows with items, not events).
    An event that arrives before the one preceding it (possible across streams) waits in
    ``pending`` until its turn; whatever still waits at the end follows a missing event.
    """
    decode = json.JSONDecoder().raw_decode  # payloads are canonical JSON: no whitespace to skip
    apply = derive.apply
    states: dict[str, dict] = {}
    pending: dict[str, dict[int, tuple]] = {}
    problems: list[str] = []

    def step(item_id, state, stream, seq, kind, data, line, actor, site):
        after = apply(state, kind, data, line, actor=actor, site=site)
        recorded = line.get("after")
        if recorded is not None and recorded != after:
            problems.append(f"{stream}#{seq}: recorded state of item {item_id} is not the "
                            "state its events give")
        states[item_id] = after
        return after

    for stream, seq, kind, actor, site, payload in rows:
        body, end = decode(payload)
        if end != len(payload):
            problems.append(f"{stream}#{seq}: payload is not one JSON object")
            continue
        lines = body.get("items", ())
        data = body.get("data", {})
        if kind in ("split", "merged") and sum(int(x.get("qty", 0)) for x in lines) != 0:
            problems.append(f"{stream}#{seq}: quantities not conserved by {kind}")
        for line in lines:
            item_id, n = line["id"], line["n"]
            state = states.get(item_id)
            have = state["n"] if state is not None else 0
            if n == have + 1:
                state = step(item_id, state, stream, seq, kind, data, line, actor, site)
                waiting = pending.get(item_id)
                while waiting and state["n"] + 1 in waiting:
                    state = step(item_id, state, *waiting.pop(state["n"] + 1))
                if waiting is not None and not waiting:
                    del pending[item_id]
            elif n <= have or n in pending.get(item_id, ()):
                problems.append(f"{stream}#{seq}: event {n} of item {item_id} recorded twice")
            else:
                pending.setdefault(item_id, {})[n] = (stream, seq, kind, data, line, actor, site)
    for item_id, waiting in pending.items():
        have = states[item_id]["n"] if item_id in states else 0
        problems.append(f"item {item_id}: event {have + 1} missing (next is {min(waiting)})")
    return states, problems


def _chain_worker(streams, conn) -> None:
    # Runs in a forked process: the parent closed its connections before forking, so this
    # process opens its own. The hash-chain check is core's, unchanged.
    try:
        chain = ledger_verify(streams=streams)
        conn.send((chain.entries, [str(f) for f in chain.failures]))
    finally:
        conn.close()


def _can_fork() -> bool:
    # A second process sees only committed data in a database file or server: not an in-memory
    # SQLite database, nor rows of a transaction still open (tests run inside one).
    if connection.in_atomic_block:
        return False
    return not (connection.vendor == "sqlite"
                and connection.creation.is_in_memory_db(connection.settings_dict["NAME"]))


def _shown(item: tuple) -> dict:
    (state, custodian, custodian_name, site, store, bay, rack, quantity, on_hold, seal,
     deactivated, remarked, n) = item
    return {"state": state, "custodian": str(custodian or ""), "custodian_name": custodian_name,
            "site": site, "store": str(store or ""), "bay": bay, "rack": rack,
            "quantity": quantity, "on_hold": on_hold, "seal": seal, "deactivated": deactivated,
            "remarked": remarked, "n": n}


def custody_verify(*, chains: bool = True, jobs: int | None = None) -> CustodyReport:
    """Check the custody streams' hash chains, then replay them and compare with the items.

    With ``jobs`` > 1 (default: 2 when the machine has two cores and the database can be read
    from a second process) the hash chains are checked by ``ledger_verify`` in a forked process
    while this one replays the events: the two passes read the ledger independently, so the
    time is that of the slower one rather than the sum.
    """
    report = CustodyReport()
    streams = custody_streams()
    report.streams = len(streams)
    if jobs is None:
        jobs = min(2, os.cpu_count() or 1)
    child = None
    if chains and jobs > 1 and _can_fork():
        ctx = multiprocessing.get_context("fork")
        receiver, sender = ctx.Pipe(duplex=False)
        connections.close_all()  # never share a database connection across a fork
        child = ctx.Process(target=_chain_worker, args=(streams, sender), daemon=True)
        child.start()
        sender.close()
    elif chains:
        chain = ledger_verify(streams=streams)
        report.entries = chain.entries
        report.chain_failures = [str(f) for f in chain.failures]
    states, problems = replay(_rows(streams))
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
    if child is not None:
        try:
            report.entries, report.chain_failures = receiver.recv()
        except EOFError:
            report.chain_failures = ["the hash-chain check stopped without an answer"]
        child.join()
    return report
