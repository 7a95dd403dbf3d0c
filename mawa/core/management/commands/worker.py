"""``mawa worker [--batch] [--interval SECONDS]`` — run one background-job worker
(``core.jobs.jobs_work``: django-tasks-db's worker, plus taking back the jobs of dead workers).

Ctrl-C or TERM: the running job stops at its next step and is queued again, and the worker
stops; a second one stops at once (the job is then queued again when its lease runs out)."""

from __future__ import annotations

import logging

from mawa.core import jobs
from mawa.core.management.base import MawaCommand


class Command(MawaCommand):
    help = ("Run a background-job worker: ID cards and other long work asked for on the pages. "
            "make run starts one beside the web server.")

    def add_arguments(self, parser):
        parser.add_argument("--batch", action="store_true",
                            help="run the jobs waiting now, then stop")
        parser.add_argument("--interval", type=float, default=1.0,
                            help="seconds between two looks at the queue when it is empty")

    def handle(self, *args, **o):
        logging.getLogger("mawa.jobs").setLevel(logging.INFO)
        worker_id = jobs.worker_id_new()
        self.stdout.write(f"mawa worker {worker_id}: waiting for jobs")
        self.stdout.flush()
        jobs.jobs_work(batch=o["batch"], interval=max(o["interval"], 0.1),
                       worker_id=worker_id, signals=True)
