"""Clos fabrics: two- and three-tier fat-trees / leaf-spine, and the rail-optimized variant."""

import math
from collections import Counter

import networkx as nx

from topo_opt.fabric.common import add_switches
from topo_opt.instance import ClosParams


def clos_fabric(p: ClosParams) -> nx.Graph:
    """Fat-tree with `tiers` = 2 (leaf-spine) or 3 (leaf-aggregation-core in pods).

    Two tiers: leaves L = ceil(N / down), spines S = ceil(L x up / radix), each leaf's up ports
    spread round-robin over the spines (bundled into one edge per leaf-spine pair, ``lanes``
    ports). Three tiers: pods of radix/2 leaves and `up` aggregation switches (each leaf one port
    to each), aggregation up ports radix - radix/2 to core switches, core j taking port j of
    every pod's aggregation layer. Non-blocking (oversubscription 1) bisection = N/2 x port_GBps.
    """
    down, up = p.leaf_ports()
    graph = nx.Graph(family="clos", chips=p.chips, tiers=p.tiers, oversubscription=p.oversubscription,
                     variant="fat-tree", port_GBps=p.port_GBps, leaf_down=down, leaf_up=up)
    graph.add_nodes_from(range(p.chips), kind="chip", cabinet=-1, board=-1)
    for c in range(p.chips):
        graph.nodes[c]["coords"] = (c,)
    leaves = add_switches(graph, p.leaves(), "leaf")
    _link_each(graph, ((c, leaves[c // down]) for c in range(p.chips)), p, "chip-leaf")
    if p.tiers == 2:
        spines = add_switches(graph, max(1, math.ceil(len(leaves) * up / p.radix)), "spine")
        _bundle(graph, _round_robin(leaves, up, spines), p, "leaf-spine")
        return graph
    leaves_per_pod = p.radix // 2
    pods = p.pods()
    aggs = add_switches(graph, pods * up, "agg")
    pairs = [(leaf, aggs[(i // leaves_per_pod) * up + a]) for i, leaf in enumerate(leaves) for a in range(up)]
    _bundle(graph, Counter(pairs), p, "leaf-agg")
    agg_up = p.radix - leaves_per_pod
    cores = add_switches(graph, up * agg_up, "core")
    pairs = [(agg, cores[(i % up) * agg_up + q]) for i, agg in enumerate(aggs) for q in range(agg_up)]
    _bundle(graph, Counter(pairs), p, "agg-core")
    return graph


def rail_optimized_fabric(p: ClosParams) -> nx.Graph:
    """Servers of `server_chips` chips, each with an internal switch of `server_GBps` per chip
    (NVLink-like); local rank r of every server connects to rail r's leaves, one port each;
    all leaves of all rails share one spine layer (two tiers). Rail r, server s -> leaf s // down.
    A server's switch sits on its board (board = server index, as its chips).
    """
    graph = nx.Graph(family="clos", chips=p.chips, tiers=2, oversubscription=p.oversubscription,
                     variant="rail-optimized", server_chips=p.server_chips)
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
    return graph


def _round_robin(lower: list[int], ports: int, upper: list[int]) -> Counter:
    return Counter((lo, upper[(i * ports + q) % len(upper)]) for i, lo in enumerate(lower) for q in range(ports))


def _link_each(graph: nx.Graph, pairs, p: ClosParams, kind: str) -> None:
    graph.add_edges_from(pairs, bandwidth_GBps=p.port_GBps, latency_ns=p.latency_ns, lanes=1, kind=kind)


def _bundle(graph: nx.Graph, bundles: Counter, p: ClosParams, kind: str) -> None:
    for (u, v), lanes in sorted(bundles.items()):
        graph.add_edge(u, v, bandwidth_GBps=lanes * p.port_GBps, latency_ns=p.latency_ns, lanes=lanes, kind=kind)
