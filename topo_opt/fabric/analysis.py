"""Graph analysis: counts, hop counts, bisection and injection bandwidth.

Exactness is stated with every figure: ``exact`` (all pairs), ``exact-symmetric`` (one BFS on a
chip-transitive fabric, where every chip sees the same distances), ``sampled`` (BFS from a
seeded sample of chips: the diameter is then a lower bound), ``closed-form`` or ``max-flow``.
"""

from collections import Counter

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow, shortest_path

from topo_opt.families.base import ClusterOf, Fabric

EXACT_HOPS_MAX_CHIPS = 2048
SAMPLE_SOURCES = 64
_FLOW_INT_MAX = 2**30  # scipy's max-flow takes int32 capacities: scale GB/s so all fit


def chip_ids(chips: int) -> np.ndarray:
    return np.arange(chips, dtype=np.int64)


def adjacency(graph: nx.Graph, weight: str | None = None) -> csr_matrix:
    """Symmetric sparse adjacency over node ids 0..n-1 (all node ids are that range)."""
    n = graph.number_of_nodes()
    edges = np.array([(u, v) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    w = (np.array([d[weight] for _, _, d in graph.edges(data=True)], dtype=float)
         if weight else np.ones(len(edges)))
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


def hop_stats(fabric: Fabric, seed: int = 0) -> dict:
    """Diameter and mean hop count between distinct chips, with the method used (one source is
    exact where the family's automorphisms act transitively on chips: `desc.chip_symmetric`)."""
    graph, chips = fabric.graph, fabric.chips
    if fabric.desc.chip_symmetric:
        sources, method = np.array([0]), "exact-symmetric"
    elif chips <= EXACT_HOPS_MAX_CHIPS:
        sources, method = chip_ids(chips), "exact"
    else:
        rng = np.random.default_rng(seed)
        sources = np.sort(rng.choice(chips, size=SAMPLE_SOURCES, replace=False))
        method = "sampled"
    dist = shortest_path(adjacency(graph), unweighted=True, indices=sources)[:, :chips]
    connected = not np.isinf(dist).any()
    out = {"diameter_hops": int(dist.max()) if connected else None,
           "mean_hops": float(dist.sum() / (len(sources) * (chips - 1))) if connected else None,
           "method": method, "connected": connected}
    if method == "sampled":
        out["sample_sources"] = int(len(sources))
        out["seed"] = seed
    return out


def bisection(fabric: Fabric) -> dict:
    """Bisection bandwidth (GB/s, one direction) with the method that produced it.

    Closed forms where the family gives one (`desc.bisection_GBps`: products of dimensions,
    fat-trees; see `families.dims.product_bisection_GBps`, `families.clos`). Other fabrics:
    max-flow from the first half of the chips (by index, which follows the fabric's hierarchy) to
    the second half, switches free to fall on either side: the min cut of that split, an upper
    bound on the minimum bisection.
    """
    if fabric.desc.bisection_GBps is not None:
        return {"bisection_GBps": fabric.desc.bisection_GBps, "method": "closed-form"}
    return {"bisection_GBps": min(split_maxflow_GBps(fabric, side) for side in half_splits(fabric)),
            "method": "max-flow, best coordinate half-split (upper bound)"}


def half_splits(fabric: Fabric) -> list[np.ndarray]:
    """Balanced chip splits to try: the index halves, and the halves of every coordinate of even size."""
    graph, chips = fabric.graph, fabric.chips
    splits = [np.arange(chips) < chips // 2]
    coords = np.array([graph.nodes[c]["coords"] for c in range(chips)], dtype=np.int64)
    for d in range(coords.shape[1]):
        size = int(coords[:, d].max()) + 1
        if size % 2 == 0:
            splits.append(coords[:, d] < size // 2)
    return splits


def split_maxflow_GBps(fabric: Fabric, side_a: np.ndarray) -> float:
    """Max flow from the chips where `side_a` is true to the others (switches on either side)."""
    graph, chips = fabric.graph, fabric.chips
    n = graph.number_of_nodes()
    cap = adjacency(graph, "bandwidth_GBps").tocoo()
    src, sink = n, n + 1
    scale = min(1000.0, _FLOW_INT_MAX / (2 * cap.data.sum()))
    big = int(cap.data.sum() * scale) + 1
    a, b = np.flatnonzero(side_a), np.flatnonzero(~side_a)
    rows = np.concatenate([cap.row, np.full(len(a), src), b])
    cols = np.concatenate([cap.col, a, np.full(len(b), sink)])
    data = np.concatenate([np.round(cap.data * scale).astype(np.int64),
                           np.full(chips, big, dtype=np.int64)])
    m = csr_matrix((data, (rows, cols)), shape=(n + 2, n + 2), dtype=np.int32)
    return maximum_flow(m, src, sink, method="dinic").flow_value / scale


def injection_GBps(fabric: Fabric) -> dict:
    """Per-chip injection bandwidth: sum of the chip's link bandwidths (one direction)."""
    per_chip = np.asarray(adjacency(fabric.graph, "bandwidth_GBps")[:fabric.chips].sum(axis=1)).ravel()
    return {"min": float(per_chip.min()), "max": float(per_chip.max()), "mean": float(per_chip.mean())}


def counts(graph: nx.Graph) -> dict:
    kinds = Counter(k for _, k in graph.nodes(data="kind"))
    roles = Counter(r for _, r in graph.nodes(data="role") if r)
    links = Counter(k for _, _, k in graph.edges(data="kind"))
    lanes: Counter = Counter()
    for _, _, d in graph.edges(data=True):
        lanes[d["kind"]] += d["lanes"]
    cabinets = {c for n, c in graph.nodes(data="cabinet") if c is not None and c >= 0
                and graph.nodes[n]["kind"] == "chip"}
    return {
        "chips": kinds.get("chip", 0),
        "spare_chips": kinds.get("spare", 0),
        "switches": kinds.get("switch", 0),
        "switches_by_role": dict(sorted(roles.items())),
        "links": graph.number_of_edges(),
        "links_by_kind": dict(sorted(links.items())),
        "lanes_by_kind": {k: round(v, 6) for k, v in sorted(lanes.items())},
        "chip_cabinets": len(cabinets),
    }


def summarize(fabric: Fabric, seed: int = 0) -> dict:
    """Everything `topo-opt build` prints, as one JSON-ready dict."""
    summary = {"name": fabric.name, "family": fabric.desc.family}
    summary.update(counts(fabric.graph))
    summary["hops"] = hop_stats(fabric, seed)
    summary["bisection"] = bisection(fabric)
    summary["injection_GBps"] = injection_GBps(fabric)
    return summary


def summarize_structured(fabric: Fabric, member: dict, cluster: ClusterOf, network: dict) -> dict:
    """`summarize` of a fabric of G copies of a member (P chips) joined by a rail-aligned network,
    in closed form from the member's summary, without the per-chip graph. `network` gives the
    joining network's `switches_by_role`, `links_by_kind`, `lanes_by_kind` (whole counts) and
    `route_hops`, h: the hops from a chip through it to the same position of another copy.

    A route between copies moves inside the source copy to the destination's position (d member
    hops), then crosses the network (h): d + h. With m the member's mean hops over distinct pairs,
    the mean over the PG - 1 destinations of a chip is
        [(P - 1) m  +  (G - 1)((P - 1) m + P h)] / (PG - 1),
    the diameter the member's plus h. Bisection: the family's closed form from the member's
    (`ClusterOf.bisection_GBps`); injection: the member's plus the network's port bandwidth.
    Every figure keeps the member's method (exact, sampled, max-flow) in its own.
    """
    g, p, h = cluster.copies, cluster.member_chips, network["route_hops"]
    hops = member["hops"]
    mean = None
    if hops["connected"]:
        mean = ((p - 1) * hops["mean_hops"] + (g - 1) * ((p - 1) * hops["mean_hops"] + p * h)) / (p * g - 1)
    roles = Counter({r: n * g for r, n in member["switches_by_role"].items()}) + Counter(network["switches_by_role"])
    links = Counter({k: n * g for k, n in member["links_by_kind"].items()}) + Counter(network["links_by_kind"])
    lanes = Counter({k: v * g for k, v in member["lanes_by_kind"].items()}) + Counter(network["lanes_by_kind"])
    port_GBps = cluster.dcn.chip_GBps
    method = f"closed-form over {g} copies of the SuperPoD"
    return {
        "name": fabric.name, "family": fabric.desc.family,
        "chips": p * g, "spare_chips": member["spare_chips"] * g,
        "switches": sum(roles.values()), "switches_by_role": dict(sorted(roles.items())),
        "links": sum(links.values()), "links_by_kind": dict(sorted(links.items())),
        "lanes_by_kind": {k: round(v, 6) for k, v in sorted(lanes.items())},
        "chip_cabinets": member["chip_cabinets"] * g,
        "hops": {**hops, "diameter_hops": None if hops["diameter_hops"] is None else hops["diameter_hops"] + h,
                 "mean_hops": mean, "method": f"{method} ({hops['method']})"},
        "bisection": {"bisection_GBps": cluster.bisection_GBps(member["bisection"]["bisection_GBps"]),
                      "method": f"{method} ({member['bisection']['method']})"},
        "injection_GBps": {k: v + port_GBps for k, v in member["injection_GBps"].items()},
    }
