"""`solve(instance, options) -> result`: fabric -> placement -> provisioning -> scoring, in one time budget.

The time limit is split among the solver stages: the first placement gets PLACEMENT_SHARE of it,
the joint loop's later placements JOINT_SHARE together, and the provisionings PROVISIONING_SHARE
together (scoring and fabric analysis take seconds and are not limited).
The result is a plain JSON-ready dict (documented by `result_schema.json`); writing it is io's job.

A fabric of SuperPoDs (`Family.cluster`: the supercluster family) is solved per SuperPoD: the
physical stages run on one SuperPoD (SUPERPOD_SHARE of the time limit), reused as the template of
every copy; then its halls are placed (`placement.hall`), its DCN provisioned
(`provisioning.dcn`), and the whole fabric scored by the structured scorer. Its per-chip graph is
never built: the fabric summary is composed in closed form (`summarize_structured`).
"""

import json
import platform
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, replace
from importlib import metadata

from topo_opt import __version__
from topo_opt.collectives import score_fabric
from topo_opt.design import Design, derive, member_instance
from topo_opt.errors import InstanceError, SolverError
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize, summarize_structured
from topo_opt.families.base import ClusterOf, Fabric
from topo_opt.instance import Instance
from topo_opt.io import result_schema_errors
from topo_opt.placement import place, reprice
from topo_opt.placement.hall import HallPlacement, check_dcn_hall, check_superpod_hall, place_halls
from topo_opt.provisioning import bought_bundles, provision
from topo_opt.provisioning.dcn import (
    INNER_RUN,
    DcnPlan,
    DcnTiers,
    dcn_tiers,
    network_summary,
    provision_dcn,
    whole_ports,
)
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
SUPERPOD_SHARE = 0.9  # a SuperCluster: its SuperPoD template's physical stages; halls and DCN take < 1 s
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
    summary = build_summary(instance, fabric, seed)
    summary["compute_cabinets"] = sum(c.count for c in instance.cabinets if c.kind == "compute")
    summary["interconnect_cabinets"] = sum(c.count for c in instance.cabinets if c.kind == "interconnect")
    return fabric, summary


def build_summary(instance: Instance, fabric: Fabric, seed: int) -> dict:
    """`summarize`, or for a cluster fabric `cluster_summary` (no per-chip graph)."""
    cluster = instance.fabric.family_def.cluster(instance.fabric.params)
    return summarize(fabric, seed=seed) if cluster is None else cluster_summary(instance, fabric, cluster, seed)


def cluster_summary(instance: Instance, fabric: Fabric, cluster: ClusterOf, seed: int) -> dict:
    """A cluster fabric's summary from one member's (its graph is a SuperPoD's) and the DCN's tiers."""
    member = member_instance(instance, cluster)
    tiers = dcn_tiers(cluster.copies, cluster.member_chips, cluster.dcn.ports_per_chip, cluster.dcn.switch_radix)
    return summarize_structured(fabric, summarize(build_fabric(member), seed=seed), cluster,
                                _dcn_summary(cluster, tiers))


def _dcn_summary(cluster: ClusterOf, tiers: DcnTiers) -> dict:
    return network_summary(cluster.copies, cluster.member_chips, cluster.dcn.ports_per_chip, tiers)


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
    cluster = instance.fabric.family_def.cluster(instance.fabric.params)
    if cluster is not None:
        return _solve_cluster(instance, cluster, instance_sha256, options, progress, provisioner)
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

    scores, scoring_wall = _scores(instance, fabric, progress)
    stages = {
        "fabric": {"stage": "fabric", "status": "DONE", "wall_s": fabric_wall},
        "placement": _report_dict("placement", placement_report, options),
        "provisioning": _report_dict("provisioning", provisioning_report, options),
        "scoring": {"stage": "scoring", "status": "DONE", "wall_s": scoring_wall, "records": len(scores)},
    }
    return _result(instance, instance_sha256, options, fabric_summary, stages, placement_dict, provisioning_dict,
                   scores, start)


def _scores(instance: Instance, fabric: Fabric, progress: Progress) -> tuple[list[dict], float]:
    """The workload's collectives and ALWAYS_SCORED at its sizes and the sweep's, and the wall time."""
    progress("scoring: collectives")
    t0 = time.perf_counter()
    collectives = tuple(dict.fromkeys(instance.workload.collectives + ALWAYS_SCORED))
    sizes = tuple(sorted(set(instance.workload.sizes) | set(SWEEP_SIZES_BYTES)))
    scores = score_fabric(fabric, collectives, sizes)
    scoring_wall = time.perf_counter() - t0
    progress(f"scoring: {len(scores)} records ({scoring_wall:.1f} s)")
    return scores, scoring_wall


def _result(instance: Instance, instance_sha256: str, options: SolveOptions, fabric_summary: dict, stages: dict,
            placement_dict: dict, provisioning_dict: dict, scores: list[dict], start: float) -> dict:
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
        "stages": stages,
        "fabric": fabric_summary,
        "floor": floor_summary(instance, placement_dict),
        "placement": placement_dict,
        "provisioning": provisioning_dict,
        "scores": scores,
        "wall_s": time.perf_counter() - start,
    }


def _solve_cluster(instance: Instance, cluster: ClusterOf, instance_sha256: str, options: SolveOptions,
                   progress: Progress, provisioner: Callable) -> dict:
    """A fabric of SuperPoDs: hall placement and the DCN on the halls' runs first (they take well under
    a second, and an over-fed DCN hall fails before the time limit is spent); then the physical
    stages on one SuperPoD, the template of every copy; then the whole fabric scored structurally."""
    start = time.perf_counter()
    for section in ("chip", "cabinets", "floor", "media", "hall"):
        if not getattr(instance, section):
            raise InstanceError(instance.source_file, section, "is required to solve a SuperCluster (cabinets, floor "
                                                               "and media describe one SuperPoD's hall)")
    member = member_instance(instance, cluster)
    progress(f"fabric: one SuperPoD of {cluster.member_chips:,} chips ({cluster.member.family} graph), "
             f"{cluster.copies} copies")
    t0 = time.perf_counter()
    fabric = build_fabric(instance)
    member_fabric = build_fabric(member)
    member_summary = summarize(member_fabric, seed=options.seed)
    fabric_wall = time.perf_counter() - t0

    halls = place_halls(instance.hall, cluster.copies, whole_ports(cluster.member_chips, cluster.dcn.ports_per_chip),
                        options)
    progress(f"halls: {halls.report.status}, {halls.cable_length_m:,.0f} m of DCN cable, DCN hall at "
             f"{halls.dcn_cell} ({halls.report.wall_s:.1f} s)")
    t0 = time.perf_counter()
    inner_m = INNER_RUN * instance.hall.pitch_m + instance.hall.cable_slack_m
    dcn = provision_dcn(cluster.copies, cluster.member_chips, cluster.dcn, halls.run_lengths_m, instance.media,
                        inner_m, instance.hall.dcn_cabinet_switches, instance.source_file)
    check_dcn_hall(instance.hall, dcn.power_kw)
    dcn_wall = time.perf_counter() - t0
    progress(f"dcn: {dcn.tiers.boxes:,} {dcn.switch.name} in {dcn.tiers.tiers} tier(s), {dcn.cables:,} cables, "
             f"${dcn.cost_usd:,.0f}, {dcn.power_kw:,.0f} kW")

    placement_report, placement_dict, provisioning_report, plan = physical_stages(
        derive(member, member_fabric), stage_options(options, SUPERPOD_SHARE), progress, provisioner)
    check_superpod_hall(instance.hall, plan["bom"]["total_power_kw"])

    summary = summarize_structured(fabric, member_summary, cluster, _dcn_summary(cluster, dcn.tiers))
    scores, scoring_wall = _scores(instance, fabric, progress)
    stages = {
        "fabric": {"stage": "fabric", "status": "DONE", "wall_s": fabric_wall},
        "placement": placement_report.to_dict(),
        "provisioning": provisioning_report.to_dict(),
        "halls": halls.report.to_dict(),
        "dcn": {"stage": "dcn", "status": "DONE", "wall_s": dcn_wall},
        "scoring": {"stage": "scoring", "status": "DONE", "wall_s": scoring_wall, "records": len(scores)},
    }
    result = _result(instance, instance_sha256, options, summary, stages, placement_dict, plan, scores, start)
    result["supercluster"] = supercluster_section(instance, cluster, member, placement_dict, plan, halls, dcn)
    result["wall_s"] = time.perf_counter() - start
    return result


def supercluster_section(instance: Instance, cluster: ClusterOf, member: Instance, placement_dict: dict,
                         plan: dict, halls: HallPlacement, dcn: DcnPlan) -> dict:
    """The SuperCluster's own figures: the template, the halls, the DCN and the totals
    (`supercluster_totals`)."""
    bom = plan["bom"]
    hall = instance.hall
    return {
        "superpods": cluster.copies, "superpod_chips": cluster.member_chips,
        "chips": cluster.copies * cluster.member_chips,
        "template": {"name": member.name, "layout": member.workload.layout,
                     "cabinets": len(placement_dict["cabinets"]),
                     "placement_status": placement_dict["report"]["status"],
                     "placement_gap": placement_dict["report"]["gap"],
                     **{k: bom[k] for k in TEMPLATE_KEYS}},
        "halls": {**halls.to_dict(),
                  "power": {"superpod_hall_kw": bom["total_power_kw"], "dcn_hall_kw": dcn.power_kw,
                            "hall_power_kw": hall.power_kw, "hall_cooling_kw": hall.cooling_kw,
                            "dcn_hall_power_kw": hall.dcn_power_cap_kw, "dcn_hall_cooling_kw": hall.dcn_cooling_cap_kw,
                            "basis": "a SuperPoD hall: its provisioning BOM's total power (compute cabinets, "
                                     "interconnect overhead, network); the DCN hall: DCN switches and every DCN "
                                     "cable's optics, both ends"}},
        "dcn": dcn.to_dict(),
        "totals": supercluster_totals(cluster.copies, bom, dcn),
    }


TEMPLATE_KEYS = ("network_cost_usd", "network_power_kw", "total_power_kw", "optical_modules", "cables_total",
                 "switches", "high_radix_switches", "chips")


def supercluster_totals(copies: int, bom: dict, dcn: DcnPlan) -> dict:
    """G x the SuperPoD's BOM + the DCN's, in the BOM's own figures (so `compare` and
    `availability_from_result` read either):
    network cost and power, cables, optical modules, switches; the whole's power adds G x the
    SuperPoD's non-network power, its cost G x the chips' system cost."""
    cables = Counter({k: v * copies for k, v in bom["cables_by_medium"].items()}) + Counter(dcn.cables_by_medium)
    switches = {k: v * copies for k, v in bom["switches"].items()}
    switches[dcn.switch.name] = switches.get(dcn.switch.name, 0) + dcn.tiers.boxes
    network_cost = copies * bom["network_cost_usd"] + dcn.cost_usd
    network_kw = copies * bom["network_power_kw"] + dcn.power_kw
    total_kw = copies * bom["total_power_kw"] + dcn.power_kw
    chips_cost = copies * bom["chips_cost_usd"]
    return {
        "chips": copies * bom["chips"],
        "cables_total": copies * bom["cables_total"] + dcn.cables,
        "cables_by_medium": dict(sorted(cables.items())),
        "optical_modules": copies * bom["optical_modules"] + dcn.optical_modules,
        "switches": dict(sorted(switches.items())),
        "high_radix_switches": copies * bom["high_radix_switches"] + (dcn.tiers.boxes if dcn.switch.high_radix else 0),
        "network_cost_usd": network_cost,
        "cost_breakdown_usd": {"superpods": copies * bom["network_cost_usd"], "dcn": dcn.cost_usd},
        "chips_cost_usd": chips_cost,
        "network_cost_share": network_cost / (network_cost + chips_cost) if network_cost + chips_cost else 0.0,
        "network_power_kw": network_kw,
        "power_breakdown_kw": {"superpods": copies * bom["total_power_kw"], "dcn": dcn.power_kw},
        "total_power_kw": total_kw,
        "network_power_share": network_kw / total_kw if total_kw else 0.0,
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
    out = _cluster_errors(result)
    placement, floor = result["placement"], result["floor"]
    if "cabinets" not in placement:
        return out
    if floor is None:
        return out + ["floor: is null but the placement places cabinets"]
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


def _cluster_errors(result: dict) -> list[str]:
    """A SuperCluster's totals are G x its SuperPoD's BOM + its DCN's, its halls distinct cells of
    the grid, one per SuperPoD, and its template the provisioning above."""
    sc = result.get("supercluster")
    if sc is None:
        return []
    g, halls, dcn, totals = sc["superpods"], sc["halls"], sc["dcn"], sc["totals"]
    bom = result["provisioning"].get("bom") or {}
    out = [f"supercluster.template.{k}: differs from provisioning.bom.{k}"
           for k in TEMPLATE_KEYS if sc["template"][k] != bom.get(k)]
    sums = (("network_cost_usd", "network_cost_usd", "cost_usd"), ("network_power_kw", "network_power_kw", "power_kw"),
            ("optical_modules", "optical_modules", "optical_modules"), ("cables_total", "cables_total", "cables_total"))
    for total, per_pod, per_dcn in sums:
        want = g * sc["template"][per_pod] + dcn[per_dcn]
        if abs(totals[total] - want) > 1e-6 * max(1.0, abs(want)):
            out.append(f"supercluster.totals.{total}: {totals[total]:,.6g} is not {g} x the SuperPoD's "
                       f"{sc['template'][per_pod]:,.6g} + the DCN's {dcn[per_dcn]:,.6g}")
    if sum(totals["switches"].values()) != g * sum(sc["template"]["switches"].values()) + sum(dcn["switches"].values()):
        out.append("supercluster.totals.switches: is not G x the SuperPoD's switches + the DCN's")
    if sc["chips"] != g * sc["superpod_chips"] or sc["chips"] != result["instance"]["chips"]:
        out.append(f"supercluster.chips: {sc['chips']:,} is not superpods x superpod_chips = instance.chips")
    cells = [tuple(c) for c in halls["superpod_cells"]] + [tuple(halls["dcn_cell"])]
    if len(cells) != g + 1 or len(set(cells)) != len(cells):
        out.append(f"supercluster.halls.superpod_cells: needs {g} distinct cells besides the DCN hall's")
    if any(r >= halls["rows"] or c >= halls["cols"] for r, c in cells):
        out.append(f"supercluster.halls.superpod_cells: a cell lies outside the {halls['rows']} x {halls['cols']} grid")
    if sum(totals["cables_by_medium"].values()) != totals["cables_total"]:
        out.append("supercluster.totals.cables_by_medium: does not add up to cables_total")
    if sum(r["cables"] for r in dcn["runs"]) != dcn["cables_total"]:
        out.append("supercluster.dcn.runs: the runs' cables do not add up to cables_total")
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
