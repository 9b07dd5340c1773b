"""`solve(instance, options) -> result`: fabric -> placement -> provisioning -> scoring, in one time budget.

The time limit is split among the solver stages: the first placement gets PLACEMENT_SHARE of it,
the joint loop's later placements JOINT_SHARE together, and the provisionings PROVISIONING_SHARE
together (scoring and fabric analysis take seconds and are not limited).
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
from topo_opt.placement import place, reprice
from topo_opt.provisioning import bought_bundles, provision
from topo_opt.solution import SolveOptions, StageReport
from topo_opt.verify import verify_placement, verify_provisioning

SCHEMA_VERSION = "1.0"
# Sizes every result is scored at, besides the workload's: a sweep for the busbw-vs-size figure,
# and 1 GiB, the size `compare` reports.
SWEEP_SIZES_BYTES = (2**10, 2**15, 2**20, 2**25, 2**30, 2**32)
ALWAYS_SCORED = ("all-reduce", "all-to-all")
PLACEMENT_SHARE = 0.55
JOINT_SHARE = 0.25
PROVISIONING_SHARE = 0.15  # provisioning solves in about a second on every shipped instance
JOINT_ROUNDS = 3  # placement re-solves on what provisioning bought, at most
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
    problems = result_consistency_errors(result)
    if problems:
        raise SolverError(f"the result contradicts itself: {problems[0]}")
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
        placement_report, placement_dict, provisioning_report, provisioning_dict = physical_stages(
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


def place_verified(design: Design, options: SolveOptions, initial=None) -> tuple:
    """Placement followed by its independent verification (the `place` stage of every caller):
    (the placement, its JSON-ready dict, serialised once for the check and the caller)."""
    return _verified_placement(design, place(design, options, initial))


def _verified_placement(design: Design, placement) -> tuple:
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


def physical_stages(design: Design, options: SolveOptions, progress: Progress, provisioner: Callable) -> tuple:
    """Joint placement and provisioning. Round 0 places the fabric's nominal bundles (every lane it
    could light) and provisions on that floor; round i >= 1 places what round i-1 bought
    (`bought_bundles`, warm-started from its floor) and provisions on the new floor. The loop stops
    when the floor stops changing, when a round does not lower the network cost (that round is
    dropped), or after JOINT_ROUNDS. The kept floor is priced on its own provisioning's bundles
    (`reprice`), so the placement's cables are the BOM's inter-cabinet cables."""
    budget_s = options.time_limit_s * (PLACEMENT_SHARE + JOINT_SHARE)
    first = stage_options(options, PLACEMENT_SHARE)
    later = stage_options(options, JOINT_SHARE / JOINT_ROUNDS)
    prov_options = stage_options(options, PROVISIONING_SHARE / (1 + JOINT_ROUNDS))
    progress(f"placement: round 0, the nominal fabric, up to {first.time_limit_s:.0f} s")
    placement, _ = place_verified(design, first)
    provisioning, plan = provision_verified(design, prov_options, placement.slot_of_cabinet, provisioner)
    rounds = [_round(0, placement, plan, kept=True)]
    placement_wall = placement.report.wall_s
    progress(f"provisioning: round 0, network ${plan['bom']['network_cost_usd']:,.0f}")
    for i in range(1, JOINT_ROUNDS + 1):
        progress(f"placement: round {i}, the {plan['bom']['cables_total']:,} cables bought, "
                 f"up to {later.time_limit_s:.0f} s")
        nxt, _ = place_verified(replace(design, bundles=bought_bundles(plan)), later, placement.slot_of_cabinet)
        placement_wall += nxt.report.wall_s
        if nxt.slot_of_cabinet == placement.slot_of_cabinet:
            rounds.append(_round(i, nxt, plan, kept=False, note="the floor did not change"))
            break
        nxt_prov, nxt_plan = provision_verified(design, prov_options, nxt.slot_of_cabinet, provisioner)
        better = nxt_plan["bom"]["network_cost_usd"] < plan["bom"]["network_cost_usd"] - 1e-6
        rounds.append(_round(i, nxt, nxt_plan, kept=better, note="" if better else "no cheaper: dropped"))
        progress(f"provisioning: round {i}, network ${nxt_plan['bom']['network_cost_usd']:,.0f}"
                 + ("" if better else " (no cheaper: the previous round is kept)"))
        if not better:
            break
        placement, provisioning, plan = nxt, nxt_prov, nxt_plan
    kept = max(r["round"] for r in rounds if r["accepted"])
    bought = replace(design, bundles=bought_bundles(plan))
    final, placement_dict = _verified_placement(bought, reprice(
        bought, placement.slot_of_cabinet,
        f"round {kept} of {len(rounds)}: its floor priced on the cables its provisioning bought",
        placement_wall, replace(options, time_limit_s=budget_s)))
    placement_dict["joint_rounds"] = rounds
    progress(f"placement: {_status_line(final.report)}")
    progress(f"provisioning: {_status_line(provisioning.report)}")
    return final.report, placement_dict, provisioning.report, plan


def _round(i: int, placement, plan: dict, kept: bool, note: str = "") -> dict:
    """One round of the joint loop: what its placement optimised and what its provisioning bought."""
    bom = plan["bom"]
    return {"round": i, "placement_objective_usd": placement.report.objective, "accepted": kept, "note": note,
            "network_cost_usd": bom["network_cost_usd"], "cables": bom["cables_total"],
            "optical_modules": bom["optical_modules"], "network_power_kw": bom["network_power_kw"]}


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
    out.extend(_joint_errors(placement, result["provisioning"]))
    for i, z in enumerate(floor["cooling_zones"]):
        if any(r >= floor["rows"] for r in z["rows"]):
            out.append(f"floor.cooling_zones.{i}.rows: {z['rows']} reaches beyond the floor's {floor['rows']} rows")
    return out


def _joint_errors(placement: dict, provisioning: dict) -> list[str]:
    """A joint solve's placement cables what its provisioning bought: one set of cable figures."""
    between = (provisioning.get("bom") or {}).get("between_cabinets")
    if "joint_rounds" not in placement or between is None:
        return []
    obj = placement["objective"]
    pairs = (("cable_cost_usd", "cost_usd"), ("cables", "cables"), ("optical_modules", "optical_modules"),
             ("network_power_kw", "power_kw"))
    return [f"placement.objective.{a}: {obj[a]:,.6g} differs from provisioning.bom.between_cabinets.{b} "
            f"{between[b]:,.6g}" for a, b in pairs if abs(obj[a] - between[b]) > 1e-6 * max(1.0, abs(between[b]))]


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
