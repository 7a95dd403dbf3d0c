"""Enrolling a crossing post: `mawa post create` at headquarters writes a signed enrolment file;
`mawa post join` on the post's fresh installation makes it that post, with its accounts and
reference data. Create is tested here, in the test database (headquarters); join on a real
fresh installation, `mawa` run as a subprocess (one installation: they are slow)."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.utils import timezone

from mawa.accounts.models import TOTPDevice, User
from mawa.accounts.roles import Role
from mawa.accounts.services import totp_context
from mawa.core import keys as core_keys
from mawa.core.changes_models import Node, NodeRole
from mawa.core.crypto import decrypt_text, encrypt_text
from mawa.core.models import LedgerEntry, Site, SiteKey, SiteKind
from mawa.custody.models import MaterielModel, Store
from mawa.sync.enrol import ENROLMENT_FORMAT, EnrolmentRefused, post_create, post_join
from mawa.sync.keys import (
    NotEnrolled,
    node_public_key,
    node_self,
    node_signing_key,
    pair_key,
    pair_key_path,
)
from mawa.sync.reference import reference_apply, reference_snapshot

MAWA = str(Path(sys.executable).with_name("mawa"))
PASSWORD = "correct horse battery staple"
TOTP_SECRET = bytes(range(20))


def _totp(user: User, secret: bytes = TOTP_SECRET) -> None:
    TOTPDevice.objects.create(
        user=user, secret_encrypted=encrypt_text("accounts", secret.hex(),
                                                 context=totp_context(user.pk)),
        confirmed_at=timezone.now(), last_step=0)


@pytest.fixture
def enrolled(users, sites):
    """Headquarters after `mawa post create RHM`: the reception officer (RHM) has an
    authenticator; the custody catalogue has a model; RHM has a store."""
    _totp(users[Role.RECEPTION_OFFICER])
    Store.objects.create(site=sites["RHM"], short_code="RHM-S1", name="Armoury")
    return post_create("RHM")


def _file(enrolled) -> dict:
    return json.loads(enrolled.data.decode())


def test_create_writes_an_enrolment_file_signed_by_headquarters(enrolled, tmp_path):
    outer = _file(enrolled)
    body = outer["body"]
    assert outer["format"] == body["format"] == ENROLMENT_FORMAT
    hq = node_self()
    assert (hq.code, hq.role) == ("HQ", NodeRole.HQ)
    assert body["installation"] == str(hq.installation)
    assert body["hq"] == {"code": "HQ", "public_key": hq.public_key}
    # signed by headquarters' node key (the core.keys file of HQ)
    node_public_key("HQ").verify(bytes.fromhex(outer["signature"]), rfc8785.dumps(body))
    assert node_signing_key().public_key().public_bytes_raw().hex() == hq.public_key
    # the post's key pair: the private half only in the file
    post = Node.objects.get(code="RHM")
    assert (post.role, post.site.code, post.is_self) == (NodeRole.POST, "RHM", False)
    private = Ed25519PrivateKey.from_private_bytes(base64.b64decode(body["node"]["private_key"]))
    public_hex = private.public_key().public_bytes_raw().hex()
    assert public_hex == post.public_key == node_public_key("RHM").public_bytes_raw().hex()
    assert SiteKey.objects.filter(public_key=public_hex).exists()  # for the ledger verifier
    held = core_keys.signing_key("RHM")  # headquarters' own key of the site RHM
    assert held.public_key().public_bytes_raw().hex() != public_hex
    for key_file in core_keys.key_dir().iterdir():
        assert body["node"]["private_key"] not in key_file.read_text(errors="replace")
    # the pair key, kept at headquarters 0600
    assert pair_key("RHM") == base64.b64decode(body["pair_key"])
    assert pair_key_path("RHM").stat().st_mode & 0o777 == 0o600
    # the command writes the file 0600
    out = tmp_path / "zzz.json"
    call_command("post", "create", "ZZZ", "--output", str(out))
    assert out.stat().st_mode & 0o777 == 0o600
    assert json.loads(out.read_text())["body"]["node"]["code"] == "ZZZ"


def test_the_snapshot_holds_what_the_post_needs_and_nothing_of_the_compartment(enrolled, users):
    ref = _file(enrolled)["body"]["reference"]
    by_name = {u["username"]: u for u in ref["users"]}
    officer = by_name["reception_officer"]  # works at RHM: signs in there
    assert officer["signs_in"] and officer["password"] == users[Role.RECEPTION_OFFICER].password
    assert officer["totp"]["secret"] == TOTP_SECRET.hex()
    assert by_name["administrator"]["signs_in"] and by_name["auditor"]["signs_in"]
    # works elsewhere: travels (its changes replay under its name) but cannot sign in
    assert by_name["outsider"]["signs_in"] is False
    assert by_name["outsider"]["password"] == "" and by_name["outsider"]["totp"] is None
    assert "investigator" not in by_name  # reaches the compartment: never travels
    sites = {s["code"]: s for s in ref["sites"]}
    assert set(sites) == {"RHM", "NUR", "ZZZ", "HQ"}
    assert sites["RHM"]["latitude"] == "33.412300"
    assert "latitude" not in sites["NUR"] and "location_note" not in sites["NUR"]
    assert [s["short_code"] for s in ref["stores"]] == ["RHM-S1"]
    assert {m["name"] for m in ref["materiel_models"]} == set(
        MaterielModel.objects.values_list("name", flat=True))
    assert {n["code"] for n in ref["nodes"]} == {"HQ", "RHM"}
    assert "watchlists" not in ref


def test_create_makes_the_site_once_and_headquarters_once(db):
    first = post_create("QAZ", name_en="Qaz crossing", name_ar="معبر قاز")
    site = Site.objects.get(code="QAZ")
    assert first.site_created and (site.kind, site.name_en) == (SiteKind.CROSSING, "Qaz crossing")
    installation = node_self().installation
    post_create("QBZ")
    assert node_self().installation == installation
    with pytest.raises(EnrolmentRefused) as refused:
        post_create("QAZ")
    assert refused.value.code == "node_exists"
    with pytest.raises(EnrolmentRefused):
        post_create("qa-1")
    standby = post_create("QAZ2", standby_of="QAZ")
    assert (standby.role, standby.site_code) == (NodeRole.STANDBY, "QAZ")


def test_an_altered_or_cut_file_is_refused_and_nothing_applied(enrolled):
    data = enrolled.data
    at = data.index(b"reception_officer")
    altered = data[:at] + b"R" + data[at + 1:]
    before = (Node.objects.count(), LedgerEntry.objects.count())
    with pytest.raises(EnrolmentRefused) as refused:
        post_join(altered)
    assert refused.value.code == "enrolment_altered"
    with pytest.raises(EnrolmentRefused) as refused:
        post_join(data[: len(data) // 2])
    assert refused.value.code == "enrolment_damaged"
    # re-signed by someone else: the nodes it lists no longer hold together
    body = json.loads(data)["body"]
    forger = Ed25519PrivateKey.generate()
    body["hq"]["public_key"] = forger.public_key().public_bytes_raw().hex()
    forged = json.dumps({"format": ENROLMENT_FORMAT, "body": body,
                         "signature": forger.sign(rfc8785.dumps(body)).hex()}).encode()
    Node.objects.filter(is_self=True).update(is_self=False)  # as if fresh
    with pytest.raises(EnrolmentRefused) as refused:
        post_join(forged)
    assert refused.value.code == "enrolment_damaged"
    assert (Node.objects.count(), LedgerEntry.objects.count()) == before


def test_join_is_refused_on_an_enrolled_installation_or_one_with_persons(enrolled, users,
                                                                          sites):
    with pytest.raises(EnrolmentRefused) as refused:
        post_join(enrolled.data)  # headquarters itself
    assert refused.value.code == "enrolled_already"
    from mawa.reception import services
    from mawa.reception.services import PersonInput

    Node.objects.all().delete()
    with pytest.raises(NotEnrolled):
        node_self()
    officer = users[Role.RECEPTION_OFFICER]
    group = services.arrival_group_create(
        actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
        arrived_at=timezone.now() - dt.timedelta(hours=1), reported_count=1)
    services.person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                             group=group, data=PersonInput(values={
                                 "given_ar": "محمد", "given_lat": "Mohammed",
                                 "father_ar": "أحمد", "family_ar": "الحلبي",
                                 "family_lat": "al-Halabi", "sex": "male",
                                 "service_number": "A-12345"}, birth="1990-03-15"))
    with pytest.raises(EnrolmentRefused) as refused:
        post_join(enrolled.data)
    assert refused.value.code == "not_fresh"
    assert not Node.objects.exists()


def test_reference_apply_is_idempotent_and_follows_changes_made_at_headquarters(enrolled,
                                                                               users, sites):
    snapshot = reference_snapshot(Node.objects.get(code="RHM"))
    reference_apply(snapshot)  # the investigator does not travel: deactivated "at the post"
    entries = LedgerEntry.objects.count()
    reference_apply(snapshot)
    assert LedgerEntry.objects.count() == entries  # nothing changed, nothing audited

    by_name = {u["username"]: u for u in snapshot["users"]}
    officer = by_name["reception_officer"]
    officer["role"] = Role.CUSTODY_OFFICER
    officer["sites"] = [str(sites["RHM"].pk)]
    officer["totp"]["secret"] = bytes(range(1, 21)).hex()
    by_name["outsider"]["is_active"] = False
    by_name["custody_officer"]["signs_in"] = False  # moved off the post at headquarters
    snapshot["sites"][0]["name_en"] = "Renamed"
    reference_apply(snapshot)
    user = User.objects.get(username="reception_officer")
    assert user.role == Role.CUSTODY_OFFICER
    assert list(user.sites.values_list("code", flat=True)) == ["RHM"]
    device = TOTPDevice.objects.get(user=user)  # sealed again with this installation's key
    assert decrypt_text("accounts", device.secret_encrypted,
                        context=totp_context(user.pk)) == bytes(range(1, 21)).hex()
    assert not User.objects.get(username="outsider").is_active
    assert not User.objects.get(username="custody_officer").has_usable_password()
    assert Site.objects.get(code=snapshot["sites"][0]["code"]).name_en == "Renamed"
    assert not User.objects.get(username="investigator").is_active


def test_the_catalogue_every_installation_seeds_gives_way_to_headquarters(enrolled):
    snapshot = reference_snapshot(Node.objects.get(code="RHM"))
    model = MaterielModel.objects.order_by("name").first()
    row = next(m for m in snapshot["materiel_models"] if m["id"] == str(model.pk))
    row["id"] = str(uuid.uuid4())  # the same model under headquarters' id
    reference_apply(snapshot)
    assert str(MaterielModel.objects.get(name=model.name).pk) == row["id"]


# --- the post: a real fresh installation ------------------------------------------------------

def _run(env, *args, check=True):
    result = subprocess.run([MAWA, *args], env=env, capture_output=True, text=True, timeout=900)
    if check and result.returncode != 0:
        raise AssertionError(f"mawa {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


SIGN_IN = """
import time
from django.test import Client
from mawa.accounts.services import totp_code_at
c = Client(HTTP_HOST="localhost")
wrong = c.post("/accounts/login/", {{"username": "reception_officer", "password": "wrong one!"}})
r = c.post("/accounts/login/", {{"username": "reception_officer", "password": {password!r}}})
code = totp_code_at(bytes.fromhex({secret!r}), time.time())
r2 = c.post(r["Location"], {{"code": code}})
home = c.get(r2["Location"])
print("SIGNIN", wrong.status_code, r.status_code, r["Location"], r2.status_code,
      home.status_code, home.wsgi_request.user.username)
"""


def test_join_on_a_fresh_installation_makes_it_the_post(enrolled, tmp_path):
    good = tmp_path / "rhm.json"
    good.write_bytes(enrolled.data)
    altered = tmp_path / "altered.json"
    altered.write_bytes(enrolled.data.replace(b'"RHM-S1"', b'"RHM-S2"', 1))
    var = tmp_path / "post"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                              "DJANGO_SETTINGS_MODULE")}
    env["MAWA_VAR_DIR"] = str(var)
    _run(env, "setup", "--no-demo")

    refused = _run(env, "post", "join", str(altered), check=False)
    assert refused.returncode == 2 and "altered" in refused.stderr
    assert not (var / "keys" / "RHM.ed25519.pem").exists()  # nothing of it stayed

    joined = _run(env, "post", "join", str(good)).stdout
    assert "node RHM (post)" in joined and enrolled.hq_fingerprint in joined
    keys = var / "keys"
    assert (keys / "RHM.ed25519.pem").stat().st_mode & 0o777 == 0o600
    assert (keys / "sync-HQ.key").stat().st_mode & 0o777 == 0o600

    again = _run(env, "post", "join", str(good), check=False)
    assert again.returncode == 2 and "enrolled already" in again.stderr

    # the post's reception officer signs in with the password and authenticator of HQ
    out = _run(env, "shell", "-c", SIGN_IN.format(password=PASSWORD, secret=TOTP_SECRET.hex()),
               check=False)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("SIGNIN")), out.stderr)
    assert line.split()[1:] == ["200", "302", "/accounts/login/code/", "302", "200",
                                "reception_officer"], line

    # the installation goes on: setup again, and the ledger verifies
    _run(env, "setup", "--no-demo")
    assert "ledger verified" in _run(env, "verify").stdout


def test_a_peer_key_never_stands_in_for_a_key_of_this_installation(db, sites):
    from mawa.sync.keys import peer_key_record

    peer = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    peer_key_record("QXA", peer)  # no site QXA here
    assert SiteKey.objects.get(public_key=peer).site_code == "qxa"
    site = Site.objects.create(code="QXA", kind=SiteKind.CROSSING, name_ar="ق", name_en="Q")
    own = core_keys.signing_key(site.code)  # a site given that code later: its own key
    assert own.public_key().public_bytes_raw().hex() != peer
    other = Ed25519PrivateKey.generate().public_key().public_bytes_raw().hex()
    peer_key_record("RHM", other)  # a site here: this installation's key first, then the peer's
    assert SiteKey.objects.get(public_key=other).site_code == "RHM"
    assert core_keys.signing_key("RHM").public_key().public_bytes_raw().hex() != other
    from mawa.core.ledger import ledger_verify

    assert ledger_verify().ok


def test_the_post_mints_short_codes_after_those_headquarters_minted_for_its_site(db, sites):
    from mawa.core.models import ShortCodeCounter
    from mawa.core.services import short_codes_reserve

    short_codes_reserve(site=sites["RHM"], count=3)  # registered at RHM before it was a post
    short_codes_reserve(site=sites["NUR"], count=7)
    snapshot = _file(post_create("RHM"))["body"]["reference"]
    assert snapshot["short_codes"] == {"RHM": 3}
    ShortCodeCounter.objects.filter(site=sites["RHM"]).update(last_number=0)  # "the post"
    reference_apply(snapshot)
    assert ShortCodeCounter.objects.get(site=sites["RHM"]).last_number == 3
    short_codes_reserve(site=sites["RHM"], count=2)  # the post goes on …
    reference_apply(snapshot)  # … and an older counter from headquarters never moves it back
    assert ShortCodeCounter.objects.get(site=sites["RHM"]).last_number == 5
