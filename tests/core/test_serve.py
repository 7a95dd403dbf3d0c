"""``mawa serve`` (what ``make run`` runs): the web server and a job worker live and die
together — TERM stops both, and when one of them stops the other is stopped too."""

import os
import re
import signal
import socket
import subprocess
import sys
import time

import pytest


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    """A fresh installation directory with its database migrated (the worker reads it)."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                              "DJANGO_SETTINGS_MODULE")}
    env["MAWA_VAR_DIR"] = str(tmp_path_factory.mktemp("serve") / "var")
    subprocess.run([sys.executable, "-m", "mawa.cli", "migrate", "-v", "0"], env=env,
                   check=True, timeout=600)
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purpose
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def _serve(env, *extra):
    proc = subprocess.Popen([sys.executable, "-m", "mawa.cli", "serve", "--bind",
                             f"127.0.0.1:{_free_port()}", "--workers", "1", *extra],
                            env=env, stderr=subprocess.PIPE, text=True)
    line = proc.stderr.readline()
    pids = re.findall(r"pid (\d+)", line)
    assert len(pids) == 2, line
    return proc, [int(p) for p in pids]


def _gone(pids, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.2)
    return not any(_alive(p) for p in pids)


def test_term_stops_the_web_server_and_the_worker(env):
    proc, pids = _serve(env)
    time.sleep(3)
    assert proc.poll() is None and all(_alive(p) for p in pids)  # both running
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0
    assert _gone(pids)


def test_when_the_web_server_stops_the_worker_is_stopped_too(env):
    proc, (web, worker) = _serve(env)
    time.sleep(3)
    assert _alive(worker)
    os.kill(web, signal.SIGKILL)
    assert proc.wait(timeout=60) != 0
    assert _gone([web, worker])
