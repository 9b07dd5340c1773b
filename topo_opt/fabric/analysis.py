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

from topo_opt.families.base import Fabric

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
    if fabric.member is not None and not fabric.graph_built:
        return summarize_copies(fabric, seed)
    summary = {"name": fabric.name, "family": fabric.desc.family}
    summary.update(counts(fabric.graph))
    summary["hops"] = hop_stats(fabric, seed)
    summary["bisection"] = bisection(fabric)
    summary["injection_GBps"] = injection_GBps(fabric)
    return summary


def summarize_copies(fabric: Fabric, seed: int = 0) -> dict:
    """A SuperCluster's summary from one SuperPoD's graph, without the per-chip graph of the whole.

    G copies of a SuperPoD of P chips, chip position c of every copy linked to DCN plane switch c
    (`families.supercluster`): counts are G x the SuperPoD's plus P plane switches and N = G P
    DCN links. Hops: a pair inside a SuperPoD keeps its distance d; a pair across SuperPoDs
    needs the DCN (2 hops) and the SuperPoD distance between the two positions (0 for the same
    position), so the diameter is D + 2 and the mean over the N - 1 other chips is
    ((P - 1) m + (N - P)(2 + m (P - 1) / P)) / (N - 1), m the SuperPoD's mean. Injection adds the
    chip's DCN ports. Bisection: the closed form when the SuperPoD has one, else the smaller of
    G x the SuperPoD's max-flow figure (cutting every SuperPoD) and, G even, G P / 2 DCN ports.
    """
    member, p = fabric.member, fabric.desc.params
    g, chips_per, total = p.superpods, member.chips, fabric.chips
    dcn_GBps = p.dcn.chip_GBps
    base = counts(member.graph)
    scaled = {k: v * g for k, v in base.items() if isinstance(v, int)}
    summary = {"name": fabric.name, "family": fabric.desc.family, **base, **scaled,
               "switches": base["switches"] * g + chips_per,
               "switches_by_role": {**{r: c * g for r, c in base["switches_by_role"].items()}, "dcn": chips_per},
               "links": base["links"] * g + total,
               "links_by_kind": {**{k: c * g for k, c in base["links_by_kind"].items()}, "dcn": total},
               "lanes_by_kind": {**{k: round(c * g, 6) for k, c in base["lanes_by_kind"].items()},
                                 "dcn": round(total * p.dcn.ports_per_chip, 6)}}
    hops = hop_stats(member, seed)
    if hops["connected"]:
        m = hops["mean_hops"]
        hops = {**hops, "diameter_hops": hops["diameter_hops"] + 2,
                "mean_hops": ((chips_per - 1) * m + (total - chips_per) * (2 + m * (chips_per - 1) / chips_per))
                / (total - 1),
                "method": f"{hops['method']} on one SuperPoD, DCN hops in closed form"}
    summary["hops"] = hops
    if fabric.desc.bisection_GBps is not None:
        summary["bisection"] = {"bisection_GBps": fabric.desc.bisection_GBps, "method": "closed-form"}
    else:
        pod = bisection(member)
        split = g // 2 * chips_per * dcn_GBps if g % 2 == 0 else math.inf  # halves of whole SuperPoDs
        summary["bisection"] = {"bisection_GBps": min(g * pod["bisection_GBps"], split),
                                "method": f"SuperPoD {pod['method']} x {g}, or split SuperPoDs (upper bound)"}
    inj = injection_GBps(member)
    summary["injection_GBps"] = {k: v + dcn_GBps for k, v in inj.items()}
    return summary
