"""Independent re-checks of solutions, without any solver: plain Python and numpy.

Each `verify_*` returns a list of violations (empty = valid), one readable sentence each, so tests
can assert on them and `solve` can refuse to write an invalid design.
"""

import itertools
from collections import Counter, defaultdict

import networkx as nx
import numpy as np

from topo_opt.fabric.common import chip_lines
from topo_opt.instance import Instance
from topo_opt.physical import cabinet_bundles, cabinets_of, cable_length_m, node_cabinets
from topo_opt.provisioning.network import (
    NetworkSpec,
    budget_used,
    capacities_GBps,
    network_spec,
    ports_needed,
    reference_rate,
)
from topo_opt.provisioning.traffic import workload_traffic

# --- placement -------------------------------------------------------------------------------------

_KW_TOLERANCE = 1e-6


def verify_placement(instance: Instance, graph: nx.Graph, placement: dict) -> list[str]:
    """Re-check a placement dict (`Placement.to_dict()`) against the instance, from first principles:
    every cabinet in exactly one slot on the floor, no slot used twice, cooling kind of each row,
    row power and zone capacity, each cabinet within its own caps, and every bundle's medium within
    reach with enough cables for its bandwidth (and the bundles those of the fabric)."""
    cabinets = cabinets_of(instance)
    floor = instance.floor
    slot_of, out = _slots(placement, len(cabinets), floor.rows * floor.slots_per_row)
    for c in cabinets:
        for limit, cap in (("power_cap_kw", c.power_cap_kw), ("cooling_capacity_kw", c.cooling_capacity_kw)):
            if c.power_kw > cap + _KW_TOLERANCE:
                out.append(f"cabinet {c.index} draws {c.power_kw:.3f} kW above its {limit} {cap:.3f} kW")
    if len(slot_of) != len(cabinets):
        return out
    row_kw = Counter()
    zone_kw = Counter()
    for c in cabinets:
        row = slot_of[c.index] // floor.slots_per_row
        row_kw[row] += c.power_kw
        zones = [z for z in floor.cooling_zones if z.kind == c.cooling and row in z.rows]
        if floor.cooling_zones and not zones:
            out.append(
                f"cabinet {c.index} ({c.cooling}-cooled) stands in row {row}, which no {c.cooling} zone cools"
            )
        for z in zones:
            zone_kw[z.name] += c.power_kw
    for row, kw in sorted(row_kw.items()):
        if kw > floor.row_power_kw + _KW_TOLERANCE:
            out.append(f"row {row} draws {kw:.3f} kW above its cap {floor.row_power_kw:.3f} kW")
    for z in floor.cooling_zones:
        if zone_kw[z.name] > z.capacity_kw + _KW_TOLERANCE:
            out.append(
                f"zone {z.name} carries {zone_kw[z.name]:.3f} kW above its capacity {z.capacity_kw:.3f} kW"
            )
    out.extend(_check_cables(instance, graph, cabinets, slot_of, placement))
    return out


def _slots(placement: dict, n_cabinets: int, n_slots: int) -> tuple[dict[int, int], list[str]]:
    out = []
    slot_of: dict[int, int] = {}
    for entry in placement.get("cabinets", []):
        c, s = entry["cabinet"], entry["slot"]
        if c in slot_of:
            out.append(f"cabinet {c} is placed twice (slots {slot_of[c]} and {s})")
        elif not 0 <= c < n_cabinets:
            out.append(f"cabinet {c} does not exist (the instance has {n_cabinets})")
        elif not 0 <= s < n_slots:
            out.append(f"cabinet {c} stands in slot {s}, outside the floor's {n_slots} slots")
        else:
            slot_of[c] = s
    missing = sorted(set(range(n_cabinets)) - set(slot_of))
    if missing:
        out.append(f"{len(missing)} cabinets have no slot (first: {missing[0]})")
    for s, n in sorted(Counter(slot_of.values()).items()):
        if n > 1:
            out.append(f"slot {s} holds {n} cabinets")
    return slot_of, out


def _check_cables(
    instance: Instance, graph: nx.Graph, cabinets, slot_of: dict[int, int], placement: dict
) -> list[str]:
    media = {m.name: m for m in instance.media}
    bundles = cabinet_bundles(graph, node_cabinets(instance, graph, cabinets))
    out = []
    seen = set()
    for entry in placement.get("bundles", []):
        a, b = entry["cabinets"]
        key = (min(a, b), max(a, b))
        seen.add(key)
        if key not in bundles:
            out.append(f"bundle {key} is not a link bundle of the fabric")
            continue
        medium = media.get(entry["medium"])
        if medium is None:
            out.append(f"bundle {key} uses medium {entry['medium']!r}, which the instance does not list")
            continue
        length = cable_length_m(instance.floor, slot_of[a], slot_of[b])
        if length > medium.reach_m + 1e-9:
            out.append(
                f"bundle {key}: {medium.name} reaches {medium.reach_m:g} m but the run is {length:.2f} m"
            )
        if entry["cables"] * medium.bandwidth_GBps < bundles[key]["bandwidth_GBps"] - 1e-6:
            out.append(
                f"bundle {key}: {entry['cables']} x {medium.bandwidth_GBps:g} GB/s cables carry less than "
                f"its {bundles[key]['bandwidth_GBps']:.1f} GB/s"
            )
    missing = sorted(set(bundles) - seen)
    if missing:
        out.append(f"{len(missing)} link bundles have no cables (first: {missing[0]})")
    return out


# --- provisioning ----------------------------------------------------------------------------------

def verify_provisioning(instance: Instance, graph: nx.Graph, provisioning: dict) -> list[str]:
    """Re-check a provisioning plan (its `to_dict()`) against the instance, without any solver.

    - lane budget: sum over classes of lanes x chip lanes each <= the chip's budget, fixed classes
      at their nominal lanes, every class within its minimum and maximum;
    - switch radix: per tier, switches per unit x ports per switch (catalog) >= ports the lanes need;
    - capacity, per chip: the demand is recomputed from the workload; for every set S of per-chip
      resources, sum over demands of D x (fewest uses of S by any of its routes) <= capacity of S
      (a necessary condition for any routing; singletons and pairs cover each level's cut);
    - capacity, per cabinet: the demand between a compute cabinet's chips and chips of other
      cabinets (levels whose line peers all sit elsewhere) <= the bundles leaving it, each worth
      min(its lanes' GB/s, cables x medium GB/s); every bundle's cables carry its lanes;
    - the max-concurrent flow it reports reaches the target.
    """
    cabinets = cabinets_of(instance)
    node_cab = node_cabinets(instance, graph, cabinets)
    spec = network_spec(instance, graph, node_cab, cabinets)
    traffic = workload_traffic(instance, spec.levels)
    missing = [c.name for c in spec.classes if c.name not in provisioning.get("lanes_per_chip", {})]
    if missing:
        return [f"lanes: the plan gives no lanes for {', '.join(missing)}"]
    lanes = {c.name: float(provisioning["lanes_per_chip"][c.name]["lanes"]) for c in spec.classes}
    mcf = provisioning["max_concurrent_flow"]
    target = instance.workload.target_throughput
    given = mcf.get("reference") == "given"
    rate = float(mcf["reference_rate_GBps"]) if given else reference_rate(spec, traffic)
    demand = tuple((lv, p, target * rate * d) for lv, p, d in traffic.demand)
    out = _lane_violations(spec, lanes) + _radix_violations(spec, lanes, provisioning.get("switches", []))
    out += _resource_cut_violations(spec, demand, lanes)
    out += _cabinet_cut_violations(instance, spec, demand, node_cab, cabinets,
                                   provisioning.get("bundles", []))
    if mcf.get("achieved", 0.0) < target - _TOL:
        out.append(f"max concurrent flow: the plan reports {mcf.get('achieved')} below the target {target:g}")
    return out


_TOL = 1e-6


def _lane_violations(spec: NetworkSpec, lanes: dict[str, float]) -> list[str]:
    out = []
    for c in spec.classes:
        if c.fixed and abs(lanes[c.name] - c.nominal_lanes) > _TOL:
            out.append(f"lanes: {c.name} is reserved at {c.nominal_lanes:g} lanes, "
                       f"the plan gives {lanes[c.name]:g}")
        elif lanes[c.name] < c.lanes_min - _TOL:
            out.append(f"lanes: {c.name} needs at least {c.lanes_min:g} lane(s), "
                       f"the plan gives {lanes[c.name]:g}")
        elif lanes[c.name] > c.lanes_max + _TOL:
            out.append(f"lanes: {c.name} allows at most {c.lanes_max:g} lane(s), "
                       f"the plan gives {lanes[c.name]:g}")
    used = budget_used(spec, lanes)
    if used > spec.lane_budget + _TOL:
        parts = ", ".join(f"{c.name} {lanes[c.name] * c.budget_lanes:g}" for c in spec.classes)
        out.append(f"lanes per chip: {used:g} used of {spec.lane_budget:g} ({parts})")
    return out


def _radix_violations(spec: NetworkSpec, lanes: dict[str, float], switches: list[dict]) -> list[str]:
    out = []
    given = {s["tier"]: s for s in switches}
    for t in spec.tiers:
        need = ports_needed(t, lanes)
        per_unit = given.get(t.name, {}).get("per_unit", 0)
        if per_unit * t.ports_per_switch < need - _TOL:
            out.append(f"switch radix: tier {t.name} has {per_unit} x {t.switch.name} of "
                       f"{t.ports_per_switch} ports = {per_unit * t.ports_per_switch:,} per unit, "
                       f"the lanes need {need:,.0f}")
    return out


def _resource_cut_violations(spec: NetworkSpec, demand: tuple, lanes: dict[str, float]) -> list[str]:
    """Smallest violated resource sets only (a set's supersets would repeat its shortfall)."""
    caps = capacities_GBps(spec, lanes)
    routes: dict[tuple[str, str], list[dict[str, float]]] = defaultdict(list)
    for r in spec.routes:
        routes[(r.level, r.pattern)].append(dict(r.uses))
    unrouted = [f"capacity: level {lv} has {d:,.1f} GB/s per chip of {p} traffic and no route"
                for lv, p, d in demand if not routes[(lv, p)]]
    if unrouted:
        return unrouted
    names = [r.name for r in spec.resources]
    for k in range(1, len(names) + 1):
        out = []
        for subset in itertools.combinations(names, k):
            need = sum(d * min(sum(u.get(s, 0.0) for s in subset) for u in routes[(lv, p)])
                       for lv, p, d in demand)
            have = sum(caps[s] for s in subset)
            if need > have * (1 + _TOL) + _TOL:
                out.append(f"capacity: {' + '.join(subset)} must carry {need:,.1f} GB/s per chip, "
                           f"the plan gives {have:,.1f}")
        if out:
            return out
    return []


def _cabinet_cut_violations(instance: Instance, spec: NetworkSpec, demand: tuple, node_cab: np.ndarray,
                            cabinets: tuple, bundles: list[dict]) -> list[str]:
    media = {m.name: m for m in instance.media}
    out = []
    leaving = np.zeros(len(cabinets))
    for b in bundles:
        medium = media.get(b["medium"])
        carried = b["cables"] * medium.bandwidth_GBps if medium else 0.0
        if carried < b["bandwidth_GBps"] * (1 - _TOL):
            a, c = b["cabinets"]
            out.append(f"cables: bundle {b['kind']} between cabinets {a} and {c} has "
                       f"{b['cables']} x {b['medium']} for {b['bandwidth_GBps']:,.1f} GB/s")
        a, c = b["cabinets"]
        if a != c:
            leaving[a] += min(carried, b["bandwidth_GBps"])
            leaving[c] += min(carried, b["bandwidth_GBps"])
    sizes = tuple(lv.size for lv in spec.levels)
    per_chip = defaultdict(float)
    for lv, _, d in demand:
        per_chip[lv] += d
    chips = spec.chips
    external = np.zeros(chips)
    for i, lv in enumerate(spec.levels):
        cab = np.sort(node_cab[chip_lines(sizes, i)], axis=1)
        if per_chip[lv.name] and np.all(np.diff(cab, axis=1) != 0):  # every line peer in another cabinet
            external += per_chip[lv.name]
    need = np.bincount(node_cab[:chips], weights=external, minlength=len(cabinets))
    for c in cabinets:
        if c.kind == "compute" and need[c.index] > leaving[c.index] * (1 + _TOL) + _TOL:
            out.append(f"capacity: cabinet {c.index} sends {need[c.index]:,.1f} GB/s to other cabinets, "
                       f"its bundles carry {leaving[c.index]:,.1f}")
    return out
