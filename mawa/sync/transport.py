"""Bundles over HTTPS: ``mawa sync push URL`` and ``mawa sync pull URL``, chunked and resumable.

A bundle (``mawa.sync.bundle``) is already signed by its sender's node key and encrypted for
its receiver, and the receiver refuses it whole when anything of it does not hold; so the
transport only has to move bytes, survive a link that breaks every few minutes, and never
apply half a bundle.

Push (the client's changes to the server)::

    GET  /api/sync/hello                          the server's node code (the bundle's "to")
    POST /api/sync/uploads {size, sha256, chunk_size}  → {upload, received}
    GET  /api/sync/uploads/<id>                   → {received}: chunks held, in order
    PUT  /api/sync/uploads/<id>/chunks/<n>        the chunk's bytes, X-Mawa-Chunk-SHA256
    POST /api/sync/uploads/<id>/finish            the whole bundle's hash checked, imported

Pull (the server's changes to the client)::

    POST /api/sync/downloads {node}               → {download, size, sha256, chunks: [sha256…]}
    GET  /api/sync/downloads/<id>                 the same manifest again (to resume)
    GET  /api/sync/downloads/<id>/chunks/<n>      the chunk's bytes
    POST /api/sync/downloads/<id>/done            the server forgets the download

Every chunk has its SHA-256; a chunk that does not match is refused (upload) or fetched again
(download), and a broken connection resumes from the last good chunk. The server keeps the
chunks of an upload under ``var/sync/uploads/`` and imports the bundle only when every chunk is
there and the hash of the whole holds. The client keeps what it is sending or receiving under
``var/sync/outbox`` / ``var/sync/inbox`` with the upload or download id, so that a client killed
in the middle resumes the same transfer when run again.

Who may: each request carries an API token (``Authorization: Bearer``) of a user whose role
(and the token's scope) gives ``SYNC_RUN``. The token says *who at this operation may move
bundles* (expiring, revocable, every use on the audit ledger); the bundle's own signature says
*which node wrote it*, and its encryption under the pair key means a bundle fetched by anyone
else is unreadable. A request signed with the node key would only repeat the second and give up
the first (revoking a stolen laptop's access at HQ is revoking its token; its node key cannot be
taken back from a bundle already signed).

TLS: ``https://`` with the system's certificate authorities or ``--cacert FILE`` (a post's HQ
usually has a certificate of the operation's own authority). Plain ``http://`` only to a
loopback address (tests, or a tunnel that ends on this machine).
"""

from __future__ import annotations

import hashlib
import http.client
import ipaddress
import json
import os
import re
import shutil
import ssl
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.translation import gettext_lazy as _

from mawa.core.changes import node_code
from mawa.core.errors import MawaError, NotFound, ValidationFailed
from mawa.core.ids import uuid7
from mawa.sync import services as sync_services

CHUNK_SIZE = 1024 * 1024  # 1 MiB
CHUNK_MIN, CHUNK_MAX = 1024, 4 * 1024 * 1024
BUNDLE_MAX = 4 * 1024 * 1024 * 1024  # what a server accepts at most (4 GiB)
RETRIES = 8  # attempts per request before the client gives up (a rerun resumes)
TIMEOUT = 60.0  # seconds a request may hang
CHUNK_HEADER = "X-Mawa-Chunk-SHA256"
_SHA256 = re.compile(r"[0-9a-f]{64}")
STALE_DAYS = 7  # a transfer nobody came back for is removed after this long


def _sync_dir(*parts: str) -> Path:
    path = Path(settings.VAR_DIR, "sync", *parts)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _stale_remove(kind: str) -> None:
    """Remove the transfers of ``kind`` (uploads, downloads) untouched for STALE_DAYS: a
    client that never came back to resume or finish."""
    limit = time.time() - STALE_DAYS * 86400
    for path in _sync_dir(kind).iterdir():
        try:
            if path.stat().st_mtime < limit:
                shutil.rmtree(path, ignore_errors=True)
        except OSError:
            pass


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _result_dict(result: Any) -> dict[str, int]:
    """An engine ``ImportResult`` as what the API answers and the CLI prints."""
    return {name: int(getattr(result, name, 0) or 0)
            for name in ("applied", "present", "conflicts", "waiting")}


# --- server side: what the API endpoints (mawa.sync.api) call -----------------------------

def _upload_dir(upload_id: uuid.UUID) -> Path:
    path = Path(settings.VAR_DIR, "sync", "uploads", str(uuid.UUID(str(upload_id))))
    if not path.is_dir():
        raise NotFound()
    return path


def _meta(path: Path) -> dict[str, Any]:
    return json.loads((path / "meta.json").read_text())


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
    tmp.replace(path)


def _chunks_held(path: Path, count: int) -> int:
    """How many chunks, from the first, are stored (a gap ends the count)."""
    n = 0
    while n < count and (path / f"chunk-{n:06d}").is_file():
        n += 1
    return n


def _chunk_count(size: int, chunk_size: int) -> int:
    return max(1, -(-size // chunk_size))


def upload_start(*, size: int, sha256: str, chunk_size: int, actor: str) -> dict[str, Any]:
    """Open an upload of a bundle of ``size`` bytes whose SHA-256 is ``sha256``."""
    sha256 = (sha256 or "").lower()
    if not 0 < size <= BUNDLE_MAX or not _SHA256.fullmatch(sha256) or not (
            CHUNK_MIN <= chunk_size <= CHUNK_MAX):
        raise ValidationFailed(_("The upload's size, hash or chunk size is not valid."))
    _stale_remove("uploads")
    upload_id = uuid7()
    path = _sync_dir("uploads", str(upload_id))
    meta = {"size": size, "sha256": sha256, "chunk_size": chunk_size,
            "chunks": _chunk_count(size, chunk_size), "actor": actor, "result": None}
    _write_atomic(path / "meta.json", json.dumps(meta).encode())
    return {"upload": str(upload_id), "received": 0, "chunks": meta["chunks"],
            "chunk_size": chunk_size}


def upload_state(upload_id: uuid.UUID) -> dict[str, Any]:
    path = _upload_dir(upload_id)
    meta = _meta(path)
    return {"upload": str(upload_id), "received": _chunks_held(path, meta["chunks"]),
            "chunks": meta["chunks"], "chunk_size": meta["chunk_size"],
            "result": meta["result"]}


def upload_chunk(upload_id: uuid.UUID, index: int, data: bytes, digest: str) -> dict[str, Any]:
    """Store chunk ``index`` when its hash holds and every chunk before it is here."""
    path = _upload_dir(upload_id)
    meta = _meta(path)
    held = _chunks_held(path, meta["chunks"])
    if not 0 <= index < meta["chunks"]:
        raise ValidationFailed(_("There is no such chunk in this upload."))
    if index > held:
        raise MawaError(_("A chunk before this one is missing: resume from chunk %(n)d.")
                        % {"n": held}, code="chunk_gap")
    expected = (meta["size"] - index * meta["chunk_size"] if index == meta["chunks"] - 1
                else meta["chunk_size"])
    if len(data) != expected or _sha256(data) != (digest or "").lower():
        raise MawaError(_("The chunk arrived damaged: send it again."), code="chunk_damaged")
    if index == held:  # a chunk sent again after a lost answer is already here: no-op
        _write_atomic(path / f"chunk-{index:06d}", data)
    return {"upload": str(upload_id), "received": _chunks_held(path, meta["chunks"])}


def upload_finish(upload_id: uuid.UUID) -> dict[str, Any]:
    """Import the bundle once every chunk is here and the hash of the whole holds. A finish
    asked again (its answer was lost) answers the same result without importing twice."""
    path = _upload_dir(upload_id)
    meta = _meta(path)
    if meta["result"] is not None:
        return {"upload": str(upload_id), **meta["result"]}
    held = _chunks_held(path, meta["chunks"])
    if held < meta["chunks"]:
        raise MawaError(_("The upload is not complete: resume from chunk %(n)d.")
                        % {"n": held}, code="upload_incomplete")
    data = b"".join((path / f"chunk-{n:06d}").read_bytes() for n in range(meta["chunks"]))
    if len(data) != meta["size"] or _sha256(data) != meta["sha256"]:
        shutil.rmtree(path, ignore_errors=True)
        raise MawaError(_("The uploaded bundle does not match its hash: nothing was applied."),
                        code="bundle_damaged")
    try:
        result = _result_dict(sync_services.sync_import(data))
    except MawaError:
        shutil.rmtree(path, ignore_errors=True)  # refused whole: never imported, never resumed
        raise
    meta["result"] = result
    _write_atomic(path / "meta.json", json.dumps(meta).encode())
    for n in range(meta["chunks"]):
        (path / f"chunk-{n:06d}").unlink(missing_ok=True)
    return {"upload": str(upload_id), **result}


def _download_dir(download_id: uuid.UUID) -> Path:
    path = Path(settings.VAR_DIR, "sync", "downloads", str(uuid.UUID(str(download_id))))
    if not path.is_dir():
        raise NotFound()
    return path


def download_start(*, node: str, chunk_size: int = CHUNK_SIZE) -> dict[str, Any]:
    """Export a bundle for ``node`` (what it has not acknowledged) and describe its chunks."""
    if not re.fullmatch(r"[A-Z0-9]{2,12}", node or "") or not (
            CHUNK_MIN <= chunk_size <= CHUNK_MAX):
        raise ValidationFailed(_("Name the node the bundle is for."))
    data = sync_services.sync_export(to=node)
    _stale_remove("downloads")
    download_id = uuid7()
    path = _sync_dir("downloads", str(download_id))
    _write_atomic(path / "bundle", data)
    manifest = {"download": str(download_id), "size": len(data), "sha256": _sha256(data),
                "chunk_size": chunk_size,
                "chunks": [_sha256(data[i:i + chunk_size])
                           for i in range(0, max(len(data), 1), chunk_size)]}
    _write_atomic(path / "manifest.json", json.dumps(manifest).encode())
    return manifest


def download_manifest(download_id: uuid.UUID) -> dict[str, Any]:
    return json.loads((_download_dir(download_id) / "manifest.json").read_text())


def download_chunk(download_id: uuid.UUID, index: int) -> tuple[bytes, str]:
    """Chunk ``index`` of a download and its SHA-256."""
    path = _download_dir(download_id)
    manifest = json.loads((path / "manifest.json").read_text())
    if not 0 <= index < len(manifest["chunks"]):
        raise NotFound()
    size = manifest["chunk_size"]
    with open(path / "bundle", "rb") as fh:
        fh.seek(index * size)
        data = fh.read(size)
    return data, manifest["chunks"][index]


def download_done(download_id: uuid.UUID) -> None:
    shutil.rmtree(_download_dir(download_id), ignore_errors=True)


# --- client side: mawa sync push / pull ----------------------------------------------------

LINK_FAILED = "link_failed"  # the code of a MawaError for a link that kept failing


def _link_failed(error: str = "") -> MawaError:
    """The link failed more often than the client retries: a rerun resumes."""
    if error:
        return MawaError(_("The link to the server failed (%(error)s): run the same command "
                           "again to resume.") % {"error": error}, code=LINK_FAILED)
    return MawaError(_("The link to the server failed: run the same command again to resume."),
                     code=LINK_FAILED)


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class Link:
    """One server: its URL, the API token, the certificate authority to trust."""

    url: str
    token: str
    cacert: str | None = None
    retries: int = RETRIES
    pause: float = 1.0  # seconds before a retry, doubled each time (at most 30 s)
    _conn: http.client.HTTPConnection | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValidationFailed(_("Give the server's address as https://host[:port]."))
        if parts.scheme == "http" and not _loopback(parts.hostname):
            raise ValidationFailed(_("Plain http is only allowed to this machine: use https."))
        if not self.token:
            raise ValidationFailed(_("An API token with the right to synchronise is needed "
                                     "(--token-file or MAWA_SYNC_TOKEN)."))
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/") + "/api/sync"

    def key(self) -> str:
        """A name for this server's transfers in var/sync (its URL, hashed)."""
        return _sha256(self.url.rstrip("/").encode())[:16]

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self.scheme == "https":
                context = ssl.create_default_context(cafile=self.cacert)
                self._conn = http.client.HTTPSConnection(self.host, self.port, timeout=TIMEOUT,
                                                         context=context)
            else:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=TIMEOUT)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def request(self, method: str, path: str, *, body: bytes | None = None,
                headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
        """One request; a broken connection raises ``OSError`` (the caller retries)."""
        all_headers = {"Authorization": f"Bearer {self.token}", **(headers or {})}
        try:
            conn = self._connection()
            conn.request(method, self.prefix + path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
        except ssl.SSLCertVerificationError as exc:  # retrying would not help
            self.close()
            raise MawaError(_("The server's certificate is not trusted (%(error)s): give its "
                              "certificate authority with --cacert.")
                            % {"error": exc.verify_message or exc}, code="certificate") from exc
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise ConnectionError(str(exc)) from exc
        return response.status, {k.lower(): v for k, v in response.getheaders()}, data

    def call(self, method: str, path: str, *, body: bytes | None = None,
             headers: dict[str, str] | None = None, json_body: Any = None,
             retry_on: tuple[str, ...] = ()) -> tuple[dict[str, str], bytes]:
        """A request retried over broken connections and server errors; a refusal (4xx) raises
        a ``MawaError`` with the server's message and code, unless its code is in ``retry_on``."""
        if json_body is not None:
            body = json.dumps(json_body).encode()
            headers = {**(headers or {}), "Content-Type": "application/json"}
        pause = self.pause
        last = ""
        for _attempt in range(self.retries):
            try:
                status, answer_headers, data = self.request(method, path, body=body,
                                                            headers=headers)
            except ConnectionError as exc:
                last = str(exc)
            else:
                if status < 300:
                    return answer_headers, data
                message, code = _refusal(data)
                if status < 500 and code not in retry_on:
                    raise MawaError(_("The server refused: %(message)s")
                                    % {"message": message or status}, code=code or "refused")
                last = message or str(status)
            if pause:
                time.sleep(pause)
                pause = min(pause * 2, 30.0)
        raise _link_failed(last)

    def call_json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        _headers, data = self.call(method, path, **kw)
        return json.loads(data)


def _refusal(data: bytes) -> tuple[str, str]:
    try:
        body = json.loads(data)
    except ValueError:
        return "", ""
    if not isinstance(body, dict):
        return "", ""
    return str(body.get("message") or body.get("detail") or ""), str(body.get("code") or "")


def _state_read(path: Path) -> dict[str, Any] | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _upload_send(link: Link, state: dict[str, Any], data: bytes) -> dict[str, Any]:
    """Send the chunks the server does not hold yet, then finish; resumes from the server's
    count after every broken connection or damaged chunk."""
    upload = state["upload"]
    size = state["chunk_size"]
    count = _chunk_count(len(data), size)
    for _round in range(link.retries):
        held = link.call_json("GET", f"/uploads/{upload}")
        if held.get("result"):
            return {"upload": upload, **held["result"]}
        try:
            for n in range(int(held["received"]), count):
                chunk = data[n * size:(n + 1) * size]
                link.call("PUT", f"/uploads/{upload}/chunks/{n}", body=chunk,
                          headers={CHUNK_HEADER: _sha256(chunk),
                                   "Content-Type": "application/octet-stream"},
                          retry_on=("chunk_damaged",))
        except MawaError as exc:
            if exc.code == "chunk_gap":  # the server lost a chunk: ask again where to go on
                continue
            raise
        return link.call_json("POST", f"/uploads/{upload}/finish")
    raise _link_failed()


def push(link: Link, *, chunk_size: int = CHUNK_SIZE) -> dict[str, Any]:
    """Send this node's changes for the server at ``link``; the server's import result.

    A push killed in the middle left its bundle and upload id in var/sync/outbox: the next
    push finishes that one first (importing a bundle twice changes nothing), then sends what
    was made since. A bundle the server refused is not sent again."""
    outbox = _sync_dir("outbox")
    state_path = outbox / f"{link.key()}.json"
    bundle_path = outbox / f"{link.key()}.bundle"
    try:
        pending = _state_read(state_path)
        if pending is not None and bundle_path.is_file():
            data = bundle_path.read_bytes()
            if _sha256(data) == pending.get("sha256"):
                try:
                    _upload_send(link, pending, data)
                except MawaError as exc:
                    if exc.code == LINK_FAILED:
                        raise
                    # refused or forgotten by the server: a fresh bundle below
        hello = link.call_json("GET", "/hello")
        data = sync_services.sync_export(to=hello["node"])
        state = {"sha256": _sha256(data), "chunk_size": chunk_size}
        _write_atomic(bundle_path, data)
        started = link.call_json("POST", "/uploads", json_body={
            "size": len(data), "sha256": state["sha256"], "chunk_size": chunk_size})
        state["upload"] = started["upload"]
        _write_atomic(state_path, json.dumps(state).encode())
        try:
            result = _upload_send(link, state, data)
        except MawaError as exc:
            if exc.code != LINK_FAILED:  # refused: never sent again
                state_path.unlink(missing_ok=True)
                bundle_path.unlink(missing_ok=True)
            raise
        state_path.unlink(missing_ok=True)
        bundle_path.unlink(missing_ok=True)
        return result
    finally:
        link.close()


def pull(link: Link, *, chunk_size: int = CHUNK_SIZE) -> dict[str, Any]:
    """Fetch the bundle the server has for this node, chunk by chunk, and import it here. A
    pull killed in the middle resumes the same download (its chunks kept in var/sync/inbox)."""
    inbox = _sync_dir("inbox")
    state_path = inbox / f"{link.key()}.json"
    part_path = inbox / f"{link.key()}.part"
    try:
        manifest = _state_read(state_path)
        if manifest is not None:
            status, _h, _body = _request_retried(link, "GET",
                                                 f"/downloads/{manifest['download']}")
            if status == 404:
                manifest = None
        if manifest is None:
            manifest = link.call_json("POST", "/downloads", json_body={
                "node": node_code(), "chunk_size": chunk_size})
            _write_atomic(state_path, json.dumps(manifest).encode())
            part_path.unlink(missing_ok=True)
        data = _download_fetch(link, manifest, part_path)
        imported = sync_services.sync_import(data)
        result: dict[str, Any] = {**_result_dict(imported),
                                  "sender": str(getattr(imported, "sender", "") or "")}
        try:
            link.call("POST", f"/downloads/{manifest['download']}/done")
        except MawaError:
            pass  # the server forgets it later; the bundle here is applied
        state_path.unlink(missing_ok=True)
        part_path.unlink(missing_ok=True)
        return result
    finally:
        link.close()


def _request_retried(link: Link, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
    for _attempt in range(link.retries):
        try:
            return link.request(method, path)
        except ConnectionError:
            if link.pause:
                time.sleep(link.pause)
    raise _link_failed()


def _download_fetch(link: Link, manifest: dict[str, Any], part_path: Path) -> bytes:
    """The download's bytes: the good chunks already in ``part_path``, then the rest, each
    checked against its hash (a damaged chunk is fetched again)."""
    size = int(manifest["chunk_size"])
    hashes: list[str] = manifest["chunks"]
    have = b""
    if part_path.is_file():
        have = part_path.read_bytes()
    good = 0  # chunks of ``have`` that hold, from the first
    while good < len(hashes) and good * size < len(have):
        piece = have[good * size:(good + 1) * size]
        if _sha256(piece) != hashes[good]:
            break
        good += 1
    have = have[:good * size]
    _write_atomic(part_path, have)
    with open(part_path, "ab") as out:
        for n in range(good, len(hashes)):
            for _attempt in range(link.retries):
                _headers, chunk = link.call("GET", f"/downloads/{manifest['download']}"
                                                   f"/chunks/{n}")
                if _sha256(chunk) == hashes[n]:
                    break
                if link.pause:
                    time.sleep(link.pause)
            else:
                raise MawaError(_("A chunk kept arriving damaged: run the same command again "
                                  "to resume."), code=LINK_FAILED)
            out.write(chunk)
            out.flush()
    data = part_path.read_bytes()
    if len(data) != manifest["size"] or _sha256(data) != manifest["sha256"]:
        part_path.unlink(missing_ok=True)
        raise MawaError(_("The downloaded bundle does not match its hash: nothing was applied. "
                          "Run the same command again."), code=LINK_FAILED)
    return data


# --- the command line: mawa sync push URL / mawa sync pull URL ----------------------------

TOKEN_ENV = "MAWA_SYNC_TOKEN"


def link_from_options(url: str, *, token_file: str | None = None,
                      cacert: str | None = None) -> Link:
    """The ``Link`` of ``mawa sync push|pull URL [--token-file FILE] [--cacert FILE]``: the API
    token is read from ``--token-file`` (first line), else from ``MAWA_SYNC_TOKEN`` — never
    from the command line, where other users of the machine could read it."""
    token = os.environ.get(TOKEN_ENV, "")
    if token_file:
        try:
            token = Path(token_file).read_text().strip().splitlines()[0].strip()
        except (OSError, IndexError):
            token = ""
    if cacert and not Path(cacert).is_file():
        raise ValidationFailed(_("The certificate file %(file)s cannot be read.")
                               % {"file": cacert})
    return Link(url, token, cacert=cacert)


def command_add_arguments(parser: Any) -> None:
    """The options of ``push`` and ``pull`` (for the ``sync`` command's parser)."""
    parser.add_argument("--token-file", help="push/pull: a file holding the API token "
                        f"(default: the {TOKEN_ENV} environment variable)")
    parser.add_argument("--cacert", help="push/pull: the certificate authority (PEM) of the "
                        "server's HTTPS certificate")


def command_run(action: str, url: str, options: dict[str, Any]) -> dict[str, Any]:
    """Run ``mawa sync push|pull URL``: the import's counts (on the server for a push, here
    for a pull)."""
    link = link_from_options(url, token_file=options.get("token_file"),
                             cacert=options.get("cacert"))
    return push(link) if action == "push" else pull(link)
