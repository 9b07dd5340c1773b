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


def _positions(m: csr_matrix, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Positions in m.indices / m.data of the entries (rows[i], cols[i]) of a CSR with sorted indices."""
    keys = rows.astype(np.int64) * m.shape[1] + cols
    row_of = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))
    flat = row_of.astype(np.int64) * m.shape[1] + m.indices
    pos = np.searchsorted(flat, keys)
    if (pos >= len(flat)).any() or (flat[np.minimum(pos, len(flat) - 1)] != keys).any():
        raise ValueError("missing link on a shortest path")
    return pos


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
                         dist_to=lambda f, v: dist[rb[f], v],
                         sigma_from=lambda f, u: sigma[ra[f], u],
                         sigma_to=lambda f, v: sigma[rb[f], v])


def layered_split(sub: Graphlet, a: np.ndarray, b: np.ndarray, d: np.ndarray, total: np.ndarray,
                  links: LinkTable, dist_to, sigma_from, sigma_to):
    """Walk the shortest-path DAGs of the pairs (a[i], b[i]) layer by layer.

    `d` and `total` are each pair's hop distance and path count; dist_to(i, v), sigma_from(i, u)
    and sigma_to(i, v) give distances to b[i] and path counts from a[i] and b[i]. Returns (flow,
    link, frac) entries and each pair's latency (ns, longest of its paths).
    """
    n = sub.adj.shape[0]
    f, u = np.arange(len(a)), a.copy()
    lat_u = np.zeros(len(a))
    latency = np.zeros(len(a))
    parts = []
    for layer in range(int(d.max(initial=0))):
        last = d[f] == layer + 1  # the next node can only be the destination: look the link up
        owner, pos = ragged(sub.adj.indptr[u[~last]], np.diff(sub.adj.indptr)[u[~last]])
        owner = np.flatnonzero(~last)[owner]
        ff, v = f[owner], sub.adj.indices[pos]
        keep = dist_to(ff, v) == d[ff] - layer - 1
        owner, pos, ff, v = owner[keep], pos[keep], ff[keep], v[keep]
        ends_at = np.flatnonzero(last)
        if ends_at.size:
            lookup = _positions(sub.adj, u[ends_at], b[f[ends_at]])
            owner, pos = np.concatenate([owner, ends_at]), np.concatenate([pos, lookup])
            ff, v = np.concatenate([ff, f[ends_at]]), np.concatenate([v, b[f[ends_at]]])
        link = sub.adj.data[pos] - 1
        frac = sigma_from(ff, u[owner]) * sub.weight.data[pos] * sigma_to(ff, v) / total[ff]
        parts.append((ff, link, frac))
        lat_v = lat_u[owner] + links.latency_ns[link]
        arrived = v == b[ff]
        np.maximum.at(latency, ff[arrived], lat_v[arrived])
        keys, where = np.unique(ff[~arrived] * n + v[~arrived], return_inverse=True)
        lat_u = np.full(len(keys), -np.inf)
        np.maximum.at(lat_u, where, lat_v[~arrived])
        f, u = keys // n, keys % n
    flow, link, frac = concat(parts)
    return flow, link, frac, latency


