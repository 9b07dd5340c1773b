"""Dragonfly (Kim et al. 2008): router groups in a full mesh, groups joined all-to-all."""

import networkx as nx

from topo_opt.fabric.common import add_switches
from topo_opt.instance import DragonflyParams


def dragonfly_fabric(p: DragonflyParams) -> nx.Graph:
    """g groups of a routers, p chips per router, h global links per router.

    Chips c -> router c // chips_per_router. Routers of a group form a full mesh (``local``).
    Global links: every pair of groups gets floor(a h / (g-1)) links; group pairs are taken in
    order and each takes the next free global port of both groups (port k belongs to router
    k // h), so global ports are spread evenly over routers. Chip coords = (router slot, router
    in group, group).
    """
    a, g, cpr = p.routers_per_group, p.groups, p.chips_per_router
    chips = g * a * cpr
    graph = nx.Graph(family="dragonfly", chips=chips)
    graph.add_nodes_from(
        (c, {"kind": "chip", "cabinet": -1, "board": -1,
             "coords": (c % cpr, (c // cpr) % a, c // (cpr * a))}) for c in range(chips))
    routers = add_switches(graph, g * a, "router")
    graph.add_edges_from(((c, routers[c // cpr]) for c in range(chips)), bandwidth_GBps=p.bandwidth_GBps,
                         latency_ns=p.latency_ns, lanes=1, kind="terminal")
    for grp in range(g):
        members = routers[grp * a:(grp + 1) * a]
        graph.add_edges_from(((members[i], members[j]) for i in range(a) for j in range(i + 1, a)),
                             bandwidth_GBps=p.bandwidth_GBps, latency_ns=p.latency_ns, lanes=1, kind="local")
    per_pair = (a * p.global_links_per_router) // (g - 1) if g > 1 else 0
    next_port = [0] * g
    for g1 in range(g):
        for g2 in range(g1 + 1, g):
            for _ in range(per_pair):
                r1 = routers[g1 * a + next_port[g1] // p.global_links_per_router]
                r2 = routers[g2 * a + next_port[g2] // p.global_links_per_router]
                next_port[g1] += 1
                next_port[g2] += 1
                if graph.has_edge(r1, r2):
                    edge = graph.edges[r1, r2]
                    edge["lanes"] += 1
                    edge["bandwidth_GBps"] += p.global_bandwidth_GBps
                else:
                    graph.add_edge(r1, r2, bandwidth_GBps=p.global_bandwidth_GBps,
                                   latency_ns=p.global_latency_ns, lanes=1, kind="global")
    return graph
