"""Exports under control (protection.md R9, attack test 18): permission per kind, step-up,
purpose and recipient on the ledger, encrypted file, 15-minute single-use links."""

from __future__ import annotations

import io
import time
import uuid

import pytest
import pyzipper
import time_machine
from django.urls import reverse

from mawa.core import exports
from mawa.core.errors import Forbidden, NotFound, ValidationFailed
from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def person(users, sites):
    from mawa.reception.services import PersonInput, person_register

    return person_register(actor=users["reception_officer"], site=sites["RHM"],
                           client_key=uuid.uuid4(),
                           data=PersonInput(values={"given_ar": "نبيل", "family_lat": "Haddad",
                                                    "sex": "male"}, birth="1991"))[0]


def stepped_up(client):
    session = client.session
    session["auth_at"] = time.time()
    session.save()
    return client


def open_zip(data: bytes, passphrase: str) -> bytes:
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(passphrase.encode())
        return archive.read(archive.namelist()[0])


def make(user, **kw):
    kw.setdefault("purpose", "planning")
    kw.setdefault("recipient", "camp NUR")
    return exports.export_create(user=user, kind="persons_csv",
                                 write=lambda fh: fh.write("Haddad نبيل".encode()), **kw)


def test_without_the_access_policy_nothing_leaves(users, monkeypatch):
    """The kernel cannot import the access policy (it sits above): accounts installs its check
    when Django starts. Were it missing, every export would be refused, not allowed."""
    from mawa.accounts import access

    assert exports._access_require is access.require
    monkeypatch.setattr(exports, "_access_require", None)
    with pytest.raises(Forbidden):
        make(users["protection_officer"])
    assert not list(exports.export_dir().iterdir())


def test_every_kind_names_a_permission_of_the_policy():
    from mawa.accounts.roles import ALL_PERMISSIONS

    for kind in exports.KINDS.values():
        assert kind.permission in ALL_PERMISSIONS


@pytest.mark.parametrize("role", ["reception_officer", "custody_officer", "camp_staff",
                                  "auditor", "administrator"])
def test_roles_without_the_export_permission_are_refused(users, role):
    with pytest.raises((Forbidden, NotFound)):
        make(users[role])
    assert not list(exports.export_dir().glob("*.zip"))


@pytest.mark.parametrize("path", ["/reception/persons/export/",
                                  "/reception/icrc/notification.csv"])
def test_unauthorised_export_page_answers_403(client_for, users, path):
    client = stepped_up(client_for(users["reception_officer"]))
    assert client.post(path, {"purpose": "x", "recipient": "y"}).status_code == 403


@pytest.mark.parametrize("path", ["/reception/persons/export/",
                                  "/reception/icrc/notification.pdf"])
def test_export_needs_step_up(client_for, users, path):
    response = client_for(users["protection_officer"]).post(
        path, {"purpose": "x", "recipient": "y"})
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:reauth"))


def test_purpose_and_recipient_are_required(users):
    with pytest.raises(ValidationFailed) as exc:
        make(users["protection_officer"], purpose=" ", recipient="")
    assert set(exc.value.fields) == {"purpose", "recipient"}


def test_the_file_is_unreadable_without_its_passphrase(users, person):
    ready = make(users["protection_officer"])
    path = exports.export_dir() / f"{ready.export_id}.zip"
    data = path.read_bytes()
    assert b"Haddad" not in data and "نبيل".encode() not in data
    with pytest.raises(RuntimeError):
        open_zip(data, "WRONG-PASSPHRASE")
    assert "نبيل" in open_zip(data, ready.passphrase).decode()


def test_passphrases_are_long_and_never_repeat(users):
    a, b = make(users["protection_officer"]), make(users["protection_officer"])
    assert a.passphrase != b.passphrase and len(a.passphrase.replace("-", "")) >= 25


def test_export_is_on_the_ledger_with_purpose_and_recipient_but_no_content(users):
    ready = make(users["protection_officer"], purpose="food planning", recipient="WFP")
    entry = LedgerEntry.objects.filter(kind="audit.export").last()
    assert "food planning" in entry.payload and "WFP" in entry.payload
    assert ready.sha256 in entry.payload
    assert "Haddad" not in entry.payload and ready.passphrase not in entry.payload


def test_the_link_works_once(client_for, users):
    ready = make(users["protection_officer"])
    client = client_for(users["protection_officer"])
    first = client.get(f"/exports/{ready.token}/")
    assert first.status_code == 200 and first["Content-Disposition"].startswith("attachment")
    assert "no-store" in first["Cache-Control"]
    data = b"".join(first.streaming_content)
    for closer in first._resource_closers:  # what the server does once the file is sent
        closer()
    assert "نبيل" in open_zip(data, ready.passphrase).decode()
    assert client.get(f"/exports/{ready.token}/").status_code == 404
    assert not list(exports.export_dir().glob(f"{ready.export_id}*"))
    assert LedgerEntry.objects.filter(kind="audit.export.download").count() == 1


def test_the_link_expires_after_15_minutes(client_for, users):
    with time_machine.travel(time.time(), tick=False) as traveller:
        ready = make(users["protection_officer"])
        traveller.shift(15 * 60 + 1)
        client = client_for(users["protection_officer"])
        assert client.get(f"/exports/{ready.token}/").status_code == 404


def test_the_link_is_bound_to_its_user(client_for, users, make_user, sites):
    ready = make(users["protection_officer"])
    other = make_user("protection2", "protection_officer", [sites["RHM"]])
    assert client_for(other).get(f"/exports/{ready.token}/").status_code == 404
    assert client_for(users["protection_officer"]).get(
        f"/exports/{ready.token}/").status_code == 200


def test_a_forged_link_is_refused(client_for, users):
    ready = make(users["protection_officer"])
    client = client_for(users["protection_officer"])
    assert client.get(f"/exports/{ready.token[:-2]}xx/").status_code == 404
    with pytest.raises(NotFound):
        exports.export_claim(user=users["protection_officer"], token="nonsense")


def test_unfetched_exports_are_purged(users):
    ready = make(users["protection_officer"])
    path = exports.export_dir() / f"{ready.export_id}.zip"
    assert exports.exports_purge(now=time.time()) == 0 and path.exists()
    assert exports.exports_purge(now=time.time() + 15 * 60 + 5) >= 1
    assert not path.exists()


def test_a_failed_write_leaves_no_file_and_no_entry(users):
    before = LedgerEntry.objects.filter(kind="audit.export").count()

    def boom(fh):
        fh.write(b"half")
        raise OSError("disk full")

    with pytest.raises(OSError):
        exports.export_create(user=users["protection_officer"], kind="persons_csv",
                              purpose="p", recipient="r", write=boom)
    assert not list(exports.export_dir().iterdir())
    assert LedgerEntry.objects.filter(kind="audit.export").count() == before


def test_register_export_streams_into_the_encrypted_file(users, person):
    from mawa.reception.exports import persons_export_file

    ready = persons_export_file(user=users["protection_officer"], purpose="p", recipient="r")
    data = (exports.export_dir() / f"{ready.export_id}.zip").read_bytes()
    text = open_zip(data, ready.passphrase).decode("utf-8-sig")
    assert person.short_code in text and "Haddad" in text
