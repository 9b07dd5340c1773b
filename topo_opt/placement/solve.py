"""`place`: chips -> cabinets, cabinets -> slots, with an honest report.

Pipeline (every step deterministic for a seed; budgets are counted in steps and CP-SAT deterministic
time, derived from the time limit, with the wall clock only as a guard):

1. physical model (`problem.py`) and infeasibility checks (`precheck.py`, exit 3 naming the limit);
2. greedy (`greedy.py`): the baseline, the first incumbent and the fallback;
3. small instances (cabinets x slots <= EXACT_MAX_PAIRS): the whole exact CP-SAT model (`cpsat.py`),
   OPTIMAL when CP-SAT proves it;
4. otherwise, where the fabric has groups (UB-Mesh pods): templates per group and the block CP-SAT
   model (`blocks.py`), then annealing (`search.py`) from the better of greedy and blocks;
5. bound (`bound.py`, or CP-SAT's own bound when it solved the whole model) and gap; the status is
   OPTIMAL only when the objective meets a proven bound, FEASIBLE otherwise.
"""

import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from topo_opt.errors import InfeasibleError, SolverError
from topo_opt.placement.blocks import block_placement
from topo_opt.placement.bound import BOUND_METHOD, placement_bound_usd
from topo_opt.placement.cpsat import Budget, solve_window
from topo_opt.placement.greedy import greedy_placement
from topo_opt.placement.packing import packing_report
from topo_opt.placement.precheck import cabinet_types, check_feasible
from topo_opt.placement.problem import (
    PlacementProblem,
    build_problem,
    bundle_tiers,
    is_feasible,
    median_saving_usd,
    objective_usd,
)
from topo_opt.placement.result import Phase, Placement, cable_runs, loads
from topo_opt.placement.search import anneal, step_time_s
from topo_opt.solution import SolveOptions, StageReport, relative_gap

if TYPE_CHECKING:
    from topo_opt.design import Design

WALL_GUARD = 3.0
EXACT_MAX_PAIRS = 400  # cabinets x slots up to which CP-SAT gets the whole exact model
# Shares of the time limit; annealing shares become step counts through `search.step_time_s`, CP-SAT
# shares deterministic seconds, so the work done depends on the time limit only, not on the clock.
TEMPLATE_SHARE = 0.05  # template canvases (annealing)
BLOCK_SHARE = 0.15  # the block CP-SAT model
ANNEAL_SHARE = 0.6  # the final annealing
T_START, T_END = 0.25, 0.004  # annealing temperatures as fractions of the median bundle's optics saving


def place(design: "Design", options: SolveOptions, initial: Sequence[int] | None = None) -> Placement:
    """`initial`, a placement of the same cabinets (the previous round of `solve`'s joint loop), is
    a second incumbent beside greedy: the search starts from the cheaper of the two."""
    start = time.monotonic()
    # The work done is a function of the time limit (step counts, CP-SAT deterministic time), so a
    # seed gives one answer; the wall clock only guards against a machine far slower than the step
    # model assumes, at WALL_GUARD x the limit (a loaded machine must not change the result).
    deadline = start + WALL_GUARD * options.time_limit_s
    instance = design.instance
    problem = build_problem(design)
    greedy, how = _greedy(problem, instance.source_file, options.time_limit_s)
    phases = [Phase("greedy", objective_usd(problem, greedy), how)]
    incumbent = greedy
    if initial is not None and is_feasible(problem, warm := np.asarray(initial, dtype=np.int64)):
        phases.append(Phase("warm start", objective_usd(problem, warm), "the previous round's placement"))
        if objective_usd(problem, warm) < objective_usd(problem, greedy):
            incumbent = warm
    if problem.n_cabinets * problem.n_slots <= EXACT_MAX_PAIRS:
        best, status, bound, method = _exact(problem, incumbent, options, deadline, phases, instance.source_file)
    else:
        best = _improve(problem, incumbent, options, deadline, phases)
        status, bound, method = "FEASIBLE", placement_bound_usd(problem), BOUND_METHOD
    _check_reach(problem, best, instance.source_file, proven=False)
    return _assemble(design, problem, best, (status, bound, method), phases, time.monotonic() - start, options)


def reprice(design: "Design", slot_of_cabinet: Sequence[int], detail: str, wall_s: float,
            options: SolveOptions) -> Placement:
    """A placement found for other bundles, priced on `design`'s (what the joint loop's last
    provisioning bought), with greedy and the bound of that problem beside it: FEASIBLE unless
    the cost meets the bound."""
    problem = build_problem(design)
    best = np.asarray(slot_of_cabinet, dtype=np.int64)
    _check_reach(problem, best, design.instance.source_file, proven=False)
    greedy, how = _greedy(problem, design.instance.source_file, options.time_limit_s)
    phases = [Phase("greedy", objective_usd(problem, greedy), how),
              Phase("joint", objective_usd(problem, best), detail)]
    return _assemble(design, problem, best, ("FEASIBLE", placement_bound_usd(problem), BOUND_METHOD), phases,
                     wall_s, options)


def _greedy(problem: PlacementProblem, source: str, time_limit_s: float) -> tuple[np.ndarray, str]:
    """The greedy baseline, after the infeasibility pre-check (exit 3 naming the limit)."""
    quota = check_feasible(problem, source, max(1.0, time_limit_s / 3))
    types, _ = cabinet_types(problem)
    greedy = greedy_placement(problem, types)
    if greedy is not None:
        return greedy, "Prim order, cheapest free slot"
    how = "Prim order, cheapest free slot, within the pre-check's per-row counts"
    return greedy_placement(problem, types, quota), how


def _assemble(design: "Design", problem: PlacementProblem, best: np.ndarray, proof: tuple, phases: list[Phase],
              wall_s: float, options: SolveOptions) -> Placement:
    """The Placement of `best`; `proof` = (status, bound or None, bound method); OPTIMAL whenever the
    objective meets the bound."""
    status, bound, method = proof
    objective = objective_usd(problem, best)
    if bound is not None and objective <= bound + 1e-6:
        status, bound = "OPTIMAL", objective
    report = StageReport("placement", status, objective, bound, relative_gap(objective, bound), method,
                         round(wall_s, 3), options.time_limit_s, options.seed, options.workers)
    rows, zones = loads(problem, best)
    instance = design.instance
    return Placement(report, tuple(int(s) for s in best), design.cabinets, instance.floor, rows, zones,
                     cable_runs(problem, best), phases[0].objective_usd,
                     packing_report(instance, design.graph, design.cabinets, design.node_cab), tuple(phases))


def _exact(
    problem: PlacementProblem,
    incumbent: np.ndarray,
    options: SolveOptions,
    deadline: float,
    phases: list[Phase],
    source: str,
) -> tuple[np.ndarray, str, float | None, str]:
    everything = np.arange(problem.n_cabinets)
    budget = Budget(
        0.8 * options.time_limit_s, max(0.1, deadline - time.monotonic()), options.workers, options.seed
    )
    res = solve_window(problem, incumbent, everything, np.arange(problem.n_slots), budget)
    phases.append(Phase("cp-sat", res.objective_usd, f"whole exact model, CP-SAT status {res.status}"))
    if res.status == "INFEASIBLE":  # the pre-check proved the caps satisfiable: reach is what fails
        _check_reach(problem, incumbent, source, proven=True)
    best = res.slot_of if res.objective_usd < objective_usd(problem, incumbent) else incumbent
    proven = res.status == "OPTIMAL" and res.exact_costs
    bound = res.bound_usd if res.exact_costs else None
    gl = placement_bound_usd(problem)
    if bound is None or gl > bound:
        return best, "FEASIBLE", gl, BOUND_METHOD
    return best, "OPTIMAL" if proven else "FEASIBLE", round(bound, 2), "CP-SAT bound of the whole exact model"


def _improve(
    problem: PlacementProblem,
    incumbent: np.ndarray,
    options: SolveOptions,
    deadline: float,
    phases: list[Phase],
) -> np.ndarray:
    best = incumbent
    budget = Budget(
        BLOCK_SHARE * options.time_limit_s,
        max(0.1, deadline - time.monotonic()),
        options.workers,
        options.seed,
    )
    blocks = block_placement(problem, budget, TEMPLATE_SHARE * options.time_limit_s)
    if blocks is not None and is_feasible(problem, blocks):
        phases.append(Phase("blocks", objective_usd(problem, blocks), "group templates placed by CP-SAT"))
        if objective_usd(problem, blocks) < objective_usd(problem, best):
            best = blocks
    steps = max(1, int(ANNEAL_SHARE * options.time_limit_s / step_time_s(problem)))
    scale = median_saving_usd(problem)
    res = anneal(problem, best, steps, options.seed, T_START * scale, T_END * scale, deadline)
    detail = f"{res.steps} steps, {res.accepted} moves" + (
        " (stopped by the time limit)" if res.stopped_by_deadline else ""
    )
    phases.append(Phase("anneal", res.objective_usd, detail))
    return res.slot_of if res.objective_usd < objective_usd(problem, best) else best


def _check_reach(problem: PlacementProblem, slot_of: np.ndarray, source: str, proven: bool) -> None:
    """Bundles beyond every medium's reach in the best placement: infeasible (exit 3) when the exact
    model proved that no placement avoids them, otherwise a solver failure (exit 1)."""
    tiers = bundle_tiers(problem, slot_of)
    beyond = np.flatnonzero(tiers >= problem.n_tiers)
    if not len(beyond):
        return
    lengths = problem.length_m[slot_of[problem.bundle_a[beyond]], slot_of[problem.bundle_b[beyond]]]
    reach = float(problem.tier_reach_m[-1])
    found = (
        f"the best placement found has {len(beyond)} bundles beyond it, the longest {lengths.max():.1f} m "
        f"(exceeded by {lengths.max() - reach:.1f} m)"
    )
    if proven:
        raise InfeasibleError(
            f"{source}: infeasible: cable reach: no placement keeps every bundle within the "
            f"longest medium's {reach:g} m (proven by CP-SAT on the exact model); {found}"
        )
    raise SolverError(f"{source}: no placement within cable reach ({reach:g} m) was found; {found}")
