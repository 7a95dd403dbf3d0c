"""The ``Job`` record: Mawa's side of a background job (see ``core.jobs``)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.core.ids import uuid7


class JobState(models.TextChoices):
    QUEUED = "queued", _("Waiting for a worker")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")


class Job(models.Model):
    """One long piece of work asked for by a user, run by ``mawa worker``.

    django-tasks-db's ``DBTaskResult`` (``task_id``) is the queue entry the worker picks up;
    this row is what Mawa needs beside it: whose job it is and where, its progress, the cancel
    flag, a lease (``heartbeat_at``) that tells a dead worker's job, the attempt number that
    lets only one attempt finish it, the error in words and the download of the result."""

    FINISHED = (JobState.DONE, JobState.FAILED, JobState.CANCELLED)

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=40)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    site = models.ForeignKey("core.Site", on_delete=models.PROTECT, null=True, blank=True,
                             related_name="+")
    # what the job works on (ids and codes, never personal values): read by the kind's runner
    params = models.JSONField(default=dict, blank=True)
    subject = models.CharField(max_length=120, blank=True)  # e.g. the group's short code
    language = models.CharField(max_length=10, default="ar")  # of the request that asked
    state = models.CharField(max_length=10, choices=JobState.choices, default=JobState.QUEUED)
    done = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    attempts = models.PositiveSmallIntegerField(default=0)
    task_id = models.CharField(max_length=64, blank=True)
    worker_id = models.CharField(max_length=80, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    # the reason of a failure as its English source text (translated when shown)
    error = models.CharField(max_length=300, blank=True)
    # the result: a ``core.exports`` download link (signed, bound to the owner, 15 minutes,
    # once) and what it holds
    result_token = models.TextField(blank=True)
    result_name = models.CharField(max_length=200, blank=True)
    result_size = models.PositiveBigIntegerField(default=0)
    result_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["owner", "-created_at"], name="job_owner_recent"),
                   models.Index(fields=["state", "heartbeat_at"], name="job_state_lease")]

    def __str__(self) -> str:
        return f"{self.kind} {self.subject} ({self.state})"

    @property
    def finished(self) -> bool:
        return self.state in self.FINISHED

    @property
    def percent(self) -> int:
        if self.state == JobState.DONE:
            return 100
        return int(100 * self.done / self.total) if self.total else 0
