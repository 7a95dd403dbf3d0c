"""The sync engine between installations (each its own database here: tests/sync/nodes.py):
bundles out and in, idempotency, order, refusals, conflicts and their decisions."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from mawa.core.changes import changes_stream
from mawa.core.changes_models import (
    Change,
    ChangeState,
    ConflictKind,
    Node,
    PeerState,
    RecordHead,
    SyncConflict,
)
from mawa.core.errors import Conflict, NotFound
from mawa.core.ledger import ledger_verify
from mawa.core.models import Checkpoint, LedgerEntry
from mawa.reception.models import ArrivalGroup
from mawa.sync.bundle import (
    BundleMalformed,
    BundleMisdirected,
    BundleRefused,
    BundleTampered,
    BundleTruncated,
    BundleUnknownSender,
    bundle_header,
)
from mawa.sync.selectors import conflict_detail, conflicts_open
from mawa.sync.services import conflict_decide, sync_export, sync_import, sync_status
from tests.sync.nodes import (
    RECORD,
    admin,
    appliers_register,
    nodes_make,
    site_create,
    site_names,
    site_rename,
    template_database,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def template(tmp_path_factory, django_db_blocker):
    with django_db_blocker.unblock():
        return template_database(tmp_path_factory.mktemp("sync-template"))


@pytest.fixture
def nodes(tmp_path, template):
    appliers_register()
    made = nodes_make(tmp_path, template, ("HQ", "QAM", "TAL"))
    yield made
    for node in made.values():
        node.close()


def letters(prefix: str, i: int) -> str:
    """A site code (capital letters only) for the i-th test site."""
    return prefix + chr(65 + i // 26) + chr(65 + i % 26)


def send(src, dst):
    with src.active():
        data = sync_export(to=dst.code)
    with dst.active():
        return sync_import(data)


def snapshot():
    """What a node holds: sites, changes and their states, heads, ledger size."""
    return (sorted(ArrivalGroup.objects.values_list("id", "short_code", "notes")),
            sorted(Change.objects.values_list("id", "state")),
            sorted(RecordHead.objects.values_list("record_type", "record_id", "change")),
            LedgerEntry.objects.count(), SyncConflict.objects.count())


def test_round_trip_post_to_hq_and_back(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    with qam.active():
        made = [site_create(letters("A", i), f"site {i}", at="QAM").id for i in range(3)]
        site_rename(made[0], "renamed", at="QAM")
    result = send(qam, hq)
    assert (result.applied, result.present, result.conflicts, result.waiting) == (4, 0, 0, 0)
    with qam.active():
        names = site_names(made)
        heads = sorted(RecordHead.objects.filter(record_type=RECORD).values_list(
            "record_id", "change"))
    with hq.active():
        assert site_names(made) == names == {made[0]: "renamed", made[1]: "site 1",
                                            made[2]: "site 2"}
        assert sorted(RecordHead.objects.filter(record_type=RECORD).values_list(
            "record_id", "change")) == heads
        received = Change.objects.filter(node="QAM")
        assert received.count() == 4
        assert set(received.values_list("state", flat=True)) == {ChangeState.APPLIED}
        # HQ minted nothing of its own while applying
        assert not Change.objects.filter(node="HQ").exists()
        assert ledger_verify().ok
        # the post's checkpoint of its stream came along and holds here
        assert Checkpoint.objects.filter(stream=changes_stream("QAM"), site="QAM").exists()
        assert PeerState.objects.get(node__code="QAM").have == {"QAM": 4}
    back = send(hq, qam)
    assert (back.applied, back.present, back.conflicts) == (0, 0, 0)
    with qam.active():
        # HQ acknowledged the post's four changes: nothing pending towards HQ
        peer = next(p for p in sync_status().peers if p.code == "HQ")
        assert peer.pending_out == 0 and peer.last_received_at is not None
        assert ledger_verify().ok


def test_importing_twice_and_exporting_twice_change_nothing(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    with qam.active():
        site_create("BBA", "one", at="QAM")
        first = sync_export(to="HQ")
        second = sync_export(to="HQ")  # nothing new, no acknowledgement yet: the same changes
    with hq.active():
        assert sync_import(first).applied == 1
        before = snapshot()
        again = sync_import(first)
        assert (again.applied, again.present, again.conflicts) == (0, 1, 0)
        other = sync_import(second)
        assert (other.applied, other.present, other.conflicts) == (0, 1, 0)
        assert snapshot() == before
        assert ledger_verify().ok


def test_hq_relays_a_posts_changes_to_another_post_in_any_order(nodes):
    qam, hq, tal = nodes["QAM"], nodes["HQ"], nodes["TAL"]
    with qam.active():
        record = site_create("CCA", "from QAM", at="QAM").id
    send(qam, hq)
    with hq.active():
        site_rename(record, "edited at HQ", at="HQ")
        # TAL is said to hold QAM's stream already: the bundle carries HQ's change only
        PeerState.objects.update_or_create(node=Node.objects.get(code="TAL"),
                                           defaults={"have": {"QAM": 1}})
        only_hq = sync_export(to="TAL")
    with tal.active():
        result = sync_import(only_hq)
        # the rename's record has not arrived: it waits, nothing is applied or refused
        assert (result.applied, result.conflicts, result.waiting) == (0, 0, 1)
        assert not ArrivalGroup.objects.filter(pk=record).exists()
        assert Change.objects.get(node="HQ").state == ChangeState.WAITING
    with hq.active():
        PeerState.objects.filter(node__code="TAL").update(have={})
        everything = sync_export(to="TAL")
    with tal.active():
        result = sync_import(everything)
        # QAM's create applied, then the waiting rename after it; HQ's change was present
        assert (result.applied, result.present, result.conflicts, result.waiting) == (2, 1, 0, 0)
        assert site_names([record]) == {record: "edited at HQ"}
        assert set(Change.objects.values_list("state", flat=True)) == {ChangeState.APPLIED}
        assert ledger_verify().ok


def test_one_bundle_with_streams_out_of_order_applies_all(nodes):
    qam, hq, tal = nodes["QAM"], nodes["HQ"], nodes["TAL"]
    with qam.active():
        record = site_create("DDA", "from QAM", at="QAM").id
    send(qam, hq)
    with hq.active():
        site_rename(record, "HQ's name", at="HQ")
    # HQ's stream sorts before QAM's: the rename waits for the create within the bundle
    result = send(hq, tal)
    assert (result.applied, result.conflicts, result.waiting) == (2, 0, 0)
    with tal.active():
        assert site_names([record]) == {record: "HQ's name"}


@pytest.fixture
def bundle(nodes):
    with nodes["QAM"].active():
        site_create("EEA", "one", at="QAM")
        site_create("EEB", "two", at="QAM")
        return sync_export(to="HQ")


def _refused(node, data, error=BundleRefused):
    with node.active():
        before = snapshot()
        with pytest.raises(error) as caught:
            sync_import(data)
        assert snapshot() == before
        assert not PeerState.objects.filter(last_received_at__isnull=False).exists()
    return caught.value


def test_a_changed_byte_anywhere_refuses_the_whole_bundle(nodes, bundle):
    header_end = len(b"MAWA-BUNDLE/1\n") + 4 + 20
    for position in (header_end, len(bundle) // 2, len(bundle) - 100, len(bundle) - 1):
        changed = bytearray(bundle)
        changed[position] ^= 0x01
        _refused(nodes["HQ"], bytes(changed))
    changed = bytearray(bundle)
    changed[len(bundle) // 2] ^= 0x40
    error = _refused(nodes["HQ"], bytes(changed), BundleTampered)
    assert error.code == "bundle_tampered"
    assert sync_import_ok(nodes["HQ"], bundle).applied == 2  # the intact one still goes in


def sync_import_ok(node, data):
    with node.active():
        return sync_import(data)


def test_truncated_and_foreign_files_are_refused(nodes, bundle):
    for cut in (len(bundle) - 1, len(bundle) - 64, len(bundle) // 2, 30, 5):
        _refused(nodes["HQ"], bundle[:cut], BundleTruncated)
    _refused(nodes["HQ"], b"PK\x03\x04 a zip file, not a bundle", BundleMalformed)
    _refused(nodes["HQ"], bundle + b"\x00", BundleTampered)


def test_a_bundle_for_another_node_or_installation_or_from_a_stranger_is_refused(nodes,
                                                                                   bundle):
    assert bundle_header(bundle)["to"] == "HQ"
    error = _refused(nodes["TAL"], bundle, BundleMisdirected)
    assert error.code == "bundle_not_for_us"
    with nodes["HQ"].active():
        Node.objects.filter(is_self=True).update(installation="0190a000-0000-7000-8000-0000000000ff")
    error = _refused(nodes["HQ"], bundle, BundleMisdirected)
    assert error.code == "bundle_other_installation"
    with nodes["HQ"].active():
        Node.objects.filter(is_self=True).update(installation="0190a000-0000-7000-8000-000000000001")
        Node.objects.filter(code="QAM").update(is_active=False)
    _refused(nodes["HQ"], bundle, BundleUnknownSender)


def test_the_command_line_contract(nodes, tmp_path, capsys):
    qam, hq = nodes["QAM"], nodes["HQ"]
    path = tmp_path / "qam-to-hq.bundle"
    with qam.active():
        site_create("FFA", "one", at="QAM")
        call_command("sync", "export", "--output", str(path))  # the only peer: HQ
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    with hq.active():
        call_command("sync", "import", str(path))
        out = capsys.readouterr().out
        assert "1 applied, 0 already present, 0 in conflict" in out
        call_command("sync", "import", str(path))
        assert "0 applied, 1 already present, 0 in conflict" in capsys.readouterr().out
        damaged = bytearray(path.read_bytes())
        damaged[-10] ^= 0xFF
        (tmp_path / "bad.bundle").write_bytes(bytes(damaged))
        with pytest.raises(CommandError) as caught:
            call_command("sync", "import", str(tmp_path / "bad.bundle"))
        assert caught.value.returncode == 2 and "bundle_tampered" in str(caught.value)
        call_command("sync", "status")
        out = capsys.readouterr().out
        assert "Node HQ: 0 conflicts to decide" in out and "QAM: last received" in out
    with pytest.raises(CommandError), hq.active():  # two peers at HQ: name one
        call_command("sync", "export", "--output", str(tmp_path / "x.bundle"))


def _edited_on_both_sides(nodes):
    """A site made at HQ, known at QAM, then renamed on both sides before they sync again."""
    qam, hq = nodes["QAM"], nodes["HQ"]
    with hq.active():
        record = site_create("GGA", "original", at="HQ").id
    send(hq, qam)
    with hq.active():
        site_rename(record, "HQ's name", at="HQ")
    with qam.active():
        site_rename(record, "post's name", at="QAM")
    at_hq = send(qam, hq)
    at_qam = send(hq, qam)
    assert at_hq.conflicts == at_qam.conflicts == 1
    for node, mine in ((hq, "HQ's name"), (qam, "post's name")):
        with node.active():
            conflict = SyncConflict.objects.get()
            assert conflict.kind == ConflictKind.VERSION and conflict.decided_at is None
            assert conflict.change.state == ChangeState.CONFLICT
            assert site_names([record]) == {record: mine}  # nothing overwritten
    return record


@pytest.mark.parametrize(("choice", "kept"), [("current", "HQ's name"),
                                              ("incoming", "post's name")])
def test_a_conflict_decided_at_hq_travels_back_without_a_new_conflict(nodes, choice, kept):
    qam, hq = nodes["QAM"], nodes["HQ"]
    record = _edited_on_both_sides(nodes)
    with hq.active():
        made = conflict_decide(actor=admin(), conflict=SyncConflict.objects.get(),
                               choice=choice)
        assert made.node == "HQ" and made.fields["_resolves"]
        assert site_names([record]) == {record: kept}
        assert SyncConflict.objects.get().decided_at is not None
        with pytest.raises(Conflict):  # decided already
            conflict_decide(actor=admin(), conflict=SyncConflict.objects.get(), choice=choice)
    result = send(hq, qam)
    assert (result.applied, result.conflicts, result.decided) == (1, 0, 1)
    back = send(qam, hq)
    assert (back.applied, back.conflicts) == (0, 0)
    for node in (hq, qam):
        with node.active():
            assert site_names([record]) == {record: kept}
            assert not SyncConflict.objects.filter(decided_at__isnull=True).exists()
            assert ledger_verify().ok
    with hq.active():
        hq_head = RecordHead.objects.get(record_id=record).change
    with qam.active():
        assert RecordHead.objects.get(record_id=record).change == hq_head
    # and once more: nothing moves
    assert send(hq, qam).applied == send(qam, hq).applied == 0


@pytest.mark.parametrize(("choice", "kept"), [("current", "HQ's name"),
                                              ("incoming", "post's name")])
def test_a_third_post_receiving_both_sides_and_the_decision_at_once_has_no_conflict(
        nodes, choice, kept):
    hq, tal = nodes["HQ"], nodes["TAL"]
    record = _edited_on_both_sides(nodes)
    with hq.active():
        conflict_decide(actor=admin(), conflict=SyncConflict.objects.get(), choice=choice)
    result = send(hq, tal)  # the create, both renames and the decision, in one bundle
    assert (result.conflicts, result.decided, result.waiting) == (0, 1, 0)
    with tal.active():
        assert site_names([record]) == {record: kept}
        assert not SyncConflict.objects.filter(decided_at__isnull=True).exists()
        assert SyncConflict.objects.get().decision == "remote:HQ"  # kept on the record
    assert send(hq, tal).applied == send(tal, hq).applied == 0


def test_when_both_sides_decide_headquarters_wins_on_both(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    record = _edited_on_both_sides(nodes)
    with hq.active():
        conflict_decide(actor=admin(), conflict=SyncConflict.objects.get(), choice="current")
    with qam.active():
        conflict_decide(actor=admin(), conflict=SyncConflict.objects.get(), choice="current")
    send(hq, qam)
    send(qam, hq)
    for node in (hq, qam):
        with node.active():
            assert site_names([record]) == {record: "HQ's name"}
            assert not SyncConflict.objects.filter(decided_at__isnull=True).exists()
    assert send(hq, qam).conflicts == send(qam, hq).conflicts == 0


def test_a_later_change_on_a_change_in_conflict_is_a_conflict_too(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    with hq.active():
        record = site_create("HHA", "original", at="HQ").id
    send(hq, qam)
    with hq.active():
        site_rename(record, "HQ's name", at="HQ")
    with qam.active():
        site_rename(record, "post 1", at="QAM")
        site_rename(record, "post 2", at="QAM")
    result = send(qam, hq)
    assert (result.applied, result.conflicts) == (0, 2)
    with hq.active():
        assert site_names([record]) == {record: "HQ's name"}


def test_a_broken_unique_rule_and_a_refusal_are_kept_for_review(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    with hq.active():
        site_create("DUP", "at HQ", at="HQ")
    with qam.active():
        theirs = site_create("DUP", "at the post", at="QAM").id
        other = site_create("OKA", "fine", at="QAM").id
        site_rename(other, "fine again", at="QAM")
    result = send(qam, hq)
    assert (result.applied, result.conflicts) == (2, 1)
    with hq.active():
        conflict = SyncConflict.objects.get()
        assert conflict.kind == ConflictKind.UNIQUE and conflict.change.record_id == theirs
        assert not ArrivalGroup.objects.filter(pk=theirs).exists()
        # kept: the post's record is not taken
        change = conflict_decide(actor=admin(), conflict=conflict, choice="current")
        assert change.state == ChangeState.DECIDED
        assert not ArrivalGroup.objects.filter(pk=theirs).exists()


def test_a_refused_change_can_be_taken_once_the_rule_holds(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    with hq.active():
        taken = site_create("DUQ", "at HQ", at="HQ")
    with qam.active():
        theirs = site_create("DUQ", "at the post", at="QAM").id
    assert send(qam, hq).conflicts == 1
    with hq.active():
        ArrivalGroup.objects.filter(pk=taken.pk).update(short_code="DUX")
        change = conflict_decide(actor=admin(), conflict=SyncConflict.objects.get(),
                                 choice="incoming")
        assert change.state == ChangeState.APPLIED
        assert ArrivalGroup.objects.get(pk=theirs).short_code == "DUQ"
        assert RecordHead.objects.get(record_id=theirs).change == change.id


def test_import_queries_do_not_grow_many_per_change(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]

    def queries_for(count: int, prefix: str) -> int:
        with qam.active():
            for i in range(count):
                site_create(letters(prefix, i), f"n{i}", at="QAM")
            data = sync_export(to="HQ")
        with hq.active(), CaptureQueriesContext(connection) as ctx:
            assert sync_import(data).applied == count
        return len(ctx.captured_queries)

    small = queries_for(5, "Q")
    large = queries_for(45, "R")
    # the test applier costs 9 queries a change (the unique check, the user twice, the insert,
    # the site, and the absorbed capture: its savepoint, the head's look-up and insert); the
    # engine adds its savepoint around each (2) and reads and writes the rest in batches
    assert (large - small) / 40 <= 11, (small, large)


def test_the_conflict_queue_shows_both_versions_side_by_side(nodes):
    record = _edited_on_both_sides(nodes)
    with nodes["HQ"].active():
        queue = conflicts_open(admin())
        assert [c.change.record_id for c in queue] == [record]
        detail = conflict_detail(admin(), queue[0].pk)
        assert detail.incoming.node == "QAM" and detail.current.node == "HQ"
        assert [(r.name, r.current, r.incoming, r.differs) for r in detail.rows] == [
            ("name", "HQ's name", "post's name", True)]
        with pytest.raises(NotFound):
            conflict_detail(admin(), "not-an-id")
        conflict_decide(actor=admin(), conflict=queue[0], choice="incoming")
        assert conflicts_open(admin()) == []
