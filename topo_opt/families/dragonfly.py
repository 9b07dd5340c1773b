"""Dragonfly (Kim et al. 2008): router groups in a full mesh, groups joined all-to-all."""

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from topo_opt.families.base import (
    Fabric,
    FabricDesc,
    Family,
    FamilySpace,
    SwitchLevel,
    template_chips,
    whole,
    zero_ok,
)
from topo_opt.families.common import switch_level_graph
from topo_opt.netspec import (
    PATTERNS,
    Level,
    LinkClass,
    NetworkSpec,
    Resource,
    Route,
    SwitchTier,
    catalog_switch,
    port_class,
    route_factor,
)

EDGE_KINDS = ("terminal", "local", "global")


@dataclass(frozen=True)
class DragonflyParams:
    """Groups of routers in a full mesh, every pair of groups joined by global links."""

    groups: int
    routers_per_group: int
    chips_per_router: int
    global_links_per_router: int
    bandwidth_GBps: float = 100.0
    global_bandwidth_GBps: float = 100.0
    latency_ns: float = zero_ok(default=500.0)
    global_latency_ns: float = zero_ok(default=1000.0)


def check(p: DragonflyParams, ctx: Any) -> None:
    needed = p.groups - 1
    have = p.routers_per_group * p.global_links_per_router
    if have < needed:
        raise ctx.at("global_links_per_router").fail(
            f"routers_per_group x global_links_per_router = {have} cannot reach the other "
            f"{needed} groups; raise one of them")


def dragonfly_fabric(p: DragonflyParams, name: str = "") -> Fabric:
    """The graph of the dragonfly's `switch_level`; chip coords = (router slot, router in group, group)."""
    a, cpr = p.routers_per_group, p.chips_per_router
    c = np.arange(p.groups * a * cpr, dtype=np.int64)
    coords = np.stack([c % cpr, (c // cpr) % a, c // (cpr * a)], axis=1)
    return Fabric(FabricDesc("dragonfly", name, len(c), p), switch_level_graph(switch_level(p), coords))


def switch_level(p: DragonflyParams) -> SwitchLevel:
    """g groups of a routers, p chips per router, h global links per router.

    Chips c -> router c // chips_per_router. Routers of a group form a full mesh (``local``).
    Global links: every pair of groups gets floor(a h / (g-1)) links; group pairs are taken in
    order and each takes the next free global port of both groups (port k belongs to router
    k // h), so global ports are spread evenly over routers; links between the same two routers
    are one bundle of that many lanes.
    """
    a, g, cpr, h = p.routers_per_group, p.groups, p.chips_per_router, p.global_links_per_router
    local = [((grp * a + i, grp * a + j), 1) for grp in range(g) for i in range(a) for j in range(i + 1, a)]
    per_pair = (a * h) // (g - 1) if g > 1 else 0
    next_port = [0] * g
    glob: Counter = Counter()
    for g1 in range(g):
        for g2 in range(g1 + 1, g):
            for _ in range(per_pair):
                glob[(g1 * a + next_port[g1] // h, g2 * a + next_port[g2] // h)] += 1
                next_port[g1] += 1
                next_port[g2] += 1
    pairs = local + list(glob.items())
    lanes = np.array([n for _, n in pairs], dtype=np.int64)
    is_global = np.arange(len(pairs)) >= len(local)
    return SwitchLevel(g * a * cpr, (("router", g * a),), np.arange(g * a * cpr) // cpr, "terminal",
                       p.bandwidth_GBps, p.latency_ns, np.array([uv for uv, _ in pairs], dtype=np.int64).reshape(-1, 2),
                       np.where(is_global, lanes * p.global_bandwidth_GBps, p.bandwidth_GBps),
                       np.where(is_global, p.global_latency_ns, p.latency_ns), lanes,
                       np.where(is_global, "global", "local").astype(object))


def network_spec(instance: Any, graph: nx.Graph, node_cab: np.ndarray, cabinets: tuple) -> NetworkSpec:
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
    terminal = port_class("terminal", instance, sw, p.bandwidth_GBps, ("terminal",))
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




# --- design space (optimize) ---------------------------------------------------------------------

def _dragonfly_space(chips: int, chip: Any) -> dict[str, tuple]:
    """8 to 32 chips per router, 16 or 32 routers per group, 100-400 GB/s links (64 x 800G routers)."""
    return {"chips_per_router": (8, 16, 32), "routers_per_group": (16, 32), "global_links_per_router": (4, 8, 16),
            "bandwidth_GBps": (100, 200, 400), "global_bandwidth_GBps": (100, 200)}


def _dragonfly_fabric(params: dict, chips: int) -> dict:
    per_group = params.get("routers_per_group", 0) * params.get("chips_per_router", 0)
    return {**params, "groups": whole(chips, per_group, "dragonfly groups")}


SEARCH = FamilySpace(_dragonfly_space, ("groups",), _dragonfly_fabric, template_chips)


FAMILY = Family(
    name="dragonfly", params=DragonflyParams, check=check,
    chips=lambda p: p.groups * p.routers_per_group * p.chips_per_router,
    build=lambda p, lane_GBps, name: dragonfly_fabric(p, name),
    network_spec=network_spec, edge_kinds=lambda p: EDGE_KINDS,
    links_per_chip=lambda p: 1 + p.routers_per_group / (2 * p.chips_per_router) + p.global_links_per_router,
    tp_domain=lambda p: p.chips_per_router,
    search=SEARCH,
    switch_level=switch_level,
)
