"""The provisioning model: build, solve and extract are separate steps (OR-Tools linear solver).

Formulation, per chip (every chip of the modelled fabrics sees the same neighbourhood, so the
per-chip quantities are exact group-level aggregates; see `network`):

Variables
    l[k]      lanes per chip of link class k, integer in [min_k, max_k] (a fixed class: its nominal)
    f[q, r]   GB/s per chip of demand q = (level, pattern) sent on route r, continuous >= 0
    c[g]      cables per bundle of bundle group g, integer >= 0
    n[t]      switches per unit (pod, rack, or the whole fabric) of switch tier t, integer >= 0

Constraints (named, so an infeasibility or a model dump can quote them)
    demand[q]       sum_r f[q, r] >= D_q                     D_q = target x R x bytes_q (`traffic`)
    capacity[e]     sum_{q, r} u[r, e] f[q, r] <= sum_k a[e, k] l[k]       per-chip resource e
    lane_budget     sum_k b_k l[k] <= L                      the chip's lanes
    cables[g]       M_g c[g] >= (G_g / l0_k) l[k]            bundle bandwidth at l[k] lanes
    radix[t]        P_t n[t] >= sum_k p[t, k] l[k]           switch ports

Objective, USD
    sum_g c[g] (N_g (cost_g + w power_g) + per_m_g Len_g) + sum_t U_t n[t] (cost_t + w power_t)
      + eps x chips x sum_k l[k]
with N_g the group's bundles, Len_g the sum of their run lengths and per_m_g the medium's price per metre.

with w = POWER_WEIGHT_USD_PER_KW (energy over the service life) and eps = LANE_TIE_USD, which
prefers dark lanes among equally cheap plans (board-trace lanes cost nothing otherwise).

Demand is carried at max-concurrent-flow lambda >= target exactly when these constraints hold:
`max_concurrent_flow` recomputes lambda for fixed lanes.

Solvers (measured, see the README): the MIP with SCIP (continuous route flows next to integer
counts, solved exactly in milliseconds; CP-SAT must scale the flows to integers), LPs with GLOP
(tens of rows: simplex is exact and instant; PDLP is a first-order method for models far larger).
"""

import time
from dataclasses import dataclass, field

from ortools.linear_solver import pywraplp

from topo_opt.catalog import MediumType
from topo_opt.errors import SolverError
from topo_opt.netspec import NetworkSpec
from topo_opt.provisioning.bundles import BundleGroup
from topo_opt.solution import SolveOptions

# 5 years x 8,760 h x 0.10 USD/kWh x PUE 1.3 (assumed): what one kW of network power costs.
POWER_WEIGHT_USD_PER_KW = 5 * 8760 * 0.10 * 1.3
LANE_TIE_USD = 1.0
MIP_SOLVER = "SCIP"
LP_SOLVER = "GLOP"

_STATUS = {
    pywraplp.Solver.OPTIMAL: "OPTIMAL", pywraplp.Solver.FEASIBLE: "FEASIBLE",
    pywraplp.Solver.INFEASIBLE: "INFEASIBLE", pywraplp.Solver.UNBOUNDED: "MODEL_INVALID",
    pywraplp.Solver.ABNORMAL: "UNKNOWN", pywraplp.Solver.MODEL_INVALID: "MODEL_INVALID",
    pywraplp.Solver.NOT_SOLVED: "UNKNOWN",
}


@dataclass(frozen=True)
class ModelInputs:
    spec: NetworkSpec
    demand_GBps: tuple[tuple[str, str, float], ...]  # (level, pattern, GB/s per chip) to carry
    groups: tuple[BundleGroup, ...]
    media: tuple[MediumType, ...]
    fixed_lanes: tuple[tuple[str, float], ...] = ()  # classes pinned to given lanes
    lane_budget: bool = True  # False: drop the budget (to measure what the demand needs)

    def medium(self, name: str) -> MediumType:
        return next(m for m in self.media if m.name == name)


@dataclass(frozen=True)
class ProvisioningModel:
    """A built model: the solver and its variable families (filled by the define_* steps)."""

    inputs: ModelInputs
    solver: pywraplp.Solver
    solver_id: str
    integer: bool
    scale: pywraplp.Variable | None = None  # lambda when the demand is scaled (max concurrent flow)
    lanes: dict = field(default_factory=dict)  # class -> l[k]
    flows: dict = field(default_factory=dict)  # (level, pattern, route) -> f[q, r]
    cables: dict = field(default_factory=dict)  # BundleGroup -> c[g]
    switches: dict = field(default_factory=dict)  # tier -> n[t]


@dataclass(frozen=True)
class Outcome:
    status: str
    objective: float | None
    bound: float | None
    wall_s: float
    solver_id: str
    workers: int


@dataclass(frozen=True)
class Plan:
    lanes: dict[str, float]
    cables: dict[BundleGroup, int]
    switches: dict[str, int]  # per unit of the tier
    flows: dict[tuple[str, str, str], float]


# --- build -----------------------------------------------------------------------------------------

def build_model(inputs: ModelInputs, solver_id: str = MIP_SOLVER, integer: bool = True) -> ProvisioningModel:
    """The model as a table of contents of define_* steps; `integer=False` gives the LP relaxation."""
    solver = pywraplp.Solver.CreateSolver(solver_id)
    if solver is None:
        raise SolverError(f"OR-Tools has no {solver_id} solver in this build")
    model = ProvisioningModel(inputs, solver, solver_id, integer)
    define_lanes(model)
    define_flows(model)
    define_demand(model)
    define_capacity(model)
    if inputs.lane_budget:
        define_lane_budget(model)
    define_cables(model)
    define_radix(model)
    define_objective(model)
    return model


def _var(model: ProvisioningModel, lo: float, hi: float, name: str) -> pywraplp.Variable:
    return model.solver.IntVar(lo, hi, name) if model.integer else model.solver.NumVar(lo, hi, name)


def define_lanes(model: ProvisioningModel) -> None:
    """l[k] lanes per chip of class k; fixed classes and pinned classes have lo = hi."""
    pinned = dict(model.inputs.fixed_lanes)
    for c in model.inputs.spec.classes:
        if c.fixed or c.name in pinned:
            value = pinned.get(c.name, c.nominal_lanes)
            model.lanes[c.name] = model.solver.NumVar(value, value, f"lanes[{c.name}]")
        else:
            hi = c.lanes_max if model.inputs.lane_budget else model.solver.infinity()
            model.lanes[c.name] = _var(model, c.lanes_min, hi, f"lanes[{c.name}]")


def define_flows(model: ProvisioningModel) -> None:
    """f[q, r] >= 0 for every route of a (level, pattern) that has demand."""
    wanted = {(lv, p) for lv, p, _ in model.inputs.demand_GBps}
    for r in model.inputs.spec.routes:
        if (r.level, r.pattern) in wanted:
            model.flows[(r.level, r.pattern, r.name)] = model.solver.NumVar(
                0, model.solver.infinity(), f"flow[{r.level}/{r.pattern}/{r.name}]")


def define_demand(model: ProvisioningModel) -> None:
    """demand[q]: the routes of q carry at least D_q (lambda x D_q when the demand is scaled)."""
    for level, pattern, d in model.inputs.demand_GBps:
        terms = [f for (lv, p, _), f in model.flows.items() if (lv, p) == (level, pattern)]
        model.solver.Add(sum(terms) >= (d * model.scale if model.scale is not None else d),
                         f"demand[{level}/{pattern}]")


def define_capacity(model: ProvisioningModel) -> None:
    """capacity[e]: what the routes draw on resource e fits its lanes."""
    spec = model.inputs.spec
    for res in spec.resources:
        load = [factor * model.flows[(r.level, r.pattern, r.name)]
                for r in spec.routes if (r.level, r.pattern, r.name) in model.flows
                for name, factor in r.uses if name == res.name]
        if load:
            model.solver.Add(sum(load) <= sum(coeff * model.lanes[c] for c, coeff in res.terms),
                             f"capacity[{res.name}]")


def define_lane_budget(model: ProvisioningModel) -> None:
    """lane_budget: every class's lanes, weighted by the chip lanes they take, fit the chip."""
    spec = model.inputs.spec
    model.solver.Add(sum(c.budget_lanes * model.lanes[c.name] for c in spec.classes) <= spec.lane_budget,
                     "lane_budget")


def define_cables(model: ProvisioningModel) -> None:
    """cables[g]: c[g] cables of the group's medium carry the bundle's bandwidth at l[k] lanes."""
    spec = model.inputs.spec
    for i, g in enumerate(model.inputs.groups):
        per_lane = g.nominal_GBps / spec.link_class(g.link_class).nominal_lanes
        name = f"cables[{i}:{g.kind}/{g.medium}]"
        var = _var(model, 0, model.solver.infinity(), name)
        model.cables[g] = var
        medium_GBps = model.inputs.medium(g.medium).bandwidth_GBps
        model.solver.Add(var * medium_GBps >= per_lane * model.lanes[g.link_class], name)


def define_radix(model: ProvisioningModel) -> None:
    """radix[t]: n[t] switches per unit have the ports the lanes need."""
    for t in model.inputs.spec.tiers:
        var = _var(model, 0, model.solver.infinity(), f"switches[{t.name}]")
        model.switches[t.name] = var
        model.solver.Add(var * t.ports_per_switch >= sum(coeff * model.lanes[c] for c, coeff in t.terms),
                         f"radix[{t.name}]")


def define_objective(model: ProvisioningModel) -> None:
    """Network cost + power weight x network power + lane tie-break (module docstring)."""
    inputs, w = model.inputs, POWER_WEIGHT_USD_PER_KW
    terms = []
    for g, var in model.cables.items():
        m = inputs.medium(g.medium)
        terms.append((g.count * (m.cost_usd + w * m.power_w / 1000) + m.cost_usd_per_m * g.length_m) * var)
    for t in inputs.spec.tiers:
        terms.append(t.units * (t.switch.cost_usd + w * t.switch.power_w / 1000) * model.switches[t.name])
    terms.append(LANE_TIE_USD * inputs.spec.chips * sum(model.lanes[c.name] for c in inputs.spec.classes))
    model.solver.Minimize(sum(terms))


# --- solve -----------------------------------------------------------------------------------------

def solve_model(model: ProvisioningModel, options: SolveOptions) -> Outcome:
    """Solve within the time limit with a fixed seed; a MIP is solved to a zero relative gap."""
    solver = model.solver
    solver.SetTimeLimit(max(1, int(options.time_limit_s * 1000)))
    workers = 1
    if model.solver_id == "SCIP":
        solver.SetSolverSpecificParametersAsString(f"randomization/randomseedshift = {options.seed}\n")
    elif model.solver_id == "CP_SAT":
        workers = options.workers
        solver.SetSolverSpecificParametersAsString(f"random_seed:{options.seed} num_workers:{workers}")
    params = pywraplp.MPSolverParameters()
    if model.integer:
        params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
    start = time.perf_counter()
    code = solver.Solve(params)
    wall = time.perf_counter() - start
    status = _STATUS.get(code, "UNKNOWN")
    if status not in ("OPTIMAL", "FEASIBLE"):
        return Outcome(status, None, None, wall, model.solver_id, workers)
    objective = solver.Objective().Value()
    bound = solver.Objective().BestBound() if model.integer else (objective if status == "OPTIMAL" else None)
    return Outcome(status, objective, bound, wall, model.solver_id, workers)


# --- extract ---------------------------------------------------------------------------------------

def extract_plan(model: ProvisioningModel) -> Plan:
    """Values of a solved model; integer variables are rounded (the solver returns them within 1e-6)."""
    def val(v: pywraplp.Variable) -> float:
        x = v.solution_value()
        return float(round(x)) if model.integer and abs(x - round(x)) < 1e-6 else x

    lanes = {name: val(v) for name, v in model.lanes.items()}
    return Plan(lanes, {g: int(round(v.solution_value())) for g, v in model.cables.items()},
                {name: int(round(v.solution_value())) for name, v in model.switches.items()},
                {key: v.solution_value() for key, v in model.flows.items()})


# --- derived solves --------------------------------------------------------------------------------

def lanes_needed(inputs: ModelInputs, options: SolveOptions) -> dict[str, float] | None:
    """Fewest budget lanes that carry the demand, ignoring the budget, and among those the cheapest
    plan (lexicographic: min lanes, then min cost); names the binding budget when the model is
    infeasible. None when even that fails."""
    model = build_model(ModelInputs(inputs.spec, inputs.demand_GBps, inputs.groups, inputs.media,
                                    inputs.fixed_lanes, lane_budget=False))
    used = sum(c.budget_lanes * model.lanes[c.name] for c in inputs.spec.classes)
    objective = model.solver.Objective()
    cost = {v.index(): objective.GetCoefficient(v) for v in model.solver.variables()}
    model.solver.Minimize(used)
    first = solve_model(model, options)
    if first.status not in ("OPTIMAL", "FEASIBLE"):
        return None
    model.solver.Add(used <= first.objective + 1e-6, "fewest_lanes")
    model.solver.Minimize(sum(coeff * model.solver.variable(i) for i, coeff in cost.items() if coeff))
    if solve_model(model, options).status not in ("OPTIMAL", "FEASIBLE"):
        return None
    return extract_plan(model).lanes


def max_concurrent_flow(spec: NetworkSpec, demand_GBps: tuple[tuple[str, str, float], ...],
                        lanes: dict[str, float]) -> float:
    """lambda* = max lambda such that lambda x demand fits the given lanes over the routes (GLOP):
    the demand and capacity rows of the model with every class pinned and the demand scaled."""
    solver = pywraplp.Solver.CreateSolver(LP_SOLVER)
    inputs = ModelInputs(spec, demand_GBps, (), (), tuple(lanes.items()), lane_budget=False)
    lam = solver.NumVar(0, solver.infinity(), "lambda")
    model = ProvisioningModel(inputs, solver, LP_SOLVER, False, scale=lam)
    define_lanes(model)
    define_flows(model)
    define_demand(model)
    define_capacity(model)
    solver.Maximize(model.scale)
    if solver.Solve() != pywraplp.Solver.OPTIMAL:
        raise SolverError("GLOP could not compute the max concurrent flow of the plan")
    return model.scale.solution_value()
