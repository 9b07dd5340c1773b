"""Graph analysis: counts, hop counts, bisection and injection bandwidth.

Exactness is stated with every figure: ``exact`` (all pairs), ``exact-symmetric`` (one BFS on a
chip-transitive fabric, where every chip sees the same distances), ``sampled`` (BFS from a
seeded sample of chips: the diameter is then a lower bound), ``closed-form`` or ``max-flow``.
"""

import math
from collections import Counter

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_flow, shortest_path

EXACT_HOPS_MAX_CHIPS = 2048
SAMPLE_SOURCES = 64
_FLOW_INT_MAX = 2**30  # scipy's max-flow takes int32 capacities: scale GB/s so all fit


def chip_ids(graph: nx.Graph) -> np.ndarray:
    return np.arange(graph.graph["chips"], dtype=np.int64)


def adjacency(graph: nx.Graph, weight: str | None = None) -> csr_matrix:
    """Symmetric sparse adjacency over node ids 0..n-1 (all node ids are that range)."""
    n = graph.number_of_nodes()
    edges = np.array([(u, v) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    w = (np.array([d[weight] for _, _, d in graph.edges(data=True)], dtype=float)
         if weight else np.ones(len(edges)))
    rows = np.concatenate([edges[:, 0], edges[:, 1]])
    cols = np.concatenate([edges[:, 1], edges[:, 0]])
    return csr_matrix((np.concatenate([w, w]), (rows, cols)), shape=(n, n))


def is_chip_symmetric(graph: nx.Graph) -> bool:
    """Families whose automorphisms act transitively on chips (products of rings, meshes, switches)."""
    return graph.graph["family"] in ("dims", "torus")


def hop_stats(graph: nx.Graph, seed: int = 0) -> dict:
    """Diameter and mean hop count between distinct chips, with the method used."""
    chips = graph.graph["chips"]
    if is_chip_symmetric(graph):
        sources, method = np.array([0]), "exact-symmetric"
    elif chips <= EXACT_HOPS_MAX_CHIPS:
        sources, method = chip_ids(graph), "exact"
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


def bisection(graph: nx.Graph) -> dict:
    """Bisection bandwidth (GB/s, one direction) with the method that produced it.

    Closed forms: a product of dimensions cut across dimension d cuts N/k_d lines, each at
    ring: 2B (k_d > 2; B for k_d = 2), full mesh: floor(k/2) ceil(k/2) B, switch: floor(k/2) B;
    the minimum over d is the bisection of tori and of `dims` fabrics. A fat-tree (clos) has
    N/2 x port bandwidth x min(1, up/down). Other families: max-flow from the first half of
    the chips (by index, which follows the fabric's hierarchy) to the second half, switches free
    to fall on either side: the min cut of that split, an upper bound on the minimum bisection.
    """
    fam = graph.graph["family"]
    if graph.graph.get("dims") and fam in ("dims", "torus"):
        return {"bisection_GBps": dims_bisection_GBps(graph.graph["dims"]), "method": "closed-form"}
    if fam == "clos" and graph.graph.get("variant") == "fat-tree":
        g = graph.graph
        return {"bisection_GBps": fat_tree_bisection_GBps(g["chips"], g["port_GBps"], g["leaf_down"], g["leaf_up"]),
                "method": "closed-form"}
    return {"bisection_GBps": min(split_maxflow_GBps(graph, side) for side in half_splits(graph)),
            "method": "max-flow, best coordinate half-split (upper bound)"}


def dims_bisection_GBps(dims: list[dict]) -> float:
    chips = math.prod(d["size"] for d in dims)
    best = math.inf
    for d in dims:
        k, bw = d["size"], d["bandwidth_GBps"]
        per_line = {"ring": (2 if k > 2 else 1) * bw,
                    "full-mesh": (k // 2) * ((k + 1) // 2) * bw,
                    "switch": (k // 2) * bw}[d["shape"]]
        best = min(best, chips / k * per_line)
    return float(best)


def fat_tree_bisection_GBps(chips: int, port_GBps: float, down: int, up: int) -> float:
    return chips / 2 * port_GBps * min(1.0, up / down)


def half_splits(graph: nx.Graph) -> list[np.ndarray]:
    """Balanced chip splits to try: the index halves, and the halves of every coordinate of even size."""
    chips = graph.graph["chips"]
    splits = [np.arange(chips) < chips // 2]
    coords = np.array([graph.nodes[c]["coords"] for c in range(chips)], dtype=np.int64)
    for d in range(coords.shape[1]):
        size = int(coords[:, d].max()) + 1
        if size % 2 == 0:
            splits.append(coords[:, d] < size // 2)
    return splits


def split_maxflow_GBps(graph: nx.Graph, side_a: np.ndarray) -> float:
    """Max flow from the chips where `side_a` is true to the others (switches on either side)."""
    n, chips = graph.number_of_nodes(), graph.graph["chips"]
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


def injection_GBps(graph: nx.Graph) -> dict:
    """Per-chip injection bandwidth: sum of the chip's link bandwidths (one direction)."""
    chips = graph.graph["chips"]
    per_chip = np.asarray(adjacency(graph, "bandwidth_GBps")[:chips].sum(axis=1)).ravel()
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


def summarize(graph: nx.Graph, seed: int = 0) -> dict:
    """Everything `topo-opt build` prints, as one JSON-ready dict."""
    summary = {"name": graph.graph.get("name", ""), "family": graph.graph["family"]}
    summary.update(counts(graph))
    summary["hops"] = hop_stats(graph, seed)
    summary["bisection"] = bisection(graph)
    summary["injection_GBps"] = injection_GBps(graph)
    return summary
