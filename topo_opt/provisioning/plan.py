"""`provision`: workload -> traffic -> model -> plan -> bill of materials, with an honest report.

Demand scale. The layout and collectives fix the shape of the traffic (bytes per level per unit
of buffer, `traffic`); its rate R (GB/s of buffer per chip) is the rate the instance's own fabric
carries with dimension-ordered routes (`network.reference_rate`), and the plan must carry
target_throughput x R. So target 1 asks for the cheapest plan that carries the workload at least
as fast as the fabric the instance describes, and 1.5 for 50 % more. An absolute target
(`workload.target_GBps`, GB/s per chip of one or more parallel axes) is turned into the multiple
that gives its binding axis exactly its rate (`traffic.workload_target`). `provision_at_rate` takes
R from elsewhere, so two fabrics can be sized for the same workload at the same rate.
"""

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from topo_opt.errors import InfeasibleError, InstanceError, SolverError
from topo_opt.instance import Instance
from topo_opt.netspec import SCOPES, NetworkSpec, budget_used, nominal_lanes
from topo_opt.physical import Cabinet
from topo_opt.provisioning.bom import bill_of_materials
from topo_opt.provisioning.bundles import (
    PCB,
    Bundle,
    bundle_groups,
    cable_bundles,
    group_key,
    row_major_slots,
)
from topo_opt.provisioning.model import (
    LP_SOLVER,
    MIP_SOLVER,
    ModelInputs,
    build_model,
    extract_plan,
    lanes_needed,
    max_concurrent_flow,
    solve_model,
)
from topo_opt.provisioning.network import reference_rate
from topo_opt.provisioning.traffic import Traffic, workload_target
from topo_opt.solution import SolveOptions, StageReport, relative_gap

if TYPE_CHECKING:
    from topo_opt.design import Design


@dataclass(frozen=True)
class Provisioning:
    """A provisioned fabric: the report and the JSON-ready plan and bill of materials."""

    report: StageReport
    plan: dict

    @property
    def bom(self) -> dict:
        return self.plan["bom"]

    def to_dict(self) -> dict:
        return {"report": self.report.to_dict(), **self.plan}


@dataclass(frozen=True)
class Prepared:
    """Everything the model is built from: structure, traffic, demand rate, bundles, model inputs."""

    instance: Instance
    cabinets: tuple[Cabinet, ...]
    spec: NetworkSpec
    traffic: Traffic
    rate_GBps: float
    rate_source: str
    layout: str
    bundles: tuple[Bundle, ...]
    inputs: ModelInputs


def provision(design: "Design", options: SolveOptions,
              slot_of_cabinet: Sequence[int] | None = None) -> Provisioning:
    """Provision the instance's fabric for its workload at target_throughput x the reference rate.

    `slot_of_cabinet[i]` is cabinet i's floor slot (from placement); None lays the cabinets out
    row-major in index order. Raises InfeasibleError (binding budget named) or InstanceError.
    """
    start = time.perf_counter()
    return solve_prepared(prepare(design, slot_of_cabinet), options, start)


def provision_at_rate(design: "Design", options: SolveOptions, rate_GBps: float,
                      slot_of_cabinet: Sequence[int] | None = None) -> Provisioning:
    """As `provision`, with the reference rate R (GB/s of buffer per chip) given, so two fabrics
    can be sized for the same workload at the same rate."""
    start = time.perf_counter()
    return solve_prepared(prepare(design, slot_of_cabinet, rate_GBps), options, start)


def provision_nominal(design: "Design", options: SolveOptions,
                      slot_of_cabinet: Sequence[int] | None = None) -> Provisioning:
    """The fabric as the instance describes it (every class at its nominal lanes), with cables and
    switches sized to it: the bill of materials of the published design."""
    start = time.perf_counter()
    return solve_prepared(prepare(design, slot_of_cabinet, pin_nominal=True), options, start)


def prepare(design: "Design", slot_of_cabinet: Sequence[int] | None = None,
            rate_GBps: float | None = None, pin_nominal: bool = False) -> Prepared:
    """Demand at target x R (R from the instance's fabric unless given), bundles and model inputs
    on the design's structure and traffic."""
    instance, cabinets, spec, traffic = design.instance, design.cabinets, design.spec, design.traffic
    rate = reference_rate(spec, traffic) if rate_GBps is None else rate_GBps
    target, _ = workload_target(instance, traffic, rate)
    demand = tuple((lv, p, target * rate * d) for lv, p, d in traffic.demand)
    bundles = cable_bundles(instance, design.graph, design.node_cab, spec,
                            _slots(instance, cabinets, slot_of_cabinet))
    pinned = tuple(nominal_lanes(spec).items()) if pin_nominal else ()
    inputs = ModelInputs(spec, demand, bundle_groups(bundles), instance.media, pinned)
    source = "the instance's fabric, dimension-ordered routes" if rate_GBps is None else "given"
    return Prepared(instance, cabinets, spec, traffic, rate, source,
                    "row-major" if slot_of_cabinet is None else "placement", bundles, inputs)


def solve_prepared(prep: Prepared, options: SolveOptions, start: float | None = None) -> Provisioning:
    """Solve the MIP, bound it by its LP relaxation, recompute the concurrent flow, build the BOM.
    `start` (perf_counter) lets the report's wall time include the preparation."""
    start = time.perf_counter() if start is None else start
    instance, spec, inputs, bundles = prep.instance, prep.spec, prep.inputs, prep.bundles
    target, basis = workload_target(instance, prep.traffic, prep.rate_GBps)
    model = build_model(inputs)
    outcome = solve_model(model, options)
    if outcome.status == "INFEASIBLE":
        raise InfeasibleError(_budget_message(inputs, options, basis))
    if outcome.status not in ("OPTIMAL", "FEASIBLE"):
        raise SolverError(f"{MIP_SOLVER} returned {outcome.status} within {options.time_limit_s:g} s")
    plan = extract_plan(model)
    relaxed = build_model(inputs, LP_SOLVER, integer=False)
    lp = solve_model(relaxed, options)
    lam = max_concurrent_flow(spec, inputs.demand_GBps, plan.lanes)
    per_group = {g.key: n for g, n in plan.cables.items()}
    cables = tuple(0 if b.medium == PCB else per_group[group_key(b)] for b in bundles)
    wall = time.perf_counter() - start
    report = StageReport("provisioning", outcome.status, outcome.objective, outcome.bound,
                         relative_gap(outcome.objective, outcome.bound),
                         f"{MIP_SOLVER} dual bound (LP relaxation by {LP_SOLVER}: {_usd(lp.objective)})",
                         wall, options.time_limit_s, options.seed, outcome.workers)
    body = {
        "instance": instance.name,
        "family": spec.family,
        "layout": prep.layout,
        "traffic": _traffic_dict(instance, spec, prep.traffic, target, prep.rate_GBps),
        "max_concurrent_flow": {
            "target": target, "achieved": target * lam, "unit": "multiples of the reference rate",
            "target_basis": basis,
            "reference_rate_GBps": prep.rate_GBps, "reference": prep.rate_source,
            "injection_GBps_per_chip": target * prep.rate_GBps * prep.traffic.injection(),
            "chip_interconnect_GBps": instance.chip.interconnect_GBps,
        },
        "lanes_per_chip": {c.name: {"lanes": plan.lanes[c.name], "nominal": c.nominal_lanes,
                                    "lane_GBps": c.lane_GBps,
                                    "bandwidth_GBps": plan.lanes[c.name] * c.lane_GBps,
                                    "budget_lanes_each": c.budget_lanes, "kinds": list(c.kinds),
                                    "fixed": c.fixed} for c in spec.classes},
        "lane_budget": {"lanes": spec.lane_budget, "used": budget_used(spec, plan.lanes)},
        "routes_GBps": {f"{lv}/{p}/{r}": v for (lv, p, r), v in plan.flows.items()},
        "switches": [{"tier": t.name, "type": t.switch.name, "high_radix": t.switch.high_radix,
                      "units": t.units, "per_unit": plan.switches[t.name],
                      "count": t.units * plan.switches[t.name],
                      "ports_per_switch": t.ports_per_switch, "port_GBps": t.switch.port_GBps}
                     for t in spec.tiers],
        "bundles": _inter_bundles(spec, bundles, cables, plan.lanes),
        "intra_cabinet": _intra_summary(spec, bundles, cables, plan.lanes),
        "bom": bill_of_materials(instance, spec, prep.cabinets, bundles, cables, plan.lanes, plan.switches),
        "solver": {"mip": MIP_SOLVER, "lp": LP_SOLVER, "mip_wall_s": outcome.wall_s, "lp_wall_s": lp.wall_s,
                   "lp_relaxation_usd": lp.objective, "objective": "network cost + power weight x network kW "
                   "+ lane tie-break (USD)"},
        "pinned_to_nominal": bool(inputs.fixed_lanes),
        "notes": list(spec.notes),
    }
    return Provisioning(report, body)


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} USD"


def _slots(instance: Instance, cabinets: tuple, slot_of_cabinet: Sequence[int] | None) -> tuple[int, ...]:
    if slot_of_cabinet is None:
        return row_major_slots(instance, len(cabinets))
    if len(slot_of_cabinet) != len(cabinets):
        raise InstanceError(instance.source_file, "placement",
                            f"gives slots for {len(slot_of_cabinet)} cabinets, "
                            f"the instance has {len(cabinets)}")
    return tuple(int(s) for s in slot_of_cabinet)


def _budget_message(inputs: ModelInputs, options: SolveOptions, basis: str) -> str:
    spec = inputs.spec
    need = lanes_needed(inputs, options)
    if need is None:
        return f"the demand at {basis} cannot be routed on this fabric at any lane count"
    used = budget_used(spec, need)
    parts = ", ".join(f"{c.name} {need[c.name] * c.budget_lanes:.4g}" + (" reserved" if c.fixed else "")
                      for c in spec.classes)
    binding = ([f"needs {used:.4g} of {spec.lane_budget:g} ({parts}), exceeded by {used - spec.lane_budget:.4g}"]
               if used > spec.lane_budget + 1e-9 else [])
    over = [f"{c.name} needs {need[c.name]:.4g} of at most {c.lanes_max:g}" for c in spec.classes
            if need[c.name] > c.lanes_max + 1e-9 and not (binding and c.budget_lanes)]  # else said above
    return f"lanes per chip: {'; '.join(binding + over)} to carry {basis}"


def _bundle_GBps(spec: NetworkSpec, b: Bundle, lanes: dict[str, float]) -> float:
    return b.nominal_GBps * lanes[b.link_class] / spec.link_class(b.link_class).nominal_lanes


def _inter_bundles(spec: NetworkSpec, bundles: tuple[Bundle, ...], cables: tuple[int, ...],
                   lanes: dict[str, float]) -> list[dict]:
    return [{"cabinets": list(b.cabinets), "kind": b.kind, "class": b.link_class, "links": b.links,
             "bandwidth_GBps": _bundle_GBps(spec, b, lanes), "cables": n, "medium": b.medium,
             "length_m": b.length_m}
            for b, n in zip(bundles, cables, strict=True) if b.cabinets[0] != b.cabinets[1]]


def _intra_summary(spec: NetworkSpec, bundles: tuple[Bundle, ...], cables: tuple[int, ...],
                   lanes: dict[str, float]) -> list[dict]:
    acc: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0, 0, 0.0])
    for b, n in zip(bundles, cables, strict=True):
        if b.cabinets[0] == b.cabinets[1]:
            row = acc[(b.kind, b.medium)]
            row[0] += 1
            row[1] += b.links
            row[2] += n
            row[3] += _bundle_GBps(spec, b, lanes)
    return [{"kind": k, "medium": m, "bundles": nb, "links": nl, "cables": nc, "bandwidth_GBps": bw}
            for (k, m), (nb, nl, nc, bw) in sorted(acc.items())]


def _traffic_dict(instance: Instance, spec: NetworkSpec, traffic: Traffic, target: float,
                  rate: float) -> dict:
    return {
        "layout": instance.workload.layout or "(none: the workload's collectives over all chips)",
        "levels": [{"name": lv.name, "size": lv.size, "shape": lv.shape, "scope": SCOPES[lv.scope]}
                   for lv in spec.levels],
        "axes": [{"axis": a.name, "size": a.size, "stride": a.stride, "collective": a.collective,
                  "buffer": a.buffer, "spans": dict(a.spans)} for a in traffic.axes],
        "demand_GBps_per_chip": [{"level": lv, "pattern": p, "demand_GBps": target * rate * d}
                                 for lv, p, d in traffic.demand],
    }


def bought_bundles(plan: dict) -> dict[tuple[int, int], dict]:
    """The plan's inter-cabinet bundles per cabinet pair, one part per edge kind at the provisioned
    bandwidth: what placement cables in `solve`'s joint loop, so its cable count is the BOM's."""
    parts: dict[tuple[int, int], list[float]] = defaultdict(list)
    for b in plan["bundles"]:
        a, c = b["cabinets"]
        parts[(min(a, c), max(a, c))].append(float(b["bandwidth_GBps"]))
    return {key: {"bandwidth_GBps": sum(v), "parts_GBps": tuple(v)} for key, v in sorted(parts.items())}
