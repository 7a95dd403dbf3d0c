"""``mawa export persons``: an encrypted zip, the passphrase printed once, purpose and
recipient required and on the ledger (protection.md R9)."""

from __future__ import annotations

import io
import re
import uuid

import pytest
import pyzipper
from django.core.management import call_command
from django.core.management.base import CommandError

from mawa.core.models import LedgerEntry

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def own_var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path / "var"


@pytest.fixture
def person(users, sites):
    from mawa.reception.services import PersonInput, person_register

    return person_register(actor=users["reception_officer"], site=sites["RHM"],
                           client_key=uuid.uuid4(),
                           data=PersonInput(values={"given_lat": "Walid", "family_lat": "Saab",
                                                    "sex": "male"}, birth="1990"))[0]


def run(*args):
    out = io.StringIO()
    call_command("export", *args, stdout=out)
    return out.getvalue()


def test_it_writes_an_encrypted_zip_and_prints_the_passphrase_once(person, users, tmp_path):
    target = tmp_path / "register.zip"
    out = run("persons", str(target), "--user", users["protection_officer"].username,
              "--purpose", "tracing", "--recipient", "ICRC delegation")
    passphrase = re.search(r"([A-Z2-9]{5}(?:-[A-Z2-9]{5}){4})", out).group(1)
    assert out.count(passphrase) == 1
    data = target.read_bytes()
    assert b"Saab" not in data and b"Walid" not in data
    assert oct(target.stat().st_mode & 0o777) == "0o600"
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        with pytest.raises(RuntimeError):
            archive.read(archive.namelist()[0])
        archive.setpassword(passphrase.encode())
        assert "Saab" in archive.read(archive.namelist()[0]).decode("utf-8-sig")
    entry = LedgerEntry.objects.filter(stream="audit", kind="audit.export").last()
    assert '"purpose":"tracing"' in entry.payload
    assert '"recipient":"ICRC delegation"' in entry.payload
    assert "Saab" not in entry.payload
    # nothing left behind for a download link
    assert not list((tmp_path / "var" / "exports").glob("*.zip"))


def test_recipient_is_required(users, tmp_path):
    with pytest.raises(CommandError):
        run("persons", str(tmp_path / "x.zip"), "--user", users["protection_officer"].username,
            "--purpose", "tracing")
    with pytest.raises(CommandError):
        run("persons", str(tmp_path / "x.zip"), "--user", users["protection_officer"].username,
            "--purpose", "tracing", "--recipient", "  ")
    assert not (tmp_path / "x.zip").exists()


def test_a_role_without_the_export_permission_is_refused(users, tmp_path):
    with pytest.raises(CommandError):
        run("persons", str(tmp_path / "x.zip"), "--user", users["camp_staff"].username,
            "--purpose", "p", "--recipient", "r")
    assert not (tmp_path / "x.zip").exists()


def test_an_existing_file_is_not_overwritten(users, tmp_path):
    target = tmp_path / "x.zip"
    target.write_bytes(b"keep")
    with pytest.raises(CommandError):
        run("persons", str(target), "--user", users["protection_officer"].username,
            "--purpose", "p", "--recipient", "r")
    assert target.read_bytes() == b"keep"
