"""A proven lower bound on the cable cost of any feasible placement (`placement_bound_usd`).

Notation of `problem.py`; cost_b(s, t) is the exact price of bundle b run between slots s and t
(fixed parts per cable plus the per-metre price times the real length). Three valid bounds are
computed and the largest is reported.

1. Gilmore-Lawler with real slot columns (GL). Every bundle has two ends, so
   objective(p) = 1/2 sum_i sum_{b at i} cost_b(p(i), p(partner_b)). For cabinet i in slot s,

       L[i, s] = min-cost assignment of i's bundles b to distinct slots t != s that the partner's
                 cooling admits, at cost_b(s, t)          (`scipy.optimize.linear_sum_assignment`)

   is <= sum_{b at i} cost_b(p) whenever p(i) = s, because the partners of i stand in distinct slots
   other than s, each one admitted for it (the other constraints are dropped). Summing over i,
   objective(p) >= 1/2 sum_i L[i, p(i)] >= 1/2 min_pi sum_i L[i, pi(i)], the minimum over injective
   maps pi of cabinets to admitted slots: a second assignment problem (the classical Gilmore-Lawler
   bound). This improves on the earlier form, 1/2 sum_i min_s of a tier-count relaxation priced at
   each tier's shortest run: real lengths instead of tier floors, one slot per partner across
   partner classes, and cabinets competing for the good slots. For one assignment only the m
   cheapest columns of each of its m rows can matter (an optimal assignment uses nothing else: a row
   holding a dearer column has one of its m cheapest free, and moving there costs no more), so the
   columns are cut to their union.

2. Split along the fabric's groups (`blocks.group_members`; UB-Mesh pods). The bundles split into
   the groups' internal ones and the rest, and objective(p) = sum_g internal_g(p) + rest(p). Then
   objective(p) >= GL_rest + sum_g LB_g, with GL_rest the bound of item 1 on the rest alone (a valid
   bound of any sub-multiset of bundles) and LB_g any lower bound of group g's internal cost, the
   largest of:
   a. its internal bundles' share of item 1 without the outer assignment (1/2 sum_{i in g} min_s L);
   b. a pair bound over relative offsets. The cost of a run depends only on the offset
      delta = (row_t - row_s, pos_t - pos_s) (length = |dpos| x width + |drow| x pitch + 2 x slack),
      so, dropping the floor's edges and cooling (a relaxation), the group lives on the infinite
      grid. Let A be the offsets of the cheapest tier the floor has (the AEC reach on the Atlas
      floors; at most OFFSETS_MAX of them, else b is skipped), base_b = min over every other
      offset of cost_b, and saving_b(delta) = max(0, base_b - cost_b(delta)) for delta in A, 0
      outside A. Then cost_b >= base_b - saving_b for every run, and
      internal_g >= sum_b base_b - max over placements of sum_b saving_b. The maximum saving is
      bounded by a linear program in z[i, j, delta] (j stands at offset delta in A from i):
          sum_delta z[i, j, delta] <= 1                  (one offset per pair)
          sum_j z[i, j, delta] <= 1                      (one cabinet per slot around i)
          S_i + S_j <= M_ij(far) + sum_delta (M_ij(delta) - M_ij(far)) z[i, j, delta]   (every pair)
      where S_i = sum_j saving_ij z[i, j, .] is i's own saving, M_ij(far) = GL_i + GL_j (GL_i: the
      best assignment of i's partners to the offsets of A) and M_ij(delta) = 2 saving_ij(delta) +
      the best assignment of every other cabinet k to the slots around i and around j (offset delta
      from i), valued saving_ik + saving_jk: with i and j close, their neighbourhoods overlap and
      cannot both be full. A placement's own z satisfies every row, so the LP maximum (with a
      relative tolerance) bounds the saving. Groups with the same internal bundles share one LP.

3. The earlier bound (`gilmore_lawler_usd`, tier counts per partner class at each tier's shortest
   run, min over slots per cabinet), kept for comparison. Item 1 is never below it: its assignment
   for (i, s) is one the earlier relaxation admits, at prices no lower, and the outer assignment is
   no lower than the per-cabinet minima. The tests check both against enumerated optima.

What it does not see (why a gap remains on the Atlas SuperPoDs): inside a pod every cabinet can
have all its partners within copper reach on its own (item 1), and the pair rows of 2b only see
two neighbourhoods at a time; a 4 x 4 UB-Mesh pod cannot have every cabinet's six partners next to
it at once, which only a bound over the whole pod (an exact search of its embeddings) would prove.
"""

import numpy as np
import scipy.sparse as sp
from scipy.optimize import linear_sum_assignment, linprog

from topo_opt.placement.blocks import group_class_key, group_members
from topo_opt.placement.problem import PlacementProblem, incidence, tier_floor_usd

BOUND_METHOD = (
    "largest of: Gilmore-Lawler with real slot columns (per cabinet and slot, min-cost assignment "
    "of its bundles to admitted slots at their real length; then the min-cost assignment of cabinets "
    "to slots, halved over both ends) and, where the fabric has groups, that bound on the bundles "
    "between groups plus per group an LP over relative offsets with pair bounds on the internal bundles"
)
OFFSETS_MAX = 24  # offsets of the cheapest tier beyond which the pair LP is skipped (its size grows as A^2)
LP_TOLERANCE = 1e-6  # relative slack added to the LP's maximum saving (solver tolerances)
_BIG = 1e18


def placement_bound_usd(problem: PlacementProblem) -> float:
    """Largest of the bounds of the module docstring (USD)."""
    every = np.ones(len(problem.bundle_a), dtype=bool)
    best = max(gilmore_lawler_usd(problem), real_gl_usd(problem, every))
    found = group_members(problem)
    if found is None:
        return best
    members, _ = found
    group_of = np.full(problem.n_cabinets, -1)
    for g, m in enumerate(members):
        group_of[m] = g
    ga, gb = group_of[problem.bundle_a], group_of[problem.bundle_b]
    internal = (ga >= 0) & (ga == gb)
    if not internal.any():
        return best
    split = real_gl_usd(problem, ~internal)
    per_cabinet = _slot_bounds(problem, internal).min(axis=1)
    memo: dict[tuple, float | None] = {}
    for m in members:
        key = group_class_key(problem, m)
        if key not in memo:
            memo[key] = pair_lp_bound_usd(problem, m)
        own = float(per_cabinet[m].sum()) / 2
        split += max(own, memo[key] if memo[key] is not None else -np.inf)
    return max(best, split)


# --- item 1: Gilmore-Lawler with real slot columns -------------------------------------------------


def real_gl_usd(problem: PlacementProblem, keep: np.ndarray) -> float:
    """Item 1 of the module docstring over the bundles in `keep` (a boolean mask)."""
    if not keep.any():
        return 0.0
    bounds = _slot_bounds(problem, keep)
    cost = np.where(problem.allowed & np.isfinite(bounds), bounds, _BIG)
    rows, cols = linear_sum_assignment(cost)
    total = cost[rows, cols].sum()
    return float(total / 2) if total < _BIG / 2 else 0.0  # some cabinet cannot be seated: no claim


def _slot_bounds(problem: PlacementProblem, keep: np.ndarray) -> np.ndarray:
    """(N, S): L[i, s] of item 1 over i's bundles in `keep`; inf where i's cooling does not admit s
    (or where its partners cannot all be seated). Cabinets with the same admitted slots and the
    same partners' classes and price rows share one row."""
    classes, class_of = np.unique(problem.allowed, axis=0, return_inverse=True)
    class_of = class_of.reshape(-1)
    ptr, partner, bundle = incidence(problem)
    out = np.full((problem.n_cabinets, problem.n_slots), np.inf)
    memo: dict[tuple, np.ndarray] = {}
    for i in range(problem.n_cabinets):
        mine = np.arange(ptr[i], ptr[i + 1])
        mine = mine[keep[bundle[mine]]]
        bs, kappas = bundle[mine], class_of[partner[mine]]
        key = (int(class_of[i]), tuple(sorted((int(k), tuple(problem.cost_usd[b]), tuple(problem.per_m_usd[b]))
                                              for k, b in zip(kappas, bs, strict=True))))
        if key not in memo:
            memo[key] = _cabinet_row(problem, problem.allowed[i], bs, classes[kappas])
        out[i] = memo[key]
    return out


def _cabinet_row(problem: PlacementProblem, allowed: np.ndarray, bundles: np.ndarray,
                 admitted: np.ndarray) -> np.ndarray:
    row = np.full(problem.n_slots, np.inf)
    m = len(bundles)
    if not m:
        row[allowed] = 0.0
        return row
    fixed, per_m = problem.cost_usd[bundles], problem.per_m_usd[bundles]
    for s in np.flatnonzero(allowed):
        k = problem.tier[s]
        cost = fixed[:, k] + per_m[:, k] * problem.length_m[s][None, :]
        cost = np.where(admitted, cost, np.inf)
        cost[:, s] = np.inf
        if (np.isfinite(cost).sum(axis=1) == 0).any():
            continue
        width = min(m, problem.n_slots)
        cheapest = np.argpartition(cost, width - 1, axis=1)[:, :width]
        cols = np.unique(cheapest)
        sub = cost[:, cols]
        if len(cols) < m:
            continue
        finite = np.where(np.isfinite(sub), sub, _BIG)
        r, c = linear_sum_assignment(finite)
        total = finite[r, c].sum()
        if total < _BIG / 2:
            row[s] = total
    return row


# --- item 2b: pair LP over relative offsets ---------------------------------------------------------


def pair_lp_bound_usd(problem: PlacementProblem, members: np.ndarray) -> float | None:
    """Item 2b of the module docstring: a lower bound of the group's internal cost, or None where it
    does not apply (no internal bundles, too many near offsets, every offset near)."""
    local = {int(c): k for k, c in enumerate(members)}
    ends = [(local[int(a)], local[int(b)], idx) for idx, (a, b) in enumerate(zip(problem.bundle_a, problem.bundle_b,
                                                                                   strict=True))
            if int(a) in local and int(b) in local]
    if not ends:
        return None
    offsets, costs = _offset_costs(problem, np.array([e[2] for e in ends]))
    cheapest = int(costs["tier"].min())
    near = costs["tier"] == cheapest
    if near.sum() > OFFSETS_MAX or near.all():
        return None
    price = costs["usd"]  # (bundles, offsets)
    base = price[:, ~near].min(axis=1)
    near_idx = np.flatnonzero(near)
    A = [tuple(offsets[k]) for k in near_idx]
    n, nA = len(members), len(A)
    index = {o: k for k, o in enumerate(A)}
    neg = np.array([index[(-o[0], -o[1])] for o in A])
    saving = np.zeros((n, n, nA))
    for e, (a, b, _) in enumerate(ends):
        s = np.maximum(0.0, base[e] - price[e, near_idx])
        saving[a, b] = s
        saving[b, a] = s[neg]
    best = _max_saving_lp(saving, A, index, neg)
    return float(base.sum() - best * (1 + LP_TOLERANCE) - 1e-6)


def _offset_costs(problem: PlacementProblem, bundles: np.ndarray) -> tuple[np.ndarray, dict]:
    """Every offset (drow, dpos) != 0 the floor has, with its tier and each bundle's exact price, read
    from a slot pair of the floor at that offset (the problem's own arrays)."""
    rows, spr = problem.floor.rows, problem.floor.slots_per_row
    dr, dp = np.meshgrid(np.arange(-(rows - 1), rows), np.arange(-(spr - 1), spr), indexing="ij")
    dr, dp = dr.ravel(), dp.ravel()
    keep = (dr != 0) | (dp != 0)
    dr, dp = dr[keep], dp[keep]
    s = np.maximum(0, -dr) * spr + np.maximum(0, -dp)
    t = (np.maximum(0, -dr) + dr) * spr + np.maximum(0, -dp) + dp
    tier = problem.tier[s, t].astype(np.int64)
    length = problem.length_m[s, t]
    usd = problem.cost_usd[bundles][:, tier] + problem.per_m_usd[bundles][:, tier] * length[None, :]
    return np.stack([dr, dp], axis=1), {"tier": tier, "usd": usd}


def _assign_max(values: np.ndarray) -> float:
    if values.size == 0:
        return 0.0
    r, c = linear_sum_assignment(values, maximize=True)
    return float(values[r, c].sum())


def _max_saving_lp(saving: np.ndarray, A: list[tuple], index: dict, neg: np.ndarray) -> float:
    """Upper bound of the group's total saving: the LP of item 2b."""
    n, nA = saving.shape[0], len(A)
    gl = np.array([_assign_max(np.delete(saving[i], i, axis=0)) for i in range(n)])
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    pid = {p: k for k, p in enumerate(pairs)}

    def var(i: int, j: int) -> np.ndarray:  # variables of "j at offset A[k] from i", k = 0..nA-1
        return pid[(i, j)] * nA + np.arange(nA) if i < j else pid[(j, i)] * nA + neg

    nv = len(pairs) * nA
    objective = np.zeros(nv)
    for i, j in pairs:
        objective[var(i, j)] = saving[i, j]
    rows, cols, vals, rhs = [], [], [], []

    def add(c: np.ndarray, v: np.ndarray, bound: float) -> None:
        rows.append(np.full(len(c), len(rhs)))
        cols.append(c)
        vals.append(v)
        rhs.append(bound)

    for i, j in pairs:
        add(var(i, j), np.ones(nA), 1.0)
    for i in range(n):
        for k in range(nA):
            add(np.array([var(i, j)[k] for j in range(n) if j != i]), np.ones(n - 1), 1.0)
    own = {i: (np.concatenate([var(i, j) for j in range(n) if j != i]),
               np.concatenate([saving[i, j] for j in range(n) if j != i])) for i in range(n)}
    for i, j in pairs:
        far = gl[i] + gl[j]
        close = np.array([_pair_max(saving, i, j, A[k], index) for k in range(nA)])
        c = np.concatenate([own[i][0], own[j][0], var(i, j)])
        v = np.concatenate([own[i][1], own[j][1], -(close - far)])
        add(c, v, far)
    matrix = sp.csr_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))),
                           shape=(len(rhs), nv))
    res = linprog(-objective, A_ub=matrix, b_ub=np.array(rhs), bounds=(0, 1), method="highs")
    if res.status != 0:  # no proof from the LP: fall back to the per-cabinet assignments
        return float(gl.sum() / 2)
    return min(float(-res.fun), float(gl.sum() / 2))


def _pair_max(saving: np.ndarray, i: int, j: int, delta: tuple, index: dict) -> float:
    """M_ij(delta): i at the origin, j at delta; every other cabinet k in a distinct slot around i or
    j (the other slots give it no saving), valued saving_ik + saving_jk."""
    around = {o for o in index} | {(o[0] + delta[0], o[1] + delta[1]) for o in index}
    around -= {(0, 0), delta}
    slots = sorted(around)
    others = [k for k in range(saving.shape[0]) if k not in (i, j)]
    values = np.zeros((len(others), len(slots)))
    for c, t in enumerate(slots):
        if t in index:
            values[:, c] += saving[i, others, index[t]]
        back = (t[0] - delta[0], t[1] - delta[1])
        if back in index:
            values[:, c] += saving[j, others, index[back]]
    return 2 * saving[i, j, index[delta]] + _assign_max(values)


# --- item 3: the earlier tier bound ------------------------------------------------------------------


def gilmore_lawler_usd(problem: PlacementProblem) -> float:
    """Per cabinet, min over slots of the min-cost assignment of its bundles to the distance tiers
    around the slot (tier counts per partner class, each tier at its shortest run), halved."""
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
