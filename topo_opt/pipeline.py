"""`solve(instance, options) -> result`: fabric -> placement -> provisioning -> scoring, in one time budget.

The time limit is split among the solver stages: placement gets PLACEMENT_SHARE of it and
provisioning PROVISIONING_SHARE (scoring and fabric analysis take seconds and are not limited).
The result is a plain JSON-ready dict (documented by `result_schema.json`); writing it is io's job.
"""

import json
import platform
import time
from collections.abc import Callable
from dataclasses import asdict, replace
from importlib import metadata

from topo_opt import __version__
from topo_opt.collectives import score_fabric
from topo_opt.design import Design, derive
from topo_opt.errors import SolverError
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize
from topo_opt.families.base import Fabric
from topo_opt.instance import Instance
from topo_opt.io import result_schema_errors
from topo_opt.placement import place
from topo_opt.provisioning import provision
from topo_opt.solution import SolveOptions, StageReport
from topo_opt.verify import verify_placement, verify_provisioning

SCHEMA_VERSION = "1.0"
# Sizes every result is scored at, besides the workload's: a sweep for the busbw-vs-size figure,
# and 1 GiB, the size `compare` reports.
SWEEP_SIZES_BYTES = (2**10, 2**15, 2**20, 2**25, 2**30, 2**32)
ALWAYS_SCORED = ("all-reduce", "all-to-all")
PLACEMENT_SHARE = 0.55
PROVISIONING_SHARE = 0.40
# Timing and provenance-of-run fields: everything else in a result is a function of instance and options.
TIMING_KEYS = ("wall_s", "created_utc")

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    pass


def stage_options(options: SolveOptions, share: float) -> SolveOptions:
    return replace(options, time_limit_s=max(1.0, options.time_limit_s * share))


def build(instance: Instance, seed: int = 0) -> tuple[Fabric, dict]:
    """The fabric and its summary (`topo-opt build`), with the instance's cabinet counts."""
    fabric = build_fabric(instance)
    summary = summarize(fabric, seed=seed)
    summary["compute_cabinets"] = sum(c.count for c in instance.cabinets if c.kind == "compute")
    summary["interconnect_cabinets"] = sum(c.count for c in instance.cabinets if c.kind == "interconnect")
    return fabric, summary


def solve(instance: Instance, instance_sha256: str, options: SolveOptions, progress: Progress = _quiet,
          provisioner: Callable = provision) -> dict:
    """Run every stage; raises InfeasibleError (exit 3) when a stage proves the instance infeasible,
    SolverError when a stage's answer fails the independent verification or the result its schema.
    `provisioner` is `provision` (sized for the workload) or `provision_nominal` (the fabric as
    specified; optimize)."""
    result = _solve(instance, instance_sha256, options, progress, provisioner)
    problems = result_errors(result)
    if problems:
        raise SolverError(f"the result does not match its schema: {problems[0]}")
    return result


def _solve(instance: Instance, instance_sha256: str, options: SolveOptions, progress: Progress,
           provisioner: Callable) -> dict:
    start = time.perf_counter()
    progress(f"fabric: building {instance.fabric.family} graph")
    t0 = time.perf_counter()
    fabric = build_fabric(instance)
    fabric_summary = summarize(fabric, seed=options.seed)
    fabric_wall = time.perf_counter() - t0
    progress(f"fabric: {fabric_summary['chips']:,} chips, {fabric_summary['links']:,} links ({fabric_wall:.1f} s)")

    if instance.has_physical:
        placement_report, placement_dict, provisioning_report, provisioning_dict = _physical_stages(
            derive(instance, fabric), options, progress, provisioner)
    else:
        progress("placement, provisioning: not run (the instance has no physical sections)")
        placement_report = provisioning_report = None
        placement_dict = provisioning_dict = {"not_run": "the instance has no chip, cabinets, floor or media sections"}

    progress("scoring: collectives")
    t0 = time.perf_counter()
    collectives = tuple(dict.fromkeys(instance.workload.collectives + ALWAYS_SCORED))
    sizes = tuple(sorted(set(instance.workload.sizes) | set(SWEEP_SIZES_BYTES)))
    scores = score_fabric(fabric, collectives, sizes)
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
            "placement": _report_dict("placement", placement_report, options),
            "provisioning": _report_dict("provisioning", provisioning_report, options),
            "scoring": {"stage": "scoring", "status": "DONE", "wall_s": scoring_wall, "records": len(scores)},
        },
        "fabric": fabric_summary,
        "floor": floor_summary(instance, placement_dict),
        "placement": placement_dict,
        "provisioning": provisioning_dict,
        "scores": scores,
        "wall_s": time.perf_counter() - start,
    }


def place_verified(design: Design, options: SolveOptions) -> tuple:
    """Placement followed by its independent verification (the `place` stage of every caller):
    (the placement, its JSON-ready dict, serialised once for the check and the caller)."""
    placement = place(design, options)
    as_dict = placement.to_dict()
    check("placement", verify_placement(design, as_dict))
    return placement, as_dict


def provision_verified(design: Design, options: SolveOptions, slot_of_cabinet=None,
                       provisioner: Callable = provision) -> tuple:
    """Provisioning followed by its independent verification (the `provision` stage of every
    caller): (the provisioning, its JSON-ready dict)."""
    provisioning = provisioner(design, options, slot_of_cabinet=slot_of_cabinet)
    as_dict = provisioning.to_dict()
    check("provisioning", verify_provisioning(design, as_dict))
    return provisioning, as_dict


def _physical_stages(design: Design, options: SolveOptions, progress: Progress, provisioner: Callable) -> tuple:
    progress(f"placement: up to {options.time_limit_s * PLACEMENT_SHARE:.0f} s")
    placement, placement_dict = place_verified(design, stage_options(options, PLACEMENT_SHARE))
    progress(f"placement: {_status_line(placement.report)}")

    progress(f"provisioning: up to {options.time_limit_s * PROVISIONING_SHARE:.0f} s")
    provisioning, provisioning_dict = provision_verified(
        design, stage_options(options, PROVISIONING_SHARE), slot_of_cabinet=placement.slot_of_cabinet,
        provisioner=provisioner)
    progress(f"provisioning: {_status_line(provisioning.report)}")
    return placement.report, placement_dict, provisioning.report, provisioning_dict


def _report_dict(stage: str, report: StageReport | None, options: SolveOptions) -> dict:
    """A stage's report, or an honest NOT_RUN one."""
    if report is not None:
        return report.to_dict()
    return StageReport(stage, "NOT_RUN", None, None, None, "not run: no physical sections", 0.0,
                       options.time_limit_s, options.seed, options.workers).to_dict()


def floor_summary(instance: Instance, placement_dict: dict) -> dict | None:
    """Floor geometry and use, so reports and `compare` need only the result file."""
    floor = instance.floor
    if floor is None:
        return None
    return {"rows": floor.rows, "slots_per_row": floor.slots_per_row, "slots": floor.rows * floor.slots_per_row,
            "slots_used": len(placement_dict.get("cabinets", [])),
            "slot_width_m": floor.slot_width_m, "row_pitch_m": floor.row_pitch_m,
            "row_power_kw": floor.row_power_kw, "cable_slack_m": floor.cable_slack_m,
            "area_m2": floor.rows * floor.row_pitch_m * floor.slots_per_row * floor.slot_width_m,
            "cooling_zones": [asdict(z) for z in floor.cooling_zones]}


def result_errors(result: dict) -> list[str]:
    """Violations of the shipped JSON Schema (empty = valid), of the result as its file will hold it
    (tuples become arrays; a NaN or infinity, which JSON cannot hold, is a violation)."""
    try:
        as_written = json.loads(json.dumps(result, allow_nan=False))
    except ValueError as exc:
        return [f"(top): {exc}"]
    return result_schema_errors(as_written)


def result_consistency_errors(result: dict) -> list[str]:
    """What the schema cannot say about a (schema-valid) result: cross references between its parts,
    as `path: message`. Reports draw from these without further checks."""
    placement, floor = result["placement"], result["floor"]
    if "cabinets" not in placement:
        return []
    if floor is None:
        return ["floor: is null but the placement places cabinets"]
    out = []
    cabinets = {c["cabinet"] for c in placement["cabinets"]}
    if len(cabinets) != len(placement["cabinets"]):
        out.append("placement.cabinets: lists a cabinet twice")
    for i, c in enumerate(placement["cabinets"]):
        if c["row"] >= floor["rows"] or c["position"] >= floor["slots_per_row"]:
            out.append(f"placement.cabinets.{i}: row {c['row']}, position {c['position']} is outside the floor's "
                       f"{floor['rows']} x {floor['slots_per_row']} slots")
    for i, b in enumerate(placement["bundles"]):
        if not set(b["cabinets"]) <= cabinets:
            out.append(f"placement.bundles.{i}.cabinets: {b['cabinets']} names a cabinet the placement does not list")
        if b["medium"] not in placement["cables_by_medium"]:
            out.append(f"placement.bundles.{i}.medium: {b['medium']!r} is not in placement.cables_by_medium")
    for i, z in enumerate(floor["cooling_zones"]):
        if any(r >= floor["rows"] for r in z["rows"]):
            out.append(f"floor.cooling_zones.{i}.rows: {z['rows']} reaches beyond the floor's {floor['rows']} rows")
    return out


def _status_line(report) -> str:
    gap = f", gap {report.gap:.2%}" if report.gap is not None else ""
    obj = f"{report.objective:,.0f}" if report.objective is not None else "-"
    return f"{report.status}, objective {obj}{gap} ({report.wall_s:.1f} s)"


def check(stage: str, violations: list[str]) -> None:
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
