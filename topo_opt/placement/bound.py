"""A proven lower bound on the cable cost of any feasible placement (Gilmore-Lawler style).

Every bundle has two ends, so objective(p) = 1/2 sum_i sum_{b at i} cost_b(tier(p(a_b), p(c_b))).
For one cabinet i standing in slot s, its partners stand in distinct slots other than s, each one a
slot its own cooling admits. Counting, for every partner class kappa (cabinets admitted by the same
slots), n[kappa, s, k] = the slots t != s admitted for kappa with tier(s, t) = k, the cheapest way to
seat i's bundles is a min-cost assignment of the bundles to those slots (tiers capped by their counts;
`scipy.optimize.linear_sum_assignment`), ignoring that partners of different classes may compete for
a slot and every constraint beyond cooling: LB_i(s) <= sum_{b at i} cost_b(p) whenever p(i) = s. So

    objective(p) >= 1/2 sum_i min_s LB_i(s).

With per-metre prices a bundle's cost in tier k is taken at the tier's shortest run
(`tier_floor_usd`), a lower bound of any run in it. Cabinets with the same partner classes and cost
rows, and slots with the same counts, share one evaluation.
"""

import numpy as np
from scipy.optimize import linear_sum_assignment

from topo_opt.placement.problem import PlacementProblem, incidence, tier_floor_usd

BOUND_METHOD = (
    "per-cabinet min-cost assignment of its bundles to the distance tiers around its best "
    "slot (Gilmore-Lawler), halved over both ends"
)


def gilmore_lawler_usd(problem: PlacementProblem) -> float:
    classes, class_of = np.unique(problem.allowed, axis=0, return_inverse=True)
    class_of = class_of.reshape(-1)
    counts = _tier_counts(problem, classes)  # (classes, S, T + 1)
    ptr, partner, bundle = incidence(problem)
    memo: dict[tuple, float] = {}
    total = 0.0
    floor_usd = tier_floor_usd(problem)
    for i in range(problem.n_cabinets):
        mine = slice(ptr[i], ptr[i + 1])
        kappas = class_of[partner[mine]]
        rows = floor_usd[bundle[mine]]
        key = (class_of[i], tuple(sorted((int(k), tuple(r)) for k, r in zip(kappas, rows, strict=True))))
        if key not in memo:
            memo[key] = _cabinet_bound(problem.allowed[i], kappas, rows, counts)
        total += memo[key]
    return total / 2


def _tier_counts(problem: PlacementProblem, classes: np.ndarray) -> np.ndarray:
    others = ~np.eye(problem.n_slots, dtype=bool)
    tiers = problem.n_tiers + 1
    out = np.zeros((len(classes), problem.n_slots, tiers), dtype=np.int64)
    for k in range(tiers):
        at_k = ((problem.tier == k) & others).astype(np.int64)
        out[:, :, k] = classes.astype(np.int64) @ at_k.T
    return out


def _cabinet_bound(allowed: np.ndarray, kappas: np.ndarray, rows: np.ndarray, counts: np.ndarray) -> float:
    """min over admitted slots s of LB_i(s)."""
    if not len(kappas):
        return 0.0
    best = np.inf
    seen: dict[tuple, float] = {}
    present = np.unique(kappas)
    for s in np.flatnonzero(allowed):
        key = tuple(counts[present, s].ravel())
        if key not in seen:
            seen[key] = sum(_assign(rows[kappas == k], counts[k, s]) for k in present)
        best = min(best, seen[key])
    return float(best)


def _assign(rows: np.ndarray, per_tier: np.ndarray) -> float:
    """Min-cost seating of bundles (cost rows over tiers) on slots with `per_tier` slots per tier."""
    m = len(rows)
    columns = np.concatenate([np.full(min(int(n), m), k) for k, n in enumerate(per_tier)])
    if len(columns) < m:
        return np.inf
    r, c = linear_sum_assignment(rows[:, columns])
    return float(rows[r, columns[c]].sum())
