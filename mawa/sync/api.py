"""REST endpoints of field operations (mounted at /api/sync): bundles moved over HTTPS in
chunks, each with its SHA-256, resumable (``mawa.sync.transport`` describes the exchange and
does the work). Every endpoint needs ``SYNC_RUN`` (an administrator, or an API token naming
it); the bundle itself proves which node wrote it."""

from __future__ import annotations

import uuid

from django.http import HttpRequest, HttpResponse
from ninja import Router, Schema

from mawa.accounts import access
from mawa.accounts.roles import Perm
from mawa.core.changes import node_code
from mawa.sync import transport

router = Router(tags=["sync"])


def _allowed(request: HttpRequest) -> None:
    access.require(request.auth, Perm.SYNC_RUN)  # type: ignore[attr-defined]


class HelloOut(Schema):
    node: str


class UploadIn(Schema):
    size: int
    sha256: str
    chunk_size: int = transport.CHUNK_SIZE


class UploadOut(Schema):
    upload: str
    received: int
    chunks: int
    chunk_size: int
    result: dict[str, int] | None = None


class ChunkOut(Schema):
    upload: str
    received: int


class ResultOut(Schema):
    upload: str
    applied: int
    present: int
    conflicts: int
    waiting: int


class DownloadIn(Schema):
    node: str
    chunk_size: int = transport.CHUNK_SIZE


class DownloadOut(Schema):
    download: str
    size: int
    sha256: str
    chunk_size: int
    chunks: list[str]


@router.get("/hello", response=HelloOut)
def hello(request):
    """This node's code: the node a pushed bundle is to be addressed to."""
    _allowed(request)
    return {"node": node_code()}


@router.post("/uploads", response=UploadOut)
def upload_start(request, payload: UploadIn):
    """Open the upload of a bundle of ``size`` bytes whose SHA-256 is ``sha256``."""
    _allowed(request)
    return transport.upload_start(size=payload.size, sha256=payload.sha256,
                                  chunk_size=payload.chunk_size,
                                  actor=request.auth.username)


@router.get("/uploads/{upload_id}", response=UploadOut)
def upload_state(request, upload_id: uuid.UUID):
    """How many chunks, from the first, the server holds (where to resume), and the import's
    result once it is finished."""
    _allowed(request)
    return transport.upload_state(upload_id)


@router.put("/uploads/{upload_id}/chunks/{index}", response=ChunkOut)
def upload_chunk(request, upload_id: uuid.UUID, index: int):
    """Chunk ``index`` (from 0) as the raw body, its SHA-256 in ``X-Mawa-Chunk-SHA256``."""
    _allowed(request)
    return transport.upload_chunk(upload_id, index, request.body,
                                  request.headers.get(transport.CHUNK_HEADER, ""))


@router.post("/uploads/{upload_id}/finish", response=ResultOut)
def upload_finish(request, upload_id: uuid.UUID):
    """Check the whole bundle's hash and import it: how many changes were applied, already
    present, in conflict and waiting for earlier ones. A refused bundle: nothing applied."""
    _allowed(request)
    return transport.upload_finish(upload_id)


@router.post("/downloads", response=DownloadOut)
def download_start(request, payload: DownloadIn):
    """Export a bundle for node ``node`` (what it has not acknowledged yet) and describe its
    chunks and their hashes."""
    _allowed(request)
    return transport.download_start(node=payload.node, chunk_size=payload.chunk_size)


@router.get("/downloads/{download_id}", response=DownloadOut)
def download_manifest(request, download_id: uuid.UUID):
    """A download's description again (to resume it)."""
    _allowed(request)
    return transport.download_manifest(download_id)


@router.get("/downloads/{download_id}/chunks/{index}")
def download_chunk(request, download_id: uuid.UUID, index: int):
    """Chunk ``index`` (from 0) as raw bytes, its SHA-256 in ``X-Mawa-Chunk-SHA256``."""
    _allowed(request)
    data, digest = transport.download_chunk(download_id, index)
    response = HttpResponse(data, content_type="application/octet-stream")
    response[transport.CHUNK_HEADER] = digest
    return response


@router.post("/downloads/{download_id}/done")
def download_done(request, download_id: uuid.UUID):
    """The bundle arrived and was imported: the server forgets the download."""
    _allowed(request)
    transport.download_done(download_id)
    return {"done": True}
