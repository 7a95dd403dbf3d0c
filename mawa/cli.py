"""The ``mawa`` command: Django's management commands, plus ``mawa names …`` (pure library).

    mawa setup | demo --accounts | verify | backup FILE | restore FILE | checkpoint | …
    mawa worker [--batch]                     one background-job worker (core.jobs)
    mawa serve [GUNICORN OPTIONS…]            the web server and a worker together (make run)
    mawa cards --group CODE --output FILE.pdf [--kind card|wristband] [--user NAME]
    mawa names dedupe INPUT.csv --output OUT.csv
    mawa names screen INPUT.csv --watchlist LIST --output HITS.csv --top 5
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv if argv is None else argv)
    if len(argv) > 1 and argv[1] == "names":
        # The names engine needs no database and no Django: start it directly.
        from mawa.names.cli import main as names_main

        return names_main(argv[2:])
    if len(argv) > 1 and argv[1] == "serve":
        return serve(argv[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mawa.settings")
    from django.core.management import execute_from_command_line

    argv[0] = "mawa"
    execute_from_command_line(argv)
    return 0


def serve(gunicorn_args: list[str], *, grace: float = 30.0) -> int:
    """Run gunicorn and one job worker (``mawa worker``) side by side, as ``make run`` does.

    They live and die together: when either stops, the other is stopped; Ctrl-C or TERM stops
    both (each finishes what it is doing, up to ``grace`` seconds, then is killed). Returns
    the exit status of the one that stopped first (0 when stopped by a signal)."""
    python = sys.executable
    children = {
        "web": subprocess.Popen([python, "-m", "gunicorn", "mawa.wsgi:application",
                                 *gunicorn_args]),
        "worker": subprocess.Popen([python, "-m", "mawa.cli", "worker"]),
    }
    print(f"mawa serve: web pid {children['web'].pid}, worker pid {children['worker'].pid}",
          file=sys.stderr, flush=True)
    stop: list[int] = []

    def on_signal(signum, _frame):
        stop.append(signum)

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    status = 0
    try:
        while not stop:
            ended = [(name, p.returncode) for name, p in children.items()
                     if p.poll() is not None]
            if ended:
                name, status = ended[0]
                print(f"mawa serve: the {name} stopped (status {status}); stopping the rest",
                      file=sys.stderr, flush=True)
                break
            time.sleep(0.2)
    finally:
        for p in children.values():
            if p.poll() is None:
                p.terminate()
        deadline = time.monotonic() + grace
        for p in children.values():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        for s, handler in previous.items():
            signal.signal(s, handler)
    return status


if __name__ == "__main__":
    sys.exit(main())
