"""Shortest-path DAGs: how a flow splits over all minimum-hop paths, layer by layer.

With d the hop distance and sigma_s(u) the number of shortest s-u paths, each counted with the
product of its links' lane counts (a bundle of m lanes is m parallel links), link (u -> v)
carries sigma_s(u) * lanes(u, v) * sigma_t(v) / sigma_s(t) of a flow s -> t when
d(s, u) + 1 + d(v, t) = d(s, t) (Brandes' path counting). The DAG of every pair is walked from
s outwards, one BFS layer at a time for all pairs at once.
"""

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import shortest_path

from topo_opt.collectives.topology import Graphlet, LinkTable

_BFS_BATCH = 256  # pairs per batch when the distance tables would be too large
Triple = tuple[np.ndarray, np.ndarray, np.ndarray]


def concat(parts: list[Triple]) -> Triple:
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))  # type: ignore[return-value]


def ragged(starts: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, position) for the concatenated ranges [starts[i], starts[i] + counts[i])."""
    owner = np.repeat(np.arange(len(starts)), counts)
    offsets = np.arange(owner.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return owner, starts[owner] + offsets


def reuse(routes: Triple, count: int, which: np.ndarray) -> Triple:
    """Entries (owner i, link, frac) of route which[i] for every i, from (route, link, frac)
    entries of `count` routes: each distinct route is computed once, then shared."""
    route, link, frac = routes
    order = np.argsort(route, kind="stable")
    route, link, frac = route[order], link[order], frac[order]
    starts = np.searchsorted(route, np.arange(count))
    counts = np.searchsorted(route, np.arange(count), side="right") - starts
    owner, pos = ragged(starts[which], counts[which])
    return owner, link[pos], frac[pos]


def path_counts(weight: csr_matrix, dist: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """sigma[i, v]: lane-weighted number of shortest paths from ends[i] to v."""
    sigma = np.zeros(dist.shape)
    sigma[np.arange(len(ends)), ends] = 1.0
    finite = dist[np.isfinite(dist)]
    for layer in range(1, int(finite.max()) + 1 if finite.size else 1):
        nxt = np.asarray((weight.T @ np.where(dist == layer - 1, sigma, 0.0).T).T)
        sigma = np.where(dist == layer, nxt, sigma)
    return sigma


_TABLE_ENTRIES = 20_000_000  # distance / path-count table entries computed at once


def node_pairs(sub: Graphlet, a: np.ndarray, b: np.ndarray, links: LinkTable):
    """Shortest-path split of local node pairs a[i] != b[i] in `sub`: (flow, link, frac), latency."""
    n = sub.adj.shape[0]
    ends, inv = np.unique(np.concatenate([a, b]), return_inverse=True)
    if len(ends) * n > _TABLE_ENTRIES and len(a) > _BFS_BATCH:
        parts, latency = [], np.zeros(len(a))
        for start in range(0, len(a), _BFS_BATCH):
            sl = slice(start, start + _BFS_BATCH)
            flow, link, frac, lat = node_pairs(sub, a[sl], b[sl], links)
            parts.append((flow + start, link, frac))
            latency[sl] = lat
        return (*concat(parts), latency)
    ra, rb = inv[: len(a)], inv[len(a):]
    dist = shortest_path(sub.adj, unweighted=True, directed=True, indices=ends)
    d = dist[ra, b]
    if np.isinf(d).any():
        i = int(np.flatnonzero(np.isinf(d))[0])
        raise ValueError(f"no path from node {int(sub.nodes[a[i]])} to node {int(sub.nodes[b[i]])}")
    sigma = path_counts(sub.weight, dist, ends)
    return layered_split(sub, a, b, d.astype(np.int64), sigma[ra, b], links,
                         dist_from=lambda f, u: dist[ra[f], u],
                         dist_to=lambda f, v: dist[rb[f], v],
                         sigma_from=lambda f, u: sigma[ra[f], u],
                         sigma_to=lambda f, v: sigma[rb[f], v])


def layered_split(sub: Graphlet, a: np.ndarray, b: np.ndarray, d: np.ndarray, total: np.ndarray,
                  links: LinkTable, dist_from, dist_to, sigma_from, sigma_to):
    """Walk the shortest-path DAGs of the pairs (a[i], b[i]) layer by layer, from both ends.

    `d` and `total` are each pair's hop distance and path count; dist_from(i, u), dist_to(i, v),
    sigma_from(i, u) and sigma_to(i, v) give distances and path counts from a[i] and to b[i].
    Link (u -> v) with dist_from(i, u) + 1 + dist_to(i, v) = d[i] carries sigma_from(i, u) *
    lanes(u, v) * sigma_to(i, v) / total[i] of pair i. The first d[i] // 2 layers are found
    walking out of a[i] and the others walking back from b[i], so the nodes in the middle of
    the paths (a Clos's spines) never have all their neighbours listed for every pair crossing
    them. Returns (flow, link, frac) entries and each pair's latency (ns, longest of its paths).
    """
    n = sub.adj.shape[0]
    mid = d // 2
    out_parts, (fa, na, lat_a) = _sweep(sub, links, a, mid, lambda f, v, s: dist_to(f, v) == d[f] - s - 1,
                                        forward=True)
    back_parts, (fb, nb, lat_b) = _sweep(sub, links, b, d - mid,
                                         lambda f, u, s: dist_from(f, u) == d[f] - s - 1, forward=False)
    flow, link, tail, head = (np.concatenate([p[i] for p in out_parts + back_parts]) for i in range(4))
    frac = sigma_from(flow, tail) * links.lanes[link] * sigma_to(flow, head) / total[flow]
    # the longest path: its longest half to each middle node, plus the longest half from it
    out_keys = fa * n + na
    order = np.argsort(out_keys)
    meet = order[np.searchsorted(out_keys[order], fb * n + nb)]
    latency = np.full(len(a), -np.inf)
    np.maximum.at(latency, fb, lat_a[meet] + lat_b)
    return flow, link, frac, latency


def _sweep(sub: Graphlet, links: LinkTable, start: np.ndarray, steps: np.ndarray, keep, forward: bool):
    """DAG links found walking steps[i] layers from start[i], out along links (forward) or back
    against them; keep(i, node, s) says whether a neighbour reached at step s is on pair i's DAG.
    Returns per-step (flow, link, tail, head) arrays and the (flow, node, latency_ns) reached,
    nodes deduplicated per flow with their longest latency."""
    n, adj = sub.adj.shape[0], sub.adj
    f, node, lat = np.arange(len(start)), start.copy(), np.zeros(len(start))
    parts, ends = [], []
    for s in range(int(steps.max(initial=0)) + 1):
        stop = steps[f] <= s
        ends.append((f[stop], node[stop], lat[stop]))
        f, node, lat = f[~stop], node[~stop], lat[~stop]
        if not f.size:
            break
        owner, pos = ragged(adj.indptr[node], np.diff(adj.indptr)[node])
        ff, other = f[owner], adj.indices[pos]
        ok = keep(ff, other, s)
        owner, pos, ff, other = owner[ok], pos[ok], ff[ok], other[ok]
        link = adj.data[pos] - 1
        if forward:
            parts.append((ff, link, node[owner], other))
        else:  # links 2i and 2i+1 are one edge's two directions: other -> node is link ^ 1
            link = link ^ 1
            parts.append((ff, link, other, node[owner]))
        keys, where = np.unique(ff * n + other, return_inverse=True)
        lat_next = np.full(len(keys), -np.inf)
        np.maximum.at(lat_next, where.ravel(), lat[owner] + links.latency_ns[link])
        f, node, lat = keys // n, keys % n, lat_next
    return parts, tuple(np.concatenate([e[i] for e in ends]) for i in range(3))


def demand_loads(sub: Graphlet, sources: np.ndarray, demand: np.ndarray, links: LinkTable):
    """Summed fractions on every link of demand[i, t] flows from local node sources[i] to local
    node t, each flow split over its shortest paths as in `node_pairs`, and the longest path
    latency (ns) of any (source, target) with demand. No pair is listed: per source, Brandes'
    dependency accumulation over its shortest-path DAG,

        D(v) = demand(v) / sigma(v) + sum over DAG links (v -> w) of lanes(v, w) D(w),
        load(u -> v) = sigma(u) lanes(u, v) D(v)   when d(v) = d(u) + 1,

    with d and sigma distances and path counts from the source, so a step costs a few passes
    over the links per source instead of one entry per link of every pair's paths (thousands
    per pair of leaves on a 3-tier fat-tree). Returns (loads over every link id, latency_ns)."""
    load = np.zeros(len(links.tail))
    latency = 0.0
    coo = sub.adj.tocoo()
    order = np.lexsort((coo.row, coo.col))  # links grouped by head, for the latency maximum
    tail, head, link = coo.row[order], coo.col[order], coo.data[order] - 1
    heads, first = np.unique(head, return_index=True)
    n = sub.adj.shape[0]
    batch = max(1, _TABLE_ENTRIES // (4 * max(n, len(link))))  # a few (sources x links) arrays at once
    for start in range(0, len(sources), batch):
        src, want = sources[start:start + batch], demand[start:start + batch]
        dist = shortest_path(sub.adj, unweighted=True, directed=True, indices=src)
        if np.isinf(dist[want > 0]).any():
            i, t = (int(x[0]) for x in np.nonzero(np.isinf(dist) & (want > 0)))
            raise ValueError(f"no path from node {int(sub.nodes[src[i]])} to node {int(sub.nodes[t])}")
        sigma = path_counts(sub.weight, dist, src)
        depth = int(dist[want > 0].max(initial=0))
        on_dag = dist[:, head] == dist[:, tail] + 1
        acc = np.zeros(dist.shape)
        ratio = np.divide(want, sigma, out=np.zeros(dist.shape), where=want > 0)
        for layer in range(depth, 0, -1):
            below = np.where(dist == layer + 1, acc, 0.0)
            acc = np.where(dist == layer, ratio + (sub.weight @ below.T).T, acc)
        np.add.at(load, link, (sigma[:, tail] * links.lanes[link] * acc[:, head] * on_dag).sum(axis=0))
        latency = max(latency, _longest_latency(dist, want, tail, link, heads, first, depth, links))
    return load, latency


def _longest_latency(dist, want, tail, link, heads, first, depth, links) -> float:
    """The longest shortest-path latency from each source to the targets it sends to (links
    sorted by head, `first` the start of each head's run), layer by layer out of the sources."""
    lat = np.where(dist == 0, 0.0, -np.inf)
    for layer in range(1, depth + 1):
        reach = np.where(dist[:, tail] == layer - 1, lat[:, tail] + links.latency_ns[link], -np.inf)
        best = np.maximum.reduceat(reach, first, axis=1)
        lat[:, heads] = np.where(dist[:, heads] == layer, np.maximum(lat[:, heads], best), lat[:, heads])
    return float(lat[want > 0].max(initial=0.0))
