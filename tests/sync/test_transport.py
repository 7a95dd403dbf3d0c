"""Bundles over HTTP(S) (issue 17): pushed and pulled against a live server in chunks with a
SHA-256 each; a chunk damaged or dropped on the way is sent again, a client killed in the
middle resumes the same transfer, the bundle is imported once and only when whole. The engine
(export/import) is replaced by a recorder here: what travels is bytes, and the fault tests of
the whole sync (tests/sync/fault) run it end to end."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
from dataclasses import dataclass

import pytest
from django.utils import timezone

from mawa.accounts import services as accounts_services
from mawa.accounts.roles import Perm, Role
from mawa.core.errors import MawaError
from mawa.sync import services as sync_services
from mawa.sync import transport
from mawa.sync.transport import Link

pytestmark = pytest.mark.django_db(transaction=True)

CHUNK = 1024


@dataclass
class Result:
    applied: int
    present: int = 0
    conflicts: int = 0
    waiting: int = 0


class Engine:
    """Stands in for sync_export / sync_import, on both sides (one process)."""

    def __init__(self):
        self.exported: list[bytes] = []
        self.imported: list[bytes] = []
        self.refuse = False

    def export(self, *, to=None):
        data = os.urandom(CHUNK * 4 + 500) + to.encode()  # five chunks
        self.exported.append(data)
        return data

    def import_(self, data):
        if self.refuse:
            raise MawaError("This bundle was tampered with.", code="bundle_refused")
        self.imported.append(data)
        return Result(applied=len(data))


@pytest.fixture
def engine(monkeypatch, settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"
    e = Engine()
    monkeypatch.setattr(sync_services, "sync_export", e.export, raising=False)
    monkeypatch.setattr(sync_services, "sync_import", e.import_, raising=False)
    return e


def _token(user, *, read_only=False):
    return accounts_services.api_token_create(
        user=user, name="sync", expires_at=timezone.now() + dt.timedelta(days=7),
        read_only=read_only, all_sites=True)[1]


@pytest.fixture
def token(users):
    return _token(users[Role.ADMINISTRATOR])


class Faulty(Link):
    """A link that breaks as told, and records what it sent: ``damage`` the body of these
    requests once (paths), ``drop`` these before they reach the server, ``lose`` their answer
    after the server handled them, ``kill`` the client (as SIGKILL would) at this path."""

    def __init__(self, *args, damage=(), drop=(), lose=(), kill=None, **kw):
        super().__init__(*args, pause=0, **kw)
        self.damage, self.drop, self.lose = set(damage), set(drop), set(lose)
        self.kill = kill
        self.sent: list[tuple[str, str]] = []

    def request(self, method, path, *, body=None, headers=None):
        if path == self.kill:
            raise SystemExit("killed")
        if path in self.drop:
            self.drop.discard(path)
            raise ConnectionError("dropped")
        if path in self.damage and body:
            self.damage.discard(path)
            body = bytes([body[0] ^ 0xFF]) + body[1:]
        self.sent.append((method, path))
        status, answer_headers, data = super().request(method, path, body=body, headers=headers)
        if path in self.lose:
            self.lose.discard(path)
            raise ConnectionError("answer lost")
        if path in self.damage and method == "GET":
            self.damage.discard(path)
            data = bytes([data[0] ^ 0xFF]) + data[1:]
        return status, answer_headers, data


def _upload_paths(link):
    return [p for m, p in link.sent if m == "PUT"]


def test_a_push_survives_a_damaged_a_dropped_and_a_lost_chunk(live_server, engine, token,
                                                              settings):
    probe = Faulty(live_server.url, token)
    # the upload id is known only once started: break every upload's chunks 1, 2 and 3
    original = probe.request

    def request(method, path, **kw):
        if method == "PUT" and path.endswith("/chunks/1") and not probe.damaged:
            probe.damage.add(path)
            probe.damaged = True
        if method == "PUT" and path.endswith("/chunks/2") and not probe.dropped:
            probe.drop.add(path)
            probe.dropped = True
        if method == "PUT" and path.endswith("/chunks/3") and not probe.lost:
            probe.lose.add(path)
            probe.lost = True
        return original(method, path, **kw)

    probe.damaged = probe.dropped = probe.lost = False
    probe.request = request
    result = transport.push(probe, chunk_size=CHUNK)
    assert engine.imported == engine.exported and len(engine.imported) == 1
    assert result["applied"] == len(engine.exported[0])
    sent = _upload_paths(probe)
    chunks = [p.rsplit("/", 1)[1] for p in sent]
    # 1 sent twice (damaged, then good), 2 once (the dropped one never left), 3 twice (the
    # answer was lost: sent again, stored once)
    assert chunks == ["0", "1", "1", "2", "3", "3", "4"]
    assert not list((settings.VAR_DIR / "sync" / "outbox").iterdir())


def test_a_push_killed_in_the_middle_resumes_its_upload(live_server, engine, token):
    killer = Faulty(live_server.url, token)
    original = killer.request

    def request(method, path, **kw):
        if method == "PUT" and path.endswith("/chunks/3"):
            raise SystemExit("killed")  # nothing after this runs: no cleanup
        return original(method, path, **kw)

    killer.request = request
    with pytest.raises(SystemExit):
        transport.push(killer, chunk_size=CHUNK)
    assert engine.imported == []

    again = Faulty(live_server.url, token)
    result = transport.push(again, chunk_size=CHUNK)
    first, second = engine.exported
    # the interrupted bundle first, from chunk 3 on; then what was made since, whole
    assert engine.imported == [first, second]
    chunks = [p.rsplit("/", 1)[1] for p in _upload_paths(again)]
    assert chunks == ["3", "4", "0", "1", "2", "3", "4"]
    assert result["applied"] == len(second)


def test_a_refused_bundle_is_not_applied_and_not_sent_again(live_server, engine, token):
    engine.refuse = True
    with pytest.raises(MawaError) as refused:
        transport.push(Faulty(live_server.url, token), chunk_size=CHUNK)
    assert "tampered" in str(refused.value.message)
    assert engine.imported == []
    engine.refuse = False
    link = Faulty(live_server.url, token)
    transport.push(link, chunk_size=CHUNK)
    assert engine.imported == [engine.exported[-1]]
    assert len([p for m, p in link.sent if m == "POST" and p == "/uploads"]) == 1


def test_a_pull_survives_a_damaged_and_a_dropped_chunk(live_server, engine, token, settings):
    link = Faulty(live_server.url, token)
    original = link.request
    state = {"damaged": False, "dropped": False}

    def request(method, path, **kw):
        if path.endswith("/chunks/1") and not state["damaged"]:
            link.damage.add(path)
            state["damaged"] = True
        if path.endswith("/chunks/3") and not state["dropped"]:
            link.drop.add(path)
            state["dropped"] = True
        return original(method, path, **kw)

    link.request = request
    result = transport.pull(link, chunk_size=CHUNK)
    (bundle,) = engine.exported
    assert bundle.endswith(b"HQ")  # addressed to this node
    assert engine.imported == [bundle]
    assert result == {"applied": len(bundle), "present": 0, "conflicts": 0, "waiting": 0,
                      "sender": ""}
    fetched = [p.rsplit("/", 1)[1] for m, p in link.sent if "/chunks/" in p]
    assert fetched == ["0", "1", "1", "2", "3", "4"]
    # the server forgot the download, the client its partial file
    assert not list((settings.VAR_DIR / "sync" / "downloads").iterdir())
    assert not list((settings.VAR_DIR / "sync" / "inbox").iterdir())


def test_a_pull_killed_in_the_middle_resumes_from_the_last_good_chunk(live_server, engine,
                                                                      token):
    killer = Faulty(live_server.url, token)
    original = killer.request

    def request(method, path, **kw):
        if path.endswith("/chunks/3"):
            raise SystemExit("killed")
        return original(method, path, **kw)

    killer.request = request
    with pytest.raises(SystemExit):
        transport.pull(killer, chunk_size=CHUNK)
    assert engine.imported == []
    again = Faulty(live_server.url, token)
    transport.pull(again, chunk_size=CHUNK)
    assert engine.imported == engine.exported  # one export, imported once, whole
    fetched = [p.rsplit("/", 1)[1] for m, p in again.sent if "/chunks/" in p]
    assert fetched == ["3", "4"]


def test_a_chunk_that_does_not_match_its_hash_is_refused(live_server, engine, token):
    link = Faulty(live_server.url, token)
    started = link.call_json("POST", "/uploads", json_body={
        "size": 10, "sha256": hashlib.sha256(b"0123456789").hexdigest(), "chunk_size": CHUNK})
    upload = started["upload"]
    status, _h, body = link.request("PUT", f"/uploads/{upload}/chunks/0", body=b"0123456788",
                                    headers={transport.CHUNK_HEADER:
                                             hashlib.sha256(b"0123456789").hexdigest()})
    assert status == 400 and json.loads(body)["code"] == "chunk_damaged"
    status, _h, body = link.request("POST", f"/uploads/{upload}/finish")
    assert status == 400 and json.loads(body)["code"] == "upload_incomplete"
    assert engine.imported == []


def test_only_a_token_with_the_right_to_synchronise_may(live_server, engine, users):
    def hello(secret):
        return Faulty(live_server.url, secret).request("GET", "/hello")[0]

    assert hello("mawa_nottoken") == 401
    officer_token = _token(users[Role.CAMP_MANAGER])  # sees the page, may not move bundles
    assert Perm.SYNC_RUN not in accounts_services.ROLE_PERMISSIONS[Role.CAMP_MANAGER]
    assert hello(officer_token) == 403
    read_only = _token(users[Role.ADMINISTRATOR], read_only=True)
    assert hello(read_only) == 200
    status = Faulty(live_server.url, read_only).request(
        "POST", "/uploads", body=b"{}", headers={"Content-Type": "application/json"})[0]
    assert status == 403
    assert engine.exported == []


def test_plain_http_only_to_this_machine(token):
    with pytest.raises(MawaError):
        Link("http://hq.example.org", token)
    with pytest.raises(MawaError):
        Link("ftp://127.0.0.1", token)
    with pytest.raises(MawaError):
        Link("https://hq.example.org", "")
    Link("https://hq.example.org", token)
    Link("http://127.0.0.1:8000", token)
    Link("http://[::1]:8000", token)


# --- TLS: --cacert ------------------------------------------------------------------------

def _certificates(tmp_path):
    """An operation's own certificate authority and a certificate of 127.0.0.1 it signed."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)

    def name(text):
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name("Operation CA")).issuer_name(name(
        "Operation CA")).public_key(ca_key.public_key()).serial_number(1)
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=9))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                     False), critical=True)
        .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(name("hq")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(2)
            .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(
                days=9))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(pem))
    (tmp_path / "hq.pem").write_bytes(cert.public_bytes(pem) + key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return tmp_path / "ca.pem", tmp_path / "hq.pem"


@pytest.fixture
def tls_server(live_server, tmp_path):
    """HTTPS in front of the live server: a TLS-terminating relay on 127.0.0.1."""
    import select
    import socket
    import ssl
    import threading
    from urllib.parse import urlsplit

    ca, chain = _certificates(tmp_path)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain)
    target = urlsplit(live_server.url)
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def relay(client):
        try:
            tls = context.wrap_socket(client, server_side=True)
        except (OSError, ssl.SSLError):
            client.close()
            return
        upstream = socket.create_connection((target.hostname, target.port))
        ends = [tls, upstream]
        try:
            while not stop.is_set():
                ready, _w, _x = select.select(ends, [], [], 0.2)
                for end in ready:
                    data = end.recv(65536)
                    if not data:
                        return
                    (upstream if end is tls else tls).sendall(data)
        except OSError:
            pass
        finally:
            tls.close()
            upstream.close()

    def accept():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            threading.Thread(target=relay, args=(client,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"https://127.0.0.1:{listener.getsockname()[1]}", str(ca)
    stop.set()
    thread.join()
    listener.close()


def test_a_push_over_https_trusts_the_operations_own_authority(tls_server, engine, token,
                                                               tmp_path):
    url, ca = tls_server
    token_file = tmp_path / "token"
    token_file.write_text(token + "\n")
    result = transport.command_run("push", url, {"token_file": str(token_file), "cacert": ca})
    assert engine.imported == engine.exported and result["applied"] == len(engine.imported[0])
    with pytest.raises(MawaError) as untrusted:  # without --cacert: the system's authorities
        transport.command_run("pull", url, {"token_file": str(token_file), "cacert": None})
    assert untrusted.value.code == "certificate"
    assert len(engine.imported) == 1


def test_the_command_line_push_and_pull(live_server, engine, token, tmp_path, monkeypatch,
                                        capsys):
    from django.core.management import call_command

    monkeypatch.setenv("MAWA_LANGUAGE", "en")
    monkeypatch.setenv(transport.TOKEN_ENV, token)
    call_command("sync", "push", live_server.url)
    assert engine.imported == engine.exported
    assert f"{len(engine.exported[0])} applied, 0 already present" in capsys.readouterr().out
    call_command("sync", "pull", live_server.url, "--json")
    counts = json.loads(capsys.readouterr().out)
    assert counts["applied"] == len(engine.exported[1]) and len(engine.imported) == 2
    monkeypatch.delenv(transport.TOKEN_ENV)
    from django.core.management.base import CommandError

    with pytest.raises(CommandError) as refused:
        call_command("sync", "push", "http://hq.example.org")
    assert refused.value.returncode == 2
