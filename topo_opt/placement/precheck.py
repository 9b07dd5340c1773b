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
from dataclasses import dataclass

import numpy as np
from ortools.sat.python import cp_model

from topo_opt.errors import InfeasibleError, SolverError
from topo_opt.placement.cpsat import W_PER_KW, Outcome, run
from topo_opt.placement.problem import COOLING_KINDS, PlacementProblem
from topo_opt.units import scale_int


def check_feasible(problem: PlacementProblem, source: str, time_limit_s: float = 10.0) -> np.ndarray:
    """Raise InfeasibleError naming the binding limit, else return a feasible count matrix n[type, row]."""
    where = f"{source}: infeasible: "
    for message in _precheck_messages(problem):
        raise InfeasibleError(where + message)
    types, kinds = cabinet_types(problem)
    counts = _count_model(problem, types, kinds)
    literals = {}
    for name, terms, cap in counts.limits:
        lit = counts.model.NewBoolVar(name)
        counts.model.Add(sum(w * v for w, v in terms) <= cap).OnlyEnforceIf(lit)
        counts.model.AddAssumption(lit)
        literals[lit.Index()] = name
    outcome = _solve(counts.model, time_limit_s)
    solver = outcome.solver
    if outcome.found:
        return np.array([[solver.Value(v) for v in row] for row in counts.n])
    if outcome.status != "INFEASIBLE":
        raise SolverError(
            f"{source}: feasibility check ran out of time ({time_limit_s:g} s) without an answer"
        )
    core = [literals[i] for i in solver.SufficientAssumptionsForInfeasibility()]
    names = ", ".join(core) or "slots per row"
    raise InfeasibleError(
        where + f"{names}: no placement fits these limits together; "
        f"they are exceeded by {_least_excess(problem, types, kinds, core, time_limit_s)}"
    )


def _least_excess(
    problem: PlacementProblem,
    types: np.ndarray,
    kinds: list[tuple[int, float]],
    core: list[str],
    time_limit_s: float,
) -> str:
    """Minimum total slack (kW) that the named limits need for a placement to exist."""
    relaxed = _count_model(problem, types, kinds)
    total_w = scale_int(float(problem.power_kw.sum()), W_PER_KW)  # no limit needs more slack than all power
    slacks = []
    for name, terms, cap in relaxed.limits:
        extra = 0
        if name in core:
            extra = relaxed.model.NewIntVar(0, total_w, f"slack {name}")
            slacks.append(extra)
        relaxed.model.Add(sum(w * v for w, v in terms) <= cap + extra)
    relaxed.model.Minimize(sum(slacks))
    outcome = _solve(relaxed.model, time_limit_s)
    if not outcome.found:
        return "an amount the solver did not find in time"
    return f"{outcome.solver.ObjectiveValue() / W_PER_KW:,.1f} kW in total" + (
        "" if outcome.status == "OPTIMAL" else " or less"
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
    out.extend(_reach_messages(problem))
    return out


def _reach_messages(problem: PlacementProblem) -> list[str]:
    """No medium reaches even the shortest run between two slots (neighbours in a row, or across
    adjacent rows): every bundle between cabinets is beyond reach whatever the placement."""
    floor = problem.floor
    if not len(problem.bundle_a) or problem.n_slots < 2:
        return []
    gaps = [g for g, n in ((floor.slot_width_m, floor.slots_per_row), (floor.row_pitch_m, floor.rows)) if n > 1]
    shortest = min(gaps) + 2 * floor.cable_slack_m
    reach = float(problem.tier_reach_m[-1])
    if shortest <= reach + 1e-9:
        return []
    longest = (floor.slots_per_row - 1) * floor.slot_width_m + (floor.rows - 1) * floor.row_pitch_m \
        + 2 * floor.cable_slack_m
    medium = problem.tier_media[-1].name
    return [f"cable reach: the longest medium reach is {reach:g} m ({medium}) but the shortest run between "
            f"two slots is {shortest:g} m and the longest {longest:,.1f} m; "
            f"{len(problem.bundle_a)} bundles need a medium of at least {shortest:g} m reach"]


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


@dataclass
class _CountModel:
    """The aggregated model of the module docstring, with its row and zone limits not yet added:
    (name, terms (watts, variable), cap in watts)."""

    model: cp_model.CpModel
    n: list[list[cp_model.IntVar]]
    limits: list[tuple[str, list[tuple[int, cp_model.IntVar]], int]]


def _count_model(problem: PlacementProblem, types: np.ndarray, kinds: list[tuple[int, float]]) -> _CountModel:
    model = cp_model.CpModel()
    floor = problem.floor
    counts = Counter(types.tolist())
    first = [int(np.flatnonzero(types == k)[0]) for k in range(len(kinds))]
    rows = range(floor.rows)
    # a type may use a row only where its cooling is admitted (all slots of a row admit alike)
    n = [
        [
            model.NewIntVar(
                0, counts[k] if problem.allowed[first[k], r * floor.slots_per_row] else 0, f"n[{k},{r}]"
            )
            for r in rows
        ]
        for k in range(len(kinds))
    ]
    for k in range(len(kinds)):
        model.Add(sum(n[k]) == counts[k])
    for r in rows:
        model.Add(sum(n[k][r] for k in range(len(kinds))) <= floor.slots_per_row)
    watts = [scale_int(p, W_PER_KW) for _, p in kinds]
    cap = scale_int(floor.row_power_kw, W_PER_KW)
    limits = [
        (
            f"row {r} power cap {floor.row_power_kw:,.1f} kW",
            [(watts[k], n[k][r]) for k in range(len(kinds))],
            cap,
        )
        for r in rows
    ]
    for zone in floor.cooling_zones:
        cool = COOLING_KINDS.index(zone.kind)
        terms = [(watts[k], n[k][r]) for k, (c, _) in enumerate(kinds) if c == cool for r in zone.rows]
        limits.append(
            (
                f"zone {zone.name} capacity {zone.capacity_kw:,.1f} kW",
                terms,
                scale_int(zone.capacity_kw, W_PER_KW),
            )
        )
    return _CountModel(model, n, limits)


def _solve(model: cp_model.CpModel, time_limit_s: float) -> Outcome:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = 1  # assumptions and their core need the single-thread search
    return run(model, solver)
