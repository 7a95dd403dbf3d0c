"""Registration, corrections, separation: the rules of services.py, on SQLite and PostgreSQL."""

import datetime as dt
import uuid

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone, translation

from mawa.accounts.roles import Role
from mawa.core.errors import Conflict, Forbidden, NotFound, ValidationFailed
from mawa.core.ledger import ledger_payload, ledger_verify
from mawa.core.models import LedgerEntry
from mawa.reception import services
from mawa.reception.models import (
    ArrivalGroup,
    DatePrecision,
    IdentityDocument,
    Person,
    PersonRevision,
    Status,
)
from mawa.reception.services import DocumentInput, PersonInput
from mawa.reception.values import document_lookup


class TestArrivalGroup:
    def test_it_creates_a_group_with_a_short_code_and_a_ledger_entry(self, group, sites):
        assert group.short_code.startswith("RHM-")
        entry = LedgerEntry.objects.get(stream=f"group/{group.id}")
        assert entry.kind == "group.created"
        assert ledger_payload(entry)["reported_count"] == 3

    def test_a_retried_submission_returns_the_same_group(self, sites, officer):
        key = uuid.uuid4()
        kw = {"actor": officer, "site": sites["RHM"], "client_key": key,
                  "arrived_at": timezone.now(), "reported_count": 5}
        assert services.arrival_group_create(**kw) == services.arrival_group_create(**kw)
        assert ArrivalGroup.objects.count() == 1

    def test_it_is_logged_only_at_a_crossing(self, sites, officer):
        with pytest.raises(ValidationFailed) as exc:
            services.arrival_group_create(actor=officer, site=sites["NUR"],
                                          client_key=uuid.uuid4(), arrived_at=timezone.now(),
                                          reported_count=5)
        assert "site" in exc.value.fields

    def test_another_sites_officer_cannot_log_a_group_here(self, sites, users):
        with pytest.raises(NotFound):
            services.arrival_group_create(actor=users["outsider"], site=sites["RHM"],
                                          client_key=uuid.uuid4(), arrived_at=timezone.now(),
                                          reported_count=5)

    def test_a_camp_role_may_not_log_groups(self, sites, users):
        with pytest.raises(Forbidden):
            services.arrival_group_create(actor=users[Role.CAMP_STAFF], site=sites["RHM"],
                                          client_key=uuid.uuid4(), arrived_at=timezone.now(),
                                          reported_count=5)

    def test_future_arrival_and_negative_count_are_refused_together(self, sites, officer):
        with pytest.raises(ValidationFailed) as exc:
            services.arrival_group_create(actor=officer, site=sites["RHM"],
                                          client_key=uuid.uuid4(), reported_count=-1,
                                          arrived_at=timezone.now() + dt.timedelta(days=2))
        assert set(exc.value.fields) == {"arrived_at", "reported_count"}

    def test_update_is_versioned(self, group, officer):
        updated = services.arrival_group_update(actor=officer, group=group, version=1,
                                                reported_count=4)
        assert updated.version == 2 and updated.reported_count == 4
        with pytest.raises(Conflict):
            services.arrival_group_update(actor=officer, group=group, version=1,
                                          reported_count=9)


class TestRegistration:
    def test_it_registers_a_person_with_keys_history_and_ledger(self, register):
        person, created = register()
        assert created
        assert person.status == Status.ARRIVED and person.short_code.startswith("RHM-")
        assert (person.birth_year, person.birth_month, person.birth_day) == (1990, 3, 15)
        assert person.birth_precision == DatePrecision.DAY
        assert person.current_site == person.site
        keys = set(person.name_keys.values_list("part", "key"))
        # mawa.names keys: محمد and Mohammed are one name, الحلبي and Halabi one skeleton
        assert ("given", "muhammad") in keys and ("family", "~hlb") in keys
        entry = LedgerEntry.objects.get(stream=f"person/{person.id}")
        assert entry.kind == "person.registered"
        assert "محمد" not in entry.payload  # no personal values on the ledger
        assert person.events.get().to_status == Status.ARRIVED
        assert ledger_verify().ok

    def test_same_key_and_same_content_returns_the_existing_person(self, register):
        key = uuid.uuid4()
        first, created = register(client_key=key)
        again, created_again = register(client_key=key)
        assert created and not created_again
        assert first.pk == again.pk
        assert Person.objects.count() == 1

    def test_same_key_with_other_content_is_a_conflict(self, register):
        key = uuid.uuid4()
        register(client_key=key)
        with pytest.raises(Conflict) as exc:
            register(client_key=key, given_ar="علي")
        assert exc.value.code == "idempotency_conflict"
        assert Person.objects.count() == 1

    @pytest.mark.parametrize("typed,expected", [
        ("1990", (1990, None, None, "year")),
        ("١٩٩٠-٠٣", (1990, 3, None, "month")),
        ("۱۹۹۰/۰۳/۱۵", (1990, 3, 15, "day")),
        ("15/03/1990", (1990, 3, 15, "day")),
        ("", (None, None, None, "unknown")),
    ])
    def test_partial_dates_in_any_digits(self, register, typed, expected):
        person, _ = register(birth=typed)
        assert (person.birth_year, person.birth_month, person.birth_day,
                person.birth_precision) == expected

    @pytest.mark.parametrize("typed", ["1990-02-30", "1990-13", "31/02/1991", "hello", "1850"])
    def test_impossible_dates_are_refused(self, register, typed):
        with pytest.raises(ValidationFailed) as exc:
            register(birth=typed)
        assert "birth" in exc.value.fields

    def test_birth_after_arrival_is_refused(self, register):
        tomorrow = (timezone.now() + dt.timedelta(days=1)).date().isoformat()
        with pytest.raises(ValidationFailed) as exc:
            register(birth=tomorrow)
        with translation.override("en"):
            assert "after the arrival" in str(exc.value.fields["birth"][0])

    def test_a_child_cannot_be_registered_as_a_combatant(self, register):
        year = timezone.now().year - 15
        with pytest.raises(ValidationFailed) as exc:
            register(birth=str(year))
        assert "category" in exc.value.fields
        person, _ = register(birth=str(year), category="child")
        assert person.category == "child"

    def test_approximate_age_gives_an_estimated_year(self, sites, officer, group):
        person, _ = services.person_register(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
            data=PersonInput(values={"given_ar": "علي"}, approximate_age=30))
        assert person.birth_year == group.arrived_at.year - 30
        assert person.birth_precision == DatePrecision.ESTIMATED

    @pytest.mark.parametrize("field,value", [
        ("given_ar", "محمدAli"), ("family_lat", "Halabi حلبي"), ("given_ar", "Mohammed"),
        ("given_lat", "محمد"), ("given_lat", "<script>alert(1)</script>"),
    ])
    def test_names_hold_one_script_and_no_markup(self, register, field, value):
        with pytest.raises(ValidationFailed) as exc:
            register(**{field: value})
        assert field in exc.value.fields

    def test_all_errors_are_reported_at_once(self, register):
        with pytest.raises(ValidationFailed) as exc:
            register(given_ar="Ali", family_lat="حلبي", birth="2999", nationality="Syria")
        assert {"given_ar", "family_lat", "birth", "nationality"} <= set(exc.value.fields)

    def test_markup_in_free_text_is_stored_as_text(self, register):
        person, _ = register(unit="<img src=x onerror=alert(1)>")
        assert person.unit == "<img src=x onerror=alert(1)>"

    def test_a_name_is_required(self, sites, officer, group):
        with pytest.raises(ValidationFailed) as exc:
            services.person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                     group=group, data=PersonInput(values={"sex": "male"}))
        assert "given_ar" in exc.value.fields

    def test_status_and_site_cannot_be_mass_assigned(self, register):
        with pytest.raises(Forbidden):
            register(status="released")
        with pytest.raises(Forbidden):
            register(icrc_withheld=True)

    def test_unknown_document_kind_is_refused(self, sites, officer, group):
        with pytest.raises(ValidationFailed) as exc:
            services.person_register(
                actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
                data=PersonInput(values={"given_ar": "علي"},
                                 documents=[DocumentInput(kind="library_card", number="1")]))
        assert "documents.0.kind" in exc.value.fields

    def test_documents_are_stored_with_a_search_key(self, sites, officer, group):
        person, _ = services.person_register(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
            data=PersonInput(values={"given_ar": "علي"}, documents=[
                DocumentInput(kind="national_id", number="ab-١٢٣ ٤٥", issuer="Damascus")]))
        doc = IdentityDocument.objects.get(person=person)
        assert doc.number == "ab-123 45" and doc.number_key == document_lookup("AB12345")

    def test_a_40_mb_photo_is_refused_with_a_clear_message(self, sites, officer, group):
        big = SimpleUploadedFile("p.jpg", b"\xff\xd8\xff" + b"0" * (40 * 1024 * 1024),
                                 content_type="image/jpeg")
        with translation.override("en"), pytest.raises(ValidationFailed) as exc:
            services.person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                     group=group,
                                     data=PersonInput(values={"given_ar": "علي"}, photo=big))
        message = str(exc.value.fields["photo"][0])
        assert message.startswith("The file is 40.0 MB; the limit is 5 MB")
        assert Person.objects.count() == 0

    def test_a_photo_that_is_not_an_image_is_refused(self, sites, officer, group):
        fake = SimpleUploadedFile("p.jpg", b"<svg onload=alert(1)>", content_type="image/jpeg")
        with pytest.raises(ValidationFailed) as exc:
            services.person_register(actor=officer, site=sites["RHM"], client_key=uuid.uuid4(),
                                     group=group,
                                     data=PersonInput(values={"given_ar": "علي"}, photo=fake))
        assert "photo" in exc.value.fields

    def test_a_small_photo_is_stored(self, sites, officer, group, settings, tmp_path):
        settings.MEDIA_ROOT = tmp_path
        import io

        from PIL import Image

        png = io.BytesIO()
        Image.new("RGB", (20, 20), (9, 9, 9)).save(png, format="PNG")
        photo = SimpleUploadedFile("p.png", png.getvalue())
        person, _ = services.person_register(
            actor=officer, site=sites["RHM"], client_key=uuid.uuid4(), group=group,
            data=PersonInput(values={"given_ar": "علي"}, photo=photo))
        # kept as a re-encoded working copy (core.uploads): an opaque photo becomes JPEG
        assert person.photo.name.endswith(".jpg")

    def test_outsider_cannot_register_at_rhm(self, register, users):
        with pytest.raises(NotFound):
            register(actor=users["outsider"])

    def test_camp_staff_cannot_register(self, register, users):
        with pytest.raises(Forbidden):
            register(actor=users[Role.CAMP_STAFF])

    def test_group_of_another_site_is_refused(self, register, sites, make_user):
        other = make_user("o2", Role.RECEPTION_OFFICER, [sites["ZZZ"], sites["RHM"]])
        zgroup = services.arrival_group_create(actor=other, site=sites["ZZZ"],
                                               client_key=uuid.uuid4(),
                                               arrived_at=timezone.now(), reported_count=1)
        with pytest.raises(ValidationFailed):
            register(actor=other, grp=zgroup)


class TestUpdate:
    def test_a_correction_keeps_the_prior_values(self, register, officer):
        person, _ = register()
        updated = services.person_update(actor=officer, person=person, version=1,
                                         changes={"given_lat": "Muhammad", "birth": "1991"})
        assert updated.version == 2 and updated.given_lat == "Muhammad"
        assert updated.birth_year == 1991 and updated.birth_precision == "year"
        rev = PersonRevision.objects.get(person=person)
        assert rev.version == 1 and rev.prior["given_lat"] == "Mohammed"
        assert rev.prior["birth_day"] == 15
        assert ("given", "muhammad") in set(updated.name_keys.values_list("part", "key"))

    def test_a_stale_version_is_a_conflict(self, register, officer):
        person, _ = register()
        services.person_update(actor=officer, person=person, version=1,
                               changes={"rank": "Sergeant"})
        with pytest.raises(Conflict) as exc:
            services.person_update(actor=officer, person=person, version=1,
                                   changes={"rank": "Captain"})
        assert exc.value.code == "stale_version"
        person.refresh_from_db()
        assert person.rank == "Sergeant"

    def test_status_cannot_be_changed_by_update(self, register, officer):
        person, _ = register()
        with pytest.raises(Forbidden):
            services.person_update(actor=officer, person=person, version=1,
                                   changes={"status": "released"})

    def test_bad_values_are_refused(self, register, officer):
        person, _ = register()
        with pytest.raises(ValidationFailed):
            services.person_update(actor=officer, person=person, version=1,
                                   changes={"given_ar": "Ali"})
