"""Background jobs (core.jobs): the lifecycle through the real worker loop (django-tasks-db's
worker, run once in batch mode), a dead worker's job taken back, cancel, owner-only access,
failures in the user's language."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks_db.models import DBTaskResult

from mawa.accounts.roles import Role
from mawa.core import exports, jobs
from mawa.core.errors import NotFound, ValidationFailed
from mawa.core.models import Job, JobState, LedgerEntry

pytestmark = pytest.mark.django_db(transaction=True)

KIND = "test.steps"


@pytest.fixture
def steps_kind():
    """A kind that counts ``steps`` steps, may cancel itself or fail at ``at``, and delivers a
    small readable file through core.exports with one audit entry per step."""
    seen = []

    def run(job, progress):
        total = job.params.get("steps", 3)
        for i in range(total):
            seen.append((job.attempts, i))
            if i == job.params.get("at"):
                what = job.params.get("then")
                if what == "cancel":
                    jobs.job_cancel(user=job.owner, job_id=job.pk)  # the user clicks Cancel
                elif what == "refuse":
                    raise ValidationFailed(_("There is no card to print in this selection."))
                elif what == "crash":
                    raise RuntimeError("a bug")
                elif what == "stop":
                    jobs._stopping.set()  # Ctrl-C reaches the worker
            progress(i + 1, total)
        with transaction.atomic():
            ready = exports.export_store(
                user=job.owner, kind="idcards_pdf", purpose="test", recipient="test",
                write=lambda fh: fh.write(b"%PDF-1.7 test"), site=job.site)
            from mawa.core.audit import audit_many

            audit_many(actor=job.owner, action="test.step", model="test",
                       object_ids=list(range(total)))
            jobs.job_deliver(job, ready=ready, count=total)

    jobs.job_kind_register(KIND, label="Steps", run=run)
    yield seen
    jobs.KINDS.pop(KIND, None)


@pytest.fixture
def officer(users):
    return users[Role.RECEPTION_OFFICER]


def start(officer, sites, **params):
    return jobs.job_start(user=officer, kind=KIND, params=params, site=sites["RHM"],
                          subject="T-1")


def work():
    jobs.jobs_work(batch=True, worker_id="test-worker")


def test_a_job_goes_from_queued_to_done_and_its_result_downloads_once(steps_kind, officer,
                                                                        sites, client):
    job = start(officer, sites, steps=3)
    assert job.state == JobState.QUEUED and job.task_id
    assert DBTaskResult.objects.get(pk=job.task_id).status == "READY"
    work()
    job.refresh_from_db()
    assert job.state == JobState.DONE and (job.done, job.total) == (3, 3)
    assert job.attempts == 1 and job.result_count == 3 and job.percent == 100
    assert DBTaskResult.objects.get(pk=job.task_id).status == "SUCCESSFUL"
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 3
    assert jobs.job_result_available(job)
    client.force_login(officer)
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"/exports/{job.result_token}/" in page
    response = client.get(f"/exports/{job.result_token}/")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"
    assert client.get(f"/exports/{job.result_token}/").status_code == 404  # once
    assert not jobs.job_result_available(job)
    assert "data-testid=\"job-taken\"" in client.get(f"/jobs/{job.pk}/").content.decode()


def test_the_progress_fragment_polls_until_the_job_has_finished(steps_kind, officer, sites,
                                                               client):
    job = start(officer, sites, steps=2)
    client.force_login(officer)
    fragment = client.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert 'hx-trigger="every' in fragment and 'data-state="queued"' in fragment
    work()
    fragment = client.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert "hx-trigger" not in fragment and 'data-state="done"' in fragment


def test_a_running_job_cancelled_stops_and_delivers_nothing(steps_kind, officer, sites):
    job = start(officer, sites, steps=3, at=1, then="cancel")
    work()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and not job.result_token
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 0
    assert not LedgerEntry.objects.filter(kind="audit.export").exists()


def test_a_queued_job_cancelled_never_runs(steps_kind, officer, sites, client):
    job = start(officer, sites, steps=2)
    client.force_login(officer)
    assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 302
    work()
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED and job.attempts == 0 and steps_kind == []


def test_a_refused_job_fails_with_the_reason_in_the_users_language(steps_kind, officer, sites,
                                                                   client):
    job = start(officer, sites, steps=2, at=0, then="refuse")
    work()
    job.refresh_from_db()
    assert job.state == JobState.FAILED
    assert job.error == "There is no card to print in this selection."  # stored in English
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 0
    client.force_login(officer)
    client.cookies["django_language"] = "ar"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    with translation.override("ar"):
        arabic = str(_("There is no card to print in this selection."))
    assert arabic != job.error and arabic in page
    client.cookies["django_language"] = "en"
    assert job.error in client.get(f"/jobs/{job.pk}/").content.decode()


def test_a_crash_fails_with_a_generic_message_and_no_effects(steps_kind, officer, sites):
    job = start(officer, sites, steps=2, at=1, then="crash")
    work()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error == jobs.ERROR_GENERIC
    assert "a bug" not in job.error
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 0


def _killed(job, *, attempts=1, minutes=10):
    """What a worker killed in the middle of the job leaves: the job running under a lease
    that ran out, its queue entry running."""
    old = timezone.now() - dt.timedelta(minutes=minutes)
    Job.objects.filter(pk=job.pk).update(state=JobState.RUNNING, attempts=attempts,
                                         heartbeat_at=old, started_at=old, done=1, total=3,
                                         worker_id="dead-worker")
    DBTaskResult.objects.filter(pk=job.task_id).update(status="RUNNING", started_at=old,
                                                        worker_ids=["dead-worker"])


def test_a_killed_workers_job_is_run_again_and_delivered_once(steps_kind, officer, sites):
    job = start(officer, sites, steps=3)
    _killed(job)
    dead_task = job.task_id
    stale = Job.objects.get(pk=job.pk)  # the dead attempt's view of the job
    work()
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 2 and job.task_id != dead_task
    assert DBTaskResult.objects.get(pk=dead_task).status == "FAILED"
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 3
    assert LedgerEntry.objects.filter(kind="audit.export").count() == 1
    # the dead attempt wakes up and tries to deliver: refused, and its effects roll back
    with pytest.raises(jobs.JobStopped), transaction.atomic():
        from mawa.core.audit import audit_many

        audit_many(actor=officer, action="test.step", model="test", object_ids=[0, 1, 2])
        jobs.job_deliver(stale, ready=exports.ExportReady(
            export_id="x", kind=exports.KINDS["idcards_pdf"], passphrase="", token="t",
            filename="f", size=1, sha256="0"), count=3)
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 3
    job.refresh_from_db()
    assert job.result_token != "t"


def test_a_job_whose_worker_died_twice_fails_in_words(steps_kind, officer, sites, client):
    job = start(officer, sites, steps=3)
    _killed(job, attempts=jobs.MAX_ATTEMPTS)
    work()
    job.refresh_from_db()
    assert job.state == JobState.FAILED and job.error == jobs.ERROR_WORKER_LOST
    assert steps_kind == []  # not run a third time
    client.force_login(officer)
    client.cookies["django_language"] = "ar"
    with translation.override("ar"):
        arabic = translation.gettext(jobs.ERROR_WORKER_LOST)
    assert arabic != jobs.ERROR_WORKER_LOST
    assert arabic in client.get(f"/jobs/{job.pk}/").content.decode()


def test_a_job_whose_lease_still_runs_is_left_alone(steps_kind, officer, sites):
    job = start(officer, sites, steps=3)
    _killed(job, minutes=1)
    assert jobs.jobs_recover() == 0
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_only_the_owner_sees_cancels_or_downloads_a_job(steps_kind, officer, users, sites,
                                                        client):
    job = start(officer, sites, steps=1)
    work()
    job.refresh_from_db()
    for intruder in (users[Role.CAMP_MANAGER], users["outsider"], users[Role.ADMINISTRATOR]):
        with pytest.raises(NotFound):
            jobs.job_get(user=intruder, job_id=job.pk)
        client.force_login(intruder)
        assert client.get(f"/jobs/{job.pk}/").status_code == 404
        assert client.get(f"/jobs/{job.pk}/progress/").status_code == 404
        assert client.post(f"/jobs/{job.pk}/cancel/").status_code == 404
        assert client.get(f"/exports/{job.result_token}/").status_code == 404
        assert str(job.pk) not in client.get("/jobs/").content.decode()
    client.force_login(officer)
    assert str(job.pk) in client.get("/jobs/").content.decode()
    assert client.get(f"/exports/{job.result_token}/").status_code == 200


def test_a_stopping_worker_hands_its_job_back_to_the_queue(steps_kind, officer, sites):
    job = start(officer, sites, steps=3, at=1, then="stop")
    try:
        work()
    finally:
        jobs._stopping.clear()
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and job.attempts == 0 and job.done == 0
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 0
    Job.objects.filter(pk=job.pk).update(params={"steps": 3})
    work()  # the next worker
    job.refresh_from_db()
    assert job.state == JobState.DONE and job.attempts == 1
    assert LedgerEntry.objects.filter(kind="audit.test.step").count() == 3


def test_a_queued_job_cancelled_loses_its_sealed_secret(steps_kind, officer, sites):
    job = start(officer, sites, steps=2)
    Job.objects.filter(pk=job.pk).update(params={**job.params, "passphrase_sealed": "x"})
    jobs.job_cancel(user=officer, job_id=job.pk)
    job.refresh_from_db()
    assert job.state == JobState.CANCELLED
    assert "passphrase_sealed" not in job.params and job.params["steps"] == 2


def test_finished_jobs_are_pruned_after_the_keep_days_with_their_queue_entries(
        steps_kind, officer, sites):
    old, recent = start(officer, sites, steps=1), start(officer, sites, steps=1)
    work()
    waiting = start(officer, sites, steps=1)  # queued after the worker's pass
    now = timezone.now()
    Job.objects.filter(pk=old.pk).update(finished_at=now - dt.timedelta(days=31))
    DBTaskResult.objects.filter(pk=old.task_id).update(finished_at=now - dt.timedelta(days=31))
    counts = jobs.jobs_prune(now=now, keep_days=30)
    assert counts == {"jobs": 1, "tasks": 1}
    assert set(Job.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not DBTaskResult.objects.filter(pk=old.task_id).exists()
    assert DBTaskResult.objects.filter(pk=recent.task_id).exists()
