"""Wall time and peak memory of `build` (load, generate, analyse) on the pod, Atlas 950 and Atlas 960."""

from bench.common import measure, write_bench
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize
from topo_opt.io import read_instance

INSTANCES = ("instances/ubmesh-pod1024.yaml", "instances/atlas950-superpod.yaml", "instances/atlas960-superpod.yaml")


def _generate(path: str) -> dict:
    fabric = build_fabric(read_instance(path))
    return {"chips": fabric.chips, "nodes": fabric.graph.number_of_nodes(), "links": fabric.graph.number_of_edges()}


def _build(path: str) -> dict:
    summary = summarize(build_fabric(read_instance(path)))
    return {"chips": summary["chips"], "bisection_GBps": summary["bisection"]["bisection_GBps"],
            "hops_method": summary["hops"]["method"]}


def main() -> None:
    cases = []
    for path in INSTANCES:
        gen, full = measure(_generate, path), measure(_build, path)
        cases.append({"instance": path,
                      "generate_wall_s": gen.get("wall_s"), "generate_peak_rss_mib": gen.get("peak_rss_mib"),
                      "build_wall_s": full.get("wall_s"), "build_peak_rss_mib": full.get("peak_rss_mib"),
                      **gen.get("value", {}), **full.get("value", {}),
                      "error": gen.get("error") or full.get("error")})
    write_bench("build", cases,
                note="build = load + generate + analyse (hops, bisection max-flow, counts); one process per case")
