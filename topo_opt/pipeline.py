"""`solve(instance, options) -> result`: fabric -> placement -> provisioning -> scoring, in one time budget.

The time limit is split among the solver stages: placement gets PLACEMENT_SHARE of it and
provisioning PROVISIONING_SHARE (scoring and fabric analysis take seconds and are not limited).
The result is a plain JSON-ready dict (documented by `result_schema.json`); writing it is io's job.
"""

import platform
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from importlib import metadata

from topo_opt import __version__
from topo_opt.collectives import score_fabric
from topo_opt.errors import SolverError
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize
from topo_opt.instance import Instance
from topo_opt.placement import place
from topo_opt.provisioning import provision
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_placement, verify_provisioning

SCHEMA_VERSION = "1.0"
PLACEMENT_SHARE = 0.55
PROVISIONING_SHARE = 0.40
# Timing and provenance-of-run fields: everything else in a result is a function of instance and options.
TIMING_KEYS = ("wall_s", "created_utc")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def stage_options(options: SolveOptions, share: float) -> SolveOptions:
    return replace(options, time_limit_s=max(1.0, options.time_limit_s * share))


def solve(instance: Instance, instance_sha256: str, options: SolveOptions, progress: Progress = _quiet) -> dict:
    """Run every stage; raises InfeasibleError (exit 3) when a stage proves the instance infeasible,
    SolverError when a stage's answer fails the independent verification."""
    start = time.perf_counter()
    progress(f"fabric: building {instance.fabric.family} graph")
    t0 = time.perf_counter()
    graph = build_fabric(instance)
    fabric_summary = summarize(graph, seed=options.seed)
    fabric_wall = time.perf_counter() - t0
    progress(f"fabric: {fabric_summary['chips']:,} chips, {fabric_summary['links']:,} links ({fabric_wall:.1f} s)")

    progress(f"placement: up to {options.time_limit_s * PLACEMENT_SHARE:.0f} s")
    placement = place(instance, graph, stage_options(options, PLACEMENT_SHARE))
    placement_dict = placement.to_dict()
    _check("placement", verify_placement(instance, graph, placement_dict))
    progress(f"placement: {_status_line(placement.report)}")

    progress(f"provisioning: up to {options.time_limit_s * PROVISIONING_SHARE:.0f} s")
    provisioning = provision(instance, graph, stage_options(options, PROVISIONING_SHARE),
                             slot_of_cabinet=placement.slot_of_cabinet)
    provisioning_dict = provisioning.to_dict()
    _check("provisioning", verify_provisioning(instance, graph, provisioning_dict))
    progress(f"provisioning: {_status_line(provisioning.report)}")

    progress("scoring: collectives")
    t0 = time.perf_counter()
    scores = score_fabric(graph, instance.workload.collectives, instance.workload.sizes)
    scoring_wall = time.perf_counter() - t0
    progress(f"scoring: {len(scores)} records ({scoring_wall:.1f} s)")

    return {
        "schema_version": SCHEMA_VERSION,
        "tool_version": __version__,
        "instance": {"name": instance.name, "path": instance.source_file,
                     "sha256": instance_sha256,
                     "family": instance.fabric.family, "chips": fabric_summary["chips"]},
        "options": asdict(options),
        "provenance": {"created_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                       "python": platform.python_version(), "ortools": metadata.version("ortools"),
                       "networkx": metadata.version("networkx")},
        "stages": {
            "fabric": {"stage": "fabric", "status": "DONE", "wall_s": fabric_wall},
            "placement": placement.report.to_dict(),
            "provisioning": provisioning.report.to_dict(),
            "scoring": {"stage": "scoring", "status": "DONE", "wall_s": scoring_wall, "records": len(scores)},
        },
        "fabric": fabric_summary,
        "placement": placement_dict,
        "provisioning": provisioning_dict,
        "scores": scores,
        "wall_s": time.perf_counter() - start,
    }


def _status_line(report) -> str:
    gap = f", gap {report.gap:.2%}" if report.gap is not None else ""
    obj = f"{report.objective:,.0f}" if report.objective is not None else "-"
    return f"{report.status}, objective {obj}{gap} ({report.wall_s:.1f} s)"


def _check(stage: str, violations: list[str]) -> None:
    if violations:
        raise SolverError(f"{stage} failed independent verification: {violations[0]}"
                          + (f" (and {len(violations) - 1} more)" if len(violations) > 1 else ""))


def strip_timing(result: object) -> object:
    """The result without timing fields: what must be identical for the same seed and instance."""
    if isinstance(result, dict):
        return {k: strip_timing(v) for k, v in result.items() if not k.endswith(TIMING_KEYS)}
    if isinstance(result, list):
        return [strip_timing(v) for v in result]
    return result
