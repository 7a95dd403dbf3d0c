"""Pair scoring: a Fellegi–Sunter model with name-frequency weights and a guard for families.

Each comparison level contributes ``log2(m / u)`` bits of evidence, where ``m`` is how often
the level is seen for two records of one person and ``u`` how often for two different
people. ``m`` values are set from how registration data goes wrong (listed in WEIGHTS below,
the knobs to tune); ``u`` for an exact name agreement is the frequency of that name in the
data being processed, so a shared Mohammed counts for little and a shared rare name for
much. Two departures from plain Fellegi–Sunter, both because its independence assumption
fails for families:

* father, grandfather, family and mother names are one *family group* whose evidence is
  capped: brothers share all four, so together they prove a family, not a person;
* a chain shifted by one generation (my father's name is your given name, my grandfather's
  your father's) is evidence against, because that is how a father and son look.

The total is turned into a probability with a logistic calibration fitted on generated data
(see ``bench/names/``): ``p = 1 / (1 + 2 ** -(slope * (W - offset)))``.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._compare import DIFF, EXACT, TYPO, VARIANT, WEAK, dob_level, id_level, slot_level
from ._learned import LN2, RULE_CODE, Model, default_model, pair_features
from ._record import Prepared
from ._units import Unit

# m-probabilities per name level; u for non-exact levels. Bits = log2(m / u).
NAME_M = {EXACT: 0.80, VARIANT: 0.12, TYPO: 0.04, WEAK: 0.02, DIFF: 0.02}
NAME_U = {VARIANT: 0.004, TYPO: 0.01, WEAK: 0.05, DIFF: 0.95}
MAX_NAME_BITS = 12.0
FAMILY_GROUP_CAP = 10.0
# A true pair rarely has different given names once variants and typos are recognised;
# brothers always do. So a given-name disagreement weighs more than other name slots.
GIVEN_DIFF_M = 0.002
# Bits per date level (already log2(m/u), see _compare.dob_level for the levels).
DOB_BITS = {
    "missing": 0.0,
    "exact": 11.0,
    "swap": 6.5,
    "jan1": 4.0,
    "month": 3.5,
    "year": 4.0,
    "year_other": -0.5,
    "year1": -0.5,
    "year3": -3.0,
    "far": -6.0,
}
NATIONAL_ID_BITS = {"missing": 0.0, "same": 14.0, "near": 5.0, "diff": -5.0}
MILITARY_ID_BITS = {"missing": 0.0, "same": 12.0, "near": 4.0, "diff": -4.0}
# A wrongly recorded sex is a common clerical slip (a default left on the form): a moderate
# penalty, so that a true pair that agrees on everything else still matches.
SEX_BITS = {"same": 0.9, "diff": -3.0}
PLACE_SAME_MAX_BITS, PLACE_DIFF_BITS = 5.0, -1.5
NATIONALITY_BITS = {"same": 0.3, "diff": -2.0}
SHIFTED_CHAIN_BITS = -9.0
SWAPPED_ORDER_BITS = -1.0
KUNYA_SAME_BITS = 2.0

# Default calibration: probability 0.5 at OFFSET bits; SLOPE scales bits to log-odds.
CALIBRATION_OFFSET = 10.0
CALIBRATION_SLOPE = 0.6

# Frequencies used before any data is seen (share of people with that name in the region),
# so that score_pair on two lone records still knows Mohammed is common.
_PRIOR_GIVEN = {
    "muhammad": 0.12,
    "ahmad": 0.05,
    "ali": 0.035,
    "mahmud": 0.02,
    "mustafa": 0.015,
    "hasan": 0.02,
    "husayn": 0.02,
    "khalid": 0.015,
    "omar": 0.015,
    "ibrahim": 0.015,
    "yusuf": 0.012,
    "abd|rahman": 0.012,
    "abd|allah": 0.015,
    "fatima": 0.03,
    "abbas": 0.01,
}
_DEFAULT_FREQ = 0.0008

FIELD_LABEL = {
    "given": "given name",
    "father": "father's name",
    "grandfather": "grandfather's name",
    "family": "family name",
    "mother": "mother's name",
}
LEVEL_PHRASE = {
    EXACT: "same",
    VARIANT: "spelling variants of one name",
    TYPO: "one letter apart",
    WEAK: "similar but possibly different names",
    DIFF: "different",
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One comparison's outcome: machine ``code``, English ``text`` and its evidence in bits.

    Positive ``weight`` speaks for one person, negative for two. The Django side translates
    by ``code``; ``text`` is the English fallback and may quote the names compared.
    """

    code: str
    text: str
    weight: float


@dataclass(frozen=True, slots=True)
class Match:
    """A scored pair: calibrated ``probability`` (0..1), total ``weight`` in bits, reasons."""

    probability: float
    weight: float
    reasons: tuple[Reason, ...]

    @property
    def explanation(self) -> list[str]:
        """The reasons as English sentences, strongest evidence first."""
        return [r.text for r in sorted(self.reasons, key=lambda r: -abs(r.weight))]


class NameFrequencies:
    """Name frequencies for weighting, estimated from the records being processed.

    Two pools of names: given-type names (given, father, grandfather, mother) and family
    names, because Halabi as a family name and Halabi as a given name are different events;
    a third pool counts birth places. Counts are smoothed with a small built-in prior so a
    name seen once still has a sensible weight.

    Build it from prepared records (:meth:`from_records`, :meth:`add`) or, when the counts
    are kept elsewhere (a database table kept up to date with :meth:`counts_of`), from those
    counts (:meth:`from_counts`); both give the same weights for the same population.
    """

    #: The pools of :meth:`counts_of` and :meth:`from_counts`.
    POOLS = ("given", "family", "place")

    def __init__(self) -> None:
        self.given: Counter[str] = Counter()
        self.family: Counter[str] = Counter()
        self.places: Counter[str] = Counter()
        self.n_given = 0
        self.n_family = 0
        self.n_places = 0
        # Bits per (field, level, name) are cached; the cache is dropped whenever the counts
        # have grown by more than 1 %, so an index that keeps learning stays accurate.
        self.bits_cache: dict[tuple[str, str, str], float] = {}
        self._cache_n = 0

    @staticmethod
    def counts_of(record: Prepared) -> list[tuple[str, str]]:
        """The ``(pool, key)`` pairs :meth:`add` counts for ``record``, in that order.

        The first unit of the given, father, grandfather and mother names goes to the
        ``given`` pool, the first unit of the family name to ``family`` (both by frequency
        key ``fkey``), the birth place to ``place``. A name repeated in two slots is counted
        twice. Store these per record to keep counts for :meth:`from_counts` up to date.
        """
        out = [
            ("given", u.fkey)
            for slot in (record.given, record.father, record.grandfather, record.mother)
            for u in slot[:1]
        ]
        out += [("family", u.fkey) for u in record.family[:1]]
        if record.place:
            out.append(("place", record.place))
        return out

    def add(self, record: Prepared) -> None:
        """Count the names of one prepared record (the pairs of :meth:`counts_of`)."""
        for pool, key in self.counts_of(record):
            if pool == "given":
                self.given[key] += 1
                self.n_given += 1
            elif pool == "family":
                self.family[key] += 1
                self.n_family += 1
            else:
                self.places[key] += 1
                self.n_places += 1
        if self.n_given > 1.01 * self._cache_n + 100:
            self.bits_cache.clear()
            self._cache_n = self.n_given

    @classmethod
    def from_records(cls, records: Iterable[Prepared]) -> NameFrequencies:
        """Count every record in ``records``."""
        freqs = cls()
        for r in records:
            freqs.add(r)
        return freqs

    @classmethod
    def from_counts(
        cls,
        counts: Mapping[tuple[str, str], int],
        totals: Mapping[str, int] | None = None,
    ) -> NameFrequencies:
        """Frequencies from counts kept elsewhere, e.g. in a database table.

        ``counts`` maps ``(pool, key)`` — as :meth:`counts_of` gives them — to how many
        times that name was counted. ``totals`` maps a pool to how many names of the pool
        were counted in the whole population. Without ``totals`` the counts must be complete
        and each pool's total is the sum of its counts; with it, ``counts`` may hold only
        the names that will be looked up (the weights of those names are then the same as
        with all counts). A pool missing from ``totals`` has a total of 0.

        ``NameFrequencies.from_counts(Counter(pair for r in records for pair in
        NameFrequencies.counts_of(r)))`` weighs names as ``from_records(records)`` does.
        Raises ``ValueError`` for a pool not in :data:`POOLS` or an empty key.
        """
        by_pool: dict[str, dict[str, int]] = {pool: {} for pool in cls.POOLS}
        unknown = {pool for pool, _key in counts} | set(totals or ())
        unknown -= set(cls.POOLS)
        if unknown:
            raise ValueError(f"unknown pool {min(unknown)!r}, expected one of {cls.POOLS}")
        for (pool, key), n in counts.items():
            if not key:
                raise ValueError(f"empty key in pool {pool!r}")
            by_pool[pool][key] = n
        if totals is None:
            totals = {pool: sum(c.values()) for pool, c in by_pool.items()}
        freqs = cls()
        freqs.given = Counter(by_pool["given"])
        freqs.family = Counter(by_pool["family"])
        freqs.places = Counter(by_pool["place"])
        freqs.n_given = totals.get("given", 0)
        freqs.n_family = totals.get("family", 0)
        freqs.n_places = totals.get("place", 0)
        return freqs

    def given_freq(self, fkey: str) -> float:
        """Share of given-type names equal to ``fkey``, smoothed toward the prior."""
        prior = _PRIOR_GIVEN.get(fkey, _DEFAULT_FREQ)
        return (self.given.get(fkey, 0) + 50 * prior) / (self.n_given + 50)

    def family_freq(self, fkey: str) -> float:
        """Share of family names equal to ``fkey``, smoothed toward the prior."""
        return (self.family.get(fkey, 0) + 50 * _DEFAULT_FREQ) / (self.n_family + 50)

    def place_freq(self, key: str) -> float:
        """Share of birth places equal to ``key``."""
        return (self.places.get(key, 0) + 5 * 0.05) / (self.n_places + 5)


def _name_bits(level: str, unit: Unit | None, freq: float, field: str = "") -> float:
    if level == "missing":
        return 0.0
    m = GIVEN_DIFF_M if (level == DIFF and field == "given") else NAME_M[level]
    if level == EXACT:
        u = max(freq, 1e-6)
    elif level == VARIANT:
        u = max(freq, NAME_U[VARIANT])
    else:
        u = NAME_U[level]
    return min(math.log2(m / u), MAX_NAME_BITS)


def _slot(
    a: tuple[Unit, ...],
    b: tuple[Unit, ...],
    field: str,
    freqs: NameFrequencies,
    reasons: list[Reason] | None,
) -> tuple[str, float]:
    level, ua, ub = slot_level(a, b)
    if level == "missing":
        return level, 0.0
    assert ua is not None and ub is not None
    key = (field, level, ua.fkey)
    bits = freqs.bits_cache.get(key)
    if bits is None:
        freq = freqs.family_freq(ua.fkey) if field == "family" else freqs.given_freq(ua.fkey)
        bits = _name_bits(level, ua, freq, field)
        freqs.bits_cache[key] = bits
    if reasons is None:
        return level, bits
    freq = freqs.family_freq(ua.fkey) if field == "family" else freqs.given_freq(ua.fkey)
    label = FIELD_LABEL[field]
    if level == EXACT and ua.text == ub.text:
        text = f"{label}: same ({ua.text})"
    else:
        text = f"{label}: {LEVEL_PHRASE[level]} ({ua.text} / {ub.text})"
    if level == EXACT and freq >= 0.01:
        text += ", a common name"
    reasons.append(Reason(f"{field}_name.{level}", text, round(bits, 2)))
    return level, bits


def _names(
    a: Prepared, b: Prepared, freqs: NameFrequencies, swapped: bool, explain: bool
) -> tuple[float, list[Reason], dict[str, str]]:
    reasons: list[Reason] | None = [] if explain else None
    b_given, b_family = (b.family, b.given) if swapped else (b.given, b.family)
    lg, wg = _slot(a.given, b_given, "given", freqs, reasons)
    lf, wf = _slot(a.father, b.father, "father", freqs, reasons)
    lgf, wgf = _slot(a.grandfather, b.grandfather, "grandfather", freqs, reasons)
    lfam, wfam = _slot(a.family, b_family, "family", freqs, reasons)
    lm, wm = _slot(a.mother, b.mother, "mother", freqs, reasons)
    wp = _place(a, b, freqs, reasons)
    # Brothers share a birth place as they share names: a same place is family evidence.
    group = wf + wgf + wfam + wm + max(wp, 0.0)
    if group > FAMILY_GROUP_CAP:
        if reasons is not None:
            reasons.append(
                Reason(
                    "family_group.capped",
                    "father's, grandfather's, family and mother's names and birth place "
                    "count together at most as much as one family, since brothers share them",
                    round(FAMILY_GROUP_CAP - group, 2),
                )
            )
        group = FAMILY_GROUP_CAP
    total = wg + group + min(wp, 0.0)
    if swapped:
        total += SWAPPED_ORDER_BITS
    if swapped and reasons is not None:
        reasons.append(
            Reason(
                "order.swapped",
                "given and family names written in swapped order",
                SWAPPED_ORDER_BITS,
            )
        )
    levels = {"given": lg, "father": lf, "grandfather": lgf, "family": lfam, "mother": lm}
    return total, reasons or [], levels


def _place(a: Prepared, b: Prepared, freqs: NameFrequencies, reasons: list[Reason] | None) -> float:
    if not (a.place and b.place):
        return 0.0
    if a.place == b.place:
        bits = min(math.log2(0.8 / freqs.place_freq(a.place)), PLACE_SAME_MAX_BITS)
        if reasons is not None:
            reasons.append(Reason("birth_place.same", "birth place: same", round(bits, 2)))
        return bits
    if reasons is not None:
        reasons.append(Reason("birth_place.diff", "birth place: different", PLACE_DIFF_BITS))
    return PLACE_DIFF_BITS


def _shifted(a: Prepared, b: Prepared) -> bool:
    """True if one chain is the other moved by a generation (how a father and son look).

    Son (S, F, G, fam) and father (F, G, H, fam): the son's father's name is the father's
    given name and the son's grandfather's name is the father's father's name.
    """
    agree = (EXACT, VARIANT)
    for son, father in ((a, b), (b, a)):
        if (
            son.father
            and father.given
            and son.grandfather
            and father.father
            and (
                slot_level(son.father, father.given)[0] in agree
                and slot_level(son.grandfather, father.father)[0] in agree
            )
        ):
            return True
    return False


class _Default:
    """Sentinel: use the model shipped with the package."""


DEFAULT_MODEL = _Default()


class Scorer:
    """Scores pairs of prepared records. Holds the name frequencies, the model, the calibration.

    ``model`` is the learned scorer (:class:`mawa.names._learned.Model`) that weighs the
    rule-based comparisons; :data:`DEFAULT_MODEL` for the one shipped with the package
    (what :func:`mawa.names.score_pair`, ``dedupe``, ``NameIndex`` and the CLI use). With
    ``model=None`` (the default of this class, so that a caller that keeps its own model
    in use — the Django side, whose model an administrator promotes — is never switched
    silently) or if the shipped model cannot be read, the rule-based Fellegi–Sunter scorer
    decides alone, calibrated by ``offset`` and ``slope``.
    """

    def __init__(
        self,
        freqs: NameFrequencies | None = None,
        offset: float = CALIBRATION_OFFSET,
        slope: float = CALIBRATION_SLOPE,
        model: Model | None | _Default = None,
    ) -> None:
        self.freqs = freqs or NameFrequencies()
        self.offset = offset
        self.slope = slope
        self.model: Model | None = default_model() if isinstance(model, _Default) else model

    def probability(self, bits: float) -> float:
        """Calibrated probability for a total weight in bits (as :meth:`bits` gives it)."""
        x = bits if self.model is not None else self.slope * (bits - self.offset)
        if x > 60:
            return 1.0
        if x < -60:
            return 0.0
        return 1.0 / (1.0 + 2.0 ** (-x))

    def bits(self, a: Prepared, b: Prepared, explain: bool = True) -> tuple[float, list[Reason]]:
        """Total evidence in bits that ``a`` and ``b`` are one person, with reasons.

        With a model, the evidence is the model's log-odds in bits and each reason carries
        its share of it (plus one reason, ``model.rule_score``, for the rule-based total
        and the base rate); without, the rule-based bits. With ``explain=False`` the list
        is empty: bulk dedupe scores millions of pairs and needs the number only.
        """
        model = self.model
        if model is None:
            return self.rule_bits(a, b, explain)
        rule, reasons = self.rule_bits(a, b, True)
        feats = pair_features(rule, reasons)
        total = model.log_odds(feats) / LN2
        if not explain:
            return total, []
        out = [
            Reason(r.code, r.text, round(c, 2))
            if r is not None
            else Reason(
                RULE_CODE, f"rule-based evidence {rule:.1f} bits, and the base rate", round(c, 2)
            )
            for r, c in model.contributions(rule, reasons)
        ]
        return total, out

    def features(self, a: Prepared, b: Prepared) -> dict[str, float]:
        """Features of a pair for the learned scorer (``_learned.pair_features``)."""
        rule, reasons = self.rule_bits(a, b, True)
        return pair_features(rule, reasons)

    def rule_bits(
        self, a: Prepared, b: Prepared, explain: bool = True
    ) -> tuple[float, list[Reason]]:
        """The rule-based scorer's evidence in bits, with its reasons (see :meth:`bits`)."""
        straight, reasons, levels = _names(a, b, self.freqs, False, explain)
        if (
            levels["given"] in (DIFF, WEAK, "missing")
            and a.given
            and b.family
            and slot_level(a.given, b.family)[0] in (EXACT, VARIANT)
        ):
            # Only worth trying the swapped reading when it could help (cheap check first).
            alt, alt_reasons, alt_levels = _names(a, b, self.freqs, True, explain)
            if alt > straight + 2.0 and alt_levels["given"] in (EXACT, VARIANT):
                straight, reasons, levels = alt, alt_reasons, alt_levels
        total = straight
        add = reasons.append if explain else _discard
        if a.kunya and b.kunya and slot_level(a.kunya, b.kunya)[0] in (EXACT, VARIANT):
            total += KUNYA_SAME_BITS
            add(Reason("kunya.same", "same kunya (Abu …)", KUNYA_SAME_BITS))
        if levels["given"] in (DIFF, WEAK) and _shifted(a, b):
            total += SHIFTED_CHAIN_BITS
            add(
                Reason(
                    "chain.shifted",
                    "names shifted by one generation: looks like father and son",
                    SHIFTED_CHAIN_BITS,
                )
            )
        if a.dob is not None and b.dob is not None:
            lvl = dob_level(a.dob, b.dob)
            total += DOB_BITS[lvl]
            add(Reason(f"birth_date.{lvl}", _DOB_PHRASE[lvl], DOB_BITS[lvl]))
        if a.national_id and b.national_id:
            lvl = id_level(a.national_id, b.national_id)
            total += NATIONAL_ID_BITS[lvl]
            add(
                Reason(
                    f"national_id.{lvl}", f"national ID: {_ID_PHRASE[lvl]}", NATIONAL_ID_BITS[lvl]
                )
            )
        if a.military_id and b.military_id:
            lvl = id_level(a.military_id, b.military_id)
            total += MILITARY_ID_BITS[lvl]
            add(
                Reason(
                    f"military_id.{lvl}",
                    f"service number: {_ID_PHRASE[lvl]}",
                    MILITARY_ID_BITS[lvl],
                )
            )
        if a.sex and b.sex:
            lvl = "same" if a.sex == b.sex else "diff"
            total += SEX_BITS[lvl]
            add(Reason(f"sex.{lvl}", f"sex: {lvl}", SEX_BITS[lvl]))
        if a.nationality and b.nationality:
            lvl = "same" if a.nationality == b.nationality else "diff"
            total += NATIONALITY_BITS[lvl]
            add(Reason(f"nationality.{lvl}", f"nationality: {lvl}", NATIONALITY_BITS[lvl]))
        return total, reasons

    def score(self, a: Prepared, b: Prepared) -> Match:
        """Score a pair of prepared records (see :func:`mawa.names.score_pair`)."""
        bits, reasons = self.bits(a, b)
        return Match(self.probability(bits), round(bits, 2), tuple(reasons))


def _discard(_: Reason) -> None:
    return None


_DOB_PHRASE = {
    "exact": "date of birth: same",
    "swap": "date of birth: day and month swapped",
    "jan1": "date of birth: same year, one is a 1 January placeholder",
    "month": "date of birth: same year and month, day differs",
    "year": "date of birth: same year (one date less precise)",
    "year_other": "date of birth: same year, month or day differs",
    "year1": "date of birth: one year apart",
    "year3": "date of birth: two or three years apart",
    "far": "date of birth: more than three years apart",
}
_ID_PHRASE = {"same": "same", "near": "one character apart", "diff": "different"}
