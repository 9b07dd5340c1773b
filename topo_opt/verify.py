"""Independent re-checks of solutions, without any solver: plain Python and numpy.

Each `verify_*` returns a list of violations (empty = valid), one readable sentence each, so tests
can assert on them and `solve` can refuse to write an invalid design.
"""

import itertools
import math
from collections import Counter, defaultdict

import networkx as nx
import numpy as np

from topo_opt.catalog import SWITCHES
from topo_opt.design import Design
from topo_opt.families.common import chip_lines
from topo_opt.instance import AXIS_ROLES, Instance, parse_layout
from topo_opt.netspec import NetworkSpec, budget_used, capacities_GBps, ports_needed
from topo_opt.physical import cable_length_m
from topo_opt.provisioning.traffic import workload_target

# --- placement -------------------------------------------------------------------------------------

_KW_TOLERANCE = 1e-6


def verify_placement(design: Design, placement: dict) -> list[str]:
    """Re-check a placement dict (`Placement.to_dict()`) against the instance, from first principles:
    every cabinet in exactly one slot on the floor, no slot used twice, cooling kind of each row,
    row power and zone capacity, each cabinet within its own caps, and every bundle's medium within
    reach with enough cables for its bandwidth (and the bundles those of the fabric)."""
    instance, cabinets = design.instance, design.cabinets
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
    out.extend(_check_cables(design, slot_of, placement))
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


def _check_cables(design: Design, slot_of: dict[int, int], placement: dict) -> list[str]:
    instance, bundles = design.instance, design.bundles
    media = {m.name: m for m in instance.media}
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

def verify_provisioning(design: Design, provisioning: dict) -> list[str]:
    """Re-check a provisioning plan (its `to_dict()`) without any solver, in two layers.

    **Against the design's structure** (the spec the pipeline derived once; the plan must be
    consistent with the structure it was sized on):

    - lane budget: sum over classes of lanes x chip lanes each <= the chip's budget, fixed classes
      at their nominal lanes, every class within its minimum and maximum;
    - switch radix: per tier, switches per unit x ports per switch (catalog) >= ports the lanes need;
    - capacity, per chip: for every set S of per-chip resources, sum over demands of D x (fewest
      uses of S by any of its routes) <= capacity of S (a necessary condition for any routing);
    - capacity, per cabinet: the demand between a compute cabinet's chips and chips of other
      cabinets (levels whose line peers all sit elsewhere) <= the bundles leaving it, each worth
      min(its lanes' GB/s, cables x medium GB/s); every bundle's cables carry its lanes;
    - the max-concurrent flow it reports reaches the target.

    **From first principles** (`_graph_violations`: the graph, the catalog and the workload only,
    so a wrong coefficient in the provisioning model cannot pass its own check).
    """
    instance, spec = design.instance, design.spec
    missing = [c.name for c in spec.classes if c.name not in provisioning.get("lanes_per_chip", {})]
    if missing:
        return [f"lanes: the plan gives no lanes for {', '.join(missing)}"]
    lanes = {c.name: float(provisioning["lanes_per_chip"][c.name]["lanes"]) for c in spec.classes}
    mcf = provisioning["max_concurrent_flow"]
    rate = float(mcf["reference_rate_GBps"])
    target, _ = workload_target(instance, design.traffic, rate)
    demand = tuple((lv, p, target * rate * d) for lv, p, d in design.traffic.demand)
    out = _lane_violations(spec, lanes) + _radix_violations(spec, lanes, provisioning.get("switches", []))
    out += _resource_cut_violations(spec, demand, lanes)
    out += _cabinet_cut_violations(instance, spec, demand, design.node_cab, design.cabinets,
                                   provisioning.get("bundles", []))
    if mcf.get("achieved", 0.0) < target - _TOL:
        out.append(f"max concurrent flow: the plan reports {mcf.get('achieved')} below the target {target:g}")
    return out + _graph_violations(design, provisioning)


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


# --- provisioning, from first principles -----------------------------------------------------------

def _graph_violations(design: Design, plan: dict) -> list[str]:
    """Checks that use the fabric graph, the catalog and the workload's definition only.

    Provisioned graph: every edge of a kind the plan's class scales carries bandwidth x
    lanes / nominal of that class (other edges as built). Then, per direction:

    - chip lanes: the bandwidth on a chip's own links (not host NICs) <= its interconnect_GBps;
    - switch ports: per tier (switches of that role), the ports their links take toward their
      own and lower tiers (bandwidth / the port speed of the part the plan buys) <= switches x ports per
      switch; every inter-cabinet link bundle of the graph is cabled in the plan;
    - cuts: for each chip, compute cabinet, cabinet group, named chip group (board, rack, pod)
      and each half of every even product dimension (coordinate < size / 2), the workload's
      demand across the cut <= the provisioned links crossing it (and, for a cabinet, the cables
      leaving it). The demand is a lower bound any algorithm must move, per
      group of a layout axis with k of its g chips inside: all-reduce B each way (each side must
      learn the other's partial sum), reduce-scatter k B / g in and (g - k) B / g out,
      all-gather the reverse, all-to-all k (g - k) B / g each way, p2p half of g B / (g - 1) per
      pipeline boundary crossed; B = target x rate x the axis's buffer;
    - rate: the reference rate the plan reports (unless given from outside) is no more than the
      nominal fabric's cuts allow for the workload at that rate.
    """
    inst, graph, chips = design.instance, design.graph, design.fabric.chips
    u, v, kind, bw = _edge_arrays(graph)
    scale = np.ones(len(bw))
    for entry in plan["lanes_per_chip"].values():
        if entry["nominal"] > 0:
            scale[np.isin(kind, entry["kinds"])] = entry["lanes"] / entry["nominal"]
    bw_plan = bw * scale
    out = _chip_lane_violations(inst, chips, u, v, kind, bw_plan)
    out += _switch_port_violations(graph, u, v, bw_plan, plan.get("switches", []))
    out += _bundle_coverage_violations(design, plan.get("bundles", []))
    axes = _workload_axes(inst, chips)
    rate = float(plan["max_concurrent_flow"]["reference_rate_GBps"])
    target, _ = workload_target(inst, design.traffic, rate)
    cable_GBps = _cable_capacity_by_cabinet(inst, plan.get("bundles", []), len(design.cabinets))
    worst_rate = math.inf
    for what, labels, node_labels, cables in _partitions(design, chips, cable_GBps):
        n_labels = int(node_labels.max()) + 1
        unit = np.maximum(*_cut_demand(axes, labels, n_labels))
        cap = _cut_capacity(u, v, bw_plan, node_labels, n_labels)
        if cables is not None:
            cap = np.minimum(cap, cables)
        need = target * rate * unit
        bad = np.flatnonzero(need > cap * (1 + _TOL) + _TOL)
        if len(bad):
            i = int(bad[0])
            out.append(f"capacity (graph): {what} {i} must move {need[i]:,.1f} GB/s across its boundary for "
                       f"the workload, its provisioned links carry {cap[i]:,.1f}"
                       + (f" ({len(bad) - 1} more)" if len(bad) > 1 else ""))
        nominal = _cut_capacity(u, v, bw, node_labels, n_labels)
        if cables is None and (unit > 0).any():
            worst_rate = min(worst_rate, float(np.min(nominal[unit > 0] / unit[unit > 0])))
    if plan["max_concurrent_flow"].get("reference") != "given" and rate > worst_rate * (1 + 1e-6) + _TOL:
        out.append(f"rate (graph): the plan's reference rate {rate:,.2f} GB/s exceeds the {worst_rate:,.2f} GB/s "
                   "that the instance's own fabric can carry across its cuts")
    return out


def _edge_arrays(graph: nx.Graph) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    us, vs, kinds, bws = zip(*((a, b, d["kind"], d["bandwidth_GBps"]) for a, b, d in iter(graph.edges(data=True))),
                             strict=True)
    return (np.array(us, dtype=np.int64), np.array(vs, dtype=np.int64), np.array(kinds, dtype=object),
            np.array(bws, dtype=float))


def _chip_lane_violations(inst: Instance, chips: int, u, v, kind, bw_plan) -> list[str]:
    offchip = inst.fabric.family_def.offchip_kinds(inst.fabric.params)
    on_chip = ~np.isin(kind, offchip)
    per_chip = np.bincount(u[on_chip & (u < chips)], weights=bw_plan[on_chip & (u < chips)], minlength=chips)
    per_chip += np.bincount(v[on_chip & (v < chips)], weights=bw_plan[on_chip & (v < chips)], minlength=chips)
    worst = int(np.argmax(per_chip[:chips]))
    limit = inst.chip.interconnect_GBps
    if per_chip[worst] > limit * (1 + _TOL) + _TOL:
        return [f"chip lanes (graph): chip {worst}'s links carry {per_chip[worst]:,.1f} GB/s, "
                f"above its interconnect's {limit:,.1f}"]
    return []


# A switch's ports toward its own tier and the tiers below it are the ones its catalog count
# provides (a leaf's other ports go up, and are counted at the tier above).
_TIER_RANK = {"server": 1, "lrs": 1, "leaf": 1, "hrs-leaf": 1, "router": 1, "switch": 1,
              "spine": 2, "agg": 2, "hrs-spine": 2, "core": 3}


def _switch_port_violations(graph: nx.Graph, u, v, bw_plan, switches: list[dict]) -> list[str]:
    role = np.array([graph.nodes[n].get("role", "") if graph.nodes[n]["kind"] == "switch" else ""
                     for n in range(graph.number_of_nodes())], dtype=object)
    rank = np.array([_TIER_RANK.get(r, 0) for r in role])
    out = []
    for tier in switches:
        port_GBps = tier.get("port_GBps") or SWITCHES[tier["type"]].port_GBps
        need = 0.0
        for a, b in ((u, v), (v, u)):  # the tier's switch at end a, the other end b
            mine = (role[a] == tier["tier"]) & (rank[b] <= rank[a])
            need += float(bw_plan[mine].sum()) / port_GBps
        have = tier["count"] * tier["ports_per_switch"]
        if need > have * (1 + _TOL) + _TOL:
            out.append(f"switch ports (graph): tier {tier['tier']} needs {need:,.0f} ports of "
                       f"{port_GBps:g} GB/s for its links, the plan has {tier['count']} x "
                       f"{tier['ports_per_switch']} = {have:,}")
    return out


def _bundle_coverage_violations(design: Design, bundles: list[dict]) -> list[str]:
    cabled = {tuple(sorted(b["cabinets"])) for b in bundles}
    missing = [pair for pair in design.bundles if pair not in cabled]
    return [f"cables (graph): {len(missing)} cabinet pairs joined by fabric links have no bundle "
            f"in the plan (first: {missing[0]})"] if missing else []


def _cable_capacity_by_cabinet(inst: Instance, bundles: list[dict], n_cabinets: int) -> np.ndarray:
    """GB/s per direction the plan's cables carry out of each cabinet."""
    media = {m.name: m for m in inst.media}
    out = np.zeros(n_cabinets)
    for b in bundles:
        a, c = b["cabinets"]
        if a != c and b["medium"] in media:
            carried = b["cables"] * media[b["medium"]].bandwidth_GBps
            out[a] += carried
            out[c] += carried
    return out


def _partitions(design: Design, chips: int, cable_GBps: np.ndarray):
    """(what, chip labels, node labels, cable capacity per label or None) for each family of cuts.
    Node labels put switches outside every chip group (-1) except for cabinets, which own theirs:
    a switch's links then all count as crossing, which can only overstate a cut's capacity."""
    n = design.graph.number_of_nodes()
    yield "chip", np.arange(chips), np.concatenate([np.arange(chips), np.full(n - chips, -1)]), None
    compute = np.array([c.kind == "compute" for c in design.cabinets])
    cab = design.node_cab
    cab_cables = np.where(compute, cable_GBps, np.inf)
    yield "cabinet", cab[:chips], cab, cab_cables
    group = np.array([c.group for c in design.cabinets])
    if len(set(group.tolist())) > 1:
        yield "cabinet group", group[cab[:chips]], group[cab], None
    coords = np.array([design.graph.nodes[c]["coords"] for c in range(chips)], dtype=np.int64)
    for dim in design.fabric.desc.dims:
        if len(dim.axes) == 1 and dim.size % 2 == 0:
            labels = (coords[:, dim.axes[0]] >= dim.size // 2).astype(np.int64)
            node_labels = np.concatenate([labels, np.full(n - chips, -1)])
            yield f"half of dimension {dim.name}, side", labels, node_labels, None
    for name, axes in design.fabric.desc.groups:
        others = [a for a in range(coords.shape[1]) if a not in axes]
        if not others:
            continue
        labels = np.unique(coords[:, others], axis=0, return_inverse=True)[1].ravel()
        yield name, labels, np.concatenate([labels, np.full(n - chips, -1)]), None


def _cut_capacity(u, v, bw, node_labels: np.ndarray, n_labels: int) -> np.ndarray:
    lu, lv = node_labels[u], node_labels[v]
    cross = lu != lv
    cap = np.zeros(n_labels)
    for end in (lu, lv):
        inside = cross & (end >= 0)
        cap += np.bincount(end[inside], weights=bw[inside], minlength=n_labels)[:n_labels]
    return cap


def _workload_axes(inst: Instance, chips: int) -> list[tuple[str, int, int, float]]:
    """(collective, group size, stride, buffer per unit rate) of every layout axis, innermost first
    (the workload's collectives over all chips, sharing one unit, without a layout)."""
    wl = inst.workload
    terms = parse_layout(wl.layout) if wl.layout else (("all", chips),)
    out, stride = [], 1
    for name, size in terms:
        role = AXIS_ROLES.get(name)
        roles = ([(role.collective, role.buffer)] if role
                 else [(c, 1.0 / len(wl.collectives)) for c in wl.collectives])
        out += [(c, size, stride, b) for c, b in roles if size > 1]
        stride *= size
    return out


def _cut_demand(axes, labels: np.ndarray, n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Bytes per unit rate that must enter and leave each label's chips (see `_graph_violations`)."""
    into, out_of = np.zeros(n_labels), np.zeros(n_labels)
    chips = len(labels)
    for collective, g, stride, b in axes:
        ids = np.arange(chips).reshape(-1, g, stride).transpose(0, 2, 1).reshape(-1, g)  # groups x g
        lab = labels[ids]
        if collective == "p2p":
            cut = lab[:, 1:] != lab[:, :-1]
            per = b * g / (g - 1) / 2
            for side in (lab[:, 1:], lab[:, :-1]):
                w = np.bincount(side[cut], minlength=n_labels)[:n_labels] * per
                into += w
                out_of += w
            continue
        key = np.repeat(np.arange(len(ids)), g) * n_labels + lab.ravel()
        pair, k = np.unique(key, return_counts=True)
        lbl = pair % n_labels
        partial = k < g
        lbl, k = lbl[partial], k[partial].astype(float)
        per_in, per_out = {
            "all-reduce": (b * np.ones_like(k), b * np.ones_like(k)),
            "reduce-scatter": (b * k / g, b * (g - k) / g),
            "all-gather": (b * (g - k) / g, b * k / g),
            "all-to-all": (b * k * (g - k) / g, b * k * (g - k) / g),
        }.get(collective, (0 * k, 0 * k))  # broadcast: the root's side is not fixed
        into += np.bincount(lbl, weights=per_in, minlength=n_labels)[:n_labels]
        out_of += np.bincount(lbl, weights=per_out, minlength=n_labels)[:n_labels]
    return into, out_of
