"""Backups: a consistent copy of the database and the signing keys in one archive.

The archive is a tar file holding ``manifest.json`` (format, time, database vendor and the
SHA-256 of every member), the database (SQLite online-backup copy, or ``pg_dump -Fc`` for
PostgreSQL) and the key files. ``backup_restore`` checks every hash before it touches anything,
so a corrupt or altered archive is refused and the current data stays as it was.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from mawa.core.errors import MawaError

FORMAT = 1


class BackupInvalid(MawaError):
    code = "backup_invalid"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _pg_env() -> dict:
    db = settings.DATABASES["default"]
    env = dict(os.environ)
    env.update({"PGHOST": str(db.get("HOST") or ""), "PGPORT": str(db.get("PORT") or ""),
                "PGUSER": str(db.get("USER") or ""), "PGPASSWORD": str(db.get("PASSWORD") or ""),
                "PGDATABASE": str(db["NAME"])})
    return env


def backup_create(target: Path) -> dict:
    """Write a backup archive to ``target``; return its manifest."""
    target = Path(target)
    key_dir = Path(settings.KEY_DIR)
    with tempfile.TemporaryDirectory(prefix="mawa-backup-") as tmp:
        tmp_path = Path(tmp)
        members: dict[str, Path] = {}
        if connection.vendor == "sqlite":
            db_copy = tmp_path / "database.sqlite3"
            src = sqlite3.connect(str(settings.DATABASES["default"]["NAME"]))
            dst = sqlite3.connect(str(db_copy))
            with dst:
                src.backup(dst)  # online backup API: consistent even while others write
            dst.close()
            src.close()
            members["database.sqlite3"] = db_copy
        else:
            dump = tmp_path / "database.pgdump"
            subprocess.run(["pg_dump", "-Fc", "-f", str(dump)], env=_pg_env(), check=True)
            members["database.pgdump"] = dump
        if key_dir.exists():
            for key_file in sorted(key_dir.glob("*.pem")):
                members[f"keys/{key_file.name}"] = key_file
        manifest = {
            "format": FORMAT,
            "created": dt.datetime.now(dt.UTC).isoformat(),
            "database": connection.vendor,
            "files": {name: _sha256(path) for name, path in members.items()},
        }
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w") as tar:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for name, path in members.items():
                tar.add(str(path), arcname=name)
        os.chmod(partial, 0o600)
        partial.replace(target)  # never leave a half-written archive under the final name
    return manifest


def _read_archive(source: Path, into: Path) -> dict:
    try:
        tar = tarfile.open(source, "r")  # noqa: SIM115 (closed by the with below)
    except (tarfile.TarError, OSError) as exc:
        raise BackupInvalid(_("This file is not a Mawa backup (%(error)s).") % {"error": exc})
    with tar:
        try:
            manifest = json.load(tar.extractfile("manifest.json"))  # type: ignore[arg-type]
        except (KeyError, ValueError, TypeError, tarfile.TarError):
            raise BackupInvalid(_("The backup has no readable manifest."))
        if manifest.get("format") != FORMAT:
            raise BackupInvalid(_("Unknown backup format."))
        expected = manifest.get("files", {})
        for member in tar.getmembers():
            if member.name == "manifest.json":
                continue
            if member.name not in expected or not member.isfile():
                raise BackupInvalid(_("The backup holds an unexpected file: %(name)s")
                                    % {"name": member.name})
            dest = into / member.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(dest, "wb") as out:  # type: ignore[union-attr]
                shutil.copyfileobj(src, out)
    for name, digest in expected.items():
        path = into / name
        if not path.exists():
            raise BackupInvalid(_("The backup is incomplete: %(name)s is missing.")
                                % {"name": name})
        if _sha256(path) != digest:
            raise BackupInvalid(_("The backup is corrupt: %(name)s does not match its hash.")
                                % {"name": name})
    return manifest


def backup_restore(source: Path) -> dict:
    """Restore the database and keys from an archive, after checking every hash.

    Stop the service first. The previous SQLite database is kept beside the new one as
    ``mawa.sqlite3.before-restore-<time>``.
    """
    with tempfile.TemporaryDirectory(prefix="mawa-restore-") as tmp:
        tmp_path = Path(tmp)
        manifest = _read_archive(Path(source), tmp_path)
        if manifest["database"] != connection.vendor:
            raise BackupInvalid(_("This backup is of a %(theirs)s database; this Mawa uses "
                                  "%(ours)s.") % {"theirs": manifest["database"],
                                                  "ours": connection.vendor})
        if connection.vendor == "sqlite":
            db_new = tmp_path / "database.sqlite3"
            check = sqlite3.connect(str(db_new))
            # CHECK constraints use REGEXP, which Django registers on its own connections.
            check.create_function("REGEXP", 2, lambda pattern, value: value is not None and
                                  re.search(pattern, str(value)) is not None)
            ok = check.execute("PRAGMA integrity_check").fetchone()[0]
            check.close()
            if ok != "ok":
                raise BackupInvalid(_("The database in the backup is damaged."))
            connections.close_all()
            live = Path(settings.DATABASES["default"]["NAME"])
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
            if live.exists():
                live.replace(live.with_name(f"{live.name}.before-restore-{stamp}"))
            for suffix in ("-wal", "-shm"):
                Path(str(live) + suffix).unlink(missing_ok=True)
            live.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(db_new, live)
        else:
            connections.close_all()
            subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d",
                            _pg_env()["PGDATABASE"], str(tmp_path / "database.pgdump")],
                           env=_pg_env(), check=True)
        key_dir = Path(settings.KEY_DIR)
        key_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(key_dir, 0o700)
        for name in manifest["files"]:
            if name.startswith("keys/"):
                dest = key_dir / Path(name).name
                shutil.copyfile(tmp_path / name, dest)
                os.chmod(dest, 0o600)
    return manifest
