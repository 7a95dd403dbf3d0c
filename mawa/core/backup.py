"""Backups: a consistent copy of the database, the file stores and the keys, encrypted, in one file.

Inside is a tar file (format 2) holding the database (SQLite online-backup copy, or ``pg_dump
-Fc`` for PostgreSQL), the key files ``keys/*.pem`` (site signing keys, field keys, the
compartment's key-encryption key; plus a ``*.next`` key of a rotation that has not finished its
swap), Django's secret key ``secret_key`` (the recovery codes are keyed with it), every file of
every **file store** as ``stores/<store>/<path>`` and, last,
``manifest.json`` (format, time, database vendor, the stores and the SHA-256 of every member).
Format 1 (no stores) is still restored.

The file stores are the directories whose files the database points at: ``media``
(``MEDIA_ROOT``: photos and document scans) is the kernel's own; apps add theirs with
``file_store_register`` in ``AppConfig.ready()`` (the compartment's evidence store, the stored
reports). A file lies in the store with the deepest directory holding it, so a store inside
``MEDIA_ROOT`` is not copied twice. Each file is read once, hashed while it is written into the
archive.

The database is checked before anything is written: ``PRAGMA integrity_check`` on the SQLite
copy, the exit status of ``pg_dump``; a damaged database is refused (``database_damaged``) and
no archive appears.

That tar never lies on disk in the clear: ``mawa backup`` writes

    b"MAWABAK2" | u32 header length | header JSON {format, cipher, key_id, chunk, prefix}
    | then, per 1 MiB chunk of the tar: u32 length | AES-256-GCM(chunk)

under the **backup key** ``KEY_DIR/backup.key``, which is not a ``.pem`` and so never travels
in a backup: it is kept off the machine in the key escrow with every other key. Chunk nonces
are the 7-byte random prefix, the chunk number and a last-chunk flag, and the header is
authenticated with every chunk, so a truncated, reordered or altered file fails to open
(protection.md R10, attack 16).

The **key escrow** (``mawa keys export-escrow FILE``, format ``mawa-key-escrow-2``) is itself
encrypted with a passphrase: a JSON header {format, created, kdf: scrypt N=2^17 r=8 p=1 with a
random salt, cipher: AES-256-GCM, nonce} and the sealed key files; the header is the
authenticated data. By default the passphrase is generated (six groups of five characters,
about 149 bits) and printed once; an operator's own passphrase (``--passphrase-file``) must be
at least 16 characters. Make one escrow per holder, each with its own passphrase, and keep the
passphrase apart from the file (e.g. in a sealed envelope held by someone else).

``backup_restore`` therefore needs the escrow file and its passphrase (``mawa restore FILE
--escrow ESCROW``): a stolen backup alone, or a backup with a stolen escrow file but not its
passphrase, reads nothing, and a clean machine is restored only with the escrowed keys (attack
23). Everything is opened and every hash checked before anything is touched, so a wrong
passphrase, a corrupt or altered archive is refused and the current data stays as it was. The
stores of the restored backup replace this machine's: a non-empty store directory is first
moved aside as ``<dir>.before-restore-<time>``, like the SQLite database.
The key files in the backup belong to its database and win over same-named ones from the
escrow (an escrow older than a key rotation still restores a newer backup); the escrow brings
what backups never hold: the backup key and the database key. Archives that are not encrypted
(format 1 alone, never released) are not restored.
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
from collections.abc import Callable
from pathlib import Path

from django.conf import settings
from django.db import connection, connections
from django.utils.translation import gettext as _

from mawa.core.errors import MawaError
from mawa.core.health import database_errors, sqlite_check_rows

FORMAT = 2  # the tar inside (1: database and keys only, still restored)
FORMATS_READ = (1, 2)
ENCRYPTED_MAGIC = b"MAWABAK2"
BACKUP_KEY_FILE = "backup.key"
ESCROW_FORMAT = "mawa-key-escrow-2"
CHUNK = 1 << 20
SECRET_KEY_FILE = "secret_key"  # in VAR_DIR (mawa.settings)
# scrypt for the escrow passphrase: 128 MiB and about half a second per derivation (OWASP's
# N=2^17, r=8, p=1); a file asking for more than READ_LIMITS is refused, not attempted.
ESCROW_SCRYPT = {"n": 1 << 17, "r": 8, "p": 1}
ESCROW_SCRYPT_LIMITS = {"n": (1 << 14, 1 << 20), "r": (1, 8), "p": (1, 4)}  # ≤ 1 GiB
PASSPHRASE_MIN = 16
# No 0/O, 1/I/L: a generated passphrase is read aloud or copied from paper.
_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


class BackupInvalid(MawaError):
    code = "backup_invalid"


class EscrowInvalid(BackupInvalid):
    code = "escrow_invalid"


# --- file stores -------------------------------------------------------------------------

_FILE_STORES: dict[str, Callable[[], Path]] = {
    "media": lambda: Path(settings.MEDIA_ROOT),
}
_STORE_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,40}$")


def file_store_register(name: str, path: Callable[[], Path]) -> None:
    """Let an app name a directory of files that belong with the database (``path`` is
    called when a backup is made or restored, so settings overridden later count)."""
    if not _STORE_NAME.match(name):
        raise ValueError(f"file store name {name!r}: lowercase letters, digits, - and _")
    _FILE_STORES[name] = path


def file_stores() -> dict[str, Path]:
    """Every registered file store: name → directory (absolute)."""
    return {name: Path(path()).resolve() for name, path in sorted(_FILE_STORES.items())}


def _is_temporary(path: Path) -> bool:
    """A half-written file (``.partial``, ``.tmp``): never part of a store's content."""
    return path.name.endswith((".partial", ".tmp"))


def _store_files(stores: dict[str, Path]) -> list[tuple[str, Path, str]]:
    """(store, file, path inside the store) for every file of every store; a file belongs to
    the store with the deepest directory that holds it."""
    found: dict[Path, tuple[str, Path, str]] = {}
    by_depth = sorted(stores.items(), key=lambda item: len(item[1].parts))
    for name, root in by_depth:  # deeper stores come later and win
        if not root.is_dir():
            continue
        for path in root.rglob("*"):
            if path.is_file() and not path.is_symlink() and not _is_temporary(path):
                found[path] = (name, path, path.relative_to(root).as_posix())
    return sorted(found.values(), key=lambda item: (item[0], item[2]))


def _store_roots(stores: dict[str, Path]) -> list[Path]:
    """The store directories that lie inside no other store."""
    paths = set(stores.values())
    return sorted(p for p in paths if not any(o != p and o in p.parents for o in paths))


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


def _key_files(key_dir: Path, patterns: tuple[str, ...]) -> list[Path]:
    if not key_dir.exists():
        return []
    return sorted({p for pattern in patterns for p in key_dir.glob(pattern) if p.is_file()})


def _escrowed_files() -> list[Path]:
    return _key_files(Path(settings.KEY_DIR), ("*.pem", "*.key", "*.next"))


def passphrase_new() -> str:
    """A passphrase for an escrow: 6 groups of 5 characters of a 31-letter alphabet."""
    return "-".join("".join(secrets.choice(_ALPHABET) for _ in range(5)) for _ in range(6))


def passphrase_normal(passphrase: str) -> str:
    """A passphrase as it is used: NFC, without surrounding spaces."""
    import unicodedata

    return unicodedata.normalize("NFC", passphrase.strip())


def _passphrase_bytes(passphrase: str) -> bytes:
    return passphrase_normal(passphrase).encode("utf-8")


def _escrow_key(passphrase: str, kdf: dict) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=_b64d(kdf["salt"]), length=32, n=kdf["n"], r=kdf["r"],
                  p=kdf["p"]).derive(_passphrase_bytes(passphrase))


def _b64d(text: str) -> bytes:
    import base64

    return base64.b64decode(text, validate=True)


def _b64e(data: bytes) -> str:
    import base64

    return base64.b64encode(data).decode("ascii")


def _escrow_aad(header: dict) -> bytes:
    return json.dumps(header, sort_keys=True, separators=(",", ":")).encode("utf-8")


def escrow_seal(keys: dict[str, bytes], *, passphrase: str) -> bytes:
    """The content of an escrow file holding ``keys`` (file name → bytes)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(passphrase_normal(passphrase)) < PASSPHRASE_MIN:
        raise EscrowInvalid(_("The escrow passphrase must have at least %(count)d characters.")
                            % {"count": PASSPHRASE_MIN})
    header = {"format": ESCROW_FORMAT, "created": dt.datetime.now(dt.UTC).isoformat(),
              "kdf": {"name": "scrypt", **ESCROW_SCRYPT, "salt": _b64e(secrets.token_bytes(16))},
              "cipher": "AES-256-GCM", "nonce": _b64e(secrets.token_bytes(12))}
    inner = json.dumps({"keys": {name: _b64e(data) for name, data in keys.items()}})
    sealed = AESGCM(_escrow_key(passphrase, header["kdf"])).encrypt(
        _b64d(header["nonce"]), inner.encode("utf-8"), _escrow_aad(header))
    return json.dumps({**header, "sealed": _b64e(sealed)}, indent=1).encode("utf-8")


def escrow_export(target: Path, *, passphrase: str) -> list[str]:
    """Write every key of this installation (signing, field, compartment, database and backup
    keys) into one file encrypted with ``passphrase``, to keep off the machine apart from the
    backups. Return the names of the key files."""
    backup_key(create=True)
    target = Path(target)
    if target.exists():
        raise BackupInvalid(_("%(file)s exists already; choose a new file name.")
                            % {"file": target})
    keys = {p.name: p.read_bytes() for p in _escrowed_files()}
    _write_private(target, escrow_seal(keys, passphrase=passphrase))
    return sorted(keys)


def _escrow_header(source: Path) -> tuple[dict, bytes]:
    not_escrow = EscrowInvalid(_("This file is not a Mawa key escrow."))
    try:
        data = json.loads(Path(source).read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != ESCROW_FORMAT:
            raise ValueError
        sealed = _b64d(data.pop("sealed"))
        kdf = data["kdf"]
        if kdf.get("name") != "scrypt" or data.get("cipher") != "AES-256-GCM":
            raise ValueError
        for name, (low, high) in ESCROW_SCRYPT_LIMITS.items():
            if not isinstance(kdf[name], int) or not low <= kdf[name] <= high:
                raise ValueError
        if kdf["n"] & (kdf["n"] - 1) or len(_b64d(data["nonce"])) != 12 \
                or len(_b64d(kdf["salt"])) < 16:
            raise ValueError
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        raise not_escrow
    return data, sealed


def escrow_read(source: Path, *, passphrase: str) -> dict[str, bytes]:
    """The key files held in an escrow file, by name. A wrong passphrase or an altered file
    raise ``EscrowInvalid``; nothing is returned in part."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    header, sealed = _escrow_header(source)
    try:
        inner = AESGCM(_escrow_key(passphrase, header["kdf"])).decrypt(
            _b64d(header["nonce"]), sealed, _escrow_aad(header))
    except InvalidTag:
        raise EscrowInvalid(_("The key escrow cannot be opened: the passphrase is wrong or "
                              "the file was altered."))
    try:
        keys = {str(name): _b64d(value)
                for name, value in json.loads(inner)["keys"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        raise EscrowInvalid(_("This file is not a Mawa key escrow."))
    if any("/" in name or "\\" in name or name.startswith(".") for name in keys) \
            or BACKUP_KEY_FILE not in keys:
        raise EscrowInvalid(_("This file is not a Mawa key escrow."))
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


def _needs_escrow() -> str:
    return _("This backup is encrypted: restore it with its key escrow, mawa restore FILE "
             "--escrow ESCROW (the escrow's passphrase is asked for, or --passphrase-file).")


def is_encrypted(path: Path) -> bool:
    try:
        with open(path, "rb") as fh:
            return fh.read(len(ENCRYPTED_MAGIC)) == ENCRYPTED_MAGIC
    except OSError:
        return False


def backup_open(source: Path, into: Path, *, escrow: dict[str, bytes] | None) -> Path:
    """The plain tar of an encrypted backup, written under ``into`` and decrypted with the
    escrowed backup key. A file that is not an encrypted Mawa backup, or no escrow, is
    refused."""
    if not is_encrypted(source):
        raise BackupInvalid(_("This file is not a Mawa backup (%(error)s).")
                            % {"error": _("no encrypted backup header")})
    if not escrow:
        raise BackupInvalid(_needs_escrow())
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


def read_passphrase_file(name: str) -> str:
    """The passphrase on the first line of a file (``-``: standard input)."""
    import sys

    try:
        if name == "-":
            line = sys.stdin.readline()
        else:
            with open(name, encoding="utf-8") as fh:
                line = fh.readline()
    except (OSError, UnicodeDecodeError):
        raise EscrowInvalid(_("The passphrase file cannot be read."))
    if not line.strip():
        raise EscrowInvalid(_("The passphrase file is empty."))
    return line.rstrip("\r\n")


def _damaged(detail: str) -> BackupInvalid:
    return BackupInvalid(_("The database is damaged (%(detail)s): no backup was written. Keep "
                           "the last good backups; restore one as the README says (Operating).")
                         % {"detail": detail}, code="database_damaged")


def _live_sqlite_path() -> Path:
    return Path(connection.settings_dict["NAME"])


def _regexp(conn) -> None:
    # CHECK constraints use REGEXP, which Django registers on its own connections.
    conn.create_function("REGEXP", 2, lambda pattern, value: value is not None and
                         re.search(pattern, str(value)) is not None)


def _sqlite_copy(target: Path) -> None:
    """An online-backup copy of the live SQLite database, refused unless its
    ``integrity_check`` holds."""
    key = _db_key()
    try:
        src = _sqlite_connect(_live_sqlite_path(), key)
        dst = _sqlite_connect(target, key)
        try:
            with dst:
                src.backup(dst)  # online backup API: consistent even while others write
            _regexp(dst)
            problem = sqlite_check_rows(dst.execute("PRAGMA integrity_check").fetchall())
        finally:
            dst.close()
            src.close()
    except database_errors() as exc:
        raise _damaged(" ".join(str(exc).split())[:200])
    if problem is not None:
        raise _damaged(problem.detail)


def _pg_dump(target: Path) -> None:
    try:
        done = subprocess.run(["pg_dump", "-Fc", "-f", str(target)], env=_pg_env(),
                              capture_output=True, text=True)
    except OSError as exc:
        raise BackupInvalid(_("pg_dump cannot be run (%(error)s): no backup was written.")
                            % {"error": exc}, code="database_damaged")
    if done.returncode != 0:
        last = (done.stderr or "").strip().splitlines()[-1:] or [f"exit {done.returncode}"]
        raise _damaged(last[0][:200])


class _HashingReader:
    """A file read once: what the tar takes is hashed on the way."""

    def __init__(self, fh):
        self.fh, self.hash = fh, hashlib.sha256()

    def read(self, size=-1):
        data = self.fh.read(size)
        self.hash.update(data)
        return data


def _tar_add(tar: tarfile.TarFile, name: str, path: Path) -> str:
    """Add ``path`` as ``name`` (its mode, not its owner) and return its SHA-256."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        info = tarfile.TarInfo(name)
        info.size, info.mtime, info.mode = st.st_size, int(st.st_mtime), st.st_mode & 0o777
        reader = _HashingReader(fh)
        tar.addfile(info, reader)  # type: ignore[arg-type]
    return reader.hash.hexdigest()


def backup_create(target: Path) -> dict:
    """Write a backup archive to ``target``; return its manifest. A damaged database is
    refused (``BackupInvalid``, code ``database_damaged``) and nothing is written."""
    target = Path(target)
    key_dir = Path(settings.KEY_DIR)
    with tempfile.TemporaryDirectory(prefix="mawa-backup-") as tmp:
        tmp_path = Path(tmp)
        members: dict[str, Path] = {}
        if connection.vendor == "sqlite":
            db_copy = tmp_path / "database.sqlite3"
            _sqlite_copy(db_copy)
            members["database.sqlite3"] = db_copy
        else:
            dump = tmp_path / "database.pgdump"
            _pg_dump(dump)
            members["database.pgdump"] = dump
        # the keys of this database; ``*.next``: a key rotation stopped before its swap
        for key_file in _key_files(key_dir, ("*.pem", "*.next")):
            members[f"keys/{key_file.name}"] = key_file
        # Django's secret key (``VAR_DIR/secret_key``, unless MAWA_SECRET_KEY is set): the
        # recovery codes and the sign-in throttle are keyed with it
        secret = Path(settings.VAR_DIR) / SECRET_KEY_FILE
        if secret.is_file():
            members[SECRET_KEY_FILE] = secret
        stores = file_stores()
        for store, path, inner in _store_files(stores):
            members[f"stores/{store}/{inner}"] = path
        key = backup_key(create=True)
        plain = tmp_path / "backup.tar"
        hashes: dict[str, str] = {}
        with tarfile.open(plain, "w", format=tarfile.PAX_FORMAT) as tar:
            for name, path in members.items():
                try:
                    hashes[name] = _tar_add(tar, name, path)
                except FileNotFoundError:
                    continue  # a store file removed meanwhile (e.g. a purged photo)
            manifest = {
                "format": FORMAT,
                "created": dt.datetime.now(dt.UTC).isoformat(),
                "database": connection.vendor,
                "stores": {name: sum(1 for n in hashes if n.startswith(f"stores/{name}/"))
                           for name in stores},
                "files": hashes,
            }
            data = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        partial = target.with_name(target.name + ".partial")
        _encrypt_file(plain, partial, key)
        os.chmod(partial, 0o600)
        partial.replace(target)  # never leave a half-written archive under the final name
    return manifest


def _safe_member(name: str) -> bool:
    parts = name.split("/")
    return not name.startswith("/") and "\\" not in name \
        and all(part not in ("", ".", "..") for part in parts)


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
        if manifest.get("format") not in FORMATS_READ:
            raise BackupInvalid(_("Unknown backup format."))
        expected = manifest.get("files", {})
        modes: dict[str, int] = {}
        for member in tar.getmembers():
            if member.name == "manifest.json":
                continue
            if member.name not in expected or not member.isfile() \
                    or not _safe_member(member.name):
                raise BackupInvalid(_("The backup holds an unexpected file: %(name)s")
                                    % {"name": member.name})
            dest = into / member.name
            dest.parent.mkdir(parents=True, exist_ok=True)
            with tar.extractfile(member) as src, open(dest, "wb") as out:  # type: ignore[union-attr]
                shutil.copyfileobj(src, out)
            modes[member.name] = member.mode & 0o777
    for name, digest in expected.items():
        path = into / name
        if not path.exists():
            raise BackupInvalid(_("The backup is incomplete: %(name)s is missing.")
                                % {"name": name})
        if _sha256(path) != digest:
            raise BackupInvalid(_("The backup is corrupt: %(name)s does not match its hash.")
                                % {"name": name})
    manifest["modes"] = modes
    return manifest


def _stores_check(manifest: dict) -> dict[str, Path]:
    """This machine's directory for every store in the backup; a store this Mawa does not
    know is refused before anything changes."""
    stores = file_stores()
    unknown = sorted({name.split("/")[1] for name in manifest["files"]
                      if name.startswith("stores/")} - set(stores))
    if unknown:
        raise BackupInvalid(_("The backup holds files of a store this Mawa does not know: "
                              "%(name)s") % {"name": ", ".join(unknown)})
    return stores


def _stores_install(manifest: dict, opened: Path, stores: dict[str, Path], stamp: str) -> None:
    """Replace every store with the backup's files; a non-empty store directory is moved
    aside first (``<dir>.before-restore-<time>``), never deleted."""
    for root in _store_roots(stores):
        if root.is_dir() and any(root.iterdir()):
            root.replace(root.with_name(f"{root.name}.before-restore-{stamp}"))
    for name in manifest["files"]:
        if not name.startswith("stores/"):
            continue
        _, store, inner = name.split("/", 2)
        dest = stores[store] / inner
        dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        partial = dest.with_name(dest.name + ".restoring")
        shutil.copyfile(opened / name, partial)
        os.chmod(partial, manifest["modes"].get(name, 0o600))
        partial.replace(dest)


def _secret_key_install(source: Path, stamp: str) -> None:
    """The backup's Django secret key into ``VAR_DIR`` (0600); the one there is kept aside."""
    live = Path(settings.VAR_DIR) / SECRET_KEY_FILE
    live.parent.mkdir(parents=True, exist_ok=True)
    if live.exists():
        live.replace(live.with_name(f"{live.name}.before-restore-{stamp}"))
    partial = live.with_name(live.name + ".partial")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(source.read_bytes())
    partial.replace(live)


def backup_restore(source: Path, *, escrow: Path | None = None,
                   passphrase: str | None = None) -> dict:
    """Restore the database and keys from an encrypted archive, after checking every hash.

    ``escrow`` is the key escrow file (``escrow_export``) and ``passphrase`` its passphrase:
    the backup opens only with the escrowed backup key, and the escrowed keys the backup does
    not hold (backup key, database key) are installed with the restored database. Stop the
    service first. The previous SQLite database is kept beside the new one as
    ``mawa.sqlite3.before-restore-<time>``.
    """
    if not is_encrypted(Path(source)):
        raise BackupInvalid(_("This file is not a Mawa backup (%(error)s).")
                            % {"error": _("no encrypted backup header")})
    if not escrow:
        raise BackupInvalid(_needs_escrow())
    if passphrase is None:
        raise EscrowInvalid(_("Give the passphrase of the key escrow (it is asked for on a "
                              "terminal, or use --passphrase-file FILE)."))
    escrowed = escrow_read(escrow, passphrase=passphrase)
    with tempfile.TemporaryDirectory(prefix="mawa-restore-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "open").mkdir()
        plain = backup_open(Path(source), tmp_path / "open", escrow=escrowed)
        manifest = _read_archive(plain, tmp_path)
        if manifest["database"] != connection.vendor:
            raise BackupInvalid(_("This backup is of a %(theirs)s database; this Mawa uses "
                                  "%(ours)s.") % {"theirs": manifest["database"],
                                                  "ours": connection.vendor})
        stores = _stores_check(manifest)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        if connection.vendor == "sqlite":
            db_new = tmp_path / "database.sqlite3"
            key = _db_key()
            if "database.key" in escrowed:
                key = escrowed["database.key"].decode("ascii").strip()
            try:
                check = _sqlite_connect(db_new, key)
                try:
                    _regexp(check)
                    whole = sqlite_check_rows(
                        check.execute("PRAGMA integrity_check").fetchall()) is None
                finally:
                    check.close()
            except database_errors():
                whole = False  # e.g. an encrypted database and no key for it
            if not whole:
                raise BackupInvalid(_("The database in the backup is damaged, or the escrow "
                                      "holds no key that opens it."))
            live = _live_sqlite_path()
            connections.close_all()
            if live.exists():
                live.replace(live.with_name(f"{live.name}.before-restore-{stamp}"))
            for suffix in ("-wal", "-shm"):
                Path(str(live) + suffix).unlink(missing_ok=True)
            live.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(db_new, live)
        else:
            connections.close_all()
            done = subprocess.run(["pg_restore", "--clean", "--if-exists", "--no-owner", "-d",
                                   _pg_env()["PGDATABASE"], str(tmp_path / "database.pgdump")],
                                  env=_pg_env(), capture_output=True, text=True)
            if done.returncode != 0:
                last = (done.stderr or "").strip().splitlines()[-1:] or [""]
                raise BackupInvalid(_("pg_restore failed (%(error)s).")
                                    % {"error": last[0][:200]})
        if manifest["format"] >= 2:  # format 1 held no stores: leave this machine's alone
            _stores_install(manifest, tmp_path, stores, stamp)
        if SECRET_KEY_FILE in manifest["files"]:
            _secret_key_install(tmp_path / SECRET_KEY_FILE, stamp)
        # the escrow first, then the backup's own keys over it: those are the keys of the
        # database just restored (an escrow made before a key rotation still restores a
        # backup made after it)
        escrow_install(escrowed)
        key_dir = Path(settings.KEY_DIR)
        for name in manifest["files"]:
            if name.startswith("keys/"):
                _write_private(key_dir / Path(name).name, (tmp_path / name).read_bytes())
    return manifest
