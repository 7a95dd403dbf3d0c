"""Identity resolution on the Django side of ``mawa.names``.

Four groups of tables:

* the registry index — ``IndexedPerson`` (what the engine reads of a person, as a
  ``NameRecord`` in JSON), ``IndexKey`` (one row per blocking key of ``names.name_keys``,
  indexed) and ``NameCount`` (how often each name occurs, for frequency weights). Derived
  data, rebuilt from the register at any time by ``registry_index_rebuild``;
* watch lists — ``Watchlist`` (source, version, licence), ``WatchlistEntry`` and
  ``WatchlistKey``: part of the accountability compartment;
* ``MatchRun`` and ``MatchPair`` — suggestions (registry duplicates and watch-list hits)
  with probability and explanation, and the decision a person took on each;
* ``PersonMerge`` — a duplicate pointed at its survivor. Nothing is deleted: the duplicate's
  row, lifecycle and ledger stream stay readable.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from mawa.core.ids import uuid7
from mawa.core.models import Site
from mawa.reception.models import Person


class IndexedPerson(models.Model):
    """A person as the matching engine sees them (``record``: NameRecord fields as JSON).

    ``active`` is False once the person was merged into another: they are no longer
    suggested, but stay in the table for history.
    """

    person = models.OneToOneField(Person, on_delete=models.CASCADE, primary_key=True,
                                  related_name="match_index")
    record = models.JSONField()
    name_counts = models.JSONField(default=list)  # [[pool, key], …] counted in NameCount
    active = models.BooleanField(default=True)
    indexed_at = models.DateTimeField(auto_now=True)


class IndexKey(models.Model):
    """One blocking key of one person. Two persons are compared when they share a key.

    Only active persons have keys: a merge deletes the duplicate's (``services._merge``), so
    candidate look-ups read this table alone, without joining ``IndexedPerson`` for ``active``.
    """

    id = models.BigAutoField(primary_key=True)
    # no index of its own: the unique (person, key) index serves every look-up by person, and
    # one index fewer to write for each of the ~10 keys a registration adds
    person = models.ForeignKey(IndexedPerson, on_delete=models.CASCADE, related_name="keys",
                               db_index=False)
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key", "person"], name="matchkey_key_person")]
        constraints = [models.UniqueConstraint(fields=["person", "key"],
                                               name="matchkey_unique")]


class NameCount(models.Model):
    """How many indexed persons carry a name (``pool``: given, family or place).

    The row with ``key=""`` of each pool holds the pool's total. Rare names weigh more.
    """

    id = models.BigAutoField(primary_key=True)
    pool = models.CharField(max_length=8)
    key = models.CharField(max_length=200)
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["pool", "key"], name="namecount_unique")]


class Watchlist(models.Model):
    """One imported version of a watch list. Compartment data: investigators only."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    source = models.CharField(_("source"), max_length=200)
    version = models.CharField(_("version"), max_length=100)
    licence = models.CharField(_("licence"), max_length=200)
    file_name = models.CharField(_("file"), max_length=300, blank=True)
    file_sha256 = models.CharField(max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True,
                                 help_text=_("Only the newest version of a source is used."))
    entity_count = models.PositiveIntegerField(_("entities"), default=0)
    report = models.JSONField(default=dict, blank=True)  # rows read, skipped, problems
    imported_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                    related_name="+", null=True, blank=True)
    imported_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-imported_at"]
        verbose_name = _("watch list")
        verbose_name_plural = _("watch lists")
        constraints = [models.UniqueConstraint(fields=["source", "version"],
                                               name="watchlist_source_version")]

    def __str__(self) -> str:
        return f"{self.source} {self.version}"


class WatchlistEntry(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    watchlist = models.ForeignKey(Watchlist, on_delete=models.PROTECT, related_name="entries")
    entity_id = models.CharField(max_length=200)
    name = models.CharField(max_length=300)
    record = models.JSONField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["watchlist", "entity_id"],
                                               name="watchentry_unique")]

    def __str__(self) -> str:
        return self.name


class WatchlistKey(models.Model):
    id = models.BigAutoField(primary_key=True)
    entry = models.ForeignKey(WatchlistEntry, on_delete=models.CASCADE, related_name="keys")
    key = models.CharField(max_length=200)

    class Meta:
        indexes = [models.Index(fields=["key", "entry"], name="watchkey_key_entry")]


class RunKind(models.TextChoices):
    DEDUPE_REGISTRY = "dedupe_registry", _("De-duplication of the registry")
    DEDUPE_PERSONS = "dedupe_persons", _("De-duplication of an import")
    SCREEN_REGISTRY = "screen_registry", _("Screening of the registry")


class MatchRun(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=RunKind.choices)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    records = models.PositiveIntegerField(_("records"), default=0)
    pairs_found = models.PositiveIntegerField(_("pairs found"), default=0)
    pairs_new = models.PositiveIntegerField(_("new suggestions"), default=0)
    threshold = models.FloatField(default=0.5)
    watchlist = models.ForeignKey(Watchlist, on_delete=models.PROTECT, null=True, blank=True,
                                  related_name="runs")

    class Meta:
        ordering = ["-started_at"]


class PairKind(models.TextChoices):
    DUPLICATE = "duplicate", _("Possible duplicate")
    WATCHLIST = "watchlist", _("Watch-list hit")


class Decision(models.TextChoices):
    MATCH = "match", _("Same person")
    NOT_MATCH = "not_match", _("Not the same person")
    UNSURE = "unsure", _("Unsure")


class MatchPair(models.Model):
    """A suggestion waiting for (or carrying) a person's decision.

    ``duplicate``: ``person_a`` and ``person_b`` (a < b by id, so a pair is stored once).
    ``watchlist``: ``person_a`` and ``entry``. A decided pair is never suggested again.
    """

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    kind = models.CharField(max_length=10, choices=PairKind.choices)
    person_a = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    person_b = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+",
                                 null=True, blank=True)
    entry = models.ForeignKey(WatchlistEntry, on_delete=models.PROTECT, related_name="hits",
                              null=True, blank=True)
    run = models.ForeignKey(MatchRun, on_delete=models.SET_NULL, null=True, blank=True,
                            related_name="pairs")
    probability = models.FloatField()
    weight = models.FloatField(default=0)
    reasons = models.JSONField(default=list)  # [{"code", "text", "weight"}, …]
    found_at = models.DateTimeField(auto_now_add=True)
    decision = models.CharField(max_length=10, choices=Decision.choices, blank=True)
    decision_reason = models.TextField(blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+", null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    ledger_seq = models.PositiveBigIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["-probability", "id"]
        indexes = [models.Index(fields=["kind", "decision", "-probability"],
                                name="matchpair_queue")]
        constraints = [
            models.UniqueConstraint(fields=["person_a", "person_b"],
                                    condition=models.Q(kind="duplicate"),
                                    name="matchpair_duplicate_once"),
            models.UniqueConstraint(fields=["person_a", "entry"],
                                    condition=models.Q(kind="watchlist"),
                                    name="matchpair_hit_once"),
            models.CheckConstraint(
                condition=(models.Q(kind="duplicate", person_b__isnull=False,
                                    entry__isnull=True)
                           | models.Q(kind="watchlist", person_b__isnull=True,
                                      entry__isnull=False)),
                name="matchpair_kind_fields"),
            models.CheckConstraint(condition=models.Q(decision__in=["", *Decision.values]),
                                   name="matchpair_decision_known"),
        ]


class PersonMerge(models.Model):
    """``duplicate`` is the same person as ``survivor``. Both rows and histories stay."""

    id = models.UUIDField(primary_key=True, default=uuid7, editable=False)
    duplicate = models.OneToOneField(Person, on_delete=models.PROTECT, related_name="merged_into")
    survivor = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="merged_from")
    pair = models.OneToOneField(MatchPair, on_delete=models.PROTECT, related_name="merge")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                              related_name="+")
    site = models.ForeignKey(Site, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField()
    ledger_seq = models.PositiveBigIntegerField()

    class Meta:
        constraints = [models.CheckConstraint(condition=~models.Q(duplicate=models.F("survivor")),
                                              name="merge_not_self")]
