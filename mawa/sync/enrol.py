"""Enrolling a crossing post: ``mawa post create CODE --output FILE`` at headquarters, then
``mawa post join FILE`` on the post's fresh installation.

At headquarters, ``post_create``:
- makes headquarters' own node the first time (code ``HQ``, a new installation id, its key the
  ``core.keys`` file of ``HQ``);
- creates the site ``CODE`` if there is none (a crossing);
- makes the post's node with a **new** Ed25519 key pair: the private half goes only into the
  enrolment file; headquarters keeps the public half (``Node.public_key`` and a
  ``core.SiteKey`` row, so its ledger verifier knows the post's checkpoints);
- makes the key the two share (32 random bytes, ``sync.keys.pair_key_store``);
- returns the enrolment file: JSON ``{"format", "body", "signature"}`` where ``body`` holds the
  format, the installation id, headquarters' node code and public key, the post's node (code,
  id, role, its private key), the pair key and the reference snapshot (``sync.reference``), and
  ``signature`` is headquarters' Ed25519 signature over the RFC 8785 canonical JSON of ``body``.

The file is a secret (it holds the post's private key, the pair key, password hashes and
authenticator secrets): it is written 0600; carry it by hand, then delete it.

At the post, ``post_join`` checks the format and the signature (a changed byte is refused,
nothing applied), refuses an installation that holds persons or is enrolled already, then
installs the post's key and the pair key, applies the reference snapshot (sites, accounts,
catalogues, nodes) and marks the post's node as this installation's own. It prints the
fingerprint of headquarters' key: compare it with the one ``post create`` printed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import re
import secrets
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from django.db import transaction
from django.utils.translation import gettext_lazy as _

from mawa.core import keys as core_keys
from mawa.core.audit import audit
from mawa.core.changes import DEFAULT_NODE
from mawa.core.changes_models import Node, NodeRole
from mawa.core.errors import MawaError
from mawa.core.models import Site, SiteKind
from mawa.reception.models import Person
from mawa.sync.keys import (
    NODE_CODE,
    PAIR_KEY_BYTES,
    node_key_install,
    node_public_key_hex,
    pair_key_path,
    pair_key_store,
    peer_key_record,
)
from mawa.sync.reference import reference_apply, reference_snapshot

__all__ = ["ENROLMENT_FORMAT", "EnrolmentRefused", "Joined", "Created", "enrolment_read",
           "enrolment_write", "hq_self_ensure", "key_fingerprint", "post_create", "post_join"]

ENROLMENT_FORMAT = "mawa-enrolment/1"
ACTOR = "system:cli"


class EnrolmentRefused(MawaError):
    """An enrolment file is refused (altered, another format), or this installation may not
    join."""

    code = "enrolment_refused"
    status = 400

    def __init__(self, message=None, **kw):
        super().__init__(message or _("The enrolment file is refused."), **kw)


def key_fingerprint(public_hex: str) -> str:
    """What an operator compares by eye: the key id in groups of four."""
    key_id = core_keys.key_id_of(bytes.fromhex(public_hex))
    return " ".join(key_id[i:i + 4] for i in range(0, len(key_id), 4))


# --- headquarters ---------------------------------------------------------------------------

def hq_self_ensure() -> Node:
    """Headquarters' own node, made the first time (code ``HQ``, a new installation id)."""
    node = Node.objects.filter(is_self=True).first()
    if node is not None:
        if node.role != NodeRole.HQ:
            raise EnrolmentRefused(_("This installation is post %(code)s: posts are created at "
                                     "headquarters.") % {"code": node.code},
                                   code="not_headquarters")
        return node
    key = core_keys.signing_key(DEFAULT_NODE)
    site = (Site.objects.filter(code=DEFAULT_NODE).first()
            or Site.objects.filter(kind=SiteKind.HQ).order_by("code").first())
    node = Node.objects.create(code=DEFAULT_NODE, role=NodeRole.HQ, site=site,
                               public_key=node_public_key_hex(key.public_key()), is_self=True,
                               installation=uuid.uuid4())
    audit(actor=ACTOR, action="node_create", obj=node, detail={"code": node.code,
                                                                 "role": node.role})
    return node


@dataclass(frozen=True)
class Created:
    code: str
    role: str
    site_code: str
    site_created: bool
    hq_fingerprint: str
    post_fingerprint: str
    users_signing_in: list[str]
    data: bytes


def post_create(code: str, *, name_ar: str = "", name_en: str = "",
                standby_of: str | None = None) -> Created:
    """Enrol post ``code`` (or, with ``standby_of``, a standby laptop of that post) at
    headquarters; returns the enrolment file's bytes and what was done."""
    code = (code or "").strip().upper()
    if standby_of:
        standby_of = standby_of.strip().upper()
        if not NODE_CODE.match(code) or code == standby_of:
            raise EnrolmentRefused(_("A standby's code is the post's code and a digit, e.g. "
                                     "%(code)s2.") % {"code": standby_of}, code="invalid")
    elif not re.fullmatch(r"[A-Z]{2,5}", code):
        raise EnrolmentRefused(_("A post's code is its site's code: two to five capital "
                                 "letters."), code="invalid")
    if code == DEFAULT_NODE:
        raise EnrolmentRefused(_("%(code)s is headquarters' own code.") % {"code": code},
                               code="invalid")
    with transaction.atomic():
        hq = hq_self_ensure()
        if Node.objects.filter(code=code).exists():
            raise EnrolmentRefused(_("Node %(code)s is enrolled already.") % {"code": code},
                                   code="node_exists")
        site_created = False
        if standby_of:
            post = Node.objects.filter(code=standby_of, role=NodeRole.POST).first()
            found = post.site if post is not None else None
            if found is None:
                raise EnrolmentRefused(_("There is no post %(code)s to be the standby of.")
                                       % {"code": standby_of}, code="invalid")
            site, role = found, NodeRole.STANDBY
        else:
            role = NodeRole.POST
            found = Site.objects.filter(code=code).first()
            if found is not None:
                site = found
            else:
                site = Site.objects.create(code=code, kind=SiteKind.CROSSING,
                                           name_ar=name_ar or code, name_en=name_en or code)
                audit(actor=ACTOR, action="create", obj=site,
                      detail={"fields": ["code", "kind", "name_ar", "name_en"]})
                site_created = True
        private = Ed25519PrivateKey.generate()
        public_hex = node_public_key_hex(private.public_key())
        node = Node.objects.create(code=code, role=role, site=site, public_key=public_hex,
                                   installation=hq.installation)
        peer_key_record(code, public_hex)
        audit(actor=ACTOR, action="node_create", obj=node,
              detail={"code": code, "role": role, "site": site.code})
        pair = secrets.token_bytes(PAIR_KEY_BYTES)
        snapshot = reference_snapshot(node)
        raw = private.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                    serialization.NoEncryption())
        body: dict[str, Any] = {
            "format": ENROLMENT_FORMAT,
            "installation": str(hq.installation),
            "created": dt.datetime.now(dt.UTC).isoformat(),
            "hq": {"code": hq.code, "public_key": hq.public_key},
            "node": {"id": str(node.pk), "code": code, "role": role, "site": site.code,
                     "private_key": base64.b64encode(raw).decode()},
            "pair_key": base64.b64encode(pair).decode(),
            "reference": snapshot,
        }
        hq_key = core_keys.signing_key(hq.code, create=False)
        signature = hq_key.sign(rfc8785.dumps(body)).hex()
        pair_key_store(code, pair)
    data = json.dumps({"format": ENROLMENT_FORMAT, "body": body, "signature": signature},
                      ensure_ascii=False, indent=1).encode("utf-8")
    return Created(code=code, role=role, site_code=site.code, site_created=site_created,
                   hq_fingerprint=key_fingerprint(hq.public_key),
                   post_fingerprint=key_fingerprint(public_hex),
                   users_signing_in=[u["username"] for u in snapshot["users"] if u["signs_in"]],
                   data=data)


def enrolment_write(path: Path, data: bytes) -> None:
    """Write the enrolment file, readable by its owner only (0600)."""
    path = Path(path)
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


# --- the post -------------------------------------------------------------------------------

def enrolment_read(data: bytes) -> dict:
    """The body of an enrolment file, once its format and headquarters' signature hold."""
    try:
        outer = json.loads(data.decode("utf-8"))
        body, signature = outer["body"], bytes.fromhex(outer["signature"])
        if outer.get("format") != ENROLMENT_FORMAT or body.get("format") != ENROLMENT_FORMAT:
            raise EnrolmentRefused(_("This is not an enrolment file of this version of Mawa "
                                     "(%(format)s expected).") % {"format": ENROLMENT_FORMAT},
                                   code="enrolment_format")
        public = Ed25519PublicKey.from_public_bytes(bytes.fromhex(body["hq"]["public_key"]))
        public.verify(signature, rfc8785.dumps(body))
        uuid.UUID(body["installation"])
        node = body["node"]
        if not NODE_CODE.match(node["code"]) or node["role"] not in (NodeRole.POST,
                                                                      NodeRole.STANDBY):
            raise ValueError(node["code"])
        if len(base64.b64decode(body["pair_key"], validate=True)) != PAIR_KEY_BYTES:
            raise ValueError("pair key")
    except EnrolmentRefused:
        raise
    except InvalidSignature:
        raise EnrolmentRefused(_("The enrolment file was altered (its signature does not "
                                 "hold): nothing was applied. Ask headquarters for a new one."),
                               code="enrolment_altered") from None
    except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError):
        raise EnrolmentRefused(_("This file is not a readable enrolment file (damaged or cut "
                                 "short): nothing was applied."), code="enrolment_damaged"
                               ) from None
    return body


@dataclass(frozen=True)
class Joined:
    code: str
    role: str
    site_code: str
    installation: str
    hq_code: str
    hq_fingerprint: str
    sites: int
    users_signing_in: list[str]
    nodes: list[str]


def post_join(data: bytes) -> Joined:
    """Make this fresh installation the post (or standby) the enrolment file names."""
    body = enrolment_read(data)
    own = Node.objects.filter(is_self=True).first()
    if own is not None:
        raise EnrolmentRefused(_("This installation is enrolled already (as %(code)s): a post "
                                 "joins once, on a fresh installation.") % {"code": own.code},
                               code="enrolled_already")
    if Person.objects.exists():
        raise EnrolmentRefused(_("This installation holds persons already: a post joins on a "
                                 "fresh installation (mawa setup --no-demo on an empty data "
                                 "directory)."), code="not_fresh")
    node = body["node"]
    code = node["code"]
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(node["private_key"]))
    public_hex = node_public_key_hex(private.public_key())
    listed = {n["code"]: n for n in body["reference"].get("nodes", [])}
    if (listed.get(code, {}).get("public_key") != public_hex
            or listed.get(body["hq"]["code"], {}).get("public_key") != body["hq"]["public_key"]):
        raise EnrolmentRefused(_("The enrolment file does not hold together (its keys and its "
                                 "nodes differ): nothing was applied."), code="enrolment_damaged")
    key_file = core_keys.key_dir() / f"{code}.ed25519.pem"
    made = [] if key_file.exists() else [key_file]
    pair_file = pair_key_path(body["hq"]["code"])
    made += [] if pair_file.exists() else [pair_file]
    try:
        with transaction.atomic():
            node_key_install(code, private)
            pair_key_store(body["hq"]["code"], base64.b64decode(body["pair_key"]))
            reference_apply(body["reference"])
            Node.objects.filter(code=code).update(is_self=True)
            mine = Node.objects.get(code=code)
            audit(actor=ACTOR, action="node_join", obj=mine,
                  detail={"code": code, "role": mine.role, "hq": body["hq"]["code"],
                          "installation": body["installation"]})
    except BaseException:
        for path in made:  # nothing of a refused join stays behind
            path.unlink(missing_ok=True)
        raise
    users = body["reference"].get("users", [])
    return Joined(code=code, role=node["role"], site_code=node["site"],
                  installation=body["installation"], hq_code=body["hq"]["code"],
                  hq_fingerprint=key_fingerprint(body["hq"]["public_key"]),
                  sites=len(body["reference"].get("sites", [])),
                  users_signing_in=[u["username"] for u in users if u["signs_in"]],
                  nodes=sorted(listed))
