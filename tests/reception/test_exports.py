"""The register export: permission, purpose, audit, scoping and streaming."""

import pytest

from mawa.accounts.roles import Role
from mawa.core.errors import Forbidden, ValidationFailed
from mawa.core.models import LedgerEntry
from mawa.reception import exports


@pytest.mark.django_db(transaction=True)
def test_protection_exports_an_encrypted_csv_with_purpose_on_the_audit(register, users,
                                                                       client_for):
    import io
    import time

    import pyzipper

    from mawa.core import jobs

    person = register()[0]
    client = client_for(users[Role.PROTECTION_OFFICER])
    session = client.session
    session["auth_at"] = time.time()  # step-up done
    session.save()
    response = client.post("/reception/persons/export/", {"purpose": "camp planning",
                                                         "recipient": "camp NUR"})
    assert response.status_code == 200  # the job started; the passphrase is shown now
    passphrase = response.context["passphrase"]
    jobs.jobs_work(batch=True, worker_id="test-worker")  # the worker writes the file
    link = client.get(f"/jobs/{response.context['job'].pk}/").context["link"]
    download = client.get(link)
    data = b"".join(download.streaming_content)
    with pyzipper.AESZipFile(io.BytesIO(data)) as archive:
        archive.setpassword(passphrase.encode())
        text = archive.read(archive.namelist()[0]).decode("utf-8-sig")
    assert person.short_code in text
    entry = LedgerEntry.objects.filter(kind="audit.export").last()
    assert "camp planning" in entry.payload and "محمد" not in entry.payload


def test_no_purpose_no_export(users):
    with pytest.raises(ValidationFailed):
        exports.persons_export_start(user=users[Role.PROTECTION_OFFICER], purpose="")


def test_roles_without_the_permission_are_refused(users):
    with pytest.raises(Forbidden):
        exports.persons_export_start(user=users[Role.RECEPTION_OFFICER], purpose="x")


def test_the_export_reads_in_chunks_whatever_the_size(register, users, monkeypatch,
                                                      django_assert_max_num_queries):
    for i in range(5):
        register(given_lat=f"Ali{'a' * i}", service_number=f"S{i}")
    monkeypatch.setattr(exports, "CHUNK", 2)
    user = users[Role.PROTECTION_OFFICER]
    columns = exports.persons_export_start(user=user, purpose="test")
    with django_assert_max_num_queries(5):
        lines = "".join(exports.persons_export_lines(user=user, columns=columns))
    assert lines.count("\n") == 6


def test_another_sites_persons_are_not_exported(register, make_user, sites):
    register()
    other = make_user("prot-zzz", Role.PROTECTION_OFFICER, [sites["ZZZ"]])
    columns = exports.persons_export_start(user=other, purpose="x")
    assert "".join(exports.persons_export_lines(user=other, columns=columns)).count("\n") == 1


@pytest.mark.parametrize("site_codes", [["RHM"], ["NUR"], ["ZZZ"], ["RHM", "NUR"]])
def test_the_export_shows_exactly_the_visible_persons(register, make_user, sites, site_codes):
    """The exporter checks visibility on each chunk itself (for speed); it must agree with
    ``persons_visible``: registered at or held at one of the user's sites."""
    from mawa.reception.models import Person
    from mawa.reception.selectors import persons_visible

    moved, _c = register(given_lat="Moved", service_number="S-1")
    register(given_lat="Stayed", service_number="S-2")
    Person.objects.filter(pk=moved.pk).update(current_site=sites["NUR"])
    user = make_user(f"prot-{'-'.join(site_codes)}", Role.PROTECTION_OFFICER,
                     [sites[c] for c in site_codes])
    columns = exports.persons_export_start(user=user, purpose="x")
    lines = "".join(exports.persons_export_lines(user=user, columns=columns)).splitlines()[1:]
    exported = sorted(line.split(",")[0] for line in lines)
    assert exported == sorted(persons_visible(user=user).values_list("short_code", flat=True))
