"""Encrypted exports written by a background job (``core.jobs``): the register, the ICRC lists.

A job writes its file while nobody watches, yet the passphrase that locks the file must be
shown to the user once and kept nowhere readable (``core.exports``). So:

- The passphrase is made **on the request that starts the job** (``export_job_start``), after
  the permission, the purpose and the recipient were checked, and shown once on that page —
  as for an export made on the request.
- The job is handed it **sealed**: AES-256-GCM under the kernel's ``exports`` field key
  (``core.crypto``, a key file apart from the database), with the job's id as authenticated
  context, in the job's parameters. A copy of the database alone opens nothing, and a sealed
  value copied to another job does not open. (Deriving the key from a secret kept only in the
  job would be the same thing with more code; not storing it at all is impossible, since the
  worker needs it after the request has gone.)
- The seal is **wiped from the Job row** in the transaction that delivers the file (ledger
  entry, job done), and when the job fails or is cancelled; it stays only while the job may
  still run (queued, running, or queued again after its worker stopped). It is never logged
  and never put on the ledger.

The purpose and the recipient are asked on the request and kept in the job's parameters; the
export's ledger entry records them when the file is written, with the job's id.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from django.db import transaction

from mawa.core import exports, jobs
from mawa.core.jobs_models import Job, JobState

SEALED = "passphrase_sealed"  # the job parameter that holds the sealed passphrase


def _context(job_id) -> str:
    return f"mawa.export_job:{job_id}"


def export_job_start(*, user, job_kind: str, export_kind: str, purpose: str, recipient: str,
                     params: dict | None = None, site=None, subject: str = "",
                     total: int = 0) -> tuple[Job, str]:
    """Check that ``user`` may make this export (permission, purpose, recipient: refused and
    audited like an export on the request), queue the job and return it with the passphrase
    to show now, once. The job, its queue entry and the sealed passphrase are written in one
    transaction: no worker sees the job before its passphrase."""
    exports.export_check(user=user, kind=export_kind, purpose=purpose, recipient=recipient,
                         site=site)
    passphrase = exports.passphrase_new()
    with transaction.atomic():
        job = jobs.job_start(user=user, kind=job_kind, site=site, subject=subject, total=total,
                             params={**(params or {}), "purpose": purpose.strip()[:200],
                                     "recipient": recipient.strip()[:120]})
        job.params = {**job.params,
                      SEALED: exports.passphrase_seal(passphrase, context=_context(job.pk))}
        Job.objects.filter(pk=job.pk).update(params=job.params)
    return job, passphrase


def export_job_deliver(job: Job, *, export_kind: str, write: Callable[[BinaryIO], object],
                       count: int = 0, count_of: Callable[[], int] | None = None, site=None,
                       detail: dict | None = None, stamp: str = "",
                       also: Callable[[exports.ExportReady], object] | None = None
                       ) -> exports.ExportReady:
    """Write the job's encrypted file (``write`` streams into it, outside any transaction; it
    may call the job's ``progress``, whose cancel removes the partial file) with the passphrase
    shown when the job started, then in one transaction: the export's ledger entry, ``also``
    (e.g. the ICRC list recorded as sent), the job marked done with its download link, and the
    seal wiped. If this attempt no longer holds the job, nothing of it stays. ``count``: how
    many rows the file holds (``count_of()``: known once ``write`` has run)."""
    sealed = job.params.get(SEALED, "")
    if not sealed:
        raise jobs.JobStopped()  # already delivered or abandoned: never a file without its key
    passphrase = exports.passphrase_unseal(sealed, context=_context(job.pk))

    def then(ready: exports.ExportReady) -> None:
        if also is not None:
            also(ready)
        jobs.job_deliver(job, ready=ready, count=count_of() if count_of is not None else count)
        _wipe(job)

    return exports.export_create(
        user=job.owner, kind=export_kind, purpose=job.params.get("purpose", ""),
        recipient=job.params.get("recipient", ""), write=write, site=site, stamp=stamp,
        detail={**(detail or {}), "job": str(job.pk)}, passphrase=passphrase, then=then)


def _wipe(job: Job, **where) -> None:
    params = {k: v for k, v in job.params.items() if k != SEALED}
    Job.objects.filter(pk=job.pk, **where).update(params=params)
    job.params = params


def export_job_runner(run: Callable[[Job, jobs.Progress], None]
                      ) -> Callable[[Job, jobs.Progress], None]:
    """Wrap the ``run`` of an export job kind: when the job fails or is cancelled, its seal is
    wiped (the job will not run again). Not when the worker stops or the job was taken over
    by another attempt: the job runs again and needs its passphrase."""

    def wrapped(job: Job, progress: jobs.Progress) -> None:
        try:
            run(job, progress)
        except jobs.WorkerStopping:
            raise
        except jobs.JobStopped:
            _wipe(job, attempts=job.attempts, cancel_requested=True)
            raise
        except Exception:
            _wipe(job, attempts=job.attempts, state=JobState.RUNNING)
            raise

    return wrapped
