"""Brute-force reference: every flow routed on its own with networkx, every link in a dense matrix.

Independent of the fast path's vectorised routing, symmetry and equal-bytes shortcut: each
flow walks the fabric's dimensions one at a time (product fabrics under the structured routing)
or goes straight to its destination (others, and every fabric under the shortest routing), and
each leg is split over `networkx.all_shortest_paths` of the leg's
sub-network in proportion to the product of the lane counts along each path. Steps are then
timed by progressive filling with completions. Meant for small fabrics (tests).
"""

import weakref

import networkx as nx
import numpy as np

from topo_opt.collectives.routing import Network


def route_dense(net: Network, src: np.ndarray, dst: np.ndarray, via: tuple[str, ...],
                routing: str = "structured"):
    """(links x flows) dense fraction matrix and per-flow latency (ns) of the flows src[i] -> dst[i]."""
    nlinks = len(net.links.tail)
    a = np.zeros((nlinks, len(src)))
    latency = np.zeros(len(src))
    for f, (s, t) in enumerate(zip(src.tolist(), dst.tolist(), strict=True)):
        for u, v, kinds in _legs(net, s, t, via, routing):
            latency[f] += _split(net, _view(net, kinds), u, v, a[:, f])
    return a, latency


def _legs(net: Network, s: int, t: int, via: tuple[str, ...], routing: str):
    """(from, to, edge kinds) of each leg: one per dimension whose coordinates differ."""
    view = net.view
    if view is None or routing == "shortest":
        return [(s, t, ())]
    strides = [int(x) for x in view.strides]
    cur = [(s // st) % k for st, k in zip(strides, view.sizes, strict=True)]
    goal = [(t // st) % k for st, k in zip(strides, view.sizes, strict=True)]
    legs = []
    for dim in [view.dim(v) for v in via] + [d for d in view.dims if d.name not in via]:
        if all(cur[a] == goal[a] for a in dim.axes):
            continue
        here = sum(c * st for c, st in zip(cur, strides, strict=True))
        for a in dim.axes:
            cur[a] = goal[a]
        legs.append((here, sum(c * st for c, st in zip(cur, strides, strict=True)), dim.kinds))
    return legs


_VIEWS: "weakref.WeakKeyDictionary[Network, dict]" = weakref.WeakKeyDictionary()


def _view(net: Network, kinds: tuple[str, ...]) -> nx.Graph:
    """The sub-graph of these edge kinds (the whole graph for none), cached per network."""
    views = _VIEWS.setdefault(net, {})
    if kinds not in views:
        g = net.graph
        views[kinds] = g if not kinds else g.edge_subgraph(
            (u, v) for u, v, k in g.edges(data="kind") if k in kinds)
    return views[kinds]


def _split(net: Network, g: nx.Graph, u: int, v: int, column: np.ndarray) -> float:
    """Add the leg u -> v to `column` (fraction per link); return its longest path latency (ns)."""
    paths = list(nx.all_shortest_paths(g, u, v))
    weights = np.array([np.prod([g.edges[a, b]["lanes"] for a, b in zip(p, p[1:], strict=False)])
                        for p in paths])
    latency = 0.0
    for path, w in zip(paths, weights / weights.sum(), strict=True):
        ids = net.links.ids(np.array(path[:-1]), np.array(path[1:]))
        column[ids] += w
        latency = max(latency, float(net.links.latency_ns[ids].sum()))
    return latency
