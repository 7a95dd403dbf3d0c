"""Witnessing: a peer countersigns the checkpoints of a node's change stream it holds and
sends them back; ``mawa verify`` checks the node's chain against them. Someone who can write
the database and rewrites the newest entries with recomputed hashes (and removes the
checkpoint rows that would give it away) passes a local verify, but not the witnesses'."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from mawa.core.changes import changes_stream
from mawa.core.changes_models import Change
from mawa.core.ledger import (
    ChainRefused,
    entry_hash,
    ledger_verify,
    witnesses_kept,
)
from mawa.core.models import Checkpoint, LedgerEntry, LedgerHead
from mawa.reception.models import ArrivalGroup
from mawa.sync.services import sync_export, sync_import
from tests.sync.nodes import appliers_register, nodes_make, site_create, template_database

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="session")
def template(tmp_path_factory, django_db_blocker):
    with django_db_blocker.unblock():
        return template_database(tmp_path_factory.mktemp("sync-template"))


@pytest.fixture
def nodes(tmp_path, template):
    appliers_register()
    made = nodes_make(tmp_path, template, ("HQ", "QAM"))
    yield made
    for node in made.values():
        node.close()


def send(src, dst):
    with src.active():
        data = sync_export(to=dst.code)
    with dst.active():
        return sync_import(data)


def _rewrite_newest(stream: str) -> None:
    """What someone who can write the database does: drop the append-only triggers, change
    the newest entry, recompute its hash and the head, and delete the checkpoints."""
    with connection.cursor() as cur:
        cur.execute("SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name IN "
                    "('core_ledgerentry', 'core_checkpoint')")
        for (name,) in cur.fetchall():
            cur.execute(f"DROP TRIGGER {name}")
    entry = LedgerEntry.objects.filter(stream=stream).order_by("-seq").first()
    payload = json.loads(entry.payload)
    payload["fields"] = "0" * 64  # another change than the one made
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    digest = entry_hash(entry.prev_hash, entry.stream, entry.seq, entry.ts, entry.actor,
                        entry.site, entry.kind, text)
    LedgerEntry.objects.filter(pk=entry.pk).update(payload=text, entry_hash=digest)
    LedgerHead.objects.filter(stream=stream).update(head_hash=digest)
    Checkpoint.objects.filter(stream=stream).delete()


def test_a_rewrite_of_the_newest_entries_passes_alone_but_not_the_witness(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    stream = changes_stream("QAM")
    with qam.active():
        for code in ("WAA", "WAB", "WAC"):
            site_create(code, code, at="QAM")
    send(qam, hq)
    send(hq, qam)  # HQ's countersignature of QAM's stream comes back
    with qam.active():
        witnesses = witnesses_kept()
        assert [(w["stream"], w["seq"], w["site"]) for w in witnesses] == [(stream, 3, "HQ")]
        assert ledger_verify(extra_checkpoints=witnesses).ok
        call_command("verify")

        _rewrite_newest(stream)

        assert ledger_verify().ok  # the gap witnessing closes: a local verify passes
        report = ledger_verify(extra_checkpoints=witnesses_kept())
        assert not report.ok
        assert report.first_failure.stream == stream and "rewritten" in report.first_failure.reason
        with pytest.raises(CommandError) as caught:
            call_command("verify")
        assert caught.value.returncode == 1
    # and HQ, holding the original entries, refuses the rewritten chain whole
    with hq.active():
        before = (ArrivalGroup.objects.count(), Change.objects.count())
    with qam.active():
        site_create("WAD", "after", at="QAM")
        data = sync_export(to="HQ")
    with hq.active(), pytest.raises(ChainRefused):
        sync_import(data)
    with hq.active():
        assert (ArrivalGroup.objects.count(), Change.objects.count()) == before
        assert ledger_verify().ok


def test_witnesses_are_kept_once_however_often_they_come(nodes):
    qam, hq = nodes["QAM"], nodes["HQ"]
    with qam.active():
        site_create("WBA", "one", at="QAM")
    send(qam, hq)
    send(hq, qam)
    send(hq, qam)
    with qam.active():
        assert len(witnesses_kept()) == 1
        assert Checkpoint.objects.filter(stream=changes_stream("QAM"), site="HQ").count() == 1
        assert ledger_verify(extra_checkpoints=witnesses_kept()).ok
    with hq.active():
        # HQ signed its witness once, and holds the post's own checkpoint of its stream
        assert Checkpoint.objects.filter(stream=changes_stream("QAM"), site="HQ").count() == 1
        assert Checkpoint.objects.filter(stream=changes_stream("QAM"), site="QAM").exists()
        assert ledger_verify().ok
