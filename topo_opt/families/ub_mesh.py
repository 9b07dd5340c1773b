"""UB-Mesh nD-FullMesh (Liao et al., arXiv 2503.20377), at chip granularity."""

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from topo_opt.catalog import CHIPS, SWITCHES
from topo_opt.families.base import DimRecord, Fabric, FabricDesc, Family, FamilySpace, whole, zero_ok
from topo_opt.families.common import add_chips, add_links, add_switches, chip_lines, mesh_pairs
from topo_opt.netspec import (
    PATTERNS,
    Level,
    LinkClass,
    NetworkSpec,
    Resource,
    Route,
    SwitchTier,
    direct_routes,
    kinds_present,
)

# Edge kinds, each named after the chip coordinate axis its dimension spans (the uplink's
# sub-network runs on through the HRS Clos: kinds uplink and hrs).
AXES = {"x": 0, "y": 1, "z": 2, "w": 3, "uplink": 4}
EDGE_KINDS = ("x", "y", "z", "w", "uplink", "hrs", "lrs")
DIM_KINDS = {"uplink": ("uplink", "hrs")}


@dataclass(frozen=True)
class UbMeshParams:
    """UB-Mesh nD-FullMesh (arXiv 2503.20377). Lane counts are per NPU; `lane_GBps` per lane and direction.

    X: full mesh of `board_npus` on a board; Y: full mesh of the same-index NPUs of the
    `rack_boards` boards of a rack; Z/W: full meshes of the racks in a row / column of the
    `pod_rows` x `pod_cols` pod; pods joined by a two-tier Clos of high-radix switches (HRS);
    each rack has a low-radix switch (LRS) with `spare_npus` spare NPUs behind it.
    """

    board_npus: int = 8
    rack_boards: int = 8
    pod_rows: int = 4
    pod_cols: int = 4
    pods: int = 1
    lanes_total: int = 72
    lanes_x: int = 24
    lanes_y: int = 24
    lanes_inter_rack: int = 16
    lanes_uplink: int = zero_ok(default=4)
    lanes_lrs: int = zero_ok(default=4)
    lane_GBps: float = 0.0  # 0 = the chip's interconnect_GBps / lanes_total
    hrs_radix_lanes: int = 512
    spare_npus: int = zero_ok(default=1)
    latency_board_ns: float = zero_ok(default=150.0)
    latency_rack_ns: float = zero_ok(default=200.0)
    latency_inter_rack_ns: float = zero_ok(default=400.0)
    latency_switch_ns: float = zero_ok(default=300.0)

    @property
    def rack_npus(self) -> int:
        return self.board_npus * self.rack_boards

    @property
    def pod_racks(self) -> int:
        return self.pod_rows * self.pod_cols

    @property
    def chips(self) -> int:
        return self.rack_npus * self.pod_racks * self.pods


def check(p: UbMeshParams, ctx: Any) -> None:
    used = p.lanes_x + p.lanes_y + p.lanes_inter_rack + p.lanes_uplink + p.lanes_lrs
    if used > p.lanes_total:
        raise ctx.at("lanes_total").fail(
            f"lanes_x + lanes_y + lanes_inter_rack + lanes_uplink + lanes_lrs = {used} "
            f"exceeds lanes_total = {p.lanes_total}; lower a share or raise the total")
    if p.pods > 1 and p.lanes_uplink == 0:
        raise ctx.at("lanes_uplink").fail("must be positive when pods > 1 (pods meet only through the HRS)")


def ubmesh_fabric(p: UbMeshParams, lane_GBps: float, name: str = "") -> Fabric:
    """UB-Mesh: 4D full mesh inside a pod, a two-tier HRS Clos over pods, an LRS per rack.

    Chip coordinates are (x, y, z, w, pod): x = NPU on its board, y = board in the rack,
    (z, w) = rack position in the pod's `pod_rows` x `pod_cols` grid. Links per NPU:

    - X (``kind="x"``): full mesh of the board's NPUs; `lanes_x` spread over the x-1 peers;
    - Y (``"y"``): full mesh of same-x NPUs over the rack's boards; `lanes_y` over y-1 peers;
    - Z/W (``"z"``, ``"w"``): same-position NPUs of the racks in a row / column of the pod;
      `lanes_inter_rack` split evenly over the (rows-1)+(cols-1) peer racks;
    - uplink (``"uplink"``): `lanes_uplink` to one of the pod's HRS leaves (round-robin), whose
      `hrs_radix_lanes / 2` up-lanes spread evenly over all HRS spines (a non-blocking
      two-tier Clos over pods); no HRS when there is one pod and no uplink lanes;
    - LRS (``"lrs"``): `lanes_lrs` to the rack's low-radix switch, which also holds the
      `spare_npus` spares (the 64 + 1 backup scheme) on `lanes_lrs` each.

    Per-peer bandwidth = lanes x `lane_GBps`. Each rack is one cabinet (node ``cabinet``);
    HRS switches carry ``cabinet = -1`` until placement puts them in interconnect cabinets.
    The description is built at once, the graph on first use (`Fabric.make_graph`): the
    structured scorer needs only the description.
    """
    return Fabric(ubmesh_desc(p, lane_GBps, name), make_graph=lambda: _ubmesh_graph(p, lane_GBps))


def _levels(p: UbMeshParams) -> tuple[tuple[str, int, float, float], ...]:
    """(kind, axis, lanes per peer, latency_ns) of the four full-mesh dimensions."""
    peers_inter = (p.pod_rows - 1) + (p.pod_cols - 1)
    return (
        ("x", 0, p.lanes_x / max(p.board_npus - 1, 1), p.latency_board_ns),
        ("y", 1, p.lanes_y / max(p.rack_boards - 1, 1), p.latency_rack_ns),
        ("z", 2, p.lanes_inter_rack / max(peers_inter, 1), p.latency_inter_rack_ns),
        ("w", 3, p.lanes_inter_rack / max(peers_inter, 1), p.latency_inter_rack_ns),
    )


def _sizes(p: UbMeshParams) -> tuple[int, ...]:
    return (p.board_npus, p.rack_boards, p.pod_rows, p.pod_cols, p.pods)


def ubmesh_desc(p: UbMeshParams, lane_GBps: float, name: str = "") -> FabricDesc:
    sizes = _sizes(p)
    dims = [_dim(kind, "full-mesh", sizes[dim], lanes * lane_GBps, latency)
            for kind, dim, lanes, latency in _levels(p) if sizes[dim] >= 2]
    if p.pods > 1:
        # chip -> HRS leaf -> spine -> leaf -> chip: four links
        dims.append(_dim("uplink", "switch", p.pods, p.lanes_uplink * lane_GBps, 4 * p.latency_switch_ns))
    extras = (DimRecord("lrs", "switch", p.rack_npus, p.lanes_lrs * lane_GBps, 2 * p.latency_switch_ns, (0, 1),
                        ("lrs",), virtual=True),) if p.lanes_lrs else ()
    stubs = (DimRecord("uplink", "switch", math.prod(sizes), p.lanes_uplink * lane_GBps, 4 * p.latency_switch_ns,
                       (0, 1, 2, 3), DIM_KINDS["uplink"], virtual=True),) if p.pods == 1 and p.lanes_uplink else ()
    return FabricDesc("ub-mesh", name, math.prod(sizes), p, dims=tuple(dims), extras=extras,
                      groups=(("board", (0,)), ("rack", (0, 1)), ("pod", (0, 1, 2, 3))), stubs=stubs)


def _ubmesh_graph(p: UbMeshParams, lane_GBps: float) -> nx.Graph:
    sizes = _sizes(p)
    chips = math.prod(sizes)
    graph = nx.Graph()
    add_chips(graph, sizes)
    rack_of = np.arange(chips) // p.rack_npus
    nx.set_node_attributes(graph, {i: int(rack_of[i]) for i in range(chips)}, "cabinet")
    nx.set_node_attributes(graph, {i: i // p.board_npus for i in range(chips)}, "board")
    for kind, dim, lanes, latency in _levels(p):
        if sizes[dim] >= 2:
            add_links(graph, mesh_pairs(chip_lines(sizes, dim)),
                      bandwidth_GBps=lanes * lane_GBps, latency_ns=latency, lanes=lanes, kind=kind)
    _add_lrs(graph, p, lane_GBps, chips)
    if p.pods > 1 or p.lanes_uplink:
        _add_hrs_clos(graph, p, lane_GBps, chips)
    return graph


def _dim(kind: str, shape: str, size: int, bandwidth_GBps: float, latency_ns: float) -> DimRecord:
    return DimRecord(kind, shape, size, bandwidth_GBps, latency_ns, (AXES[kind],), DIM_KINDS.get(kind, (kind,)))


def _add_lrs(graph: nx.Graph, p: UbMeshParams, lane_GBps: float, chips: int) -> None:
    if not p.lanes_lrs:
        return
    racks = chips // p.rack_npus
    lrs = add_switches(graph, racks, "lrs")
    attrs = {"bandwidth_GBps": p.lanes_lrs * lane_GBps, "latency_ns": p.latency_switch_ns,
             "lanes": p.lanes_lrs, "kind": "lrs"}
    for rack, sw in enumerate(lrs):
        graph.nodes[sw]["cabinet"] = rack
        graph.add_edges_from(((c, sw) for c in range(rack * p.rack_npus, (rack + 1) * p.rack_npus)), **attrs)
        start = graph.number_of_nodes()
        graph.add_nodes_from(range(start, start + p.spare_npus), kind="spare", cabinet=rack, board=-1)
        graph.add_edges_from(((s, sw) for s in range(start, start + p.spare_npus)), **attrs)


def _add_hrs_clos(graph: nx.Graph, p: UbMeshParams, lane_GBps: float, chips: int) -> None:
    """Leaves per pod = ceil(pod NPUs x uplink lanes / (radix/2)); spines = ceil(leaves / 2)."""
    half = p.hrs_radix_lanes // 2
    pod_npus = p.rack_npus * p.pod_racks
    leaves_per_pod = max(1, math.ceil(pod_npus * p.lanes_uplink / half))
    leaves = add_switches(graph, leaves_per_pod * p.pods, "hrs-leaf")
    up_attrs = {"bandwidth_GBps": p.lanes_uplink * lane_GBps, "latency_ns": p.latency_switch_ns,
                "lanes": p.lanes_uplink, "kind": "uplink"}
    graph.add_edges_from(((c, leaves[(c // pod_npus) * leaves_per_pod + (c % pod_npus) % leaves_per_pod])
                          for c in range(chips)), **up_attrs)
    if p.pods < 2:
        return
    spines = add_switches(graph, max(1, math.ceil(len(leaves) / 2)), "hrs-spine")
    bundles: Counter = Counter()
    for i, leaf in enumerate(leaves):
        for port in range(half):
            bundles[(leaf, spines[(i * half + port) % len(spines)])] += 1
    for (leaf, spine), lanes in sorted(bundles.items()):
        graph.add_edge(leaf, spine, bandwidth_GBps=lanes * lane_GBps, latency_ns=p.latency_switch_ns,
                       lanes=lanes, kind="hrs")


def network_spec(instance: Any, graph: nx.Graph, node_cab: np.ndarray, cabinets: tuple) -> NetworkSpec:
    p = instance.fabric.params
    lane = p.lane_GBps or instance.chip.lane_GBps
    kinds = kinds_present(graph)
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
            routes += direct_routes(lv, *via_hrs)
    # UB switches run at the NPU's lane rate (the catalog's parts are the 950 generation's: for
    # a faster NPU lane this is an assumption, stated in the notes)
    hrs = dataclasses.replace(SWITCHES["ub-hrs"], radix=p.hrs_radix_lanes, port_GBps=lane)
    tiers = []
    if "uplink" in names:
        tiers.append(SwitchTier("hrs-leaf", hrs, p.pods, p.hrs_radix_lanes // 2,
                                (("uplink", float(p.rack_npus * p.pod_racks)),)))
        if p.pods > 1:
            tiers.append(SwitchTier("hrs-spine", hrs, 1, p.hrs_radix_lanes, (("uplink", float(p.chips)),)))
    if "lrs" in names:
        lrs = dataclasses.replace(SWITCHES["ub-lrs"], port_GBps=lane)
        tiers.append(SwitchTier("lrs", lrs, p.chips // p.rack_npus, lrs.radix,
                                (("lrs", float(p.rack_npus + p.spare_npus)),)))
    catalog_GBps = SWITCHES["ub-hrs"].port_GBps
    notes = () if abs(lane - catalog_GBps) < 1e-9 else (
        f"UB switches priced as the catalog's parts with ports at the NPU's lane rate, {lane:.2f} GB/s "
        f"(catalog: {catalog_GBps:.2f}; assumed)",)
    return NetworkSpec("ub-mesh", p.chips, levels, classes, tuple(resources), tuple(routes), tuple(tiers),
                       float(p.lanes_total), notes)


# Lane bandwidth when an instance names no chip: the Ascend 950's 2 TB/s over x72.
_DEFAULT_LANE_GBPS = CHIPS["ascend-950dt"].lane_GBps


def build(p: UbMeshParams, chip_lane_GBps: float | None, name: str) -> Fabric:
    return ubmesh_fabric(p, p.lane_GBps or chip_lane_GBps or _DEFAULT_LANE_GBPS, name)




# --- design space (optimize) ---------------------------------------------------------------------

_DEFAULTS = UbMeshParams()


def _ub_space(chips: int, chip: Any) -> dict[str, tuple]:
    """Pods of 2 x 4 or 4 x 4 racks of 64; the x72 lanes split over X, Y, inter-rack and uplinks."""
    return {"pod_rows": (2, 4), "pod_cols": (4,), "lanes_y": (8, 16, 24),
            "lanes_inter_rack": (4, 8, 16), "lanes_uplink": (2, 4)}


def _ub_fabric(params: dict, chips: int) -> dict:
    rack = params.get("board_npus", _DEFAULTS.board_npus) * params.get("rack_boards", _DEFAULTS.rack_boards)
    pod = rack * params.get("pod_rows", _DEFAULTS.pod_rows) * params.get("pod_cols", _DEFAULTS.pod_cols)
    return {**params, "pods": whole(chips, pod, "UB-Mesh pods")}


def _ub_compute(fabric: dict, _: int | None) -> int:
    return fabric.get("board_npus", _DEFAULTS.board_npus) * fabric.get("rack_boards", _DEFAULTS.rack_boards)


SEARCH = FamilySpace(_ub_space, ("pods",), _ub_fabric, _ub_compute)


FAMILY = Family(
    name="ub-mesh", params=UbMeshParams, check=check, chips=lambda p: p.chips, build=build,
    network_spec=network_spec, edge_kinds=lambda p: EDGE_KINDS,
    cabinets_per_group=lambda p, compute: p.pod_racks,
    pod_chips=lambda p: p.rack_npus * p.pod_racks,
    chips_per_cabinet=lambda p: p.rack_npus,
    packing="fixed by the fabric: one UB-Mesh rack per compute cabinet",
    links_per_chip=lambda p: (p.board_npus + p.rack_boards + p.pod_rows + p.pod_cols) / 2 + 2,
    tp_domain=lambda p: p.rack_npus,
    search=SEARCH,
)
