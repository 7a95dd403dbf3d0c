"""Issue 20, item 2: in the default (plain SQLite) installation the sensitive fields are sealed
by Mawa itself, so a seized laptop does not give them away (protection.md R10).

A known-plaintext test, run as an operator would (``mawa`` in a fresh installation directory):
a person is registered with distinctive values in every sensitive field (family contact,
telephone, vulnerability notes, a document number), corrected (the replaced telephone is kept
in the corrections), moved along the lifecycle and to hospital with notes, named in an SGBV
incident with a follow-up. Then the raw bytes of the database file, of its WAL copied before
any checkpoint, of a ``mawa backup`` archive as written and of every other file under the
installation directory (the file stores, the logs) are searched for each value, in UTF-8 and
UTF-16 and in upper and lower case: none may appear.

And what sealing must not break: the values still show on the person page, still leave in the
register export, and a document number still finds its duplicate (search, registration
suggestions, the import's check against the register).
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
import pyzipper
from django.urls import reverse

from mawa.accounts.roles import Role

MAWA = str(Path(sys.executable).with_name("mawa"))

SECRETS = {
    "family_contact_name": "Xanthippe Marlowe-Quench",
    "family_contact_phone": "0771928374650",
    "family_contact_address": "Quillfeather Lane 88 Zarqa",
    "vulnerability_notes": "Zygomatic fracture, Quokka protocol",
    "document_number": "QX7748213",
    "corrected_phone": "0662019283746",
    "transition_note": "Transition note Wombat-Pelican",
    "movement_note": "Nephrology ward Kestrel-Plover",
    "incident_summary": "Narrative Tamarind-Ocelot assault",
    "follow_up": "Follow-up Jacaranda-Mongoose",
    "vulnerability": "torture_survivor",  # a code of a list, sealed with the list
}

SCRIPT = """
import datetime as dt, shutil, uuid
from django.conf import settings
from django.utils import timezone
from mawa.accounts.models import User
from mawa.camp import services as camp
from mawa.camp.models import Movement
from mawa.core.models import Site, SiteKind
from mawa.reception import services as reception
from mawa.reception.services import DocumentInput, PersonInput

S = {secrets!r}
rhm = Site.objects.create(code="RHM", kind=SiteKind.CROSSING, name_ar="معبر", name_en="Crossing")
nur = Site.objects.create(code="NUR", kind=SiteKind.CAMP, name_ar="مخيم", name_en="Camp")
def user(name, role):
    u = User.objects.create(username=name, role=role)
    u.sites.set([rhm, nur])
    return u
officer, manager = user("officer", "reception_officer"), user("manager", "camp_manager")
person, _ = reception.person_register(
    actor=officer, site=rhm, client_key=uuid.uuid4(),
    data=PersonInput(values={{"given_ar": "نبيل", "family_lat": "Haddad", "sex": "male",
                             "family_contact_name": S["family_contact_name"],
                             "family_contact_relation": "brother",
                             "family_contact_phone": S["family_contact_phone"],
                             "family_contact_address": S["family_contact_address"],
                             "vulnerability_notes": S["vulnerability_notes"],
                             "vulnerabilities": [S["vulnerability"], "wounded"]}},
                     birth="1991",
                     documents=[DocumentInput(kind="national_id",
                                              number=S["document_number"])]))
person = reception.person_update(actor=officer, person=person, version=person.version,
                                 changes={{"family_contact_phone": S["corrected_phone"]}})
reception.person_transition(actor=officer, person=person, to="disarmed",
                            note=S["transition_note"])
Movement.objects.create(site=nur, client_key=uuid.uuid4(), person=person, kind="hospital",
                        out_at=timezone.now(), note=S["movement_note"], actor=manager)
incident = camp.incident_report(actor=manager, site=nur, client_key=uuid.uuid4(), kind="sgbv",
                                severity="high", occurred_at=timezone.now(),
                                summary=S["incident_summary"], persons=[person])
camp.incident_follow_up(actor=manager, incident=incident, note=S["follow_up"])
db = settings.DATABASES["default"]["NAME"]
shutil.copyfile(f"{{db}}-wal", "{wal_copy}")  # before any checkpoint: the connection is open
"""


def _variants(value: str) -> list[bytes]:
    out = []
    for text in {value, value.lower(), value.upper()}:
        out += [text.encode("utf-8"), text.encode("utf-16-le"), text.encode("utf-16-be")]
    return out


def _leaks(data: bytes) -> list[str]:
    return [name for name, value in SECRETS.items()
            if any(v in data for v in _variants(value))]


@pytest.fixture(scope="module")
def installation(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("plaintext")
    var, wal_copy, script = tmp / "var", tmp / "wal-before-checkpoint", tmp / "script.py"
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "MAWA_DB_KEY_FILE")}
    env["MAWA_VAR_DIR"] = str(var)

    def run(*args, var_dir=var):
        result = subprocess.run([MAWA, *args], env={**env, "MAWA_VAR_DIR": str(var_dir)},
                                capture_output=True, text=True, timeout=300)
        assert result.returncode == 0, f"mawa {' '.join(args)}:\n{result.stdout}\n{result.stderr}"
        return result

    run("migrate", "--noinput")
    script.write_text(textwrap.dedent(SCRIPT).format(secrets=SECRETS, wal_copy=wal_copy),
                      encoding="utf-8")
    run("shell", "-c", f"exec(open({str(script)!r}, encoding='utf-8').read())")
    archive = tmp / "backup.tar.enc"
    run("backup", str(archive))
    return {"var": var, "wal": wal_copy, "archive": archive, "tmp": tmp, "run": run}


def test_the_database_file_holds_no_sensitive_value(installation):
    db = installation["var"] / "mawa.sqlite3"
    assert db.read_bytes().startswith(b"SQLite format 3")  # a plain installation
    assert b"Haddad" in db.read_bytes()  # what is not sealed is there: the test reads
    assert _leaks(db.read_bytes()) == []


def test_the_wal_before_its_checkpoint_holds_no_sensitive_value(installation):
    wal = installation["wal"].read_bytes()
    assert len(wal) > 4096 and b"Haddad" in wal  # the registration's pages are in it
    assert _leaks(wal) == []


def test_the_backup_archive_as_written_holds_no_sensitive_value(installation):
    assert _leaks(installation["archive"].read_bytes()) == []


def test_no_file_of_the_installation_holds_a_sensitive_value(installation):
    """The file stores (photos, scans, evidence, reports, exports), the logs, the keys."""
    found = {str(p.relative_to(installation["var"])): _leaks(p.read_bytes())
             for p in installation["var"].rglob("*") if p.is_file()}
    assert {name: leaks for name, leaks in found.items() if leaks} == {}
    # the field and look-up keys are files of the key directory, carried by backups
    keys = {p.name for p in (installation["var"] / "keys").iterdir()}
    assert {"reception.fieldkey.pem", "reception.lookupkey.pem", "camp.fieldkey.pem"} <= keys


# --- what sealing must not break ---------------------------------------------------------

@pytest.fixture
def registered(users, sites):
    from mawa.reception.services import DocumentInput, PersonInput, person_register

    return person_register(
        actor=users[Role.RECEPTION_OFFICER], site=sites["RHM"], client_key=uuid.uuid4(),
        data=PersonInput(values={"given_ar": "نبيل", "family_lat": "Haddad", "sex": "male",
                                 "family_contact_name": SECRETS["family_contact_name"],
                                 "family_contact_phone": SECRETS["family_contact_phone"],
                                 "vulnerability_notes": SECRETS["vulnerability_notes"]},
                         birth="1991",
                         documents=[DocumentInput(kind="national_id",
                                                  number=SECRETS["document_number"])]))[0]


@pytest.mark.django_db
def test_the_values_show_on_the_person_page(client_for, users, registered):
    page = client_for(users[Role.RECEPTION_OFFICER]).get(
        reverse("reception:person_detail", args=[registered.id])).content.decode()
    for name in ("family_contact_name", "family_contact_phone", "vulnerability_notes",
                 "document_number"):
        assert SECRETS[name] in page, name


@pytest.mark.django_db
def test_the_values_leave_in_the_register_export(settings, tmp_path, users, registered):
    from mawa.core import exports
    from mawa.reception.exports import persons_export_file

    settings.VAR_DIR = tmp_path
    ready = persons_export_file(user=users[Role.PROTECTION_OFFICER], purpose="tracing",
                                recipient="ICRC")
    data = (exports.export_dir() / f"{ready.export_id}.zip").read_bytes()
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(ready.passphrase.encode())
        text = archive.read(archive.namelist()[0]).decode("utf-8-sig")
    for name in ("family_contact_name", "family_contact_phone"):
        assert SECRETS[name] in text, name


@pytest.mark.django_db
def test_a_document_number_still_finds_its_holder(users, registered):
    """However it is typed: the search, the registration form's suggestions and the import's
    check against the register all look the number up by its keyed hash."""
    from mawa.matching.selectors import candidates_for
    from mawa.reception import selectors

    officer = users[Role.RECEPTION_OFFICER]
    for typed in ("QX7748213", "qx-774 8213", "QX٧٧٤٨٢١٣"):
        found = selectors.person_search(user=officer, q=typed).persons
        assert [p.pk for p in found] == [registered.pk], typed
    suggested = candidates_for(user=officer, data={"given_ar": "سمير",
                                                   "document_numbers": ["qx 7748213"]})
    assert registered.pk in [s.person.pk for s in suggested]


@pytest.mark.django_db
def test_the_import_flags_a_row_whose_document_number_is_registered(users, sites, registered):
    from mawa.reception import imports

    content = ("given_ar,family_lat,sex,birth,document_kind,document_number\n"
               "سمير,Other,male,1985,national_id,qx-7748213\n").encode()
    result = imports.import_check(user=users[Role.RECEPTION_OFFICER], site=sites["RHM"],
                                  table=imports.table_read(content, "p.csv"))
    assert [p.column for p in result.problems] == ["document_number"], result.problems


def test_the_lookup_key_is_not_the_field_key(settings, tmp_path):
    from mawa.core import crypto

    settings.KEY_DIR = tmp_path
    value = "QX7748213"
    hashed = crypto.lookup_hash("reception", value)
    assert hashed == crypto.lookup_hash("reception", value) and len(hashed) == 64
    assert value not in hashed and crypto.lookup_hash("reception", "") == ""
    sealed = crypto.encrypt_text("reception", value, context="t")
    assert crypto.decrypt_text("reception", sealed, context="t") == value
    assert crypto.lookup_key_path("reception").read_bytes() != \
        crypto._path("reception").read_bytes()
    for path in (crypto.lookup_key_path("reception"), crypto._path("reception")):
        assert path.stat().st_mode & 0o777 == 0o600


def test_a_restore_on_a_clean_machine_brings_the_keys_back(installation):
    """The field and look-up keys travel in the backup: restored with the README's escrow step,
    the sealed values open and a document number still finds its holder."""
    run, tmp = installation["run"], installation["tmp"]
    escrow = tmp / "escrow.json"
    exported = run("keys", "export-escrow", str(escrow)).stdout
    (tmp / "passphrase").write_text(next(ln.split(": ", 1)[1] for ln in exported.splitlines()
                                         if ln.startswith("Passphrase")))
    clean = tmp / "clean"
    run("restore", str(installation["archive"]), "--escrow", str(escrow), "--passphrase-file",
        str(tmp / "passphrase"), var_dir=clean)
    shown = run("shell", "-c", (
        "from mawa.reception.models import IdentityDocument, Person\n"
        "from mawa.reception.values import document_lookup\n"
        "p = Person.objects.get()\n"
        "d = IdentityDocument.objects.get(number_key=document_lookup('qx 774-8213'))\n"
        "print(p.family_contact_phone, p.vulnerability_notes, d.number, d.person_id == p.pk)"),
        var_dir=clean).stdout
    assert shown.strip().splitlines()[-1] == " ".join([SECRETS["corrected_phone"],
                                      SECRETS["vulnerability_notes"],
                                      SECRETS["document_number"], "True"])
