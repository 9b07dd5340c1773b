"""Vectorised local search: annealing over move-or-swap neighbourhoods scanned whole with numpy.

One step picks a cabinet i (at slot a) at random and evaluates, in one vectorised pass, every move
"i goes to slot s, and the cabinet j at s (if any) goes to a". With C_k(x) the cost of cabinet k's
bundles when k stands at x and every other cabinet stays put,

    delta(s) = C_i(s) - C_i(a) + C_j(a) - C_j(s) + 2 (cost_ij(tier(a, s)) - cost_ij(tier_same))

where the last term, only when i and j share a bundle, undoes the two evaluations of bundle ij at a
distance of zero (tier_same = the tier of two cabinets in one slot, the same for every slot): a swap
leaves the length of ij unchanged. C_j(a) - C_j(s) for all j at once is one gather over all bundles
and a bincount. Moves that break cooling, row power or zone capacity get delta = +inf.

The move taken is drawn from the Boltzmann distribution exp(-delta / T) over all candidates (Gumbel
max trick), staying put included; T falls geometrically from `t_start` to `t_end` over the step
budget, so the search walks plateaus (many placements cost the same) and ends as a best-move descent.
Steps are counted, not timed, so one seed gives one answer; `deadline` (wall clock) only guards the
time limit on a machine slower than the budget assumed.
"""

import time
from dataclasses import dataclass

import numpy as np

from topo_opt.placement.problem import PlacementProblem, incidence, objective_usd, row_loads_kw, zone_loads_kw


@dataclass(frozen=True)
class SearchResult:
    slot_of: np.ndarray
    objective_usd: float
    steps: int
    accepted: int
    stopped_by_deadline: bool


class _State:
    """Mutable search state: slots, occupants and loads, kept consistent by `apply`."""

    def __init__(self, problem: PlacementProblem, slot_of: np.ndarray):
        self.p = problem
        self.slot_of = slot_of.copy()
        self.occ = np.full(problem.n_slots, -1, dtype=np.int64)
        self.occ[slot_of] = np.arange(problem.n_cabinets)
        self.row_load = row_loads_kw(problem, slot_of)
        self.zone_load = zone_loads_kw(problem, slot_of)
        self.ptr, self.partner, self.bundle = incidence(problem)
        self.power_ext = np.append(problem.power_kw, 0.0)  # index -1 (an empty slot) draws nothing
        self.slots = np.arange(problem.n_slots)
        self.same_tier = int(problem.tier[0, 0])

    def deltas(self, i: int) -> np.ndarray:
        """delta(s) of the module docstring for every slot s; +inf where the move is infeasible."""
        p, a = self.p, self.slot_of[i]
        mine = slice(self.ptr[i], self.ptr[i + 1])
        part_slots, part_bundles = self.slot_of[self.partner[mine]], self.bundle[mine]
        ci = p.cost_usd[part_bundles[:, None], p.tier[self.slots[None, :], part_slots[:, None]]].sum(axis=0)
        delta = ci - ci[a]
        su, sv = self.slot_of[p.bundle_a], self.slot_of[p.bundle_b]
        rows = np.arange(len(su))
        now = p.cost_usd[rows, p.tier[su, sv]]
        gain_u = p.cost_usd[rows, p.tier[a, sv]] - now  # C_u(a) - C_u(s_u), bundle by bundle
        gain_v = p.cost_usd[rows, p.tier[su, a]] - now
        dj = (np.bincount(p.bundle_a, gain_u, p.n_cabinets) + np.bincount(p.bundle_b, gain_v, p.n_cabinets))
        j = self.occ
        delta += np.where(j >= 0, dj[j], 0.0)
        partners = self.partner[mine]
        ps = self.slot_of[partners]
        delta[ps] += 2 * (p.cost_usd[part_bundles, p.tier[a, ps]] - p.cost_usd[part_bundles, self.same_tier])
        delta[~self._feasible(i, a)] = np.inf
        delta[a] = 0.0
        return delta

    def _feasible(self, i: int, a: int) -> np.ndarray:
        p, j = self.p, self.occ
        pi, pj = p.power_kw[i], self.power_ext[j]
        ok = p.allowed[i] & ((j < 0) | p.allowed[np.maximum(j, 0), a])
        ra, rs = p.slot_row[a], p.slot_row
        moved = rs != ra
        ok &= ~moved | ((self.row_load[rs] + pi - pj <= p.row_cap_kw + 1e-9)
                        & (self.row_load[ra] - pi + pj <= p.row_cap_kw + 1e-9))
        za = p.zone_of(i, a)
        zis = p.zone_of(i, self.slots)
        zjs = np.where(j >= 0, p.zone_of(np.maximum(j, 0), self.slots), p.n_zones)
        zja = np.where(j >= 0, p.zone_of(np.maximum(j, 0), a), p.n_zones)
        load, cap = self.zone_load, p.zone_cap_kw
        new_is = load[zis] + pi - pj * (zjs == zis) - pi * (za == zis) + pj * (zja == zis)
        new_ja = load[zja] + pj - pi * (za == zja) - pj * (zjs == zja) + pi * (zis == zja)
        return ok & (new_is <= cap[zis] + 1e-9) & (new_ja <= cap[zja] + 1e-9)

    def apply(self, i: int, s: int) -> None:
        p, a, j = self.p, self.slot_of[i], self.occ[s]
        self._shift(i, a, s)
        if j >= 0:
            self._shift(j, s, a)
        self.occ[a], self.occ[s] = j, i

    def _shift(self, k: int, frm: int, to: int) -> None:
        p, pk = self.p, self.p.power_kw[k]
        self.row_load[p.slot_row[frm]] -= pk
        self.row_load[p.slot_row[to]] += pk
        self.zone_load[p.zone_of(k, frm)] -= pk
        self.zone_load[p.zone_of(k, to)] += pk
        self.slot_of[k] = to


def anneal(problem: PlacementProblem, slot_of: np.ndarray, steps: int, seed: int, t_start: float, t_end: float,
           deadline: float = np.inf, movable: np.ndarray | None = None) -> SearchResult:
    """Anneal from a feasible placement for `steps` steps; returns the best placement met."""
    rng = np.random.default_rng(seed)
    state = _State(problem, slot_of)
    cost = objective_usd(problem, state.slot_of)
    best, best_slots = cost, state.slot_of.copy()
    pool = np.flatnonzero(movable) if movable is not None else np.arange(problem.n_cabinets)
    ratio = (t_end / t_start) ** (1.0 / max(steps - 1, 1))
    temp, accepted, done = t_start, 0, 0
    for done in range(1, steps + 1):
        if done % 256 == 0 and time.monotonic() > deadline:
            break
        i = int(pool[rng.integers(len(pool))])
        delta = state.deltas(i)
        s = int(np.argmax(rng.gumbel(size=delta.size) - delta / temp))
        temp *= ratio
        if s == state.slot_of[i]:
            continue
        state.apply(i, s)
        cost += delta[s]
        accepted += 1
        if cost < best - 1e-6:
            best, best_slots = cost, state.slot_of.copy()
    return SearchResult(best_slots, objective_usd(problem, best_slots), done, accepted, done < steps)
