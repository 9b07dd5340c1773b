"""Exact CP-SAT model of a window: place the cabinets of W into the slots of Sigma, every other cabinet
staying where it is. With W = every cabinet and Sigma = every slot it is the whole problem (solved to
proven optimality on small instances); with a few cabinets it is one large-neighbourhood step.

Variables
    x[c, s] in {0, 1}   cabinet c in W stands in slot s in Sigma (only where its cooling allows)
    y[b, k] in {0, 1}   bundle b with both ends in W runs at a cost of at most v_k, for k < K_b, where
                        v_0 < ... < v_{K_b} are the distinct costs cost_b(s, t) over its reachable
                        window slot pairs (its tiers; with per-metre prices, every distinct length)
Constraints
    one_slot[c]         sum_s x[c, s] = 1
    one_cabinet[s]      sum_c x[c, s] <= 1
    row_power[r]        sum_{c, s in r} power_c x[c, s] <= row_power_kw - load of the fixed cabinets in r
    zone_capacity[z]    the same over the slots of zone z and the cabinets of its cooling kind
    reach[b, k, s]      y[b, k] + x[u, s] - sum_{t : cost_b(s, t) <= v_k} x[v, t] <= 1, for both ends
                        (u, v) of b: y[b, k] may be 1 only if the other end stands where the run costs
                        at most v_k
    beyond_reach[b, s]  x[u, s] <= sum_{t within reach of s} x[v, t] when some window pair is beyond
                        every reach
Objective (USD, scaled to whole cents and divided by the coefficients' gcd)
    sum_{b, one end c in W, the other fixed at f} sum_s cost_b(s, f) x[c, s]
  + sum_{b, both ends in W} (v_{K_b} - sum_{k < K_b} (v_{k + 1} - v_k) y[b, k])
  + the cost of the bundles between fixed cabinets (a constant).
Every step v_{k + 1} - v_k is positive, so the minimisation sets y[b, k] = 1 exactly where it may.
"""

import math
from dataclasses import dataclass
from functools import reduce

import numpy as np
from ortools.sat.python import cp_model

from topo_opt.placement.problem import PlacementProblem, objective_usd, run_cost_usd
from topo_opt.units import scale_int

W_PER_KW = 1000


@dataclass(frozen=True)
class Budget:
    """CP-SAT limits: deterministic time (reproducible) and a wall-clock guard; workers; seed."""

    deterministic_s: float
    wall_s: float
    workers: int = 1
    seed: int = 0


@dataclass(frozen=True)
class WindowResult:
    status: str  # CP-SAT status name
    slot_of: np.ndarray  # the whole placement (the input where CP-SAT found nothing)
    objective_usd: float  # exact, recomputed from the placement
    bound_usd: float | None  # proven lower bound of the window problem (others fixed)
    exact_costs: bool  # every coefficient was a whole number of cents: the bound is exact


@dataclass
class _Window:
    model: cp_model.CpModel
    x: dict[tuple[int, int], cp_model.IntVar]
    constant_usd: float
    unit_usd: float  # one model objective unit in USD
    exact_costs: bool


def solve_window(
    problem: PlacementProblem,
    slot_of: np.ndarray,
    cabinets: np.ndarray,
    slots: np.ndarray,
    budget: Budget,
) -> WindowResult:
    """Re-place `cabinets` within `slots` (holding their current slots, the hint, and no other cabinet)."""
    window = build_window(problem, slot_of, cabinets, slots)
    for c in cabinets:
        if (int(c), int(slot_of[c])) in window.x:
            window.model.AddHint(window.x[int(c), int(slot_of[c])], 1)
    outcome = run(window.model, make_solver(budget))
    out = slot_of.copy()
    for c, s in outcome.chosen(window.x):
        out[c] = s
    bound = None if outcome.bound is None else outcome.bound * window.unit_usd + window.constant_usd
    return WindowResult(outcome.status, out, objective_usd(problem, out), bound, window.exact_costs)


@dataclass(frozen=True)
class Outcome:
    """What one CP-SAT solve returned, read the same way at every site."""

    status: str  # CP-SAT status name, as reported
    found: bool  # OPTIMAL or FEASIBLE: a solution can be read
    solver: cp_model.CpSolver

    def chosen(self, x: dict) -> list:
        """The keys of the boolean variables set to true (empty when nothing was found)."""
        return [key for key, var in x.items() if self.solver.BooleanValue(var)] if self.found else []

    @property
    def bound(self) -> float | None:
        return self.solver.BestObjectiveBound() if self.found else None


def run(model: cp_model.CpModel, solver: cp_model.CpSolver) -> Outcome:
    """Build -> solve -> extract: every CP-SAT site solves through here."""
    status = solver.Solve(model)
    return Outcome(solver.StatusName(status), status in (cp_model.OPTIMAL, cp_model.FEASIBLE), solver)


def make_solver(budget: Budget) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    prm = solver.parameters
    prm.max_deterministic_time = budget.deterministic_s
    prm.max_time_in_seconds = budget.wall_s
    prm.num_workers = budget.workers
    prm.random_seed = budget.seed
    if budget.workers > 1:
        prm.interleave_search = True  # deterministic with several workers
    return solver


def build_window(
    problem: PlacementProblem, slot_of: np.ndarray, cabinets: np.ndarray, slots: np.ndarray
) -> _Window:
    """The model of the module docstring (a table of contents of define_* steps)."""
    model = cp_model.CpModel()
    free = np.zeros(problem.n_cabinets, dtype=bool)
    free[cabinets] = True
    x = define_assignment(model, problem, cabinets, slots)
    define_capacity(model, problem, slot_of, free, x)
    linear, pair_terms, constant = define_costs(model, problem, slot_of, free, slots, x)
    unit, exact = minimise_usd(model, linear + pair_terms)
    return _Window(model, x, constant, unit, exact)


def define_assignment(
    model: cp_model.CpModel, problem: PlacementProblem, cabinets: np.ndarray, slots: np.ndarray
) -> dict[tuple[int, int], cp_model.IntVar]:
    """x[c, s] with one_slot[c] and one_cabinet[s]."""
    x = {}
    by_slot: dict[int, list] = {}
    for c in cabinets:
        mine = [
            x.setdefault((int(c), int(s)), model.NewBoolVar(f"x[{c},{s}]"))
            for s in slots
            if problem.allowed[c, s]
        ]
        model.AddExactlyOne(mine).WithName(f"one_slot[{c}]")
    for (_, s), v in x.items():
        by_slot.setdefault(s, []).append(v)
    for s, vs in by_slot.items():
        model.AddAtMostOne(vs).WithName(f"one_cabinet[{s}]")
    return x


def define_capacity(
    model: cp_model.CpModel,
    problem: PlacementProblem,
    slot_of: np.ndarray,
    free: np.ndarray,
    x: dict[tuple[int, int], cp_model.IntVar],
) -> None:
    fixed = np.flatnonzero(~free)
    row_fixed = np.bincount(problem.slot_row[slot_of[fixed]], problem.power_kw[fixed], problem.floor.rows)
    zone_fixed = np.bincount(
        problem.zone_of(fixed, slot_of[fixed]), problem.power_kw[fixed], problem.n_zones + 1
    )
    rows: dict[int, list] = {}
    zones: dict[int, list] = {}
    for (c, s), v in x.items():
        term = (scale_int(problem.power_kw[c], W_PER_KW), v)
        rows.setdefault(int(problem.slot_row[s]), []).append(term)
        zones.setdefault(int(problem.zone_of(c, s)), []).append(term)
    for r, terms in sorted(rows.items()):
        add_power_cap(model, terms, problem.row_cap_kw - row_fixed[r], f"row_power[{r}]")
    for z, terms in sorted(zones.items()):
        if z < problem.n_zones:
            add_power_cap(
                model,
                terms,
                problem.zone_cap_kw[z] - zone_fixed[z],
                f"zone_capacity[{problem.zone_names[z]}]",
            )


def add_power_cap(model: cp_model.CpModel, terms: list[tuple[int, object]], cap_kw: float, name: str) -> None:
    """sum of watts x variable <= cap (whole watts, rounded down); left out when it cannot bind."""
    cap_w = cap_kw * W_PER_KW
    if sum(w for w, _ in terms) <= cap_w + 1e-6:
        return
    model.Add(sum(w * v for w, v in terms) <= math.floor(cap_w + 1e-6)).WithName(name)


def define_costs(
    model: cp_model.CpModel,
    problem: PlacementProblem,
    slot_of: np.ndarray,
    free: np.ndarray,
    slots: np.ndarray,
    x: dict[tuple[int, int], cp_model.IntVar],
) -> tuple[list, list, float]:
    """Returns (linear terms, pair terms, constant USD): terms are (USD coefficient, variable or 1)."""
    fa, fb = free[problem.bundle_a], free[problem.bundle_b]
    both_fixed = ~fa & ~fb
    fixed = np.flatnonzero(both_fixed)
    constant = float(run_cost_usd(problem, fixed, slot_of[problem.bundle_a[fixed]],
                                  slot_of[problem.bundle_b[fixed]]).sum())
    linear = []
    for b in np.flatnonzero(fa ^ fb):
        c, f = (
            (problem.bundle_a[b], problem.bundle_b[b])
            if fa[b]
            else (problem.bundle_b[b], problem.bundle_a[b])
        )
        for s in slots:
            if (int(c), int(s)) in x:
                linear.append((float(run_cost_usd(problem, b, s, slot_of[f])), x[int(c), int(s)]))
    pairs = []
    for b in np.flatnonzero(fa & fb):
        pairs.extend(define_pair(model, problem, int(b), slots, x))
    return linear, pairs, constant


def define_pair(
    model: cp_model.CpModel,
    problem: PlacementProblem,
    b: int,
    slots: np.ndarray,
    x: dict[tuple[int, int], cp_model.IntVar],
) -> list[tuple[float, object]]:
    """reach[b, k, s] and beyond_reach[b, s] for one bundle with both ends free; its objective terms.
    Levels k are the distinct costs v_0 < v_1 < ... of the bundle's reachable window runs (its tiers
    without per-metre prices, every distinct run length with them), so the model is exact."""
    u, v = int(problem.bundle_a[b]), int(problem.bundle_b[b])
    su = np.array([s for s in slots if (u, int(s)) in x])
    sv = np.array([s for s in slots if (v, int(s)) in x])
    tiers = problem.tier[su[:, None], sv[None, :]]
    far = (tiers >= problem.n_tiers) | (su[:, None] == sv[None, :])  # one slot cannot hold both
    cost = np.where(far, np.inf, run_cost_usd(problem, b, su[:, None], sv[None, :]))
    levels = np.unique(cost[np.isfinite(cost)])
    terms: list[tuple[float, object]] = [(float(levels[-1]), 1)]
    ends = ((u, su, v, sv, cost), (v, sv, u, su, cost.T))
    if (tiers >= problem.n_tiers).any():
        for one, s_one, other, s_other, c in ends:
            for i, s in enumerate(s_one):
                near = [x[other, int(s_other[j])] for j in np.flatnonzero(np.isfinite(c[i]))]
                model.Add(x[one, int(s)] <= sum(near)).WithName(f"beyond_reach[{b},{s}]")
    for k in range(len(levels) - 1):
        y = model.NewBoolVar(f"y[{b},{k}]")
        terms.append((float(levels[k] - levels[k + 1]), y))
        for one, s_one, other, s_other, c in ends:
            for i, s in enumerate(s_one):
                near = [x[other, int(s_other[j])] for j in np.flatnonzero(c[i] <= levels[k])]
                model.Add(y + x[one, int(s)] - sum(near) <= 1).WithName(f"reach[{b},{k},{s}]")
    return terms


def minimise_usd(
    model: cp_model.CpModel, terms: list[tuple[float, object]], resolution_usd: float = 0.01
) -> tuple[float, bool]:
    """Minimise sum of terms in whole multiples of `resolution_usd` (cents by default) divided by their
    gcd; returns (USD per model unit, whether every coefficient was whole)."""
    cents = [c / resolution_usd for c, _ in terms]
    ints = [int(round(c)) for c in cents]
    exact = all(abs(c - i) < 1e-6 for c, i in zip(cents, ints, strict=True))
    g = reduce(math.gcd, (abs(i) for i in ints if i), 0) or 1
    model.Minimize(sum((i // g) * v for i, (_, v) in zip(ints, terms, strict=True)))
    return g * resolution_usd, exact
