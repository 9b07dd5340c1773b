"""Clos fabrics: two- and three-tier fat-trees / leaf-spine, and the rail-optimized variant."""

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from topo_opt.families.base import (
    DimRecord,
    Fabric,
    FabricDesc,
    Family,
    FamilySpace,
    SwitchLevel,
    choice,
    template_chips,
    zero_ok,
)
from topo_opt.families.common import add_switches, switch_level_graph
from topo_opt.netspec import (
    PATTERNS,
    Level,
    LinkClass,
    NetworkSpec,
    Resource,
    Route,
    SwitchTier,
    catalog_switch,
    direct_routes,
    port_class,
    tree_levels,
)

VARIANTS = ("fat-tree", "rail-optimized")
EDGE_KINDS = {"fat-tree": {2: ("chip-leaf", "leaf-spine"), 3: ("chip-leaf", "leaf-agg", "agg-core")},
              "rail-optimized": {2: ("server", "chip-leaf", "leaf-spine")}}


@dataclass(frozen=True)
class ClosParams:
    """Fat-tree / leaf-spine of `tiers` switch tiers, or the rail-optimized variant.

    `oversubscription` is the leaf's down:up bandwidth ratio (1 = non-blocking). In the
    rail-optimized variant, servers of `server_chips` chips share an internal domain of
    `server_GBps` per chip, and local rank r of every server connects to the leaves of rail r.
    """

    chips: int
    radix: int = 64
    port_GBps: float = 100.0
    tiers: int = 2
    oversubscription: float = 1.0
    variant: str = "fat-tree"
    server_chips: int = 8
    server_GBps: float = 450.0
    latency_ns: float = zero_ok(default=600.0)
    server_latency_ns: float = zero_ok(default=250.0)

    def leaf_ports(self) -> tuple[int, int]:
        """(down, up) ports of a leaf with down:up = oversubscription; non-blocking: radix/2 each."""
        down = int(round(self.radix * self.oversubscription / (1 + self.oversubscription)))
        down = min(max(down, 1), self.radix - 1)
        return down, self.radix - down

    def leaves(self) -> int:
        """Leaf switches: ceil(chips / down), per rail in the rail-optimized variant."""
        down = self.leaf_ports()[0]
        if self.variant == "rail-optimized":
            return math.ceil(self.chips // self.server_chips / down) * self.server_chips
        return math.ceil(self.chips / down)

    def pods(self) -> int:
        """Three-tier pods of radix/2 leaves each."""
        return math.ceil(math.ceil(self.chips / self.leaf_ports()[0]) / (self.radix // 2))


def check(p: ClosParams, ctx: Any) -> None:
    choice(p.variant, VARIANTS, ctx.at("variant"), "clos variant")
    if p.tiers not in (2, 3):
        raise ctx.at("tiers").fail(f"must be 2 or 3, got {p.tiers}")
    if p.radix < 4 or p.radix % 2:
        raise ctx.at("radix").fail(f"must be an even number of ports >= 4, got {p.radix}")
    if p.tiers == 2 and p.leaves() > p.radix:
        raise ctx.at("tiers").fail(
            f"{p.leaves()} leaves exceed a spine's {p.radix} ports, so a two-tier Clos cannot join them; "
            "use tiers: 3 or a larger radix")
    if p.tiers == 3 and p.pods() > p.radix:
        raise ctx.at("radix").fail(
            f"{p.pods()} pods exceed a core switch's {p.radix} ports; raise the radix or use fewer chips")
    if p.variant == "rail-optimized" and p.tiers != 2:
        # the rails share one spine layer; a third tier was silently dropped before
        raise ctx.at("tiers").fail(f"the rail-optimized variant is built with 2 tiers, got {p.tiers}")
    if p.variant == "rail-optimized" and p.chips % p.server_chips:
        raise ctx.at("chips").fail(
            f"{p.chips} chips do not fill whole servers of server_chips = {p.server_chips}")


def clos_fabric(p: ClosParams, name: str = "") -> Fabric:
    """Fat-tree with `tiers` = 2 (leaf-spine) or 3 (leaf-aggregation-core in pods): the graph of
    its `switch_level`."""
    coords = np.arange(p.chips, dtype=np.int64)[:, None]
    return Fabric(_desc(p, name), switch_level_graph(switch_level(p), coords))


def switch_level(p: ClosParams) -> SwitchLevel | None:
    """A fat-tree's switches and bundles (None for the rail-optimized variant, whose chips have two links).

    Two tiers: leaves L = ceil(N / down), spines S = ceil(L x up / radix), each leaf's up ports
    spread round-robin over the spines (bundled into one edge per leaf-spine pair, ``lanes``
    ports). Three tiers: pods of radix/2 leaves and `up` aggregation switches (each leaf one port
    to each), aggregation up ports radix - radix/2 to core switches, core j taking port j of
    every pod's aggregation layer. Chip c -> leaf c // down. Non-blocking (oversubscription 1)
    bisection = N/2 x port_GBps.
    """
    if p.variant == "rail-optimized":
        return None
    down, up = p.leaf_ports()
    n_leaves = p.leaves()
    leaves = list(range(n_leaves))
    if p.tiers == 2:
        spines = list(range(n_leaves, n_leaves + max(1, math.ceil(n_leaves * up / p.radix))))
        roles = (("leaf", n_leaves), ("spine", len(spines)))
        bundles = [(_round_robin(leaves, up, spines), "leaf-spine")]
    else:
        leaves_per_pod = p.radix // 2
        aggs = list(range(n_leaves, n_leaves + p.pods() * up))
        agg_up = p.radix - leaves_per_pod
        cores = list(range(aggs[-1] + 1, aggs[-1] + 1 + up * agg_up))
        roles = (("leaf", n_leaves), ("agg", len(aggs)), ("core", len(cores)))
        bundles = [(Counter((leaf, aggs[(i // leaves_per_pod) * up + a]) for i, leaf in enumerate(leaves)
                            for a in range(up)), "leaf-agg"),
                   (Counter((agg, cores[(i % up) * agg_up + q]) for i, agg in enumerate(aggs)
                            for q in range(agg_up)), "agg-core")]
    pairs = [(uv, lanes, kind) for counter, kind in bundles for uv, lanes in sorted(counter.items())]
    lanes = np.array([n for _, n, _ in pairs], dtype=np.int64)
    return SwitchLevel(p.chips, roles, np.arange(p.chips) // down, "chip-leaf", p.port_GBps, p.latency_ns,
                       np.array([uv for uv, _, _ in pairs], dtype=np.int64).reshape(-1, 2), lanes * p.port_GBps,
                       np.full(len(pairs), p.latency_ns), lanes, np.array([k for *_, k in pairs], dtype=object))


def rail_optimized_fabric(p: ClosParams, name: str = "") -> Fabric:
    """Servers of `server_chips` chips, each with an internal switch of `server_GBps` per chip
    (NVLink-like); local rank r of every server connects to rail r's leaves, one port each;
    all leaves of all rails share one spine layer (two tiers). Rail r, server s -> leaf s // down.
    A server's switch sits on its board (board = server index, as its chips).
    """
    graph = nx.Graph()
    servers = p.chips // p.server_chips
    graph.add_nodes_from(
        (c, {"kind": "chip", "cabinet": -1, "board": c // p.server_chips,
              "coords": (c % p.server_chips, c // p.server_chips)}) for c in range(p.chips))
    server_sw = add_switches(graph, servers, "server")
    nx.set_node_attributes(graph, dict(zip(server_sw, range(servers), strict=True)), "board")
    graph.add_edges_from(((c, server_sw[c // p.server_chips]) for c in range(p.chips)),
                         bandwidth_GBps=p.server_GBps, latency_ns=p.server_latency_ns, lanes=1, kind="server")
    down, up = p.leaf_ports()
    leaves = add_switches(graph, p.leaves(), "leaf")
    per_rail = len(leaves) // p.server_chips
    _link_each(graph, ((c, leaves[(c % p.server_chips) * per_rail + (c // p.server_chips) // down])
                       for c in range(p.chips)), p, "chip-leaf")
    spines = add_switches(graph, max(1, math.ceil(len(leaves) * up / p.radix)), "spine")
    _bundle(graph, _round_robin(leaves, up, spines), p, "leaf-spine")
    return Fabric(_desc(p, name), graph)


def _desc(p: ClosParams, name: str) -> FabricDesc:
    """A non-blocking Clos acts as a switch: only the chips' own links can saturate, so it has a
    product view. Rail-optimized fabrics are a product of the server's switch (axis 0, the local
    rank) and the rail network (axis 1, the server): a flow first moves to the destination's rail
    inside its server, then crosses that rail (as NCCL's PXN does). A fat-tree's bisection is
    N/2 x port bandwidth x min(1, up/down)."""
    down, up = p.leaf_ports()
    rail = p.variant == "rail-optimized"
    dims: tuple[DimRecord, ...] = ()
    if p.oversubscription <= 1:
        tree = EDGE_KINDS["fat-tree"][2] + EDGE_KINDS["fat-tree"][3][1:]
        hops = _path_links(p)
        dims = ((_switch_dim("server", p.server_chips, p.server_GBps, 2 * p.server_latency_ns, 0, ("server",)),
                 _switch_dim("rail", p.chips // p.server_chips, p.port_GBps, hops * p.latency_ns, 1,
                             ("chip-leaf", "leaf-spine")))
                if rail else (_switch_dim("fabric", p.chips, p.port_GBps, hops * p.latency_ns, 0, tree),))
    return FabricDesc("clos", name, p.chips, p, dims=dims, groups=(("board", (0,)),) if rail else (),
                      variant=p.variant, oversubscription=p.oversubscription,
                      bisection_GBps=None if rail else fat_tree_bisection_GBps(p.chips, p.port_GBps, down, up))


def _switch_dim(name: str, size: int, bandwidth_GBps: float, latency_ns: float, axis: int,
                kinds: tuple[str, ...]) -> DimRecord:
    return DimRecord(name, "switch", size, bandwidth_GBps, latency_ns, (axis,), kinds)


def _path_links(p: ClosParams) -> int:
    """Links on the longest chip-to-chip path of the tree (of one rail): up to the lowest tier
    that joins both ends and down again."""
    leaves = p.leaves() // p.server_chips if p.variant == "rail-optimized" else p.leaves()
    if leaves == 1:
        return 2
    return 6 if p.tiers == 3 and p.pods() > 1 else 4


def fat_tree_bisection_GBps(chips: int, port_GBps: float, down: int, up: int) -> float:
    return chips / 2 * port_GBps * min(1.0, up / down)


def _round_robin(lower: list[int], ports: int, upper: list[int]) -> Counter:
    return Counter((lo, upper[(i * ports + q) % len(upper)]) for i, lo in enumerate(lower) for q in range(ports))


def _link_each(graph: nx.Graph, pairs, p: ClosParams, kind: str) -> None:
    graph.add_edges_from(pairs, bandwidth_GBps=p.port_GBps, latency_ns=p.latency_ns, lanes=1, kind=kind)


def _bundle(graph: nx.Graph, bundles: Counter, p: ClosParams, kind: str) -> None:
    for (u, v), lanes in sorted(bundles.items()):
        graph.add_edge(u, v, bandwidth_GBps=lanes * p.port_GBps, latency_ns=p.latency_ns, lanes=lanes, kind=kind)


def network_spec(instance: Any, graph: nx.Graph, node_cab: np.ndarray, cabinets: tuple) -> NetworkSpec:
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
    ports = port_class("rail" if rail else "plane", instance, sw, p.port_GBps, kinds, on_chip_lanes=not rail)
    tree = tree_levels(instance, p.chips // p.server_chips if rail else p.chips,
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
                       (*(direct_routes(level) if level.size > 1 else ()), *routes), tuple(tiers),
                       float(chip.lanes), tuple(notes))




def build(p: ClosParams, chip_lane_GBps: float | None, name: str) -> Fabric:
    return rail_optimized_fabric(p, name) if p.variant == "rail-optimized" else clos_fabric(p, name)


# --- design space (optimize) ---------------------------------------------------------------------

def _clos_space(chips: int, chip: Any) -> dict[str, tuple]:
    """Fat-tree or rail-optimized, 64 x 800G or 128 x 400G switches, 100 to 800 GB/s per chip."""
    return {"variant": ("fat-tree", "rail-optimized"), "radix": (64, 128), "port_GBps": (100, 200, 400, 800),
            "tiers": (2, 3), "oversubscription": (1, 2, 3)}


def _clos_fabric(params: dict, chips: int) -> dict:
    return {**params, "chips": chips}


SEARCH = FamilySpace(_clos_space, ("chips",), _clos_fabric, template_chips)


FAMILY = Family(
    name="clos", params=ClosParams, check=check, chips=lambda p: p.chips, build=build,
    network_spec=network_spec,
    edge_kinds=lambda p: EDGE_KINDS[p.variant][2 if p.variant == "rail-optimized" else p.tiers],
    # a rail-optimized server's rail ports are NICs on its host, not the chip's lanes
    offchip_kinds=lambda p: ("chip-leaf",) if p.variant == "rail-optimized" else (),
    links_per_chip=lambda p: p.tiers,
    switch_level=switch_level,
    tp_domain=lambda p: p.server_chips if p.variant == "rail-optimized" else p.leaf_ports()[0],
    search=SEARCH,
)
