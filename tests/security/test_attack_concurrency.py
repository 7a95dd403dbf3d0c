"""Attack test 24: registration under concurrent load from two sites, with a reader at one of
them: no lost or duplicated writes, no cross-site leakage, and every ledger chain verifies."""

from __future__ import annotations

import threading
import uuid

import pytest
from django.db import connections

from mawa.accounts.roles import Role

PER_WRITER = 8
FAMILY = ("Rahmawi", "Nuri", "Zaydi", "Zubairi")
LATIN = ("Adel", "Basim", "Faris", "Hadi", "Jamal", "Karim", "Munir", "Nabil", "Omar", "Rami",
         "Samir", "Tariq", "Wael", "Yasin", "Zaid", "Bilal")


@pytest.mark.django_db(transaction=True)
def test_concurrent_registration_at_two_sites_loses_nothing_and_leaks_nothing(sites,
                                                                               make_user):
    """Attack 24: concurrent writers at RHM and ZZZ and a reader at RHM, exact and isolated."""
    from mawa.core.ledger import ledger_verify
    from mawa.core.models import LedgerEntry
    from mawa.reception import selectors, services
    from mawa.reception.models import Person
    from mawa.reception.services import PersonInput

    rhm, zzz = sites["RHM"], sites["ZZZ"]
    writers = [(make_user(f"rhm_writer{n}", Role.RECEPTION_OFFICER, [rhm]), rhm) for n in range(2)]
    writers += [(make_user(f"zzz_writer{n}", Role.RECEPTION_OFFICER, [zzz]), zzz)
                for n in range(2)]
    reader = make_user("rhm_reader", Role.RECEPTION_OFFICER, [rhm])
    keys = {n: [uuid.uuid4() for _ in range(PER_WRITER)] for n in range(len(writers))}
    errors: list = []
    seen_sites: set = set()
    reads = [0]
    done = threading.Event()
    start = threading.Barrier(len(writers) + 1)

    def write(n):
        actor, site = writers[n]
        try:
            start.wait()
            for i, key in enumerate(keys[n]):
                services.person_register(actor=actor, site=site, client_key=key, data=PersonInput(
                    values={"given_lat": LATIN[(n * PER_WRITER + i) % len(LATIN)],
                            "family_lat": FAMILY[n], "sex": "male"},
                    birth=str(1970 + i)))
                if i == 0:  # a retry of the same submission must not make a second record
                    services.person_register(
                        actor=actor, site=site, client_key=key, data=PersonInput(
                            values={"given_lat": LATIN[(n * PER_WRITER) % len(LATIN)],
                                    "family_lat": FAMILY[n], "sex": "male"},
                            birth="1970"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    def read():
        try:
            start.wait()
            while True:
                finished = done.is_set()
                page = selectors.person_search(user=reader, limit=200)
                seen_sites.update(p.site_id for p in page.persons)
                seen_sites.update(selectors.persons_visible(user=reader)
                                  .values_list("site_id", flat=True))
                reads[0] += 1
                if finished:
                    break
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=write, args=(n,)) for n in range(len(writers))]
    reader_thread = threading.Thread(target=read)
    reader_thread.start()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    done.set()
    reader_thread.join(timeout=120)
    assert not any(t.is_alive() for t in [*threads, reader_thread])
    assert not errors, errors

    total = len(writers) * PER_WRITER
    assert Person.objects.count() == total
    assert Person.objects.filter(site=rhm).count() == 2 * PER_WRITER
    assert Person.objects.filter(site=zzz).count() == 2 * PER_WRITER
    assert set(Person.objects.values_list("client_key", flat=True)) == {
        k for ks in keys.values() for k in ks}
    codes = list(Person.objects.values_list("short_code", flat=True))
    assert len(set(codes)) == total
    assert LedgerEntry.objects.filter(kind="person.registered").count() == total
    assert reads[0] >= 1
    assert seen_sites <= {rhm.id}, "the RHM reader saw another site's person"
    # after the load, the reader sees exactly RHM's persons
    visible = selectors.person_search(user=reader, limit=200).persons
    assert {p.site_id for p in visible} == {rhm.id} and len(visible) == 2 * PER_WRITER
    assert ledger_verify().ok
