"""Wall time of `resilience`: 100 trials of 1 % failed links on the Atlas 950 SuperPoD (and its Clos
baseline), all-reduce and all-to-all at 1 GiB rescored by the perturbation of the symmetric
solution; the target is <= 120 s on 2 cores. Efficiency figures ride along."""

import time

from bench.common import measure, write_bench
from topo_opt import resilience as R
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance

CASES = (("instances/atlas950-superpod.yaml", "links=1%"), ("instances/clos8k-950dt.yaml", "links=1%"))
TRIALS, SEED, SIZE = 100, 0, 2**30


def _trials(path: str, fail: str) -> dict:
    start = time.perf_counter()
    inst = read_instance(path)
    graph = build_fabric(inst)
    plan = R.plan(graph, ["all-reduce", "all-to-all"], [SIZE], cable_GBps=R.cable_GBps(inst))
    planned = time.perf_counter()
    out = R.run_trials(plan, R.parse_fail_spec(fail, plan.space), TRIALS, SEED)
    done = time.perf_counter()
    return {"chips": plan.space.chips, "links": plan.space.population("links"), "trials": out["trials"],
            "build_and_intact_score_s": planned - start, "trials_s": done - planned,
            "records": [{"collective": r["collective"], "algorithm": r["algorithm"],
                         "intact_time_s": r["intact_time_s"], "efficiency": r["efficiency"],
                         "stopped_trials": r["stopped_trials"], "worst_cause": r["worst"]["cause"]}
                        for r in out["records"]]}


def main() -> None:
    cases = []
    for path, fail in CASES:
        m = measure(_trials, path, fail)
        cases.append({"case": f"{path}: {TRIALS} trials of {fail} failed, all-reduce + all-to-all at 1 GiB",
                      "wall_s": m.get("wall_s"), "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}),
                      "error": m.get("error")})
    write_bench("resilience", cases, seed=SEED, target_wall_s=120,
                note="one fresh process per case; wall_s includes loading, building, the intact score and the trials")
