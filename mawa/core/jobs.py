"""Background jobs: long work off the request, with progress, cancel and a download.

Whatever may take longer than a page should (ID cards for a group of 1,200, …) runs as a *job*
and the page answers at once with a redirect to the job's page (``/jobs/<id>/``): a progress
bar polled by htmx, a cancel button, the error in the user's language when it fails, and the
download of the result through ``core.exports`` (permission, purpose, ledger, single-use link).

How it fits together:

- **Queue.** Django's tasks API (``django-tasks``, the backport of Django 6's ``django.tasks``)
  with its database backend (``django-tasks-db``): the queue is a table, so the embedded
  SQLite and PostgreSQL need nothing else. One task, ``job_run(job_id)``, runs every job.
  ``mawa worker`` runs a worker (``jobs_work``); ``make run`` starts one beside gunicorn.
- **Job.** ``core.jobs_models.Job`` is Mawa's side of the queue entry: owner, site, kind,
  parameters (ids and codes), progress done/total, cancel flag, a lease (``heartbeat_at``),
  the attempt number, the reason of a failure and the result's download link. Only its owner
  sees it (``job_get``: anybody else gets ``NotFound``).
- **Kinds.** An app registers what its jobs do in ``AppConfig.ready()`` with
  ``job_kind_register(name, label=…, run=…)`` (the kernel cannot import the apps above it).
  ``run(job, progress)`` checks the owner's permission again, does the work, calls
  ``progress(done, total)`` as it goes — that renews the lease, and raises ``JobStopped``
  when the user cancelled — and ends with ``job_deliver`` **inside the same transaction as
  its effects** (the export's ledger entry, the "printed" audit entries): the job is done
  and its effects are written together, once, or not at all.
- **Restarts.** A running job's lease is renewed at every progress step. A worker, when it
  starts and between tasks, calls ``jobs_recover``: a running job whose lease ran out
  (``LEASE_SECONDS``: its worker was killed) is queued again from the start, or marked failed
  after ``MAX_ATTEMPTS``. Nothing is lost and nothing is done twice: the effects are written
  only by ``job_deliver``, which succeeds only for the attempt that still holds the job, so
  a slow old attempt that wakes up after its job was taken over cannot deliver again.
- **Errors.** A ``MawaError``'s message is kept as its English source text and translated
  when shown (``job_error_text``); any other exception is logged with its traceback and the
  user reads a generic failure. A cancelled job delivers nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone, translation
from django.utils.crypto import get_random_string
from django.utils.translation import gettext, gettext_noop
from django_tasks import task
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult

from mawa.core import context as action_context
from mawa.core import exports, ledger
from mawa.core.errors import MawaError, NotFound
from mawa.core.jobs_models import Job, JobState

logger = logging.getLogger("mawa.jobs")

LEASE_SECONDS = 300  # a running job reports progress at least this often, or is taken back
MAX_ATTEMPTS = 2  # a job whose worker died this many times is marked failed

ERROR_GENERIC = gettext_noop("The job failed. Start it again; if it fails again, tell your "
                      "administrator.")
ERROR_WORKER_LOST = gettext_noop("The job was interrupted twice (its worker stopped). Start it "
                          "again.")
ERROR_UNKNOWN_KIND = gettext_noop("This kind of job is not known to this version of Mawa.")


class JobStopped(Exception):
    """Raised inside a job's work when it must stop: the user cancelled it, or the attempt
    lost the job (its lease ran out and the job was queued again). Not a ``MawaError``: it
    never reaches a user."""


class WorkerStopping(JobStopped):
    """The worker was asked to stop (Ctrl-C, TERM): the job stops at its next progress step
    and is queued again at once, for the next worker."""


# Set by the worker's signal handler: running jobs stop at their next step (``_Progress``).
_stopping = threading.Event()

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    label: object  # a lazy translated string: what the job page calls it
    run: Callable[[Job, Progress], None]


KINDS: dict[str, JobKind] = {}


def job_kind_register(name: str, *, label, run: Callable[[Job, Progress], None]) -> None:
    """Register what jobs of ``name`` do (from an ``AppConfig.ready()``)."""
    KINDS[name] = JobKind(name=name, label=label, run=run)


# --- asking, reading, cancelling ---------------------------------------------------------------

def job_start(*, user, kind: str, params: dict | None = None, site=None, subject: str = "",
              total: int = 0) -> Job:
    """Queue a job for ``user`` and return it. The caller has checked the permission (the
    runner checks it again when it runs). The job and its queue entry are written in one
    transaction: either both exist or neither. The job runs in the language of the request
    that asked for it."""
    if kind not in KINDS:
        raise NotFound()
    with transaction.atomic():
        job = Job.objects.create(kind=kind, owner=user, site=site, params=params or {},
                                 subject=subject[:120], total=total,
                                 language=translation.get_language() or "ar")
        _enqueue(job)
    return job


def _enqueue(job: Job) -> None:
    result = job_run.enqueue(str(job.pk))
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id))
    job.task_id = str(result.id)


def job_get(*, user, job_id) -> Job:
    """The user's own job; anybody else's answers like a missing one."""
    job = Job.objects.select_related("site").filter(pk=job_id).first()
    if job is None or job.owner_id != getattr(user, "pk", None):
        raise NotFound()
    return job


def jobs_recent(*, user, limit: int = 20) -> list[Job]:
    """The user's most recent jobs, newest first."""
    return list(Job.objects.filter(owner_id=user.pk).order_by("-created_at")[:limit])


# A job parameter whose name ends with this holds a secret sealed for the job (an export's
# passphrase, core.export_jobs): it is wiped whenever the job ends without using it.
SECRET_SUFFIX = "_sealed"


def _secrets_wipe(job_id) -> None:
    """Remove the sealed secrets from a finished job's parameters (inside a transaction)."""
    row = Job.objects.select_for_update().filter(pk=job_id).first()
    if row is None:
        return
    kept = {k: v for k, v in row.params.items() if not k.endswith(SECRET_SUFFIX)}
    if kept != row.params:
        Job.objects.filter(pk=job_id).update(params=kept)


def job_cancel(*, user, job_id) -> Job:
    """Ask for the job to stop. A queued job is cancelled at once (and a secret sealed for it
    wiped: it will never run); a running one stops at its next progress step and delivers
    nothing. A finished job stays as it is."""
    job = job_get(user=user, job_id=job_id)
    now = timezone.now()
    with transaction.atomic():
        if Job.objects.filter(pk=job.pk, state=JobState.QUEUED).update(
                state=JobState.CANCELLED, cancel_requested=True, finished_at=now):
            _secrets_wipe(job.pk)
        Job.objects.filter(pk=job.pk, state=JobState.RUNNING).update(cancel_requested=True)
    job.refresh_from_db()
    return job


def jobs_prune(*, now: datetime | None = None, keep_days: int | None = None) -> dict:
    """Delete finished jobs that ended more than ``keep_days`` ago (``MAWA_JOB_KEEP_DAYS``)
    with their queue entries, and finished queue entries of plain tasks (screening) as old.
    Queued and running jobs are never touched. Returns the counts (``mawa purge``)."""
    from django.conf import settings

    now = now or timezone.now()
    days = settings.MAWA_JOB_KEEP_DAYS if keep_days is None else keep_days
    cutoff = now - timedelta(days=days)
    with transaction.atomic():
        old = Job.objects.filter(state__in=Job.FINISHED, finished_at__lt=cutoff)
        task_ids = [t for t in old.values_list("task_id", flat=True) if t]
        jobs_deleted = old.delete()[0]
        tasks = DBTaskResult.objects.filter(status__in=("SUCCESSFUL", "FAILED"),
                                            finished_at__lt=cutoff)
        tasks_deleted = 0
        for start in range(0, len(task_ids), 900):
            tasks_deleted += DBTaskResult.objects.filter(
                pk__in=task_ids[start:start + 900]).delete()[0]
        tasks_deleted += tasks.delete()[0]
    return {"jobs": jobs_deleted, "tasks": tasks_deleted}


def job_label(job: Job):
    spec = KINDS.get(job.kind)
    return spec.label if spec else job.kind


def job_error_text(job: Job) -> str:
    """The reason of a failure in the current language."""
    return gettext(job.error) if job.error else ""


def job_stalled(job: Job, *, now: datetime | None = None) -> bool:
    """A running job whose lease ran out: its worker seems to have stopped."""
    now = now or timezone.now()
    return (job.state == JobState.RUNNING and job.heartbeat_at is not None
            and job.heartbeat_at < now - timedelta(seconds=LEASE_SECONDS))


def job_result_available(job: Job) -> bool:
    """True while the result's download link still works (15 minutes, once)."""
    return job.state == JobState.DONE and bool(job.result_token) and exports.export_pending(
        user=job.owner, token=job.result_token)


# --- doing -------------------------------------------------------------------------------------

class _Progress:
    """The ``progress(done, total)`` a runner calls: renews the lease, records the progress,
    and raises ``JobStopped`` when the job was cancelled or taken away from this attempt."""

    def __init__(self, job: Job):
        self.job = job

    def __call__(self, done: int, total: int) -> None:
        if _stopping.is_set():
            raise WorkerStopping()
        updated = _mine(self.job).filter(cancel_requested=False).update(
            done=done, total=total, heartbeat_at=timezone.now())
        if not updated:
            raise JobStopped()
        self.job.done, self.job.total = done, total


def _mine(job: Job):
    """The job, as long as this attempt holds it."""
    return Job.objects.filter(pk=job.pk, state=JobState.RUNNING, attempts=job.attempts)


def job_deliver(job: Job, *, ready: exports.ExportReady, count: int) -> None:
    """Mark the job done with its result. Call inside the transaction that writes the job's
    effects: if this attempt no longer holds the job (cancelled, or taken over after its
    lease ran out) it raises ``JobStopped`` and the transaction — effects included — rolls
    back."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("job_deliver must run inside the transaction of the job's effects")
    updated = _mine(job).filter(cancel_requested=False).update(
        state=JobState.DONE, done=F("total"), finished_at=timezone.now(),
        result_token=ready.token, result_name=ready.filename, result_size=ready.size,
        result_count=count, error="")
    if not updated:
        raise JobStopped()


def _english(message) -> str:
    with translation.override(None):
        return str(message)[:300]


def _end(job: Job, state: str, error: str = "") -> None:
    _mine(job).update(state=state, error=error, finished_at=timezone.now())


def job_execute(job_id: str, *, worker_id: str) -> None:
    """Run one attempt of a job (what the task does). Claims the job (queued → running) so
    that two workers never run it at once, runs its kind, and records how it ended."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state=JobState.QUEUED).update(
        state=JobState.RUNNING, worker_id=worker_id[:80], heartbeat_at=now, started_at=now,
        attempts=F("attempts") + 1, done=0)
    if not claimed:
        return  # cancelled meanwhile, or already taken: nothing to do
    job = Job.objects.select_related("owner", "site").get(pk=job_id)
    spec = KINDS.get(job.kind)
    if spec is None:
        _end(job, JobState.FAILED, ERROR_UNKNOWN_KIND)
        return
    token = action_context.set_current(action_context.ActionContext(channel="job"))
    try:
        with translation.override(job.language or "ar"):
            spec.run(job, _Progress(job))
    except WorkerStopping:
        # an orderly stop is not a failed attempt: the job waits for the next worker
        with transaction.atomic():
            if _mine(job).update(state=JobState.QUEUED, attempts=F("attempts") - 1, done=0,
                                 worker_id="", heartbeat_at=None):
                _enqueue(job)
        logger.warning("job %s queued again: its worker is stopping", job.pk)
    except JobStopped:
        _mine(job).filter(cancel_requested=True).update(
            state=JobState.CANCELLED, finished_at=timezone.now())
    except MawaError as exc:
        _end(job, JobState.FAILED, _english(exc.message))
    except Exception:
        logger.exception("job %s (%s) failed", job.pk, job.kind)
        _end(job, JobState.FAILED, ERROR_GENERIC)
    else:
        # a runner that returns without delivering has nothing to show: say so
        _end(job, JobState.FAILED, ERROR_GENERIC)
    finally:
        action_context.reset(token)


@task(takes_context=True)
def job_run(context, job_id: str) -> None:
    """The one task of the queue: run the job ``job_id``."""
    worker_ids = context.task_result.worker_ids
    job_execute(job_id, worker_id=worker_ids[-1] if worker_ids else "")


# --- recovering and working --------------------------------------------------------------------

def jobs_recover(*, now: datetime | None = None) -> int:
    """Take back the jobs of dead workers: a running job whose lease ran out is queued again
    (or failed after ``MAX_ATTEMPTS``); a queued job whose queue entry was taken by a worker
    that died before it claimed the job is queued again. Returns how many jobs were touched."""
    now = now or timezone.now()
    limit = now - timedelta(seconds=LEASE_SECONDS)
    touched = 0
    for job in Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=limit):
        with transaction.atomic():
            _task_abandon(job.task_id, now)
            if job.cancel_requested:
                touched += _mine(job).update(state=JobState.CANCELLED, finished_at=now)
            elif job.attempts >= MAX_ATTEMPTS:
                touched += _mine(job).update(state=JobState.FAILED, error=ERROR_WORKER_LOST,
                                             finished_at=now)
                logger.warning("job %s failed: its worker stopped %d times", job.pk,
                               job.attempts)
            elif _mine(job).update(state=JobState.QUEUED, worker_id="", heartbeat_at=None):
                _enqueue(job)
                touched += 1
                logger.warning("job %s queued again: its worker stopped", job.pk)
    for job in Job.objects.filter(state=JobState.QUEUED, created_at__lt=limit):
        entry = DBTaskResult.objects.filter(pk=job.task_id).values_list("status", flat=True)
        if entry.first() in ("READY",):
            continue  # still waiting for a worker
        with transaction.atomic():
            _task_abandon(job.task_id, now)
            if Job.objects.filter(pk=job.pk, state=JobState.QUEUED,
                                  task_id=job.task_id).exists():
                _enqueue(job)
                touched += 1
    return touched


def _task_abandon(task_id: str, now: datetime) -> None:
    """Close the queue entry of a dead attempt, so the queue does not show it running."""
    if task_id:
        DBTaskResult.objects.filter(pk=task_id, status="RUNNING").update(
            status="FAILED", finished_at=now,
            exception_class_path="mawa.core.jobs.WorkerLost",
            traceback="The worker stopped while running this task (lease expired).")


def _checkpoint() -> None:
    """Sign the ledger's checkpoints when they are due (``ledger.checkpoint_if_due``: every
    ``MAWA_CHECKPOINT_SECONDS``). A failure (a locked database, a missing site key) is logged
    and tried again next time: it must not stop the jobs."""
    try:
        ledger.checkpoint_if_due()
    except Exception:
        logger.exception("signing the ledger's checkpoints failed; trying again later")


def worker_id_new() -> str:
    return f"{socket.gethostname()[:40]}-{os.getpid()}-{get_random_string(8)}"


class _Worker(Worker):
    """django-tasks-db's worker, whose first Ctrl-C or TERM also asks the running job to
    stop at its next step (``WorkerStopping``) rather than run to its end."""

    def shutdown(self, signum, frame) -> None:
        _stopping.set()
        super().shutdown(signum, frame)

    def run_task(self, db_task_result) -> None:
        super().run_task(db_task_result)
        if _stopping.is_set():
            self.running = False  # take no further task


def jobs_work(*, batch: bool = False, interval: float = 1.0, worker_id: str = "",
              signals: bool = False) -> None:
    """The worker: take back dead workers' jobs, run every queued task, sign the ledger's
    checkpoints when due (``ledger.checkpoint_if_due``), wait ``interval`` seconds, again.
    ``batch`` runs what is queued once and returns (the tests, and ``mawa worker --batch``).
    ``signals`` installs the handlers: the first Ctrl-C or TERM stops the running job at its
    next progress step, queues it again for the next worker and stops (a second one stops at
    once; the job is then taken back by ``jobs_recover`` when its lease runs out)."""
    worker = _Worker(queue_names=["default"], interval=interval, batch=True,
                    backend_name="default", startup_delay=False, max_tasks=None,
                    worker_id=worker_id or worker_id_new(), excluded_queue_names=[])
    if signals:
        worker.configure_signals()
    while True:
        jobs_recover()
        worker.run()  # in batch mode: every ready task, then back here
        _checkpoint()
        if batch or not worker.running:
            return
        time.sleep(interval)
