"""Wall time and peak memory of `score`: all-reduce (auto) and all-to-all (auto) at 8 sizes on
the 1,024-chip pod, Atlas 950 and Atlas 960, and ring all-reduce on `dims` rings of 1,024 to
16,384 chips (ASTRA-sim's analytical backend needs ~7 s at 1,024 and ~a CPU-minute at 4,096);
all five collectives (auto) on the Atlas 950 and 960, broadcast on a 1,024-chip ring and
halving-doubling on an 8,192-chip switch (issue 16), with the parent commit's figures as `before`."""

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


FIVE = ["all-reduce", "reduce-scatter", "all-gather", "all-to-all", "broadcast"]
# Measured with the same calls before issue 16's changes (7b270da: broadcast alone), and the
# five collectives at 4217c87, before tree-packing.
BEFORE = {
    "instances/atlas950-superpod.yaml": {"broadcast_1GiB_score_s": 17.9, "broadcast_1GiB_efficiency": 0.0338,
                                         "at_4217c87": {"score_s": 3.62, "broadcast_1GiB_efficiency": 0.381}},
    "instances/atlas960-superpod.yaml": {"broadcast_1GiB_score_s": 35.2, "broadcast_1GiB_efficiency": 0.0231,
                                         "at_4217c87": {"score_s": 7.31, "broadcast_1GiB_efficiency": 0.376}},
    "ring1024": {"broadcast_1GiB_score_s": 1.9, "broadcast_1GiB_efficiency": 0.672},
    "switch8192": {"error": "a step of 106,496 new flows is too large to route flow by flow"},
}


def _five(path: str) -> dict:
    """All five collectives (auto) at the 8 sizes; broadcast's pick and efficiency at 1 GiB."""
    start = time.perf_counter()
    fabric = build_fabric(read_instance(path))
    built = time.perf_counter()
    records = score_fabric(fabric, FIVE, SIZES)
    done = time.perf_counter()
    (bc,) = [r for r in records if r["collective"] == "broadcast" and r["size_bytes"] == 2**30]
    return {"chips": fabric.chips, "records": len(records), "build_s": built - start, "score_s": done - built,
            "broadcast_1GiB": {"algorithm": bc["algorithm"], "time_s": bc["time_s"],
                               "efficiency": bc["efficiency"]}}


def _broadcast_ring(chips: int) -> dict:
    fabric = dims_fabric((DimSpec("ring", chips, 50.0, 500.0),))
    start = time.perf_counter()
    (rec,) = score_fabric(fabric, ["broadcast"], [2**30])
    return {"score_s": time.perf_counter() - start, "algorithm": rec["algorithm"], "time_s": rec["time_s"],
            "efficiency": rec["efficiency"]}


def _hd_switch(chips: int) -> dict:
    fabric = dims_fabric((DimSpec("switch", chips, 50.0, 500.0),))
    start = time.perf_counter()
    (rec,) = score_fabric(fabric, ["all-reduce"], [2**30], ["halving-doubling"])
    rabenseifner = 2 * (chips.bit_length() - 1) * 1e-6 + 2 * (chips - 1) / chips * 2**30 / 50e9
    return {"score_s": time.perf_counter() - start, "time_s": rec["time_s"], "rabenseifner_s": rabenseifner,
            "engine": rec["engine"]}


def _case(name: str, func, arg, before: dict | None = None) -> dict:
    m = measure(func, arg)
    out = {"case": name, "wall_s": m.get("wall_s"), "peak_rss_mib": m.get("peak_rss_mib"), **m.get("value", {}),
           "error": m.get("error")}
    if before:
        out["before"] = before
    return out


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
    for path in INSTANCES[1:]:
        cases.append(_case(f"{path}: all five collectives (auto), 8 sizes 1 KiB..4 GiB", _five, path,
                           BEFORE[path]))
    cases.append(_case("dims ring of 1,024 chips: broadcast (auto), 1 GiB", _broadcast_ring, 1024,
                       BEFORE["ring1024"]))
    cases.append(_case("dims switch of 8,192 chips: halving-doubling all-reduce, 1 GiB", _hd_switch, 8192,
                       BEFORE["switch8192"]))
    write_bench("score", cases, note="one fresh process per case; wall_s includes loading and building the "
                "fabric (build_s) and scoring (score_s); peak RSS includes the interpreter and imports")
