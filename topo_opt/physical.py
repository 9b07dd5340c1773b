"""Physical model shared by placement and provisioning: cabinets with their power, which cabinet
holds each graph node, the link bundles between cabinets, slot coordinates, cable length and the
medium a length needs.

Cable length between slots (r1, s1) and (r2, s2), in m, through overhead trays:
    |s1 - s2| x slot_width_m + |r1 - r2| x row_pitch_m + 2 x cable_slack_m
and a link of that length uses the cheapest medium whose reach covers it (None when none does).
"""

import math
from collections import defaultdict
from dataclasses import dataclass

import networkx as nx
import numpy as np

from topo_opt.catalog import MediumType
from topo_opt.errors import InstanceError
from topo_opt.instance import Floor, Instance, fabric_chip_count


@dataclass(frozen=True)
class Cabinet:
    """One physical cabinet. `group` ties cabinets that should sit together (a UB-Mesh pod)."""

    index: int
    kind: str  # compute | interconnect
    power_kw: float
    power_cap_kw: float
    cooling: str  # liquid | air
    cooling_capacity_kw: float
    chips: int
    switches: int
    group: int


def _require_physical(instance: Instance) -> None:
    for section in ("chip", "cabinets", "floor", "media"):
        if not getattr(instance, section):
            raise InstanceError(instance.source_file, section,
                                "is required for placement and provisioning (only build and score work without it)")


def group_size_cabinets(instance: Instance) -> int:
    """Compute cabinets per group, as the family says (a UB-Mesh pod's racks); by default all
    compute cabinets form one group."""
    compute = sum(c.count for c in instance.cabinets if c.kind == "compute")
    return instance.fabric.family_def.cabinets_per_group(instance.fabric.params, compute)


def cabinets_of(instance: Instance) -> tuple[Cabinet, ...]:
    """Every cabinet, compute first in chip order, then interconnect; power from contents.

    compute kW = chips x TDP / 1000 + overhead_kw; interconnect kW = switches x switch_power_kw + overhead_kw.
    Interconnect cabinets are spread over the groups round-robin (each pod gets its share of HRS).
    """
    _require_physical(instance)
    tdp_kw = instance.chip.tdp_w / 1000
    per_group = group_size_cabinets(instance)
    out: list[Cabinet] = []
    compute = [k for k in instance.cabinets if k.kind == "compute"]
    for kind in compute:
        for _ in range(kind.count):
            i = len(out)
            out.append(Cabinet(i, "compute", kind.chips * tdp_kw + kind.overhead_kw, kind.power_cap_kw,
                               kind.cooling, kind.cooling_capacity_kw, kind.chips, 0, i // per_group))
    groups = max(1, math.ceil(len(out) / per_group))
    j = 0
    for kind in (k for k in instance.cabinets if k.kind == "interconnect"):
        for _ in range(kind.count):
            out.append(Cabinet(len(out), "interconnect", kind.switches * kind.switch_power_kw + kind.overhead_kw,
                               kind.power_cap_kw, kind.cooling, kind.cooling_capacity_kw, 0, kind.switches,
                               j % groups))
            j += 1
    return tuple(out)


def node_cabinets(instance: Instance, graph: nx.Graph, cabinets: tuple[Cabinet, ...]) -> np.ndarray:
    """Cabinet index of every graph node (array over node ids).

    Chips fill compute cabinets in index order (a UB-Mesh rack, whole servers of a Clos); a switch
    that the fabric fixes to a cabinet (an LRS) stays there; a server switch follows its chips;
    the other switches go to the interconnect cabinets of their group round-robin (HRS leaves of a
    pod to that pod's interconnect cabinets; spines and plain Clos switches spread over all),
    or to the compute cabinets when there are no interconnect cabinets.
    """
    n = graph.number_of_nodes()
    out = np.full(n, -1, dtype=np.int64)
    compute = [c for c in cabinets if c.kind == "compute"]
    inter = [c for c in cabinets if c.kind == "interconnect"] or compute
    bounds = np.cumsum([c.chips for c in compute])
    chips = fabric_chip_count(instance.fabric)
    out[:chips] = np.searchsorted(bounds, np.arange(chips), side="right")
    by_group: dict[int, list[int]] = defaultdict(list)
    for c in inter:
        by_group[c.group].append(c.index)
    pod_npus = instance.fabric.family_def.pod_chips(instance.fabric.params)
    counters: dict[object, int] = defaultdict(int)
    for node, attrs in graph.nodes(data=True):
        if node < chips:
            continue
        fixed = attrs.get("cabinet", -1)
        if fixed is not None and fixed >= 0:
            out[node] = fixed
            continue
        neighbours = sorted(graph.neighbors(node))
        if attrs.get("role") == "server":
            out[node] = out[neighbours[0]]
            continue
        if attrs.get("role") == "hrs-leaf" and neighbours and neighbours[0] < chips and pod_npus:
            pool = by_group.get(neighbours[0] // pod_npus) or [c.index for c in inter]
            key: object = ("group", neighbours[0] // pod_npus)
        else:
            pool, key = [c.index for c in inter], "all"
        out[node] = pool[counters[key] % len(pool)]
        counters[key] += 1
    return out


def cabinet_bundles(graph: nx.Graph, node_cab: np.ndarray) -> dict[tuple[int, int], dict]:
    """Links between different cabinets aggregated per cabinet pair (a < b):
    {"links": n, "bandwidth_GBps": sum per direction, "lanes": sum}."""
    out: dict[tuple[int, int], dict] = {}
    for u, v, d in graph.edges(data=True):
        a, b = int(node_cab[u]), int(node_cab[v])
        if a == b:
            continue
        key = (a, b) if a < b else (b, a)
        entry = out.setdefault(key, {"links": 0, "bandwidth_GBps": 0.0, "lanes": 0.0})
        entry["links"] += 1
        entry["bandwidth_GBps"] += d["bandwidth_GBps"]
        entry["lanes"] += d["lanes"]
    return dict(sorted(out.items()))


def slot_xy_m(floor: Floor, slot: int) -> tuple[float, float]:
    """Slots are numbered row-major: slot = row x slots_per_row + position."""
    row, pos = divmod(slot, floor.slots_per_row)
    return pos * floor.slot_width_m, row * floor.row_pitch_m


def cable_length_m(floor: Floor, slot_a: int, slot_b: int) -> float:
    (xa, ya), (xb, yb) = slot_xy_m(floor, slot_a), slot_xy_m(floor, slot_b)
    return abs(xa - xb) + abs(ya - yb) + 2 * floor.cable_slack_m


# Edges (m) of the cable-length buckets every bill and placement report uses.
LENGTH_BUCKETS_M = (1, 2, 3, 5, 7, 10, 15, 20, 30, 50, 100, 200, 500)


def length_bucket(length_m: float) -> str:
    """'<=7 m' for the smallest bucket edge that covers the length, '>500 m' beyond the last."""
    edge = next((b for b in LENGTH_BUCKETS_M if length_m <= b + 1e-9), None)
    return f"<={edge} m" if edge is not None else f">{LENGTH_BUCKETS_M[-1]} m"


def length_bucket_order(label: str) -> float:
    """Sort key of a `length_bucket` label: its edge (the '>' bucket sorts after its edge's '<=')."""
    return float(label.strip("<=> m")) + (0.5 if label.startswith(">") else 0.0)


def cheapest_medium(media: tuple[MediumType, ...], length_m: float) -> MediumType | None:
    """The medium of a run of `length_m`: among the media that reach it, the cheapest per unit of
    bandwidth for a run as long as the shortest reach covering `length_m` (its reach class). Every
    run of one class so takes one medium, the rule placement's tiers and provisioning share; it can
    differ from pricing at the run's own length only where per-metre prices reverse two media's order
    inside one class (not so for any pair of the catalog)."""
    fits = [m for m in media if m.reach_m >= length_m]
    if not fits:
        return None
    reach = min(m.reach_m for m in fits)
    return min(fits, key=lambda m: (m.cable_cost_usd(reach) / m.bandwidth_GBps, m.name))
