"""Scoring at SuperCluster scale (issue 14): all-reduce and all-to-all (auto) at 8 sizes on the
Atlas 950 SuperCluster (524,288 chips; target <= 60 s, <= 4 GiB) and the Atlas 960 SuperCluster
(1,006,720 chips; <= 120 s, <= 8 GiB) with the structured scorer, and the same scoring on the
Atlas 960 SuperPoD both ways in this run: structured (from the description) and per-chip (graph
built and scored), with the largest relative difference between their records. Then fabrics that
are not products, at 8,192 chips (an oversubscribed 3-tier Clos, a dragonfly): all-reduce both ways
(speed-up and difference), and all-to-all, which only the structured scorer (switch level) can
time there: per-chip refuses its 67 M flows (and `direct` all-reduce's 134 M)."""

import time

from bench.common import measure, write_bench
from topo_opt.collectives import score_fabric
from topo_opt.fabric import build_fabric
from topo_opt.families.clos import ClosParams, clos_fabric
from topo_opt.families.dragonfly import FAMILY as DRAGONFLY
from topo_opt.io import read_instance

SIZES = (2**10, 2**14, 2**18, 2**22, 2**26, 2**28, 2**30, 2**32)  # 1 KiB .. 4 GiB
COLLECTIVES = ["all-reduce", "all-to-all"]
SUPERCLUSTERS = (("instances/atlas950-supercluster.yaml", 60, 4), ("instances/atlas960-supercluster.yaml", 120, 8))
SUPERPOD = "instances/atlas960-superpod.yaml"
FIELDS = ("time_s", "lower_bound_s")
NON_PRODUCTS = {
    "oversubscribed 3-tier Clos, 8,192 chips, radix 64, 3:1":
        lambda: clos_fabric(ClosParams(chips=8192, radix=64, tiers=3, oversubscription=3)),
    "dragonfly, 8,192 chips (32 groups x 16 routers x 16 chips, 2 global links a router)":
        lambda: DRAGONFLY.build(DRAGONFLY.params(groups=32, routers_per_group=16, chips_per_router=16,
                                                 global_links_per_router=2), None, "dragonfly-8k"),
}


def _score(source: str, engine: str, collectives: tuple[str, ...] = tuple(COLLECTIVES)) -> dict:
    """Build (an instance file, or one of NON_PRODUCTS by name) and score; load and build included."""
    start = time.perf_counter()
    fabric = NON_PRODUCTS[source]() if source in NON_PRODUCTS else build_fabric(read_instance(source))
    records = score_fabric(fabric, list(collectives), SIZES, engine=engine)
    picks = {f"{r['collective']}@{r['size_bytes']}": {"algorithm": r["algorithm"], "time_s": r["time_s"],
                                                      "lower_bound_s": r["lower_bound_s"],
                                                      "efficiency": r["efficiency"]} for r in records}
    return {"chips": fabric.chips, "engine": engine, "records": len(records), "score_s": time.perf_counter() - start,
            "results": picks}


def _case(name: str, source: str, engine: str, limits: tuple | None = None,
          collectives: tuple[str, ...] = tuple(COLLECTIVES)) -> dict:
    m = measure(_score, source, engine, collectives)
    out = {"case": name, "wall_s": m.get("wall_s"), "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}),
           "error": m.get("error")}
    if limits and m.get("ok"):
        out["target"] = {"wall_s": limits[0], "peak_gib": limits[1],
                         "met": m["wall_s"] <= limits[0] and m["peak_rss_mib"] / 1024 <= limits[1]}
    return out


def _largest_difference(a: dict, b: dict) -> float | None:
    return max((abs(a[k][f] / b[k][f] - 1) for k in a for f in FIELDS), default=None)


def main() -> None:
    cases = [_case(f"{path}: all-reduce + all-to-all (auto), 8 sizes 1 KiB..4 GiB, structured", path,
                   "structured", (wall, gib)) for path, wall, gib in SUPERCLUSTERS]
    structured = _case(f"{SUPERPOD}: the same, structured (no graph)", SUPERPOD, "structured")
    per_chip = _case(f"{SUPERPOD}: the same, per-chip graph (built and scored)", SUPERPOD, "per-chip")
    cases += [structured, per_chip]
    comparison = {SUPERPOD: _compare(structured, per_chip)}
    for name in NON_PRODUCTS:
        pair = [_case(f"{name}: all-reduce (auto), 8 sizes, {engine}", name, engine, collectives=("all-reduce",))
                for engine in ("structured", "per-chip")]
        cases += pair + [_case(f"{name}: all-to-all (auto), 8 sizes, {engine}", name, engine,
                               collectives=("all-to-all",)) for engine in ("structured", "per-chip")]
        comparison[f"{name}: all-reduce"] = _compare(*pair)
    write_bench("supercluster", cases, comparison=comparison,
                note="one fresh process per case; wall_s includes loading the instance and building the fabric "
                     "(the description only, for structured; the per-chip graph for per-chip); peak RSS includes "
                     "the interpreter and imports")


def _compare(structured: dict, per_chip: dict) -> dict:
    """Speed-up and the largest difference where both picked the same algorithm; where they did
    not, per-chip could not time the structured pick (too many flows: `direct` at 8,192 chips), so
    its `auto` chose among fewer algorithms."""
    if structured["error"] or per_chip["error"]:
        return {}
    a, b = structured["results"], per_chip["results"]
    same = {k for k in a if a[k]["algorithm"] == b[k]["algorithm"]}
    return {"speedup": per_chip["wall_s"] / structured["wall_s"],
            "largest_relative_difference": _largest_difference({k: a[k] for k in same}, b),
            "same_algorithms": len(same) == len(a),
            "other_picks": {k: {"structured": a[k]["algorithm"], "per_chip": b[k]["algorithm"],
                                "structured_faster": a[k]["time_s"] < b[k]["time_s"]} for k in a if k not in same}}
