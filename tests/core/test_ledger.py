"""The ledger's promises: append-only, hash-chained, signed, and verifiable to the entry.

Tampering is simulated as an attacker with direct database access would do it: the
append-only triggers are switched off for the duration of the change.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, connections, transaction

from mawa.core import keys
from mawa.core.ledger import (
    GENESIS,
    checkpoint_all,
    checkpoint_sign,
    entry_hash,
    ledger_append,
    ledger_verify,
)
from mawa.core.models import Checkpoint, LedgerEntry

pytestmark = pytest.mark.django_db


@contextmanager
def triggers_off():
    with connection.cursor() as cur:
        if connection.vendor == "sqlite":
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type='trigger' AND "
                        "tbl_name IN ('core_ledgerentry', 'core_checkpoint')")
            saved = cur.fetchall()
            for name, _sql in saved:
                cur.execute(f"DROP TRIGGER {name}")
            try:
                yield cur
            finally:
                for _name, sql in saved:
                    cur.execute(sql)
        else:
            # A superuser session that skips triggers (as a restore tool would); unlike ALTER
            # TABLE it works while other tables' deferred foreign-key checks are pending.
            cur.execute("SET session_replication_role = replica")
            try:
                yield cur
            finally:
                cur.execute("SET session_replication_role = DEFAULT")


def _chain(n=5, stream="test/stream"):
    return [ledger_append(stream=stream, kind="test.event", payload={"n": i, "note": "قيد"},
                          actor="system:test", site="RHM") for i in range(n)]


def test_entries_chain_from_genesis_and_verify():
    entries = _chain(5)
    assert [e.seq for e in entries] == [1, 2, 3, 4, 5]
    assert entries[0].prev_hash == GENESIS
    assert all(b.prev_hash == a.entry_hash for a, b in zip(entries, entries[1:], strict=False))
    report = ledger_verify()
    assert report.ok, report.failures
    assert report.entries == 5


def test_hash_is_sha256_over_rfc8785_canonical_json():
    import hashlib

    import rfc8785

    entry = _chain(1)[0]
    envelope = {"stream": entry.stream, "seq": entry.seq, "ts": entry.ts, "actor": entry.actor,
                "site": entry.site, "kind": entry.kind, "payload": json.loads(entry.payload)}
    expected = hashlib.sha256(GENESIS.encode() + rfc8785.dumps(envelope)).hexdigest()
    assert entry.entry_hash == expected


def test_hash_envelope_escapes_like_rfc8785():
    import hashlib

    import rfc8785

    odd = 'quote " back \\ tab \t nl \n ctrl \x01 arabic محمد emoji 😀 \u2028'
    payload = {"s": odd}
    from mawa.core.ledger import canonical_payload

    text = canonical_payload(payload)
    envelope = {"stream": odd, "seq": 7, "ts": "t", "actor": odd, "site": "X", "kind": odd,
                "payload": payload}
    expected = hashlib.sha256(b"x" * 64 + rfc8785.dumps(envelope)).hexdigest()
    assert entry_hash("x" * 64, odd, 7, "t", odd, "X", odd, text) == expected


def test_tampered_payload_is_named_at_that_entry():
    entries = _chain(5)
    with triggers_off() as cur:
        cur.execute("UPDATE core_ledgerentry SET payload = %s WHERE id = %s",
                    ['{"n":99,"note":"قيد"}', entries[2].id])
    report = ledger_verify()
    assert not report.ok
    assert (report.first_failure.stream, report.first_failure.seq) == ("test/stream", 3)
    assert "altered" in report.first_failure.reason


def test_tampered_hash_is_named_at_that_entry():
    entries = _chain(5)
    with triggers_off() as cur:
        cur.execute("UPDATE core_ledgerentry SET entry_hash = %s WHERE id = %s",
                    ["f" * 64, entries[1].id])
    report = ledger_verify()
    assert report.first_failure.seq == 2


def test_reordered_entries_are_caught_at_the_first_moved_entry():
    entries = _chain(5)
    with triggers_off() as cur:
        # swap the sequence numbers of entries 2 and 3
        cur.execute("UPDATE core_ledgerentry SET seq = 1000 WHERE id = %s", [entries[1].id])
        cur.execute("UPDATE core_ledgerentry SET seq = 2 WHERE id = %s", [entries[2].id])
        cur.execute("UPDATE core_ledgerentry SET seq = 3 WHERE id = %s", [entries[1].id])
    report = ledger_verify()
    assert report.first_failure.seq == 2


def test_deleted_row_is_named():
    entries = _chain(5)
    with triggers_off() as cur:
        cur.execute("DELETE FROM core_ledgerentry WHERE id = %s", [entries[2].id])
    report = ledger_verify()
    assert report.first_failure.seq == 3
    assert "missing" in report.first_failure.reason


def test_deleted_last_row_is_caught_by_the_stream_head():
    entries = _chain(4)
    with triggers_off() as cur:
        cur.execute("DELETE FROM core_ledgerentry WHERE id = %s", [entries[-1].id])
    report = ledger_verify()
    assert report.first_failure.seq == 4


def test_direct_update_is_refused_by_the_database():
    entry = _chain(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("UPDATE core_ledgerentry SET kind = 'x' WHERE id = %s", [entry.id])
    entry.refresh_from_db()
    assert entry.kind == "test.event"


def test_direct_delete_is_refused_by_the_database():
    entry = _chain(1)[0]
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM core_ledgerentry WHERE id = %s", [entry.id])
    assert LedgerEntry.objects.filter(id=entry.id).exists()


def test_orm_delete_is_refused_too():
    _chain(2)
    with pytest.raises(DatabaseError), transaction.atomic():
        LedgerEntry.objects.all().delete()
    assert LedgerEntry.objects.count() == 2


def test_checkpoint_is_signed_and_verified():
    _chain(3)
    assert checkpoint_all() == 1
    report = ledger_verify()
    assert report.ok and report.checkpoints == 1


def test_forged_checkpoint_signature_is_caught():
    entries = _chain(3)
    cp = checkpoint_sign(stream="test/stream", seq=3, head_hash=entries[-1].entry_hash,
                         site_code="RHM")
    forged = ("00" if cp.signature[:2] != "00" else "11") + cp.signature[2:]
    with triggers_off() as cur:
        cur.execute("UPDATE core_checkpoint SET signature = %s WHERE id = %s", [forged, cp.id])
    report = ledger_verify()
    assert not report.ok
    assert "forged" in report.first_failure.reason


def test_rewritten_chain_is_caught_by_the_signed_checkpoint():
    """An attacker rewrites a payload *and* recomputes every hash after it: the chain is
    internally consistent again, but no longer matches what the site signed."""
    entries = _chain(4)
    checkpoint_all()
    with triggers_off() as cur:
        prev = entries[0].entry_hash
        for e in entries[1:]:
            payload = '{"n":42,"note":"x"}' if e.seq == 2 else e.payload
            digest = entry_hash(prev, e.stream, e.seq, e.ts, e.actor, e.site, e.kind, payload)
            cur.execute("UPDATE core_ledgerentry SET payload=%s, prev_hash=%s, entry_hash=%s "
                        "WHERE id=%s", [payload, prev, digest, e.id])
            prev = digest
        cur.execute("UPDATE core_ledgerhead SET head_hash=%s WHERE stream=%s",
                    [prev, "test/stream"])
    report = ledger_verify()
    assert not report.ok
    assert "rewritten" in report.first_failure.reason


def test_exported_checkpoints_catch_a_rewritten_checkpoint_table(tmp_path):
    entries = _chain(3)
    checkpoint_all()
    exported = tmp_path / "cp.json"
    call_command("checkpoint", export=str(exported))
    with triggers_off() as cur:
        cur.execute("DELETE FROM core_checkpoint")
        prev = GENESIS
        for e in entries:
            payload = '{"n":0,"note":"forged"}' if e.seq == 1 else e.payload
            digest = entry_hash(prev, e.stream, e.seq, e.ts, e.actor, e.site, e.kind, payload)
            cur.execute("UPDATE core_ledgerentry SET payload=%s, prev_hash=%s, entry_hash=%s "
                        "WHERE id=%s", [payload, prev, digest, e.id])
            prev = digest
    assert ledger_verify().ok  # the database alone can no longer tell
    report = ledger_verify(extra_checkpoints=json.loads(exported.read_text()))
    assert not report.ok


def test_verify_command_names_the_failing_entry(capsys):
    from django.core.management.base import CommandError

    entries = _chain(3)
    call_command("verify")
    with triggers_off() as cur:
        cur.execute("UPDATE core_ledgerentry SET kind='forged' WHERE id=%s", [entries[1].id])
    with pytest.raises(CommandError):
        call_command("verify")
    assert "test/stream#2" in capsys.readouterr().err


def test_missing_key_file_is_a_clear_error_not_a_new_key():
    entries = _chain(2)
    checkpoint_sign(stream="test/stream", seq=2, head_hash=entries[-1].entry_hash,
                    site_code="KEYX")
    (keys.key_dir() / "KEYX.ed25519.pem").unlink()
    with pytest.raises(keys.KeyMissing) as err:
        checkpoint_sign(stream="test/stream", seq=2, head_hash=entries[-1].entry_hash,
                        site_code="KEYX")
    assert "KEYX" in str(err.value)


def test_key_file_is_private():
    _chain(1)
    checkpoint_all()
    for path in keys.key_dir().glob("*.pem"):
        assert path.stat().st_mode & 0o777 == 0o600


def test_correction_is_a_new_entry_pointing_at_the_corrected_one():
    first = _chain(1)[0]
    fix = ledger_append(stream="test/stream", kind="test.correction",
                        payload={"corrects": first.seq, "reason": "typo"}, actor="system:test")
    assert fix.seq == 2
    first.refresh_from_db()
    assert json.loads(first.payload)["n"] == 0
    assert ledger_verify().ok


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_never_fork_a_chain():
    errors = []

    def writer(n):
        try:
            for i in range(15):
                ledger_append(stream="concurrent", kind="test.event",
                              payload={"writer": n, "i": i}, actor=f"w{n}")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    seqs = list(LedgerEntry.objects.filter(stream="concurrent").order_by("seq")
                .values_list("seq", flat=True))
    assert seqs == list(range(1, 91))
    assert ledger_verify(streams=["concurrent"]).ok


def test_checkpoints_are_append_only():
    _chain(1)
    checkpoint_all()
    with pytest.raises(DatabaseError), transaction.atomic():
        Checkpoint.objects.all().delete()


@pytest.mark.parametrize("ts", ["2026-11-26T10:00:00.000000Z", 'x"y', "back\\slash", "tab\tx",
                                "محمد", "\u2028"])
def test_entry_hash_is_rfc8785_for_any_time_stamp(ts):
    import hashlib

    import rfc8785

    args = ("a" * 64, "person/ü\"x", 12, ts, "actor\\", "RHM", "kind\n", '{"k":"v"}')
    envelope = {"stream": args[1], "seq": 12, "ts": ts, "actor": args[4], "site": "RHM",
                "kind": args[6], "payload": {"k": "v"}}
    expected = hashlib.sha256(b"a" * 64 + rfc8785.dumps(envelope)).hexdigest()
    assert entry_hash(*args) == expected
    assert entry_hash(*args) == expected  # the quoted names memoised the second time
