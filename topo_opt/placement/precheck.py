"""Infeasibility: cheap counting pre-checks first, then an exact aggregated CP-SAT model with assumptions.

Each check raises InfeasibleError with one line that names the binding limit and by how much it is
exceeded. The aggregated model is exact for feasibility because cabinets of the same (power, cooling)
type are interchangeable and so are the slots of one row:

    n[k, r] in 0..count_k       cabinets of type k in row r (0 where no zone of k's cooling covers r)
    sum_r n[k, r] = count_k                                  (every cabinet placed)
    sum_k n[k, r] <= slots_per_row                           (space)
    sum_k power_k n[k, r] <= row_power_kw       [row r]      (row feed)
    sum_{k cooled like z, r in z} power_k n[k, r] <= cap_z   [zone z] (cooling)

Row and zone limits are enforced only under an assumption literal; when the model is infeasible
CP-SAT names a sufficient set of them, and a second model that lets exactly those limits grow by
integer slack (watts) minimises the total slack: that is the amount by which they are exceeded.
"""

from collections import Counter

import numpy as np
from ortools.sat.python import cp_model

from topo_opt.errors import InfeasibleError, SolverError
from topo_opt.placement.problem import COOLING_KINDS, PlacementProblem
from topo_opt.units import scale_int

W_PER_KW = 1000  # CP-SAT works in whole watts


def check_feasible(problem: PlacementProblem, source: str, time_limit_s: float = 10.0) -> np.ndarray:
    """Raise InfeasibleError naming the binding limit, else return a feasible count matrix n[type, row]."""
    where = f"{source}: infeasible: "
    for message in _precheck_messages(problem):
        raise InfeasibleError(where + message)
    types, counts = cabinet_types(problem)
    status, solver, model = _solve_counts(problem, types, counts, time_limit_s, slack=None)
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        return np.array([[solver.Value(v) for v in row] for row in model.n])
    if status != cp_model.INFEASIBLE:
        raise SolverError(
            f"{source}: feasibility check ran out of time ({time_limit_s:g} s) without an answer"
        )
    by_index = {lit.Index(): (name, lit) for name, lit in model.limits}
    core = [by_index[i] for i in solver.SufficientAssumptionsForInfeasibility()]
    status, solver, relaxed = _solve_counts(problem, types, counts, time_limit_s, slack=core)
    excess = solver.ObjectiveValue() / W_PER_KW if status in (cp_model.OPTIMAL, cp_model.FEASIBLE) else None
    names = ", ".join(name for name, _ in core) or "slots per row"
    amount = f"{excess:,.1f} kW in total" if excess is not None else "an unknown amount"
    raise InfeasibleError(
        where + f"{names}: no placement fits these limits together; they are exceeded by {amount}"
    )


def cabinet_types(problem: PlacementProblem) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """Type index of every cabinet and the (cooling, power_kw) of each type, in first-seen order."""
    keys = [(int(k), float(p)) for k, p in zip(problem.cooling, problem.power_kw, strict=True)]
    order = list(dict.fromkeys(keys))
    return np.array([order.index(k) for k in keys], dtype=np.int64), order


def _precheck_messages(problem: PlacementProblem) -> list[str]:
    """Counting arguments, cheapest first; each yields one message."""
    out = []
    for c in problem.cabinets:
        for limit, cap in (("power_cap_kw", c.power_cap_kw), ("cooling_capacity_kw", c.cooling_capacity_kw)):
            if c.power_kw > cap + 1e-9:
                out.append(
                    f"cabinet {c.index} ({c.kind}) draws {c.power_kw:,.1f} kW, above its {limit} "
                    f"{cap:,.1f} kW by {c.power_kw - cap:,.1f} kW"
                )
    floor, n = problem.floor, problem.n_cabinets
    if n > problem.n_slots:
        out.append(
            f"floor space: {n} cabinets but {problem.n_slots} slots "
            f"({floor.rows} rows x {floor.slots_per_row}); {n - problem.n_slots} slots short"
        )
    total = float(problem.power_kw.sum())
    feed = floor.rows * floor.row_power_kw
    if total > feed + 1e-9:
        out.append(
            f"row power: cabinets draw {total:,.1f} kW but {floor.rows} rows x {floor.row_power_kw:,.1f} kW "
            f"feed {feed:,.1f} kW; exceeded by {total - feed:,.1f} kW"
        )
    if floor.cooling_zones:
        out.extend(_cooling_messages(problem))
    return out


def _cooling_messages(problem: PlacementProblem) -> list[str]:
    out = []
    floor = problem.floor
    for k, kind in enumerate(COOLING_KINDS):
        mine = problem.cooling == k
        if not mine.any():
            continue
        rows = np.flatnonzero(problem.zone_of_row[k] < problem.n_zones)
        need_kw = float(problem.power_kw[mine].sum())
        if rows.size == 0:
            out.append(
                f"cooling: {int(mine.sum())} {kind}-cooled cabinets ({need_kw:,.1f} kW) "
                f"but no {kind} cooling zone on the floor"
            )
            continue
        slots = rows.size * floor.slots_per_row
        if mine.sum() > slots:
            out.append(
                f"{kind} rows' space: {int(mine.sum())} {kind}-cooled cabinets but {slots} slots in rows "
                f"with a {kind} zone; {int(mine.sum()) - slots} slots short"
            )
        zones = sorted({int(z) for z in problem.zone_of_row[k] if z < problem.n_zones})
        cap = float(problem.zone_cap_kw[zones].sum())
        if need_kw > cap + 1e-9:
            names = ", ".join(problem.zone_names[z] for z in zones)
            out.append(
                f"zone capacity: {kind}-cooled cabinets draw {need_kw:,.1f} kW but the {kind} zones "
                f"({names}) hold {cap:,.1f} kW; exceeded by {need_kw - cap:,.1f} kW"
            )
        feed = rows.size * floor.row_power_kw
        if need_kw > feed + 1e-9:
            out.append(
                f"row power: {kind}-cooled cabinets draw {need_kw:,.1f} kW but the {rows.size} rows with a "
                f"{kind} zone feed {feed:,.1f} kW; exceeded by {need_kw - feed:,.1f} kW"
            )
    return out


class _CountModel(cp_model.CpModel):
    """The aggregated model of the module docstring; `limits` pairs each limit's name with its literal."""

    n: list[list[cp_model.IntVar]]
    limits: list[tuple[str, cp_model.IntVar]]


def _solve_counts(
    problem: PlacementProblem,
    types: np.ndarray,
    kinds: list[tuple[int, float]],
    time_limit_s: float,
    slack: list[tuple[str, object]] | None,
):
    model = _CountModel()
    floor = problem.floor
    counts = Counter(types.tolist())
    modelled = bool(floor.cooling_zones)
    model.n = [
        [
            model.NewIntVar(
                0,
                counts[k] if (not modelled or problem.zone_of_row[cool, r] < problem.n_zones) else 0,
                f"n{k}_{r}",
            )
            for r in range(floor.rows)
        ]
        for k, (cool, _) in enumerate(kinds)
    ]
    watts = [scale_int(p, W_PER_KW) for _, p in kinds]
    for k in range(len(kinds)):
        model.Add(sum(model.n[k]) == counts[k])
    for r in range(floor.rows):
        model.Add(sum(model.n[k][r] for k in range(len(kinds))) <= floor.slots_per_row)
    limits = [
        (
            f"row {r} power cap {floor.row_power_kw:,.1f} kW",
            [(watts[k], model.n[k][r]) for k in range(len(kinds))],
            scale_int(floor.row_power_kw, W_PER_KW),
        )
        for r in range(floor.rows)
    ]
    for zone in floor.cooling_zones:
        cool = COOLING_KINDS.index(zone.kind)
        terms = [(watts[k], model.n[k][r]) for k, (c, _) in enumerate(kinds) if c == cool for r in zone.rows]
        limits.append(
            (
                f"zone {zone.name} capacity {zone.capacity_kw:,.1f} kW",
                terms,
                scale_int(zone.capacity_kw, W_PER_KW),
            )
        )
    model.limits = []
    slacks = []
    total_w = sum(w * counts[k] for k, w in enumerate(watts))
    relax = {name for name, _ in slack} if slack is not None else set()
    for name, terms, cap in limits:
        expr = sum(w * v for w, v in terms)
        if slack is None:
            lit = model.NewBoolVar(name)
            model.Add(expr <= cap).OnlyEnforceIf(lit)
            model.AddAssumption(lit)
            model.limits.append((name, lit))
        elif name in relax:
            extra = model.NewIntVar(0, total_w, f"slack {name}")
            model.Add(expr <= cap + extra)
            slacks.append(extra)
        else:
            model.Add(expr <= cap)
    if slacks:
        model.Minimize(sum(slacks))
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1
    return solver.Solve(model), solver, model
