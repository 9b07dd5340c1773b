"""Wall time and peak memory of `score`: all-reduce (auto) and all-to-all (auto) at 8 sizes on
the 1,024-chip pod, Atlas 950 and Atlas 960, and ring all-reduce on `dims` rings of 1,024 to
16,384 chips (ASTRA-sim's analytical backend needs ~7 s at 1,024 and ~a CPU-minute at 4,096)."""

import time

from bench.common import measure, write_bench
from topo_opt.collectives import score_fabric
from topo_opt.fabric import build_fabric
from topo_opt.families.dims import dims_fabric
from topo_opt.instance import DimSpec
from topo_opt.io import read_instance

INSTANCES = ("instances/ubmesh-pod1024.yaml", "instances/atlas950-superpod.yaml", "instances/atlas960-superpod.yaml")
SIZES = (2**10, 2**14, 2**18, 2**22, 2**26, 2**28, 2**30, 2**32)  # 1 KiB .. 4 GiB
RINGS = (1024, 4096, 16384)


def _score_instance(path: str) -> dict:
    """Load, build and score; the figures of each collective at 1 GiB and 4 GiB ride along."""
    start = time.perf_counter()
    graph = build_fabric(read_instance(path))
    built = time.perf_counter()
    records = score_fabric(graph, ["all-reduce", "all-to-all"], SIZES)
    done = time.perf_counter()
    picks = {f"{r['collective']}@{r['size_bytes']}": {"algorithm": r["algorithm"], "time_s": r["time_s"],
                                                      "busbw_GBps": r["busbw_GBps"], "efficiency": r["efficiency"]}
             for r in records if r["size_bytes"] >= 2**30}
    return {"chips": graph.chips, "records": len(records), "build_s": built - start,
            "score_s": done - built, "at_1GiB_and_4GiB": picks}


def _ring(chips: int) -> dict:
    start = time.perf_counter()
    graph = dims_fabric((DimSpec("ring", chips, 50.0, 500.0),))
    built = time.perf_counter()
    (rec,) = score_fabric(graph, ["all-reduce"], [2**30], ["ring"])
    done = time.perf_counter()
    return {"chips": chips, "build_s": built - start, "score_s": done - built, "time_s": rec["time_s"],
            "efficiency": rec["efficiency"]}


def main() -> None:
    cases = []
    for path in INSTANCES:
        m = measure(_score_instance, path)
        cases.append({"case": f"{path}: all-reduce + all-to-all (auto), 8 sizes 1 KiB..4 GiB",
                      "wall_s": m.get("wall_s"), "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}),
                      "error": m.get("error")})
    for chips in RINGS:
        m = measure(_ring, chips)
        cases.append({"case": f"dims ring of {chips:,} chips: ring all-reduce, 1 GiB", "wall_s": m.get("wall_s"),
                      "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}), "error": m.get("error")})
    write_bench("score", cases, note="one fresh process per case; wall_s includes loading and building the "
                "fabric (build_s) and scoring (score_s); peak RSS includes the interpreter and imports")
