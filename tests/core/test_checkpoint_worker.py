"""Checkpoints signed by the worker (issue 20, item 6): entries written after the last signed
checkpoint are unprotected until the next one, so the worker loop signs a checkpoint of
every stream that moved every ``MAWA_CHECKPOINT_SECONDS`` — not only cron's ``mawa
checkpoint``. Idempotent, and a second worker signs nothing twice. Time is moved with the
replay clock, never waited for."""

from __future__ import annotations

import datetime as dt

import pytest

from mawa.core import jobs, ledger
from mawa.core.clock import clock_set
from mawa.core.ledger import checkpoint_all, ledger_append, ledger_verify
from mawa.core.models import Checkpoint

pytestmark = pytest.mark.django_db(transaction=True)  # the real worker loop runs

T0 = dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def fresh_worker(settings):
    """A worker process that has not signed yet, with the default period."""
    settings.MAWA_CHECKPOINT_SECONDS = 300
    ledger._checkpoint_next.clear()
    yield
    ledger._checkpoint_next.clear()


def _append(stream: str, n: int = 1) -> None:
    for i in range(n):
        ledger_append(stream=stream, kind="test.event", payload={"n": i},
                      actor="system:test", site="RHM")


def _worker() -> None:
    jobs.jobs_work(batch=True, worker_id="test-worker")


def _signed() -> dict[str, int]:
    """The newest signed seq of each stream."""
    return dict(Checkpoint.objects.order_by("seq").values_list("stream", "seq"))


def test_the_worker_signs_the_moved_streams_every_few_minutes(sites):
    with clock_set(T0) as clock:
        _append("test/a", 2)
        _worker()  # a worker that starts signs what is unsigned
        assert _signed() == {"test/a": 2}
        clock.advance(dt.timedelta(seconds=60))
        _append("test/a")
        _append("test/b")
        _worker()  # a minute later: not due yet, the new entries wait
        assert _signed() == {"test/a": 2}
        clock.advance(dt.timedelta(seconds=241))
        _worker()  # five minutes after the last: both streams signed, as the worker
        assert _signed() == {"test/a": 3, "test/b": 1}
        signed_at = Checkpoint.objects.get(stream="test/b").ts
        assert signed_at.startswith("2026-03-01T08:05:01")
        clock.advance(dt.timedelta(seconds=600))
        _worker()  # nothing moved: nothing signed again
    assert Checkpoint.objects.count() == 3  # test/a at 2 and 3, test/b at 1
    report = ledger_verify()
    assert report.ok and report.checkpoints == 3


def test_two_workers_sign_each_checkpoint_once(sites):
    with clock_set(T0) as clock:
        _append("test/a", 3)
        _worker()
        clock.advance(dt.timedelta(seconds=30))
        _append("test/a")
        ledger._checkpoint_next.clear()  # another worker process, which has not signed yet
        _worker()
        _worker()
    assert list(Checkpoint.objects.order_by("seq").values_list("stream", "seq")) == [
        ("test/a", 3), ("test/a", 4)]


def test_a_worker_that_read_the_moved_streams_before_another_signed_them_signs_nothing(
        monkeypatch, sites):
    _append("test/a", 2)
    stale = ledger._moved_streams()  # read by the second worker before the first signs
    assert checkpoint_all() == 1
    monkeypatch.setattr(ledger, "_moved_streams", lambda: stale)
    assert checkpoint_all() == 0  # asked again under the heads' lock: already signed
    assert Checkpoint.objects.count() == 1


def test_the_worker_does_not_sign_when_turned_off(settings, sites):
    settings.MAWA_CHECKPOINT_SECONDS = 0
    _append("test/a")
    _worker()
    assert not Checkpoint.objects.exists()


def test_a_failed_signing_does_not_stop_the_jobs(monkeypatch, sites):
    def broken():
        raise OSError("the site key cannot be read")

    monkeypatch.setattr(ledger, "checkpoint_all", broken)
    _append("test/a")
    _worker()  # logged, tried again next time
    assert not Checkpoint.objects.exists()
