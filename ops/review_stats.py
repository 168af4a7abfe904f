"""Statistics of the review queue: stratified sampling, Hajek estimates, Cohen's kappa, error patterns.

Pure numpy (no Django), so the design-based formulas are tested on plain arrays."""

from collections import Counter
from dataclasses import dataclass

import numpy as np

# Strata in priority order: a decision that qualifies for several goes to the first one.
STRATA = ("overridden", "near_threshold", "unusual_explanation", "uniform")
# Share of the sample each special stratum gets when it has enough decisions; the uniform rest gets the remainder.
SPECIAL_SHARE = {"overridden": 0.1, "near_threshold": 0.2, "unusual_explanation": 0.1}
Z95 = 1.959963984540054


@dataclass(frozen=True)
class Sample:
    index: np.ndarray  # positions in the population, drawn
    stratum: np.ndarray  # stratum name of each drawn position
    probability: np.ndarray  # inclusion probability n_h / N_h of each drawn position
    allocation: dict  # stratum -> (N_h, n_h)


def assign_strata(flags: dict[str, np.ndarray], size: int) -> np.ndarray:
    """Each decision's stratum from boolean membership arrays (missing = none), by STRATA priority."""
    out = np.full(size, "uniform", dtype=object)
    taken = np.zeros(size, dtype=bool)
    for name in STRATA[:-1]:
        member = np.asarray(flags.get(name, np.zeros(size, dtype=bool)), dtype=bool) & ~taken
        out[member] = name
        taken |= member
    return out


def allocate(counts: dict[str, int], size: int) -> dict[str, int]:
    """Sample size per stratum: every non-empty stratum gets at least one (so no decision has a zero
    probability), special strata their share, the uniform stratum the rest; capped by N_h, any
    surplus goes to strata that still have undrawn decisions."""
    total = sum(counts.values())
    size = min(size, total)
    present = [name for name in STRATA if counts.get(name, 0) > 0]
    alloc = {name: 0 for name in present}
    if size <= 0:
        return alloc
    for name in present[:size]:
        alloc[name] = 1
    left = size - sum(alloc.values())
    for name in present:
        if name in SPECIAL_SHARE and left > 0:
            extra = min(
                counts[name] - alloc[name], max(0, round(SPECIAL_SHARE[name] * size) - alloc[name]), left
            )
            alloc[name] += extra
            left -= extra
    # The remainder: uniform first, then any stratum with room, largest first.
    for name in sorted(present, key=lambda n: (n != "uniform", -counts[n])):
        extra = min(counts[name] - alloc[name], left)
        alloc[name] += extra
        left -= extra
    return alloc


def stratified_sample(strata: np.ndarray, size: int, rng: np.random.Generator) -> Sample:
    """Simple random sampling without replacement inside each stratum."""
    strata = np.asarray(strata, dtype=object)
    counts = Counter(strata.tolist())
    alloc = allocate(dict(counts), size)
    picked, names, probs = [], [], []
    for name, n_h in alloc.items():
        members = np.flatnonzero(strata == name)
        if n_h == 0:
            continue
        chosen = rng.choice(members, size=n_h, replace=False)
        picked.append(chosen)
        names += [name] * n_h
        probs.append(np.full(n_h, n_h / len(members)))
    if not picked:
        return Sample(np.zeros(0, int), np.zeros(0, object), np.zeros(0), {})
    index = np.concatenate(picked)
    order = rng.permutation(len(index))  # reviewers should not see the strata in blocks
    return Sample(
        index=index[order],
        stratum=np.asarray(names, dtype=object)[order],
        probability=np.concatenate(probs)[order],
        allocation={name: (counts[name], alloc[name]) for name in alloc},
    )


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None
    high: float | None
    n: int  # sampled units in the domain (the denominator's support)

    def to_dict(self) -> dict:
        return {
            "estimate": self.value,
            "ci": [self.low, self.high] if self.value is not None else None,
            "n": self.n,
        }


def hajek_ratio(
    y: np.ndarray,
    x: np.ndarray,
    probability: np.ndarray,
    strata: np.ndarray,
    population: dict[str, int] | None = None,
) -> Estimate:
    """Hajek estimate of sum(y)/sum(x) over the population, weighting each sampled unit by 1/pi,
    with a 95% interval from the linearised variance of a stratified design (finite population
    correction from each stratum's sampling fraction; clipped to [0, 1]).

    Accuracy: y = correct, x = 1. Precision: y = true positive, x = predicted positive.
    Recall: y = true positive, x = actually positive."""
    y, x = np.asarray(y, float), np.asarray(x, float)
    w = 1.0 / np.asarray(probability, float)
    strata = np.asarray(strata, dtype=object)
    n_domain = int(np.count_nonzero(x))
    denominator = float(np.sum(w * x))
    if n_domain == 0 or denominator <= 0:
        return Estimate(None, None, None, n_domain)
    ratio = float(np.sum(w * y) / denominator)
    z = w * (y - ratio * x) / denominator
    variance = 0.0
    for name in np.unique(strata):
        zh = z[strata == name]
        n_h = len(zh)
        if n_h < 2:
            continue
        big_n = (population or {}).get(name)
        fpc = 1.0 - n_h / big_n if big_n else 1.0
        variance += fpc * n_h / (n_h - 1) * float(np.sum((zh - zh.mean()) ** 2))
    half = Z95 * float(np.sqrt(max(variance, 0.0)))
    return Estimate(ratio, max(0.0, ratio - half), min(1.0, ratio + half), n_domain)


def cohen_kappa(a: list, b: list) -> float | None:
    """Cohen's kappa of two raters over the same items (None with no pairs; 1.0 when both raters
    used one and the same category throughout, where the formula is 0/0)."""
    if len(a) != len(b):
        raise ValueError("Both raters must rate the same items.")
    if not a:
        return None
    keys = [repr(v) for v in a], [repr(v) for v in b]
    cats = sorted(set(keys[0]) | set(keys[1]))
    pos = {c: i for i, c in enumerate(cats)}
    table = np.zeros((len(cats), len(cats)))
    for u, v in zip(*keys, strict=True):
        table[pos[u], pos[v]] += 1
    n = table.sum()
    observed = np.trace(table) / n
    expected = float(np.sum(table.sum(axis=0) * table.sum(axis=1))) / n**2
    if expected == 1.0:
        return 1.0
    return float((observed - expected) / (1.0 - expected))


@dataclass(frozen=True)
class Pattern:
    feature: str
    condition: str  # "eq" | "le" | "gt"
    value: object
    errors: int
    error_total: int
    correct: int
    correct_total: int
    lift: float

    @property
    def error_share(self) -> float:
        return self.errors / self.error_total

    @property
    def correct_share(self) -> float:
        return self.correct / self.correct_total if self.correct_total else 0.0


def error_patterns(
    rows: list[dict], errors: np.ndarray, *, min_errors: int = 2, top: int = 5
) -> list[Pattern]:
    """Feature conditions over-represented among the errors: for categorical (and boolean) values
    "feature = value", for numbers "feature <= median" / "feature > median" of the reviewed rows;
    ranked by lift = (share of errors matching) / (share of correct ones matching), smoothed by one
    row so a condition no correct decision meets does not get an infinite lift."""
    errors = np.asarray(errors, dtype=bool)
    n_err, n_ok = int(errors.sum()), int((~errors).sum())
    if n_err == 0:
        return []
    names = sorted({key for row in rows for key in row})
    found: list[Pattern] = []
    for name in names:
        values = [row.get(name) for row in rows]
        numeric = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        conditions: list[tuple[str, object, np.ndarray]] = []
        if numeric and len(numeric) == sum(v is not None for v in values):
            cut = float(np.median(numeric))
            arr = np.array([np.nan if v is None else float(v) for v in values])
            conditions += [("le", cut, arr <= cut), ("gt", cut, arr > cut)]
        else:
            for value in {repr(v): v for v in values if v is not None}.values():
                conditions.append(
                    ("eq", value, np.array([v == value and type(v) is type(value) for v in values]))
                )
        for condition, value, match in conditions:
            e, c = int((match & errors).sum()), int((match & ~errors).sum())
            if e < min_errors:
                continue
            lift = (e / n_err) / ((c + 1) / (n_ok + 1))
            if lift > 1.0:
                found.append(Pattern(name, condition, value, e, n_err, c, n_ok, lift))
    found.sort(key=lambda p: (-p.lift, -p.errors, p.feature))
    return found[:top]


def describe_pattern(pattern: Pattern) -> str:
    """The pattern in words, e.g. "region is south: 8 of 10 errors (80%) but 2 of 40 correct decisions (5%)"."""
    if pattern.condition == "eq":
        value = pattern.value
        shown = ("yes" if value else "no") if isinstance(value, bool) else value
        cond = f"{pattern.feature} is {shown}"
    else:
        cond = f"{pattern.feature} {'at most' if pattern.condition == 'le' else 'above'} {pattern.value:.6g}"
    return (
        f"{cond}: {pattern.errors} of {pattern.error_total} errors ({pattern.error_share:.0%}) but "
        f"{pattern.correct} of {pattern.correct_total} correct decisions ({pattern.correct_share:.0%})"
    )
