"""Scoring at SuperCluster scale (issue 14): all-reduce and all-to-all (auto) at 8 sizes on the
Atlas 950 SuperCluster (524,288 chips; target <= 60 s, <= 4 GiB) and the Atlas 960 SuperCluster
(1,006,720 chips; <= 120 s, <= 8 GiB) with the structured scorer, and the same scoring on the
Atlas 960 SuperPoD both ways in this run: structured (from the description) and per-chip (graph
built and scored), with the largest relative difference between their records."""

import time

from bench.common import measure, write_bench
from topo_opt.collectives import score_fabric
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance

SIZES = (2**10, 2**14, 2**18, 2**22, 2**26, 2**28, 2**30, 2**32)  # 1 KiB .. 4 GiB
COLLECTIVES = ["all-reduce", "all-to-all"]
SUPERCLUSTERS = (("instances/atlas950-supercluster.yaml", 60, 4), ("instances/atlas960-supercluster.yaml", 120, 8))
SUPERPOD = "instances/atlas960-superpod.yaml"
FIELDS = ("time_s", "lower_bound_s")


def _score(path: str, engine: str) -> dict:
    start = time.perf_counter()
    fabric = build_fabric(read_instance(path))
    records = score_fabric(fabric, COLLECTIVES, SIZES, engine=engine)
    picks = {f"{r['collective']}@{r['size_bytes']}": {"algorithm": r["algorithm"], "time_s": r["time_s"],
                                                      "lower_bound_s": r["lower_bound_s"],
                                                      "efficiency": r["efficiency"]} for r in records}
    return {"chips": fabric.chips, "engine": engine, "records": len(records), "score_s": time.perf_counter() - start,
            "results": picks}


def _case(name: str, path: str, engine: str, limits: tuple | None = None) -> dict:
    m = measure(_score, path, engine)
    out = {"case": name, "wall_s": m.get("wall_s"), "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}),
           "error": m.get("error")}
    if limits and m.get("ok"):
        out["target"] = {"wall_s": limits[0], "peak_gib": limits[1],
                         "met": m["wall_s"] <= limits[0] and m["peak_rss_mib"] / 1024 <= limits[1]}
    return out


def _largest_difference(a: dict, b: dict) -> float:
    return max(abs(a[k][f] / b[k][f] - 1) for k in a for f in FIELDS)


def main() -> None:
    cases = [_case(f"{path}: all-reduce + all-to-all (auto), 8 sizes 1 KiB..4 GiB, structured", path,
                   "structured", (wall, gib)) for path, wall, gib in SUPERCLUSTERS]
    structured = _case(f"{SUPERPOD}: the same, structured (no graph)", SUPERPOD, "structured")
    per_chip = _case(f"{SUPERPOD}: the same, per-chip graph (built and scored)", SUPERPOD, "per-chip")
    cases += [structured, per_chip]
    comparison = {}
    if not (structured["error"] or per_chip["error"]):
        a, b = structured["results"], per_chip["results"]
        comparison = {"speedup": per_chip["wall_s"] / structured["wall_s"],
                      "largest_relative_difference": _largest_difference(a, b),
                      "same_algorithms": all(a[k]["algorithm"] == b[k]["algorithm"] for k in a)}
    write_bench("supercluster", cases, comparison=comparison,
                note="one fresh process per case; wall_s includes loading the instance and building the fabric "
                     "(the description only, for structured; the per-chip graph for per-chip); peak RSS includes "
                     "the interpreter and imports")
