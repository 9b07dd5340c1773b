"""The fabric as the provisioning model sees it, one pure builder per family (no solver here).

- **levels**: the dimensions traffic crosses (see `traffic`);
- **link classes**: what the model decides, lanes per chip (UB-Mesh: x, y, inter_rack, uplink;
  Clos: plane = switch ports per chip; rail-optimized Clos: server = lanes into the server
  domain, rail = NIC ports per chip; dragonfly: terminal = router ports per chip, local / global
  = ports per router-pair / global link; dims / torus: one per dimension). Each class owns the
  fabric's edge kinds that scale with it, takes `budget_lanes` of the chip's lane budget per
  lane (none for ports off the chip: NICs, router-to-router links), and keeps at least one lane
  (the family's connectivity). A `fixed` class (the UB-Mesh LRS lanes, which serve CPUs and the
  spare NPU, not the workload) stays at its nominal lanes;
- **resources**: per-chip, per-direction capacities in GB/s, linear in the lanes;
- **routes**: for each (level, pattern), the resources a byte uses and how many times; the first
  route is the dimension-ordered default, later ones detours (UB-Mesh traffic of any level up
  through the HRS Clos and down to its destination, when there are spines);
- **switch tiers**: switches needed per unit (pod, rack) >= ports needed / ports per switch.

Because every chip of these fabrics sees the same neighbourhood, per-chip quantities are exact
group-level aggregates: a level's bundle between two cabinets is (chips in the bundle) x
(lanes per chip on the level) / (peers per chip). A dragonfly's routers may hold unequal numbers
of global links: there the per-chip view averages them (routing spread evenly).
"""

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass

import networkx as nx
import numpy as np

from topo_opt.catalog import SWITCHES, SwitchType
from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.fabric.common import chip_lines
from topo_opt.instance import Instance
from topo_opt.physical import Cabinet
from topo_opt.provisioning.traffic import PATTERNS, SCOPES, Level, Traffic, route_factor


@dataclass(frozen=True)
class LinkClass:
    name: str
    lane_GBps: float  # per lane (a Clos plane: per switch port), per direction
    nominal_lanes: float  # per chip, as the instance's fabric has them
    lanes_min: float
    lanes_max: float
    budget_lanes: float  # chip lanes one lane of this class takes from the budget
    kinds: tuple[str, ...]  # fabric edge kinds whose bandwidth scales with this class
    fixed: bool = False


@dataclass(frozen=True)
class Resource:
    name: str
    terms: tuple[tuple[str, float], ...]  # (class, GB/s per chip per lane of the class)


@dataclass(frozen=True)
class Route:
    level: str
    pattern: str
    name: str
    uses: tuple[tuple[str, float], ...]  # (resource, GB/s drawn per GB/s carried)


@dataclass(frozen=True)
class SwitchTier:
    name: str
    switch: SwitchType
    units: int  # blocks that need their own switches (pods for HRS leaves, racks for LRS)
    ports_per_switch: int  # ports of one switch the tier fills (a leaf's down ports)
    terms: tuple[tuple[str, float], ...]  # ports needed per unit = sum coeff x lanes of the class


@dataclass(frozen=True)
class NetworkSpec:
    family: str
    chips: int
    levels: tuple[Level, ...]
    classes: tuple[LinkClass, ...]
    resources: tuple[Resource, ...]
    routes: tuple[Route, ...]
    tiers: tuple[SwitchTier, ...]
    lane_budget: float
    notes: tuple[str, ...] = ()

    def link_class(self, name: str) -> LinkClass:
        return next(c for c in self.classes if c.name == name)

    def class_of_kind(self) -> dict[str, str]:
        return {kind: c.name for c in self.classes for kind in c.kinds}


def network_spec(instance: Instance, graph: nx.Graph, node_cab: np.ndarray,
                 cabinets: tuple[Cabinet, ...]) -> NetworkSpec:
    """The group-level view of the instance's fabric (every family is modelled)."""
    fam = instance.fabric
    if fam.family == "ub-mesh":
        return _ubmesh_spec(instance, graph)
    if fam.family == "clos":
        return _clos_spec(instance)
    if fam.family == "dragonfly":
        return _dragonfly_spec(instance, graph)
    return _dims_spec(instance, node_cab, cabinets)


# --- helpers shared by the model, the bill of materials and verify --------------------------------

def capacities_GBps(spec: NetworkSpec, lanes: dict[str, float]) -> dict[str, float]:
    """Per-chip, per-direction capacity of every resource for the given lanes per class."""
    return {r.name: sum(coeff * lanes[c] for c, coeff in r.terms) for r in spec.resources}


def budget_used(spec: NetworkSpec, lanes: dict[str, float]) -> float:
    return sum(c.budget_lanes * lanes[c.name] for c in spec.classes)


def ports_needed(tier: SwitchTier, lanes: dict[str, float]) -> float:
    """Switch ports one unit of the tier needs."""
    return sum(coeff * lanes[c] for c, coeff in tier.terms)


def nominal_lanes(spec: NetworkSpec) -> dict[str, float]:
    return {c.name: c.nominal_lanes for c in spec.classes}


def default_loads(spec: NetworkSpec, demand: tuple[tuple[str, str, float], ...]) -> dict[str, float]:
    """Load per resource when every (level, pattern) takes its first (dimension-ordered) route."""
    loads = {r.name: 0.0 for r in spec.resources}
    for level, pattern, d in demand:
        route = next((r for r in spec.routes if r.level == level and r.pattern == pattern), None)
        if route is None:
            raise InfeasibleError(f"level {level}: the fabric has no links that carry its traffic")
        for res, factor in route.uses:
            loads[res] += factor * d
    return loads


def reference_rate(spec: NetworkSpec, traffic: Traffic) -> float:
    """R: the buffer rate the instance's own fabric carries with dimension-ordered routes,
    min over resources of capacity / load at unit rate. The workload's demand is target x R."""
    caps = capacities_GBps(spec, nominal_lanes(spec))
    loads = default_loads(spec, traffic.demand)
    return min(caps[r] / load for r, load in loads.items() if load > 0)


# --- families --------------------------------------------------------------------------------------

def _kinds_present(graph: nx.Graph) -> set[str]:
    return {d["kind"] for _, _, d in graph.edges(data=True)}


def _routes(level: Level, *detours: tuple[str, tuple[tuple[str, float], ...]]) -> list[Route]:
    """Direct route on the level's own resource (named after the level) first, then detours."""
    out = []
    for pattern in PATTERNS:
        out.append(Route(level.name, pattern, "direct",
                         ((level.name, route_factor(level.shape, pattern, level.size)),)))
        out.extend(Route(level.name, pattern, name, uses) for name, uses in detours)
    return out


def _ubmesh_spec(instance: Instance, graph: nx.Graph) -> NetworkSpec:
    p = instance.fabric.params
    lane = p.lane_GBps or instance.chip.lane_GBps
    kinds = _kinds_present(graph)
    sizes = (("x", p.board_npus, "full-mesh", 0), ("y", p.rack_boards, "full-mesh", 1),
             ("z", p.pod_rows, "full-mesh", 2), ("w", p.pod_cols, "full-mesh", 2),
             ("pod", p.pods, "switch", 3))
    levels = tuple(Level(n, s, shape, scope, n == "pod") for n, s, shape, scope in sizes if s > 1)
    peers = (p.pod_rows - 1) + (p.pod_cols - 1)

    def cls(name: str, nominal: float, kind_names: tuple[str, ...], fixed: bool = False) -> LinkClass:
        low, high = (nominal, nominal) if fixed else (1, p.lanes_total)
        return LinkClass(name, lane, nominal, low, high, 1.0, kind_names, fixed)

    candidates = (cls("x", p.lanes_x, ("x",)), cls("y", p.lanes_y, ("y",)),
                  cls("inter_rack", p.lanes_inter_rack, ("z", "w")),
                  cls("uplink", p.lanes_uplink, ("uplink", "hrs")), cls("lrs", p.lanes_lrs, ("lrs",), True))
    classes = tuple(c for c in candidates if c.nominal_lanes > 0 and kinds & set(c.kinds))
    names = {c.name for c in classes}
    share = {"z": (p.pod_rows - 1) / max(peers, 1), "w": (p.pod_cols - 1) / max(peers, 1)}
    resources = [Resource(lv, ((lv, lane),)) for lv in ("x", "y") if lv in names]
    resources += [Resource(lv, (("inter_rack", lane * share[lv]),)) for lv in ("z", "w")
                  if "inter_rack" in names and share[lv] > 0]
    if "uplink" in names:
        resources.append(Resource("uplink", (("uplink", lane),)))
    have = {r.name for r in resources}
    via_hrs = (("hrs", (("uplink", 1.0),)),) if p.pods > 1 and "uplink" in names else ()
    routes: list[Route] = []
    for lv in levels:
        if lv.name == "pod":
            routes += [Route("pod", pat, "hrs", (("uplink", 1.0),)) for pat in PATTERNS if via_hrs]
        elif lv.name in have:
            routes += _routes(lv, *via_hrs)
    hrs = dataclasses.replace(SWITCHES["ub-hrs"], radix=p.hrs_radix_lanes)
    tiers = []
    if "uplink" in names:
        tiers.append(SwitchTier("hrs-leaf", hrs, p.pods, p.hrs_radix_lanes // 2,
                                (("uplink", float(p.rack_npus * p.pod_racks)),)))
        if p.pods > 1:
            tiers.append(SwitchTier("hrs-spine", hrs, 1, p.hrs_radix_lanes, (("uplink", float(p.chips)),)))
    if "lrs" in names:
        lrs = SWITCHES["ub-lrs"]
        tiers.append(SwitchTier("lrs", lrs, p.chips // p.rack_npus, lrs.radix,
                                (("lrs", float(p.rack_npus + p.spare_npus)),)))
    return NetworkSpec("ub-mesh", p.chips, levels, classes, tuple(resources), tuple(routes), tuple(tiers),
                       float(p.lanes_total))


def catalog_switch(instance: Instance, field: str, link_GBps: tuple[float, ...],
                   radix: int | None = None) -> SwitchType:
    """The catalog switch a tier is priced as: `radix` ports when the fabric names a radix, and a
    port speed that carries each link speed in `link_GBps` in whole ports. Fewest ports per link
    first (an exact speed match first), then low-radix before high-radix, then by name."""
    def ports_per_link(s: SwitchType) -> int:
        ratios = [v / s.port_GBps for v in link_GBps]
        whole = all(abs(q - round(q)) < 1e-9 and round(q) >= 1 for q in ratios)
        return max(round(q) for q in ratios) if whole else 0

    fits = sorted((ports_per_link(s), s.high_radix, s.name) for s in SWITCHES.values()
                  if (radix is None or s.radix == radix) and ports_per_link(s))
    if not fits:
        have = ", ".join(f"{s.name} {s.radix} x {s.port_GBps:g}" for s in SWITCHES.values())
        ports = f"{radix} ports" if radix else "ports"
        speeds = " and ".join(f"{v:g}" for v in sorted(set(link_GBps)))
        raise InstanceError(instance.source_file, field,
                            f"no catalog switch has {ports} whose speed divides {speeds} GB/s "
                            f"(catalog, ports x GB/s: {have}); provisioning prices switches from the catalog")
    return SWITCHES[fits[0][2]]


def _port_class(name: str, instance: Instance, sw: SwitchType, nominal_GBps: float,
                kinds: tuple[str, ...], on_chip_lanes: bool = True) -> LinkClass:
    """Switch ports per chip at `sw`'s port speed: at least one, at most the chip's whole
    interconnect (floor(interconnect / port)). Ports on the chip's lanes (a Clos plane of UB lanes,
    a dragonfly terminal) spend port / lane of them each; ports off them (a NIC on the host of a
    rail-optimized server) none."""
    chip = instance.chip
    return LinkClass(name, sw.port_GBps, nominal_GBps / sw.port_GBps, 1,
                     max(1, math.floor(chip.interconnect_GBps / sw.port_GBps + 1e-9)),
                     sw.port_GBps / chip.lane_GBps if on_chip_lanes else 0.0, kinds)


def _tree_levels(instance: Instance, ends: int, what: str, tiers: int) -> tuple[Level, ...]:
    """Nested switch levels over the `ends` leaf ports of one plane (chips of a fat-tree, servers
    of a rail): leaves of min(down, ends), then spines (two tiers) or pods of radix / 2 leaves and
    cores (three tiers). Levels are scoped 1, 2, ... (a server domain below them is 0)."""
    p = instance.fabric.params
    leaf = min(p.leaf_ports()[0], ends)
    if tiers == 2:
        raw = (("leaf", leaf), ("spine", ends // leaf))
    else:
        pod = min(p.radix // 2, math.ceil(ends / leaf))
        raw = (("leaf", leaf), ("pod", pod), ("core", ends // (leaf * pod)))
    if math.prod(s for _, s in raw) != ends:
        raise InstanceError(instance.source_file, "fabric.chips",
                            f"provisioning needs the {ends:,} {what} to fill whole leaves of {leaf} "
                            f"and whole pods; use a multiple of {math.prod(s for _, s in raw[:-1])}")
    return tuple(Level(n, s, "switch", i + 1, True) for i, (n, s) in enumerate(raw) if s > 1)


def _clos_spec(instance: Instance) -> NetworkSpec:
    """A fat-tree, or a rail-optimized Clos, as planes of its switch tiers.

    Fat-tree: `port_GBps` per chip is carried by port_GBps / switch-port parallel ports, one per
    plane (class `plane`, on the chip's lanes); each plane is the fabric's fat-tree over the chips.
    Rail-optimized: servers of `server_chips` chips share a switched domain (class `server`, the
    chip's lanes at `server_GBps` nominal, priced as the catalog switch of the lane speed); local
    rank r's port (class `rail`, a NIC off the chip's lanes) joins rail r, a two-tier tree over the
    servers. Levels server (crossed by every byte that changes rank), leaf, spine; a byte that
    changes server stays on its rank's rail (the server domain moves it to the right rank first),
    so the rails carry only same-rank traffic and the domain only its own: no detours.
    Per chip and direction: port = ports x port speed, leaf_up = port x up / down.
    """
    p = instance.fabric.params
    sw = catalog_switch(instance, "fabric.radix", (p.port_GBps,), p.radix)
    rail = p.variant == "rail-optimized"
    tiers_n = 2 if rail else p.tiers
    down, up = p.leaf_ports()
    ratio = up / down
    kinds = ("chip-leaf", "leaf-spine") if tiers_n == 2 else ("chip-leaf", "leaf-agg", "agg-core")
    ports = _port_class("rail" if rail else "plane", instance, sw, p.port_GBps, kinds, on_chip_lanes=not rail)
    tree = _tree_levels(instance, p.chips // p.server_chips if rail else p.chips,
                        "servers" if rail else "chips", tiers_n)
    resources = [Resource("port", ((ports.name, sw.port_GBps),)),
                 Resource("leaf_up", ((ports.name, sw.port_GBps * ratio),))]
    up_ports = (("leaf_up", 1.0),)
    routes = [Route(lv.name, pat, "clos", (("port", 1.0),) + (up_ports if lv.name != "leaf" else ()))
              for lv in tree for pat in PATTERNS]
    tiers = [SwitchTier("leaf", sw, 1, down, ((ports.name, float(p.chips)),))]
    if tiers_n == 2:
        tiers.append(SwitchTier("spine", sw, 1, p.radix, ((ports.name, p.chips * ratio),)))
    else:
        pods = p.pods()
        tiers.append(SwitchTier("agg", sw, pods, p.radix // 2, ((ports.name, p.chips / pods * ratio),)))
        tiers.append(SwitchTier("core", sw, 1, p.radix, ((ports.name, p.chips * ratio),)))
    where = "on its rail" if rail else "one per plane"
    notes = [f"{p.port_GBps:g} GB/s per chip = {ports.nominal_lanes:g} port(s) of {sw.port_GBps:g} GB/s "
             f"({sw.name}), {where}"]
    if not rail:
        return NetworkSpec("clos", p.chips, tree, (ports,), tuple(resources), tuple(routes), tuple(tiers),
                           float(instance.chip.lanes), tuple(notes))
    chip = instance.chip
    domain = catalog_switch(instance, "chip", (chip.lane_GBps,))
    server = LinkClass("server", chip.lane_GBps, p.server_GBps / chip.lane_GBps, 1, chip.lanes, 1.0, ("server",))
    level = Level("server", p.server_chips, "switch", 0, crossed_always=True)
    tiers.insert(0, SwitchTier("server", domain, p.chips // p.server_chips, domain.radix,
                               (("server", float(p.server_chips)),)))
    notes += [f"rail ports are NICs off the chip's {chip.lanes} lanes, at most {ports.lanes_max:g} per chip "
              "(its interconnect_GBps); rails carry only same-rank traffic between servers",
              f"server domain: {p.server_chips} chips on {domain.name} ({domain.radix} x {domain.port_GBps:g} GB/s)"]
    levels = (level, *tree) if level.size > 1 else tree
    return NetworkSpec("clos", p.chips, levels, (server, ports),
                       (Resource("server", (("server", chip.lane_GBps),)), *resources),
                       (*(_routes(level) if level.size > 1 else ()), *routes), tuple(tiers),
                       float(chip.lanes), tuple(notes))


def _dragonfly_spec(instance: Instance, graph: nx.Graph) -> NetworkSpec:
    """g groups of a routers, p chips per router; routers are the catalog switch whose port speed
    divides the terminal / local and global link speeds.

    Classes: `terminal` ports per chip (on the chip's lanes), `local` ports per router-pair link,
    `global` ports per global link (router ports, off the chips' lanes). Per chip and direction:
    terminal = T port, local = (a - 1) L port / p, global = G_g G port / (a p) with G_g the global
    links of a group. Levels router (p), group (a, full mesh), global (g, full mesh), all nested:
    a byte takes the outermost level where it differs. Minimal routes: router: terminal; group:
    terminal + local x f_a; global: terminal + global x f_g + local x (1 - 1/a)(1 + f_g), with f
    the full-mesh factor of the pattern (`route_factor`: 2-hop detours for neighbour traffic), a
    local hop at each end of every global hop unless the byte already sits on the gateway router
    (1 / a, global ports spread evenly over routers, routing spread evenly over local links).
    Non-minimal (Valiant) routing is not modelled, so lambda is a lower bound of the fabric's.
    """
    p = instance.fabric.params
    a, g, cpr = p.routers_per_group, p.groups, p.chips_per_router
    sw = catalog_switch(instance, "fabric.bandwidth_GBps", (p.bandwidth_GBps, p.global_bandwidth_GBps))
    global_links: Counter = Counter()
    for u, v, d in graph.edges(data=True):
        if d["kind"] == "global":
            global_links[u] += d["lanes"]
            global_links[v] += d["lanes"]
    group_links = sum(global_links.values()) / g  # a group's global links: every link has two ends
    levels = tuple(Level(n, s, shape, scope, True) for n, s, shape, scope in (
        ("router", cpr, "switch", 1), ("group", a, "full-mesh", 2), ("global", g, "full-mesh", 3)) if s > 1)
    terminal = _port_class("terminal", instance, sw, p.bandwidth_GBps, ("terminal",))
    local = LinkClass("local", sw.port_GBps, p.bandwidth_GBps / sw.port_GBps, 1, math.inf, 0.0, ("local",))
    glob = LinkClass("global", sw.port_GBps, p.global_bandwidth_GBps / sw.port_GBps, 1, math.inf, 0.0,
                     ("global",))
    classes = (terminal, *((local,) if a > 1 else ()), *((glob,) if group_links else ()))
    per_chip = {"terminal": 1.0, "local": (a - 1) / cpr, "global": group_links / (a * cpr)}
    resources = tuple(Resource(c.name, ((c.name, per_chip[c.name] * sw.port_GBps),)) for c in classes)
    routes = []
    for lv in levels:
        for pat in PATTERNS:
            f = route_factor(lv.shape, pat, lv.size)
            uses = {"router": (), "group": (("local", f),),
                    "global": (("global", f),) + ((("local", (1 - 1 / a) * (1 + f)),) if a > 1 else ())}
            routes.append(Route(lv.name, pat, "minimal", (("terminal", 1.0), *uses[lv.name])))
    ports = {"terminal": float(cpr), "local": float(a - 1), "global": float(max(global_links.values(), default=0))}
    tier = SwitchTier("router", sw, g * a, sw.radix, tuple((c.name, ports[c.name]) for c in classes))
    note = (f"routers are {sw.name} ({sw.radix} x {sw.port_GBps:g} GB/s); local and global lanes are ports "
            "per router-pair link and per global link; minimal routes only: the concurrent flow is a lower "
            "bound of the fabric's")
    return NetworkSpec("dragonfly", g * a * cpr, levels, classes, resources, tuple(routes), (tier,),
                       float(instance.chip.lanes), (note,))


def _dims_spec(instance: Instance, node_cab: np.ndarray, cabinets: tuple[Cabinet, ...]) -> NetworkSpec:
    """One class per dimension; links per chip: ring 2 (1 when size 2), full mesh size - 1, switch 1."""
    fam, chip = instance.fabric, instance.chip
    if fam.family == "torus":
        p = fam.params
        dims = tuple(("ring", k, p.bandwidth_GBps) for k in p.shape)
        notes = ("twisted wrap-around links are sized as the plain torus's",) if p.twist else ()
    else:
        dims = tuple((d.shape, d.size, d.bandwidth_GBps) for d in fam.params.dims)
        notes = ("switch dimensions are ideal switches (no catalog type: not priced)",) \
            if any(s == "switch" for s, _, _ in dims) else ()
    sizes = tuple(k for _, k, _ in dims)
    group = np.array([c.group for c in cabinets])
    levels, classes, resources, routes = [], [], [], []
    for d, (shape, size, bw) in enumerate(dims):
        kind = {"ring": "ring", "full-mesh": "mesh", "switch": "switch"}[shape] + str(d)
        links = {"ring": 2 if size > 2 else 1, "full-mesh": size - 1, "switch": 1}[shape]
        level = Level(kind, size, shape, _scope(chip_lines(sizes, d), node_cab, group))
        levels.append(level)
        nominal = links * bw / chip.lane_GBps
        classes.append(LinkClass(kind, chip.lane_GBps, nominal, 1, chip.lanes, 1.0, (kind,)))
        resources.append(Resource(kind, ((kind, chip.lane_GBps),)))
        routes += _routes(level)
    return NetworkSpec(fam.family, math.prod(sizes), tuple(levels), tuple(classes), tuple(resources),
                       tuple(routes), (), float(chip.lanes), notes)


def _scope(lines: np.ndarray, node_cab: np.ndarray, group: np.ndarray) -> int:
    """Scope index of a dimension: cabinet when each line stays in one cabinet, group, else global."""
    cab = node_cab[lines]
    if np.all(cab == cab[:, :1]):
        return SCOPES.index("cabinet")
    grp = group[cab]
    return SCOPES.index("group") if np.all(grp == grp[:, :1]) else SCOPES.index("global")
