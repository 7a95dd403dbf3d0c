"""Backups: a consistent copy of the database and the keys, encrypted, in one file.

Inside is a tar file (format 1) holding ``manifest.json`` (format, time, database vendor and
the SHA-256 of every member), the database (SQLite online-backup copy, or ``pg_dump -Fc`` for
PostgreSQL) and the key files ``keys/*.pem`` (site signing keys, field keys, the compartment's
key-encryption key).

Since format 2 that tar never lies on disk in the clear: ``mawa backup`` writes

    b"MAWABAK2" | u32 header length | header JSON {format, cipher, key_id, chunk, prefix}
    | then, per 1 MiB chunk of the tar: u32 length | AES-256-GCM(chunk)

under the **backup key** ``KEY_DIR/backup.key``, which is not a ``.pem`` and so never travels
in a backup: it is kept off the machine in the key escrow (``mawa keys export-escrow FILE``)
with every other key. Chunk nonces are the 7-byte random prefix, the chunk number and a
last-chunk flag, and the header is authenticated with every chunk, so a truncated, reordered
or altered file fails to open (protection.md R10, attack 16).

``backup_restore`` therefore needs the escrow file (``mawa restore FILE --escrow ESCROW``): a
stolen backup alone reads nothing, and a clean machine is restored only with the escrowed keys
(attack 23). It checks every hash before it touches anything, so a corrupt or altered archive
is refused and the current data stays as it was. Plain format-1 tar archives made before
encryption are still restored.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import re
import secrets
import shutil
import sqlite3
import struct
import subprocess
import tarfile
import tempfile
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from mawa.core.errors import MawaError

FORMAT = 1  # the tar inside
ENCRYPTED_MAGIC = b"MAWABAK2"
BACKUP_KEY_FILE = "backup.key"
ESCROW_FORMAT = "mawa-key-escrow-1"
CHUNK = 1 << 20


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


# --- keys: the backup key and the escrow ------------------------------------------------

def _armour(key: bytes) -> str:
    import base64

    return ("-----BEGIN MAWA BACKUP KEY-----\n" + base64.b64encode(key).decode()
            + "\n-----END MAWA BACKUP KEY-----\n")


def _unarmour(text: str) -> bytes:
    import base64

    body = "".join(ln for ln in text.splitlines() if ln and not ln.startswith("-----"))
    try:
        key = base64.b64decode(body, validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BackupInvalid(_("The backup key is damaged."))
    return key


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"mawa backup key " + key).hexdigest()[:16]


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    partial = path.with_name(path.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    partial.replace(path)


def backup_key(*, create: bool = True) -> bytes:
    """The backup key (``KEY_DIR/backup.key``), created on first use."""
    path = Path(settings.KEY_DIR) / BACKUP_KEY_FILE
    if path.exists():
        return _unarmour(path.read_text(encoding="ascii"))
    if not create:
        raise BackupInvalid(_("There is no backup key on this machine."))
    key = secrets.token_bytes(32)
    _write_private(path, _armour(key).encode("ascii"))
    return key


def _escrowed_files() -> list[Path]:
    key_dir = Path(settings.KEY_DIR)
    if not key_dir.exists():
        return []
    return sorted([*key_dir.glob("*.pem"), *key_dir.glob("*.key")])


def escrow_export(target: Path) -> list[str]:
    """Write every key of this installation (signing, field, compartment, database and backup
    keys) into one file to keep off the machine, apart from the backups. Return the names."""
    import base64

    backup_key(create=True)
    target = Path(target)
    if target.exists():
        raise BackupInvalid(_("%(file)s exists already; choose a new file name.")
                            % {"file": target})
    files = {p.name: base64.b64encode(p.read_bytes()).decode("ascii")
             for p in _escrowed_files()}
    data = json.dumps({"format": ESCROW_FORMAT,
                       "created": dt.datetime.now(dt.UTC).isoformat(),
                       "keys": files}, indent=1).encode("utf-8")
    _write_private(target, data)
    return sorted(files)


def escrow_read(source: Path) -> dict[str, bytes]:
    """The key files held in an escrow file, by name."""
    import base64

    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
        if data.get("format") != ESCROW_FORMAT:
            raise ValueError(data.get("format"))
        keys = {str(name): base64.b64decode(value, validate=True)
                for name, value in data["keys"].items()}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise BackupInvalid(_("This file is not a Mawa key escrow."))
    if any("/" in name or name.startswith(".") for name in keys) or BACKUP_KEY_FILE not in keys:
        raise BackupInvalid(_("This file is not a Mawa key escrow."))
    return keys


def escrow_install(keys: dict[str, bytes]) -> None:
    """Put escrowed key files into KEY_DIR (0600 in a 0700 directory)."""
    key_dir = Path(settings.KEY_DIR)
    for name, content in keys.items():
        _write_private(key_dir / name, content)


# --- the encrypted envelope -----------------------------------------------------------------

def _nonce(prefix: bytes, index: int, last: bool) -> bytes:
    return prefix + struct.pack(">I", index) + (b"\x01" if last else b"\x00")


def _encrypt_file(plain: Path, target: Path, key: bytes) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    prefix = secrets.token_bytes(7)
    header = json.dumps({"format": 2, "cipher": "AES-256-GCM", "key_id": _key_id(key),
                         "chunk": CHUNK, "prefix": prefix.hex()}, sort_keys=True).encode()
    aead = AESGCM(key)
    size = plain.stat().st_size
    with open(plain, "rb") as src, open(target, "wb") as out:
        out.write(ENCRYPTED_MAGIC + struct.pack(">I", len(header)) + header)
        index, done = 0, 0
        while True:
            chunk = src.read(CHUNK)
            done += len(chunk)
            last = done >= size
            sealed = aead.encrypt(_nonce(prefix, index, last), chunk, header)
            out.write(struct.pack(">I", len(sealed)) + sealed)
            index += 1
            if last:
                break


def _decrypt_file(source: Path, target: Path, key: bytes) -> None:
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    damaged = BackupInvalid(_("The backup cannot be opened with the escrowed backup key: the "
                              "key is not the one it was made with, or the file was altered."))
    with open(source, "rb") as src, open(target, "wb") as out:
        src.read(len(ENCRYPTED_MAGIC))
        try:
            (length,) = struct.unpack(">I", src.read(4))
            header = src.read(length)
            meta = json.loads(header)
            prefix = bytes.fromhex(meta["prefix"])
        except (struct.error, ValueError, KeyError, TypeError):
            raise damaged
        if meta.get("key_id") != _key_id(key):
            raise damaged
        aead, index = AESGCM(key), 0
        while True:
            raw = src.read(4)
            if len(raw) != 4:
                raise damaged  # ended before the last chunk: truncated
            (length,) = struct.unpack(">I", raw)
            sealed = src.read(length)
            for last in (False, True):
                try:
                    out.write(aead.decrypt(_nonce(prefix, index, last), sealed, header))
                    break
                except InvalidTag:
                    continue
            else:
                raise damaged
            index += 1
            if last:
                if src.read(1):
                    raise damaged  # something appended after the last chunk
                return


def is_encrypted(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC
    except OSError:
        return False


def backup_open(source: Path, into: Path, *, escrow: dict[str, bytes] | None) -> Path:
    """The plain tar of a backup, written under ``into``: decrypted with the escrowed backup
    key (an encrypted backup without escrow is refused), or the file itself when it is an old
    plain archive."""
    if not is_encrypted(source):
        return Path(source)
    if not escrow:
        raise BackupInvalid(_("This backup is encrypted: give the key escrow file "
                              "(--escrow FILE) to restore it."))
    fd, name = tempfile.mkstemp(prefix="mawa-opened-", suffix=".tar", dir=into)
    os.close(fd)
    plain = Path(name)
    _decrypt_file(Path(source), plain, _unarmour(escrow[BACKUP_KEY_FILE].decode("ascii")))
    return plain


def _db_key() -> str | None:
    """The SQLCipher key of the live database, when it is encrypted (core.db.sqlcipher)."""
    path = settings.DATABASES["default"].get("OPTIONS", {}).get("key_file")
    if not path:
        return None
    from mawa.core.db.sqlcipher.base import read_key

    return read_key(path)


def _sqlite_connect(path, key: str | None):
    """A raw connection to an SQLite file; SQLCipher with ``key`` when the database is
    encrypted (the copy in a backup stays encrypted under the same key)."""
    if not key:
        return sqlite3.connect(str(path))
    from mawa.core.db.sqlcipher.base import Database, apply_key

    conn = Database.connect(str(path))
    apply_key(conn, key)
    return conn


def backup_create(target: Path) -> dict:
    """Write a backup archive to ``target``; return its manifest."""
    target = Path(target)
    key_dir = Path(settings.KEY_DIR)
    with tempfile.TemporaryDirectory(prefix="mawa-backup-") as tmp:
        tmp_path = Path(tmp)
        members: dict[str, Path] = {}
        if connection.vendor == "sqlite":
            db_copy = tmp_path / "database.sqlite3"
            src = _sqlite_connect(settings.DATABASES["default"]["NAME"], _db_key())
            dst = _sqlite_connect(db_copy, _db_key())
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
        key = backup_key(create=True)
        plain = tmp_path / "backup.tar"
        with tarfile.open(plain, "w") as tar:
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
            for name, path in members.items():
                tar.add(str(path), arcname=name)
        partial = target.with_name(target.name + ".partial")
        _encrypt_file(plain, partial, key)
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


def backup_restore(source: Path, *, escrow: Path | None = None) -> dict:
    """Restore the database and keys from an archive, after checking every hash.

    ``escrow`` is the key escrow file (``escrow_export``): an encrypted backup opens only with
    its backup key, and the escrowed keys are installed with the restored database. Stop the
    service first. The previous SQLite database is kept beside the new one as
    ``mawa.sqlite3.before-restore-<time>``.
    """
    escrowed = escrow_read(escrow) if escrow else None
    with tempfile.TemporaryDirectory(prefix="mawa-restore-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "open").mkdir()
        plain = backup_open(Path(source), tmp_path / "open", escrow=escrowed)
        manifest = _read_archive(plain, tmp_path)
        if manifest["database"] != connection.vendor:
            raise BackupInvalid(_("This backup is of a %(theirs)s database; this Mawa uses "
                                  "%(ours)s.") % {"theirs": manifest["database"],
                                                  "ours": connection.vendor})
        if connection.vendor == "sqlite":
            db_new = tmp_path / "database.sqlite3"
            key = _db_key()
            if escrowed and "database.key" in escrowed:
                key = escrowed["database.key"].decode("ascii").strip()
            check = _sqlite_connect(db_new, key)
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
        if escrowed:
            escrow_install(escrowed)
    return manifest
