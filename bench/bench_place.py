"""Placement on Atlas 950 (160 cabinets) and Atlas 960 (220) at --time-limit 30 with 2 workers.

Side by side, each in a fresh process: ours (`place`), the greedy baseline (inside ours), and the
single whole-model CP-SAT baseline (`placement/baseline.py`) at the same limit, bare and with the
greedy placement as a complete hint; then `solve`'s joint placement and provisioning at the same
limit (`pipeline.physical_stages`), whose round 0 is the sequential design (placement of the nominal
fabric, then provisioning on that floor), so both network costs come from one run.
`python -m bench.bench_place --ten-minutes` runs ours once at --time-limit 600 and writes
results/bench/place_10min.json, which later runs quote.
"""

import os
import sys

from bench.common import BENCH_DIR, measure, write_bench
from topo_opt.design import derive
from topo_opt.errors import TopoOptError
from topo_opt.io import read_instance, read_json, write_json_atomic
from topo_opt.pipeline import physical_stages
from topo_opt.placement import place
from topo_opt.placement.baseline import whole_model_baseline
from topo_opt.placement.cpsat import Budget
from topo_opt.placement.greedy import greedy_placement
from topo_opt.placement.precheck import cabinet_types
from topo_opt.placement.problem import build_problem
from topo_opt.provisioning import provision
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_placement

INSTANCES = ("instances/atlas950-superpod.yaml", "instances/atlas960-superpod.yaml")
TIME_LIMIT_S, LONG_TIME_LIMIT_S, WORKERS, SEED = 30.0, 600.0, 2, 0
LONG_FILE = "place_10min.json"


def _ours(path: str, time_limit_s: float) -> dict:
    design = derive(read_instance(path))
    d = place(design, SolveOptions(time_limit_s, SEED, WORKERS)).to_dict()
    rep = d["report"]
    return {
        "status": rep["status"],
        "objective_usd": rep["objective"],
        "bound_usd": rep["bound"],
        "gap": rep["gap"],
        "bound_method": rep["bound_method"],
        "greedy_objective_usd": d["greedy_objective_usd"],
        "optical_modules": d["objective"]["optical_modules"],
        "cables": d["objective"]["cables"],
        "network_power_kw": d["objective"]["network_power_kw"],
        "phases": d["phases"],
        "solver_wall_s": rep["wall_s"],
        "violations": len(verify_placement(design, d)),
    }


def _joint(path: str, time_limit_s: float) -> dict:
    """Sequential (round 0) against joint network cost, and the joint floor's placement report."""
    design = derive(read_instance(path))
    placement, placement_dict, _, plan = physical_stages(
        design, SolveOptions(time_limit_s, SEED, WORKERS), lambda _: None, provision)
    rounds = placement_dict["joint_rounds"]
    sequential, joint = rounds[0]["network_cost_usd"], plan["bom"]["network_cost_usd"]
    return {
        "sequential_network_cost_usd": sequential,
        "joint_network_cost_usd": joint,
        "joint_saving": round(1 - joint / sequential, 5),
        "meets_10pct_saving_target": joint <= 0.9 * sequential,
        "placement_status": placement.status,
        "placement_objective_usd": placement.objective,
        "placement_bound_usd": placement.bound,
        "placement_gap": placement.gap,
        "meets_10pct_gap_target": placement.gap is not None and placement.gap <= 0.10,
        "rounds": rounds,
    }


def _baseline(path: str, time_limit_s: float, hinted: bool) -> dict:
    inst = read_instance(path)
    problem = build_problem(derive(inst))
    hint = greedy_placement(problem, cabinet_types(problem)[0]) if hinted else None
    return whole_model_baseline(problem, Budget(time_limit_s, time_limit_s, WORKERS, SEED), hint)


def _case(path: str, long_runs: dict) -> dict:
    ours = measure(_ours, path, TIME_LIMIT_S)
    bare = measure(_baseline, path, TIME_LIMIT_S, False)
    hinted = measure(_baseline, path, TIME_LIMIT_S, True)
    joint = measure(_joint, path, TIME_LIMIT_S)
    case = {
        "instance": path,
        "time_limit_s": TIME_LIMIT_S,
        "workers": WORKERS,
        "seed": SEED,
        "wall_s": ours.get("wall_s"),
        "peak_rss_mib": ours.get("peak_rss_mib"),
        **ours.get("value", {}),
        "error": ours.get("error"),
        "baseline_whole_cp_sat": {
            "wall_s": bare.get("wall_s"),
            "peak_rss_mib": bare.get("peak_rss_mib"),
            **bare.get("value", {}),
            "error": bare.get("error"),
        },
        "baseline_whole_cp_sat_greedy_hint": {
            "wall_s": hinted.get("wall_s"),
            "peak_rss_mib": hinted.get("peak_rss_mib"),
            **hinted.get("value", {}),
            "error": hinted.get("error"),
        },
        "joint_placement_and_provisioning": {
            "wall_s": joint.get("wall_s"),
            "peak_rss_mib": joint.get("peak_rss_mib"),
            **joint.get("value", {}),
            "error": joint.get("error"),
        },
    }
    obj = case.get("objective_usd")
    if obj:
        case["greedy_over_ours"] = round(case["greedy_objective_usd"] / obj, 4)
        baselines = [
            b.get("objective_usd")
            for b in (case["baseline_whole_cp_sat"], case["baseline_whole_cp_sat_greedy_hint"])
        ]
        case["better_than_baselines"] = all(b is None or obj < b for b in baselines)
    if path in long_runs and obj:
        best = min(obj, long_runs[path]["objective_usd"])
        case["ten_minute_objective_usd"] = long_runs[path]["objective_usd"]
        case["within_2pct_of_best_known"] = obj <= 1.02 * best
        case["excess_over_best_known"] = round(obj / best - 1, 5)
    return case


def _long() -> None:
    runs = {}
    load_before = os.getloadavg()
    for path in INSTANCES:
        res = measure(_ours, path, LONG_TIME_LIMIT_S)
        runs[path] = {
            "wall_s": res.get("wall_s"),
            "peak_rss_mib": res.get("peak_rss_mib"),
            **res.get("value", {}),
            "error": res.get("error"),
        }
    write_json_atomic(
        BENCH_DIR / LONG_FILE,
        {
            "time_limit_s": LONG_TIME_LIMIT_S,
            "workers": WORKERS,
            "seed": SEED,
            "load_average_before": load_before,
            "load_average_after": os.getloadavg(),
            "runs": runs,
        },
    )
    print(f"wrote {BENCH_DIR / LONG_FILE}")


def _long_runs() -> dict:
    try:
        return read_json(BENCH_DIR / LONG_FILE)["runs"]
    except TopoOptError:
        return {}


def main(argv: list[str] | None = None) -> None:
    if argv and "--ten-minutes" in argv:
        _long()
        return
    load_before = os.getloadavg()
    long_runs = _long_runs()
    cases = [_case(path, long_runs) for path in INSTANCES]
    write_bench(
        "place",
        cases,
        load_average_before=load_before,
        load_average_after=os.getloadavg(),
        note="2 cores shared with other jobs (see load averages); ours, the bare whole-model CP-SAT and the "
        "greedy-hinted one each ran in a fresh process at the same time limit; wall_s includes loading "
        "the instance and building the fabric; ten_minute_* from place_10min.json",
    )


if __name__ == "__main__":
    main(sys.argv[1:])
