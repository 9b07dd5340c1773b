"""Provisioning benchmarks (results/bench/provision.json).

- cases: the 1,024-chip pod, Atlas 950 and Atlas 960 provisioned for their workloads (build +
  provision + verify in a fresh process: wall time, peak memory; solver status, objective, bound, gap);
- solvers: the same Atlas 960 model with SCIP and CP-SAT (MIP), GLOP and PDLP (LP relaxation);
- comparison: UB-Mesh (Atlas 950) against a non-oversubscribed Clos of the same 8,192 chips
  (instances/clos8k-950dt.yaml), at equal workload (the Clos sized for the rate the UB-Mesh
  carries) and at equal per-chip bandwidth (the published x72 lanes against 20 x 800G ports);
- inter_rack_sweep: the lanes Atlas 950 needs per dimension as the throughput target grows, and
  for other parallel layouts at target 1 (is x8, x16 or x32 inter-rack best?).
"""

import dataclasses
import time

from bench.common import measure, write_bench
from topo_opt.design import derive
from topo_opt.errors import InfeasibleError
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.provisioning import provision, provision_at_rate, provision_nominal
from topo_opt.provisioning.bom import bom_ratios
from topo_opt.provisioning.model import build_model, extract_plan, solve_model
from topo_opt.provisioning.plan import prepare
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_provisioning

INSTANCES = ("instances/ubmesh-pod1024.yaml", "instances/atlas950-superpod.yaml",
             "instances/atlas960-superpod.yaml")
UBMESH_8K, CLOS_8K = "instances/atlas950-superpod.yaml", "instances/clos8k-950dt.yaml"
OPTIONS = SolveOptions(time_limit_s=60, seed=0, workers=2)
SWEEP_TARGETS = (0.5, 1.0, 1.5, 2.0, 2.2, 2.5)
SWEEP_LAYOUTS = ("tp=8,sp=8,dp=128", "tp=8,pp=8,ep=16,dp=8", "tp=64,pp=8,dp=16", "tp=8,dp=1024")


def _provision(path: str) -> dict:
    design = derive(read_instance(path))
    plan = provision(design, OPTIONS).to_dict()
    r, bom = plan["report"], plan["bom"]
    return {"chips": bom["chips"], "status": r["status"], "objective_usd": r["objective"],
            "bound_usd": r["bound"], "gap": r["gap"], "bound_method": r["bound_method"],
            "provision_wall_s": r["wall_s"],
            "lanes_per_chip": {k: v["lanes"] for k, v in plan["lanes_per_chip"].items()},
            "concurrent_flow": plan["max_concurrent_flow"]["achieved"],
            "optical_modules": bom["optical_modules"], "high_radix_switches": bom["high_radix_switches"],
            "network_cost_usd": bom["network_cost_usd"], "network_power_kw": bom["network_power_kw"],
            "violations": verify_provisioning(design, plan)}


def _solvers(path: str) -> list[dict]:
    inst = read_instance(path)
    prep = prepare(derive(inst))
    out = []
    for solver_id, integer in (("SCIP", True), ("CP_SAT", True), ("GLOP", False), ("PDLP", False)):
        start = time.perf_counter()
        model = build_model(prep.inputs, solver_id, integer)
        outcome = solve_model(model, OPTIONS)
        out.append({"solver": solver_id, "model": "MIP" if integer else "LP relaxation",
                    "variables": model.solver.NumVariables(), "constraints": model.solver.NumConstraints(),
                    "status": outcome.status, "objective_usd": outcome.objective, "bound_usd": outcome.bound,
                    "solve_wall_s": outcome.wall_s, "build_and_solve_wall_s": time.perf_counter() - start,
                    "lanes_per_chip": extract_plan(model).lanes})
    return out


def _summary(plan: dict) -> dict:
    keep = ("optical_modules", "high_radix_switches", "network_cost_usd", "network_power_kw",
            "cables_by_medium", "switches", "network_cost_share", "network_power_share")
    return {"lanes_per_chip": {k: v["lanes"] for k, v in plan["lanes_per_chip"].items()},
            "injection_GBps_per_chip": plan["max_concurrent_flow"]["injection_GBps_per_chip"],
            **{k: plan["bom"][k] for k in keep}}


def comparison() -> dict:
    """UB-Mesh vs non-oversubscribed Clos at 8,192 chips, two ways (see the module docstring)."""
    ub_inst, clos_inst = read_instance(UBMESH_8K), read_instance(CLOS_8K)
    ub, clos = derive(ub_inst), derive(clos_inst)
    ub_plan = provision(ub, OPTIONS).to_dict()
    ub_published = provision_nominal(ub, OPTIONS).to_dict()
    rate = ub_plan["max_concurrent_flow"]["reference_rate_GBps"] * ub_inst.workload.target_throughput
    clos_same_work = provision_at_rate(clos, OPTIONS, rate).to_dict()
    clos_same_bw = provision(clos, OPTIONS).to_dict()
    designs = {"ubmesh_provisioned": ub_plan, "ubmesh_published": ub_published,
               "clos_equal_workload": clos_same_work, "clos_equal_bandwidth": clos_same_bw}
    return {
        "designs": {name: _summary(plan) for name, plan in designs.items()},
        "ratios_equal_workload": bom_ratios(ub_plan["bom"], clos_same_work["bom"]),
        "ratios_equal_bandwidth": bom_ratios(ub_published["bom"], clos_same_bw["bom"]),
        "note": "ratio = UB-Mesh / Clos; equal workload: both carry the Atlas 950 workload at the rate its "
                "published fabric carries; equal bandwidth: UB-Mesh's published x72 lanes vs 2 TB/s of "
                "800G ports per chip (the paper's framing)",
    }


def inter_rack_sweep() -> list[dict]:
    inst = read_instance(UBMESH_8K)
    graph = build_fabric(inst)
    runs = [{"target": t} for t in SWEEP_TARGETS] + [{"target": 1.0, "layout": lay} for lay in SWEEP_LAYOUTS]
    out = []
    for run in runs:
        workload = dataclasses.replace(inst.workload, target_throughput=run["target"],
                                       layout=run.get("layout", inst.workload.layout))
        try:
            plan = provision(derive(dataclasses.replace(inst, workload=workload), graph), OPTIONS).to_dict()
            out.append({**run, "layout": workload.layout, **_summary(plan)})
        except InfeasibleError as exc:
            out.append({**run, "layout": workload.layout, "infeasible": str(exc)})
    return out


def main() -> None:
    cases = []
    for path in INSTANCES:
        m = measure(_provision, path)
        cases.append({"instance": path, "wall_s": m.get("wall_s"), "peak_rss_mib": m.get("peak_rss_mib"),
                      **m.get("value", {}), "error": m.get("error")})
    solvers = measure(_solvers, INSTANCES[-1])
    write_bench("provision", cases,
                note="wall_s and peak_rss_mib: load + build + provision + verify in a fresh process",
                solvers={"instance": INSTANCES[-1], "runs": solvers.get("value"),
                         "error": solvers.get("error")},
                comparison=measure(comparison).get("value"),
                inter_rack_sweep=measure(inter_rack_sweep).get("value"))
