"""Run a command against a throwaway PostgreSQL cluster.

    python tests/pgcluster.py -- pytest …

Creates a cluster with initdb in a temporary directory, starts it with pg_ctl on a free port
(loopback only, trust authentication, fsync off: it is thrown away), exports DATABASE_URL for the
command, then stops the cluster and deletes it whatever the command's outcome. As root, the
cluster runs as the ``postgres`` system user because PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile


def _bin(name: str) -> str:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not candidates:
        sys.exit(f"pgcluster: {name} not found (install Debian's postgresql)")
    return candidates[-1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(argv: list[str]) -> int:
    if "--" not in argv:
        sys.exit("usage: pgcluster.py -- COMMAND …")
    command = argv[argv.index("--") + 1:]
    as_root = os.geteuid() == 0
    prefix: list[str] = []
    tmp = tempfile.mkdtemp(prefix="mawa-pg-")
    if as_root:
        pg = pwd.getpwnam("postgres")
        os.chown(tmp, pg.pw_uid, pg.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    data = os.path.join(tmp, "data")
    port = _free_port()
    subprocess.run([*prefix, _bin("initdb"), "-D", data, "-U", "postgres", "--auth=trust",
                    "-E", "UTF8", "--locale=C.UTF-8"], check=True, stdout=subprocess.DEVNULL)
    options = f"-p {port} -k {tmp} -c listen_addresses=127.0.0.1 -c fsync=off " \
              "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    subprocess.run([*prefix, _bin("pg_ctl"), "-D", data, "-o", options, "-l",
                    os.path.join(tmp, "log"), "-w", "start"], check=True,
                   stdout=subprocess.DEVNULL)
    try:
        env = dict(os.environ, DATABASE_URL=f"postgres://postgres@127.0.0.1:{port}/mawa")
        print(f"pgcluster: PostgreSQL on 127.0.0.1:{port} ({tmp})", flush=True)
        return subprocess.call(command, env=env)
    finally:
        subprocess.run([*prefix, _bin("pg_ctl"), "-D", data, "-m", "fast", "-w", "stop"],
                       stdout=subprocess.DEVNULL)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
