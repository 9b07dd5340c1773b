"""Vectorised local search: annealing over move-or-swap neighbourhoods scanned whole with numpy.

One step picks a cabinet i (at slot a) at random and evaluates, in one vectorised pass, every move
"i goes to slot s, and the cabinet j at s (if any) goes to a". With C_k(x) the cost of cabinet k's
bundles when k stands at x and every other cabinet stays put,

    delta(s) = C_i(s) - C_i(a) + C_j(a) - C_j(s) + 2 (cost_ij(a, s) - cost_ij(a, a))

where the last term, only when i and j share a bundle, undoes the two evaluations of bundle ij at a
distance of zero (two cabinets in one slot, the same run for every slot): a swap leaves the length
of ij unchanged. C_j(a) - C_j(s) for all j at once is one gather over all bundles
and a bincount. Moves that break cooling, row power or zone capacity get delta = +inf.

The move taken is drawn from the Boltzmann distribution exp(-delta / T) over all candidates (Gumbel
max trick), staying put included; T falls geometrically from `t_start` to `t_end` over the step
budget, so the search walks plateaus (many placements cost the same) and ends as a best-move descent.
Steps are counted, not timed, so one seed gives one answer; `deadline` (wall clock, `place` sets it
at 3x the time limit) only guards against a machine far slower than the budget assumed.
"""

import time
from dataclasses import dataclass

import numpy as np

from topo_opt.placement.problem import PlacementProblem, incidence, objective_usd, row_loads_kw, zone_loads_kw

# Time of one step on this project's reference machine (2 cores shared with other jobs), measured as
# about 165 us + 0.02 us x (bundles + cabinets + mean degree x slots) (numpy 2.4; 2026-12-04: the
# earlier 40 us + 0.009 us made a 6 s Atlas 950 placement take 9-11 s), with a 1.5x margin so that a
# step budget computed from a time limit ends before the wall clock does (one seed, one answer).
STEP_BASE_S, STEP_PER_ELEMENT_S = 250e-6, 0.03e-6


def step_time_s(problem: PlacementProblem) -> float:
    """Modelled time of one annealing step: turns a share of the time limit into a step count."""
    degree = 2 * len(problem.bundle_a) / max(problem.n_cabinets, 1)
    return STEP_BASE_S + STEP_PER_ELEMENT_S * (
        len(problem.bundle_a) + problem.n_cabinets + degree * problem.n_slots
    )


@dataclass(frozen=True)
class SearchResult:
    slot_of: np.ndarray
    objective_usd: float
    steps: int
    accepted: int
    stopped_by_deadline: bool


class _State:
    """Mutable search state: slots, occupants and loads, kept consistent by `apply`.

    Arrays indexed by cabinet carry one extra last entry for "no cabinet", so an empty slot's
    occupant -1 reads as: draws 0 kW, fits anywhere, sits in no zone.
    """

    def __init__(self, problem: PlacementProblem, slot_of: np.ndarray):
        p = self.p = problem
        self.slot_of = slot_of.copy()
        self.occ = np.full(p.n_slots, -1, dtype=np.int64)
        self.occ[slot_of] = np.arange(p.n_cabinets)
        self.row_load = row_loads_kw(p, slot_of)
        self.zone_load = zone_loads_kw(p, slot_of)
        self.ptr, self.partner, self.bundle = incidence(p)
        self.slots = np.arange(p.n_slots)
        self.power = np.append(p.power_kw, 0.0)
        self.allowed = np.vstack([p.allowed, np.ones(p.n_slots, dtype=bool)])
        self.zone_at = np.vstack(
            [p.zone_of(np.arange(p.n_cabinets)[:, None], self.slots[None, :]), np.full(p.n_slots, p.n_zones)]
        )
        self.swing_kw = float(p.power_kw.max() - min(p.power_kw.min(), 0.0)) if p.n_cabinets else 0.0
        # flat views: one `take` is several times faster than 2-D fancy indexing
        self.tier_flat = p.tier.ravel().astype(np.int64)
        self.length_flat = p.length_m.ravel()
        self.cost_flat = p.cost_usd.ravel()
        self.per_m_flat = p.per_m_usd.ravel()
        self.priced_by_length = bool(p.per_m_usd.any())
        self.cost_row = np.arange(len(p.bundle_a)) * p.cost_usd.shape[1]

    def _cost(self, bundles_row: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
        """cost_b(s, t) (problem.run_cost_usd) on flat views; bundles given by their row offsets."""
        pair = s * self.p.n_slots + t
        at = bundles_row + self.tier_flat.take(pair)
        cost = self.cost_flat.take(at)
        return cost + self.per_m_flat.take(at) * self.length_flat.take(pair) if self.priced_by_length else cost

    def deltas(self, i: int) -> np.ndarray:
        """delta(s) of the module docstring for every slot s; +inf where the move is infeasible."""
        p, a = self.p, self.slot_of[i]
        mine = slice(self.ptr[i], self.ptr[i + 1])
        part_slots = self.slot_of[self.partner[mine]]
        rows_i = self.cost_row[self.bundle[mine]]
        ci = self._cost(rows_i[:, None], self.slots[None, :], part_slots[:, None]).sum(axis=0)
        delta = ci - ci[a]
        su, sv = self.slot_of[p.bundle_a], self.slot_of[p.bundle_b]
        now = self._cost(self.cost_row, su, sv)
        gain_u = self._cost(self.cost_row, np.full_like(sv, a), sv) - now  # C_u(a) - C_u(s_u), per bundle
        gain_v = self._cost(self.cost_row, su, np.full_like(su, a)) - now
        dj = np.bincount(p.bundle_a, gain_u, p.n_cabinets + 1) + np.bincount(
            p.bundle_b, gain_v, p.n_cabinets + 1
        )
        delta += dj[self.occ]  # occupant -1 reads the extra entry, 0
        delta[part_slots] += 2 * (
            self._cost(rows_i, np.full_like(part_slots, a), part_slots)
            - self._cost(rows_i, np.full_like(part_slots, a), np.full_like(part_slots, a))
        )
        delta[~self._feasible(i, a)] = np.inf
        delta[a] = 0.0
        return delta

    def _feasible(self, i: int, a: int) -> np.ndarray:
        p, j = self.p, self.occ
        ok = self.allowed[i] & self.allowed[j, a]
        if self.row_load.max() + self.swing_kw > p.row_cap_kw + 1e-9:  # else no move can break a row cap
            pi, pj = self.power[i], self.power[j]
            ra, rs = p.slot_row[a], p.slot_row
            ok &= (rs == ra) | (
                (self.row_load[rs] + pi - pj <= p.row_cap_kw + 1e-9)
                & (self.row_load[ra] - pi + pj <= p.row_cap_kw + 1e-9)
            )
        if (self.zone_load + self.swing_kw > p.zone_cap_kw + 1e-9).any():
            ok &= self._zones_ok(i, a, j)
        return ok

    def _zones_ok(self, i: int, a: int, j: np.ndarray) -> np.ndarray:
        """New loads of the zones i enters (at s) and j enters (at a), net of what leaves them."""
        pi, pj = self.power[i], self.power[j]
        za, zis = self.zone_at[i, a], self.zone_at[i]
        zjs, zja = self.zone_at[j, self.slots], self.zone_at[j, a]
        load, cap = self.zone_load, self.p.zone_cap_kw
        new_is = load[zis] + pi - pj * (zjs == zis) - pi * (za == zis) + pj * (zja == zis)
        new_ja = load[zja] + pj - pi * (za == zja) - pj * (zjs == zja) + pi * (zis == zja)
        return (new_is <= cap[zis] + 1e-9) & (new_ja <= cap[zja] + 1e-9)

    def apply(self, i: int, s: int) -> None:
        a, j = self.slot_of[i], self.occ[s]
        self._shift(i, a, s)
        if j >= 0:
            self._shift(j, s, a)
        self.occ[a], self.occ[s] = j, i

    def _shift(self, k: int, frm: int, to: int) -> None:
        p, pk = self.p, self.p.power_kw[k]
        self.row_load[p.slot_row[frm]] -= pk
        self.row_load[p.slot_row[to]] += pk
        self.zone_load[self.zone_at[k, frm]] -= pk
        self.zone_load[self.zone_at[k, to]] += pk
        self.slot_of[k] = to


def anneal(
    problem: PlacementProblem,
    slot_of: np.ndarray,
    steps: int,
    seed: int,
    t_start: float,
    t_end: float,
    deadline: float = np.inf,
) -> SearchResult:
    """Anneal from a feasible placement for `steps` steps; returns the best placement met."""
    rng = np.random.default_rng(seed)
    state = _State(problem, slot_of)
    cost = objective_usd(problem, state.slot_of)
    best, best_slots = cost, state.slot_of.copy()
    ratio = (t_end / t_start) ** (1.0 / max(steps - 1, 1))
    temp, accepted, done = t_start, 0, 0
    while done < steps and not (done % 256 == 0 and time.monotonic() > deadline):
        done += 1
        i = int(rng.integers(problem.n_cabinets))
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
