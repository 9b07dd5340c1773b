"""Screening (the fast stages) and finalising (the whole pipeline) of one candidate.

Both are pure functions of a JSON-ready task, so a process pool or a Ray task runs them alike.

Screening: build the fabric; size the interconnect cabinets (ceil(switches housed there / the
template's switches per cabinet), switches housed there = those the fabric does not fix to a
compute cabinet (an LRS) or to its chips (a server switch); counted on the graph, then on the
provisioned fabric, which may add planes); check the cabinets fit the floor; provision the fabric
as specified (`provision_nominal`: every link class at the lanes the parameters give, cables and
switches sized to them, row-major layout), so the cost is that of the fabric that is scored; score
the workload's collectives at the workload's sizes on all chips; check the caps.

The screening record (`cache/KEY.json`, a documented subset of a result file) holds the instance
mapping, status, reason, objectives, the cap checks, the provisioning report, lanes, switches and
bill of materials, and the score records.
"""

import math
import time

from topo_opt.collectives import score_fabric
from topo_opt.design import derive
from topo_opt.errors import InfeasibleError, TopoOptError
from topo_opt.fabric import build_fabric
from topo_opt.families.base import Fabric
from topo_opt.instance import Instance, instance_from_mapping
from topo_opt.optimize.candidates import mapping_sha256, with_interconnect
from topo_opt.pipeline import result_errors, solve
from topo_opt.provisioning import provision_nominal
from topo_opt.solution import SolveOptions

SCREEN_SCHEMA = "1.0"
CHIP_HOSTED_ROLES = ("server",)  # switches that sit with their chips (pipeline's node_cabinets rule)


def build(instance: Instance) -> Fabric:
    """The one call that builds a fabric (adapting to a new builder signature is one line here)."""
    return build_fabric(instance)


def score(graph: Fabric, instance: Instance) -> list[dict]:
    """The workload's collectives at the workload's sizes, auto algorithm, flow model, all chips."""
    return score_fabric(graph, instance.workload.collectives, instance.workload.sizes)


def housed_roles(fabric: Fabric) -> dict[str, int]:
    """Switches per role that go to interconnect cabinets (not fixed to a cabinet, not chip-hosted)."""
    out: dict[str, int] = {}
    for _, a in fabric.graph.nodes(data=True):
        fixed = a.get("cabinet", -1)
        if a.get("kind") == "switch" and (fixed is None or fixed < 0) and a.get("role") not in CHIP_HOSTED_ROLES:
            out[a.get("role")] = out.get(a.get("role"), 0) + 1
    return out


def _cabinets_needed(switches: int, template: dict | None) -> int:
    if template is None or switches == 0:
        return 0
    return math.ceil(switches / max(1, int(template.get("switches", 1)) or 1))


def _floor_reason(mapping: dict) -> str:
    cabinets = sum(c["count"] for c in mapping["cabinets"])
    floor = mapping["floor"]
    slots = floor["rows"] * floor["slots_per_row"]
    if cabinets > slots:
        return f"floor: {cabinets} cabinets need {cabinets} slots, the floor has {slots} (over by {cabinets - slots})"
    return ""


def objectives_of(mapping: dict, bom: dict, scores: list[dict]) -> dict:
    return {"network_cost_usd": bom["network_cost_usd"], "network_power_kw": bom["network_power_kw"],
            "total_power_kw": bom["total_power_kw"], "comm_time_s": sum(r["time_s"] for r in scores),
            "optical_modules": bom["optical_modules"],
            "floor_slots": sum(c["count"] for c in mapping["cabinets"])}


def cap_checks(objectives: dict, caps: list[dict]) -> list[dict]:
    return [{"cap": c["name"], "objective": c["objective"], "limit": c["limit"], "value": objectives[c["objective"]],
             "over_by": max(0.0, objectives[c["objective"]] - c["limit"]),
             "ok": objectives[c["objective"]] <= c["limit"]} for c in caps]


def cap_reason(checks: list[dict]) -> str:
    over = [c for c in checks if not c["ok"]]
    return "; ".join(f"cap {c['cap']} ({c['objective']} <= {c['limit']:,.6g}): {c['value']:,.6g} is over by "
                     f"{c['over_by']:,.6g} ({c['over_by'] / c['limit']:.1%})" for c in over)


def screen(task: dict) -> dict:
    """task: id, family, params, mapping (compute cabinets only), interconnect (template or None),
    caps (name, objective, limit), options (SolveOptions fields). Returns the screening record."""
    start = time.perf_counter()
    record = {"schema_version": SCREEN_SCHEMA, "kind": "screening", "id": task["id"], "family": task["family"],
              "params": task["params"], "status": "ok", "reason": "", "mapping": task["mapping"],
              "objectives": None, "caps": []}
    walls: dict[str, float] = {}
    stage = "fabric"
    try:
        mapping, template = task["mapping"], task["interconnect"]
        t0 = time.perf_counter()
        graph = build(instance_from_mapping(with_interconnect(mapping, template, 1), task["id"]))
        walls["fabric_wall_s"] = time.perf_counter() - t0
        roles = housed_roles(graph)
        mapping = with_interconnect(mapping, template, _cabinets_needed(sum(roles.values()), template))
        options = SolveOptions(**task["options"])
        stage, t0 = "provisioning", time.perf_counter()
        for _ in range(2):  # the provisioned fabric may house more switches (planes) than the graph has
            if reason := _floor_reason(mapping):
                return _done(record, mapping, "rejected", reason, walls, start)
            instance = instance_from_mapping(mapping, task["id"])
            plan = provision_nominal(derive(instance, graph), options).to_dict()
            housed = sum(t["count"] for t in plan["switches"] if t["tier"] in roles)
            resized = with_interconnect(mapping, template, _cabinets_needed(housed, template))
            if resized == mapping:
                break
            mapping = resized
        else:
            raise InfeasibleError("interconnect cabinets do not settle after re-provisioning")
        walls["provisioning_wall_s"] = time.perf_counter() - t0
        stage, t0 = "scoring", time.perf_counter()
        scores = score(graph, instance)
        walls["scoring_wall_s"] = time.perf_counter() - t0
    except TopoOptError as exc:
        return _done(record, record["mapping"], "rejected", f"{stage}: {exc}", walls, start)
    except Exception as exc:  # a stage's own bug on one design must not end the search: named, kept
        return _done(record, record["mapping"], "rejected",
                     f"{stage}: internal error: {type(exc).__name__}: {exc}", walls, start)
    objectives = objectives_of(mapping, plan["bom"], scores)
    checks = cap_checks(objectives, task["caps"])
    record.update(objectives=objectives, caps=checks, chips=plan["bom"]["chips"],
                  provisioning={"report": plan["report"], "lanes_per_chip": plan["lanes_per_chip"],
                                "switches": plan["switches"], "bom": plan["bom"]},
                  scores=scores)
    reason = cap_reason(checks)
    return _done(record, mapping, "rejected" if reason else "ok", reason, walls, start)


def _done(record: dict, mapping: dict, status: str, reason: str, walls: dict, start: float) -> dict:
    record.update(status=status, reason=reason, mapping=mapping, instance_sha256=mapping_sha256(mapping),
                  **walls, wall_s=time.perf_counter() - start)
    return record


def finalise(task: dict) -> dict:
    """The whole pipeline (`solve`: placement, the specified fabric provisioned at the placed cable
    lengths, scoring) on a screened candidate's instance. Returns status, reason and the result."""
    mapping = task["mapping"]
    try:
        instance = instance_from_mapping(mapping, task["id"])
        result = solve(instance, mapping_sha256(mapping), SolveOptions(**task["options"]),
                       provisioner=provision_nominal)
    except TopoOptError as exc:
        return {"id": task["id"], "status": "rejected", "reason": f"placement: {exc}", "result": None}
    errors = result_errors(result)
    if errors:
        return {"id": task["id"], "status": "rejected", "reason": f"result schema: {errors[0]}", "result": None}
    return {"id": task["id"], "status": "ok", "reason": "", "result": result}
