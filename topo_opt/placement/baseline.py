"""The single whole-model CP-SAT baseline the benchmark compares against (not used by `place`).

It is the textbook model: a boolean per (cabinet, slot) and linearised distances.

    x[c, s] in {0, 1}               one_slot, one_cabinet, row_power, zone_capacity as in `cpsat.py`
    row_c = sum_s row(s) x[c, s],  pos_c = sum_s pos(s) x[c, s]
    dr_b = |row_u - row_v|,  dp_b = |pos_u - pos_v|          (AddAbsEquality) for bundle b = (u, v)
    len_b = dp_b x slot_width + dr_b x row_pitch              (whole cm)
    z[b, k] => len_b <= reach_k - 2 x cable_slack             for every tier k below the dearest
    minimise sum_b (cost_b(T - 1) - sum_k (cost_b(k + 1) - cost_b(k)) z[b, k])

Tiers are those of `problem.py`; a bundle beyond every reach is forbidden by len_b <= the longest reach.
With per-metre prices cost_b(k) is tier k at its shortest run (`tier_floor_usd`): the model's bound
stays a lower bound and its placement's objective is recomputed exactly.
Run bare (the model as one would first write it), or with a placement (the greedy one) as a hint.
"""

import numpy as np
from ortools.sat.python import cp_model

from topo_opt.placement.cpsat import Budget, define_assignment, define_capacity, make_solver, minimise_usd, run
from topo_opt.placement.problem import PlacementProblem, is_feasible, objective_usd, tier_floor_usd

CM = 100


def whole_model_baseline(problem: PlacementProblem, budget: Budget, hint: np.ndarray | None = None) -> dict:
    """Status, objective (exact, recomputed) and bound (USD) of the baseline within the budget."""
    model = cp_model.CpModel()
    cabinets, slots = np.arange(problem.n_cabinets), np.arange(problem.n_slots)
    x = define_assignment(model, problem, cabinets, slots)
    define_capacity(
        model,
        problem,
        np.zeros(problem.n_cabinets, dtype=np.int64),
        np.ones(problem.n_cabinets, dtype=bool),
        x,
    )
    by_cabinet: dict[int, list] = {int(c): [] for c in cabinets}
    for (c, s), v in x.items():
        by_cabinet[c].append((s, v))
    row = {
        c: cp_model.LinearExpr.WeightedSum([v for _, v in sv], [int(problem.slot_row[s]) for s, _ in sv])
        for c, sv in by_cabinet.items()
    }
    pos = {
        c: cp_model.LinearExpr.WeightedSum([v for _, v in sv], [int(problem.slot_pos[s]) for s, _ in sv])
        for c, sv in by_cabinet.items()
    }
    floor = problem.floor
    width, pitch = round(floor.slot_width_m * CM), round(floor.row_pitch_m * CM)
    slack = round(2 * floor.cable_slack_m * CM)
    longest = (floor.rows - 1) * pitch + (floor.slots_per_row - 1) * width
    reach = [int(np.floor(r * CM + 1e-6)) - slack for r in problem.tier_reach_m]
    hinted = {}  # variable -> value of the hint placement, so the hint is complete
    terms = []
    floor_usd = tier_floor_usd(problem)
    for b, (u, v) in enumerate(zip(problem.bundle_a, problem.bundle_b, strict=True)):
        dr = model.NewIntVar(0, floor.rows - 1, f"dr[{b}]")
        dp = model.NewIntVar(0, floor.slots_per_row - 1, f"dp[{b}]")
        model.AddAbsEquality(dr, row[u] - row[v])
        model.AddAbsEquality(dp, pos[u] - pos[v])
        length = model.NewIntVar(0, longest, f"len[{b}]")
        model.Add(length == dp * width + dr * pitch)
        model.Add(length <= reach[-1])
        if hint is not None:
            h_dr = abs(int(problem.slot_row[hint[u]] - problem.slot_row[hint[v]]))
            h_dp = abs(int(problem.slot_pos[hint[u]] - problem.slot_pos[hint[v]]))
            hinted.update({dr: h_dr, dp: h_dp, length: h_dp * width + h_dr * pitch})
        cost = floor_usd[b]
        terms.append((cost[problem.n_tiers - 1], 1))
        for k in range(problem.n_tiers - 1):
            if cost[k + 1] != cost[k] and reach[k] >= 0:
                z = model.NewBoolVar(f"z[{b},{k}]")
                model.Add(length <= reach[k]).OnlyEnforceIf(z)
                terms.append((cost[k] - cost[k + 1], z))
                if hint is not None:
                    hinted[z] = int(hinted[length] <= reach[k] and cost[k] < cost[k + 1])
    unit, _ = minimise_usd(model, terms)
    if hint is not None:
        for (c, s), var in x.items():
            hinted[var] = int(s == hint[c])
        for var, value in hinted.items():
            model.AddHint(var, value)
    solver = make_solver(budget)
    solver.parameters.interleave_search = False  # CP-SAT's default parallel portfolio: its best shot
    outcome = run(model, solver)
    out = {"status": outcome.status, "objective_usd": None, "bound_usd": None}
    if outcome.found:
        slot_of = np.zeros(problem.n_cabinets, dtype=np.int64)
        for c, s in outcome.chosen(x):
            slot_of[c] = s
        out["objective_usd"] = objective_usd(problem, slot_of) if is_feasible(problem, slot_of) else None
        out["bound_usd"] = outcome.bound * unit
    return out
