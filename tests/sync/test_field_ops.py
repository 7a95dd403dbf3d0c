"""Field operations under faults (issue 17), end to end: headquarters and two crossing posts as
separate installations on this machine (HQ on PostgreSQL, the posts on SQLite), driven only
through the command-line contract (``mawa post create/join``, ``mawa sync export/import/push/
pull/status``, ``mawa verify``, ``mawa import``), over loopback through a fault-injecting proxy.

The installations are set up once for the module and every scenario goes on from the state the
previous one left (as an operation does). After each: zero lost and zero doubled records (the
ids at every node against what the scenarios registered), every conflict and duplicate in a
queue, ``mawa verify`` holds at every site, and a second sync changes nothing.

These run in the PostgreSQL run (``make test-postgres``: DATABASE_URL names the throwaway
cluster, where HQ gets a database of its own); the SQLite run skips them. By hand:

    python tests/pgcluster.py -- python -m pytest tests/sync/test_field_ops.py
"""

from __future__ import annotations

import datetime as dt
import http.server
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests

from tests.sync.installations import Installation, persons_csv, postgres_url
from tests.sync.proxy import Fault, FaultProxy

DAY = dt.timedelta(days=1)


# --- the proxy alone (no installation needed) --------------------------------------------
class _Echo(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # connections kept alive, as Django's server does
    hits: list[bytes] = []

    def do_POST(self):  # noqa: N802 (http.server's name)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Echo.hits.append(body)
        answer = body[::-1] * 50
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def echo():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()


def _post(url, body=b"abcdefgh" * 100, timeout=10):
    return requests.post(url, data=body, timeout=timeout)


def test_the_proxy_passes_and_breaks_traffic_as_told(echo):
    _Echo.hits.clear()
    with FaultProxy(echo) as proxy:
        assert _post(proxy.url).content == (b"abcdefgh" * 100)[::-1] * 50
        proxy.inject(Fault("cut"))
        with pytest.raises(requests.ConnectionError):
            _post(proxy.url)
        proxy.inject(Fault("drop_after", after=300, direction="down"))
        with pytest.raises(requests.RequestException):
            _post(proxy.url)
        proxy.inject(Fault("corrupt", after=500, direction="down"))
        answer = _post(proxy.url).content
        assert answer != (b"abcdefgh" * 100)[::-1] * 50
        assert len(answer) == 800 * 50
        before = len(_Echo.hits)
        proxy.inject(Fault("duplicate"))
        with requests.Session() as session:  # two requests on one kept-alive connection
            for body in (b"one" * 300, b"two" * 300):
                answer = session.post(proxy.url, data=body, timeout=10)
                assert answer.content == body[::-1] * 50
        assert _Echo.hits[before:] == [b"one" * 300] * 2 + [b"two" * 300] * 2
        fired = threading.Event()
        proxy.inject(Fault("throttle", chunk=100, seconds=0.01, after=300, on_bytes=fired.set))
        assert _post(proxy.url).status_code == 200
        assert fired.is_set()
        assert proxy.stats.faults == ["cut", "drop_after", "corrupt", "duplicate", "throttle"]


# --- the installations --------------------------------------------------------------------
_skip_without_postgres = pytest.mark.skipif(
    postgres_url() is None,
    reason="HQ runs on PostgreSQL: these run in the PostgreSQL run (make test-postgres)")


def needs_postgres(test):
    """A scenario with HQ on PostgreSQL: marked ``field_ops`` (the SQLite half of ``make test``
    leaves them out; the PostgreSQL half runs them), skipped with the reason when run by hand
    without a cluster."""
    return pytest.mark.field_ops(_skip_without_postgres(test))


@dataclass
class Field:
    root: Path
    hq: Installation
    posts: dict[str, Installation]
    proxy: FaultProxy
    token: str
    baseline: dict = field(default_factory=dict)  # HQ's persons before the scenarios
    registered: dict[str, set[str]] = field(default_factory=dict)  # node → its persons' names
    expected_new: int = 0  # persons registered anywhere by the scenarios
    n: int = 0

    def path(self, name: str) -> Path:
        self.n += 1
        return self.root / f"{self.n:03d}-{name}"


def register(f: Field, node: Installation, site: str, n: int, *, user: str = "reception",
             rows=None, clock_offset=None) -> list[list[str]]:
    csv = f.path(f"{node.name}-persons.csv")
    rows = persons_csv(csv, n, rows=rows)
    node.run("import", "persons", str(csv), "--user", user, "--site", site,
             clock_offset=clock_offset)
    f.expected_new += len(rows)
    return rows


def export(f: Field, node: Installation, to: str | None = None) -> Path:
    out = f.path(f"{node.name}-to-{to or 'peer'}.bundle")
    node.run("sync", "export", "--output", str(out), *(["--to", to] if to else []))
    return out


def counts_of(done) -> dict:
    """The counts a ``--json`` import, push or pull printed (applied, present, conflicts,
    waiting), with its exit status; only the status when it failed."""
    if done.returncode != 0:
        return {"exit": done.returncode, "applied": -1, "output": done.stdout + done.stderr}
    return {**json.loads(done.stdout.strip().splitlines()[-1]), "exit": 0}


def import_(node: Installation, bundle: Path, *, check: bool = True) -> dict:
    return counts_of(node.run("sync", "import", str(bundle), "--json", check=check))


def exchange(f: Field, post: Installation) -> tuple[dict, dict]:
    """One exchange by file: the post's bundle to HQ, then HQ's to the post."""
    up = import_(f.hq, export(f, post))
    down = import_(post, export(f, f.hq, to=post.name))
    return up, down


def converge(f: Field, *, rounds: int = 4) -> None:
    """Exchange until a whole round moves nothing: that last round is the second sync, which
    must change nothing."""
    for _ in range(rounds):
        moved = 0
        for post in f.posts.values():
            up, down = exchange(f, post)
            assert up["conflicts"] >= 0 and down["conflicts"] >= 0
            moved += up["applied"] + down["applied"]
        if moved == 0:
            return
    raise AssertionError(f"still moving after {rounds} rounds of exchanges")


def check(f: Field, *, conflicts_open: int = 0) -> dict[str, dict]:
    """Nothing lost, nothing doubled, the queues hold what they must, every chain verifies."""
    snaps = {name: node.snapshot(verify=True)
             for name, node in [("HQ", f.hq), *f.posts.items()]}
    hq = snaps["HQ"]
    assert len(hq["persons"]) == len(set(hq["persons"]))
    assert len(hq["persons"]) == len(f.baseline["persons"]) + f.expected_new, \
        "HQ lost or doubled registrations"
    for name, snap in snaps.items():
        for kind in ("persons", "groups", "items", "rollcalls"):
            missing = set(snap[kind]) - set(hq[kind])
            assert not missing, f"{name}'s {kind} missing at HQ: {sorted(missing)[:5]}"
        assert set(snap["change_ids"]) <= set(hq["change_ids"]), f"{name}'s changes lost"
    assert sum(s["conflicts_open"] for s in snaps.values()) == conflicts_open, \
        {k: s["conflicts_open"] for k, s in snaps.items()}
    return snaps


NEW_CROSSINGS = """
from mawa.core.models import SiteKind
for code, ar, en in (("KRM", "معبر الكرامة", "Karama crossing"),
                     ("RBW", "معبر الربوة", "Rabwa crossing")):
    site, _ = Site.objects.get_or_create(code=code, defaults=dict(
        kind=SiteKind.CROSSING, name_ar=ar, name_en=en))
    User.objects.get(username="reception").sites.add(site)
result = True
"""


@pytest.fixture(scope="module")
def ops(tmp_path_factory):
    root = tmp_path_factory.mktemp("field")
    hq = Installation("HQ", root, postgres=postgres_url())
    posts: dict[str, Installation] = {}
    proxy = None
    try:
        # the demo's sites and accounts without its story (the Done-when test below runs the
        # story's HQ on its own): the scenarios count every record they make
        hq.run("setup", "--no-demo")
        hq.query("from mawa.demo.loader import demo_load\ndemo_load(scenario=False)\n"
                 "result = True")
        # two new crossings, KRM and RBW, where the demo's reception officer works too (the
        # demo's crossing QAM has registrations made at HQ: see the short-code test below)
        hq.query(NEW_CROSSINGS)
        for code in ("KRM", "RBW"):
            enrol = root / f"{code.lower()}.enrol"
            hq.run("post", "create", code, "--output", str(enrol))
            post = posts[code] = Installation(code, root)
            post.run("setup", "--no-demo")
            post.run("post", "join", str(enrol))
        token = hq.query("""
import datetime as dt
from django.utils import timezone
from mawa.accounts import services
result = services.api_token_create(
    user=User.objects.get(username="admin"), name="sync", read_only=False, all_sites=True,
    expires_at=timezone.now() + dt.timedelta(days=7))[1]
""")
        hq.serve()
        proxy = FaultProxy(hq.port)
        f = Field(root=root, hq=hq, posts=posts, proxy=proxy, token=token)
        f.baseline = hq.snapshot()
        yield f
    finally:
        if proxy is not None:
            proxy.close()
        for node in (hq, *posts.values()):
            node.destroy()


def http_env(f: Field) -> dict[str, str]:
    return {"MAWA_SYNC_TOKEN": f.token}


def push(f: Field, post: Installation, *, check: bool = True) -> dict:
    return counts_of(post.run("sync", "push", f.proxy.url, "--json", check=check,
                              env=http_env(f)))


def pull(f: Field, post: Installation, *, check: bool = True) -> dict:
    return counts_of(post.run("sync", "pull", f.proxy.url, "--json", check=check,
                              env=http_env(f)))


# --- the scenarios, in the order an operation lives them ---------------------------------
@needs_postgres
def test_done_when_hq_with_the_demo_and_a_post_joined_from_its_enrolment_file(
        tmp_path_factory):
    """The issue's Done-when on installations of its own: HQ with the (small) demo, the demo's
    crossing QAM joined as a post, persons imported at the post, exported, imported at HQ,
    imported again with no change, a changed byte refused; and HQ's bundle back to the post."""
    root = tmp_path_factory.mktemp("done-when")
    hq = Installation("HQ", root, postgres=postgres_url())
    qam = Installation("QAM", root)
    try:
        hq.run("setup", "--demo-size", "30")
        hq.run("post", "create", "QAM", "--output", str(root / "qam.enrol"))
        qam.run("setup", "--no-demo")
        qam.run("post", "join", str(root / "qam.enrol"))
        persons_csv(root / "persons.csv", 5)
        qam.run("import", "persons", str(root / "persons.csv"), "--user", "reception",
                "--site", "QAM")
        qam.run("sync", "export", "--output", str(root / "up.bundle"))
        first = import_(hq, root / "up.bundle")
        assert (first["applied"], first["conflicts"]) == (5, 0), first
        before = hq.snapshot()
        again = import_(hq, root / "up.bundle")
        assert (again["applied"], again["present"]) == (0, 5), again
        (root / "changed.bundle").write_bytes(_flip((root / "up.bundle").read_bytes(), 300))
        assert import_(hq, root / "changed.bundle", check=False)["exit"] != 0
        assert hq.snapshot() == before
        for verified in (hq, qam):
            verified.run("verify")
        hq.run("sync", "export", "--output", str(root / "down.bundle"), "--to", "QAM")
        down = qam.run("sync", "import", str(root / "down.bundle"), "--json", check=False)
        assert down.returncode == 0, down.stderr[-3000:]
        # the registry came down (the demo's persons, for the post's duplicate checks), the
        # camps' and central stores' records did not
        held = qam.query("result = [Person.objects.count(), "
                         "Change.objects.filter(record_type__startswith='camp.').count()]")
        assert held[0] == hq.query("result = Person.objects.count()") and held[1] == 0
        qam.run("sync", "export", "--output", str(root / "again.bundle"))
        assert import_(hq, root / "again.bundle")["applied"] == 0  # nothing new either way
    finally:
        hq.destroy()
        qam.destroy()


@needs_postgres
def test_a_post_joins_registers_and_merges_by_file(ops):
    """A post joined from its enrolment file, persons imported at the post, exported, imported
    at HQ, imported again with no change, a changed byte refused; then both ways."""
    krm = ops.posts["KRM"]
    assert krm.query("result = Node.objects.get(is_self=True).code") == "KRM"
    assert krm.query("result = User.objects.filter(username='reception').exists()")
    register(ops, krm, "KRM", 5)
    bundle = export(ops, krm)
    first = import_(ops.hq, bundle)
    assert first["applied"] >= 5, first
    before = ops.hq.snapshot()
    again = import_(ops.hq, bundle)
    assert again["applied"] == 0 and again["present"] == first["applied"], again
    assert ops.hq.snapshot() == before
    changed = bytearray(bundle.read_bytes())
    changed[len(changed) // 2] ^= 0x01
    damaged = ops.path("damaged.bundle")
    damaged.write_bytes(bytes(changed))
    refused = import_(ops.hq, damaged, check=False)
    assert refused["exit"] != 0
    assert ops.hq.snapshot() == before
    converge(ops)
    check(ops)


@needs_postgres
def test_a_partition_of_simulated_days_merges_losing_nothing(ops):
    """Three days apart (the posts' clocks moved, not waited): each side registers every day;
    then they meet."""
    for day in (1, 2, 3):
        register(ops, ops.posts["KRM"], "KRM", 3, clock_offset=day * DAY)
        register(ops, ops.posts["RBW"], "RBW", 2, clock_offset=day * DAY)
        register(ops, ops.hq, "QAM", 1)  # HQ at the demo's crossing
    status = ops.posts["KRM"].run("sync", "status").stdout
    assert status.strip()
    converge(ops)
    check(ops)


def _person_of(node: Installation) -> str:
    return node.query("result = str(Person.objects.filter(site__code='KRM')"
                      ".order_by('-id').values_list('id', flat=True).first())")


EDIT = """
from mawa.reception import services
p = Person.objects.get(id="{id}")
services.person_update(actor=User.objects.get(username="{user}"), person=p, version=p.version,
                       changes={{"notes": "{notes}"}})
result = True
"""


@needs_postgres
def test_the_same_person_edited_at_the_post_and_at_hq_is_a_conflict_decided_once(ops):
    krm = ops.posts["KRM"]
    person = _person_of(krm)
    assert ops.hq.query(f"result = Person.objects.filter(id='{person}').exists()")
    krm.query(EDIT.format(id=person, user="reception", notes="seen limping at the post"))
    ops.hq.query(EDIT.format(id=person, user="reception", notes="hospital visit at HQ"))
    up = import_(ops.hq, export(ops, krm))
    assert up["conflicts"] >= 1, up
    down = import_(krm, export(ops, ops.hq, to="KRM"))
    assert down["applied"] >= 0
    assert check_conflicts_open(ops) >= 1
    # HQ decides: the post's version wins
    ops.hq.query("""
from mawa.sync.services import conflict_decide
for c in SyncConflict.objects.filter(decided_at__isnull=True):
    conflict_decide(actor=User.objects.get(username="admin"), conflict=c, choice="incoming")
result = True
""")
    converge(ops)
    check(ops)
    notes = f"result = Person.objects.get(id='{person}').notes"
    assert ops.hq.query(notes) == krm.query(notes) == "seen limping at the post"


def check_conflicts_open(f: Field) -> int:
    return sum(node.query("result = SyncConflict.objects.filter(decided_at__isnull=True)"
                          ".count()") for node in (f.hq, *f.posts.values()))


@needs_postgres
def test_the_same_soldier_at_two_posts_is_a_duplicate_to_review_not_a_conflict(ops):
    soldier = persons_csv(ops.path("soldier.csv"), 1)[0]
    # typed at each post among others (two files: an identical file would be one import)
    register(ops, ops.posts["KRM"], "KRM", 2, rows=[soldier, *persons_csv(ops.path("x"), 1)])
    register(ops, ops.posts["RBW"], "RBW", 2, rows=[*persons_csv(ops.path("y"), 1), soldier])
    converge(ops)
    snaps = check(ops)
    number = soldier[6].replace("-", "")  # the register keeps a service number without dashes
    ids = ops.hq.query("result = sorted(str(p.id) for p in Person.objects.all() "
                       f"if p.service_number == '{number}')")
    assert len(ids) == 2
    assert ids in snaps["HQ"]["pairs"], "the two registrations are not in the review queue"


def _sigkill(process) -> None:
    process.send_signal(signal.SIGKILL)


@needs_postgres
def test_a_transfer_killed_in_the_middle_resumes_sender_then_receiver(ops):
    krm = ops.posts["KRM"]
    register(ops, krm, "KRM", 40)
    half = export(ops, krm).stat().st_size // 2  # (an export acknowledges nothing)
    # the sender (the post's `mawa sync push`) killed halfway through its upload
    holder: list = []
    ops.proxy.inject(Fault("throttle", chunk=1024, seconds=0.02, after=half, times=0,
                           on_bytes=lambda: _sigkill(holder[0])))
    sender = krm.start("sync", "push", ops.proxy.url, env=http_env(ops))
    holder.append(sender)
    sender.wait(timeout=300)
    ops.proxy.clear()
    assert sender.returncode == -signal.SIGKILL, sender.communicate()
    push(ops, krm)  # run again: resumes, applies once
    # the receiver (HQ's server) killed halfway through the next upload and started again;
    # the push retries and resumes
    register(ops, krm, "KRM", 40)
    half = export(ops, krm).stat().st_size // 2
    restarted = threading.Event()

    def receiver_dies():
        def restart():
            ops.hq.stop(kill=True)
            ops.hq.serve()
            restarted.set()
        threading.Thread(target=restart, daemon=True).start()

    ops.proxy.inject(Fault("throttle", chunk=1024, seconds=0.02, after=half, times=0,
                           on_bytes=receiver_dies))
    done = push(ops, krm, check=False)
    ops.proxy.clear()
    assert restarted.wait(60), "the receiver was never killed"
    if done["exit"] != 0:  # the link failed more often than the client retries: rerun
        push(ops, krm)
    pull(ops, krm)
    # and a file import at HQ killed while it runs, then run again
    register(ops, krm, "KRM", 20)
    bundle = export(ops, krm)
    importer = ops.hq.start("sync", "import", str(bundle))
    time.sleep(1.5)
    importer.send_signal(signal.SIGKILL)
    importer.wait(timeout=60)
    import_(ops.hq, bundle)
    converge(ops)
    check(ops)


@needs_postgres
def test_bundles_duplicated_reordered_truncated_and_changed(ops):
    krm = ops.posts["KRM"]
    register(ops, krm, "KRM", 3)
    older = export(ops, krm)
    register(ops, krm, "KRM", 3)
    newer = export(ops, krm)
    before = ops.hq.snapshot()
    for bad in (newer.read_bytes()[: len(newer.read_bytes()) // 2],  # truncated
                newer.read_bytes()[:-1],
                _flip(newer.read_bytes(), 40),                          # in the header
                _flip(newer.read_bytes(), len(newer.read_bytes()) - 10)):  # the signature
        path = ops.path("bad.bundle")
        path.write_bytes(bad)
        assert import_(ops.hq, path, check=False)["exit"] != 0
        assert ops.hq.snapshot() == before, "a refused bundle left something behind"
    assert import_(ops.hq, newer)["applied"] >= 6  # the newer first, then the older
    assert import_(ops.hq, older)["applied"] == 0
    assert import_(ops.hq, newer)["applied"] == 0  # and the same twice
    # over HTTP: one byte changed on the way, and a request delivered twice
    register(ops, krm, "KRM", 3)
    ops.proxy.inject(Fault("corrupt", after=3000, direction="up"))
    push(ops, krm, check=False)
    ops.proxy.inject(Fault("duplicate", times=0))
    push(ops, krm)
    pull(ops, krm)
    ops.proxy.clear()
    converge(ops)
    check(ops)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1:]


@needs_postgres
def test_a_post_whose_clock_is_set_back_a_day(ops):
    rbw = ops.posts["RBW"]
    rbw.clock_offset = -DAY
    try:
        register(ops, rbw, "RBW", 4)
        for node in (ops.hq, *ops.posts.values()):
            assert node.run("sync", "status", "--json").stdout.strip()
        before = ops.hq.query("result = Change.objects.count()")
        converge(ops)
        assert ops.hq.query("result = Change.objects.count()") > before
        check(ops)
    finally:
        rbw.clock_offset = dt.timedelta(0)


@needs_postgres
def test_a_post_joined_where_hq_registered_before_mints_codes_that_never_collide(ops):
    """The Done-when with the demo's own crossing: HQ registered people at QAM (the demo), then
    QAM becomes a post and registers more: its short codes continue after HQ's (the site's
    counter travels down at enrolment). Runs last: a failure here leaves HQ's counts."""
    enrol = ops.root / "qam.enrol"
    ops.hq.run("post", "create", "QAM", "--output", str(enrol))
    qam = Installation("QAM", ops.root)
    try:
        qam.run("setup", "--no-demo")
        qam.run("post", "join", str(enrol))
        csv = ops.path("qam-persons.csv")
        persons_csv(csv, 5)
        qam.run("import", "persons", str(csv), "--user", "reception", "--site", "QAM")
        result = import_(ops.hq, export(ops, qam))
        assert (result["applied"], result["conflicts"]) == (5, 0), result
    finally:
        qam.destroy()
