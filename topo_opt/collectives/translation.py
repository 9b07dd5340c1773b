"""Tori (twisted or not) as Cayley graphs: chip c -> c + t is an automorphism for every chip t.

Chip coordinates x add digit by digit modulo the sizes k, except that a *twisted* dimension d
(TPU v4 style, see `families.torus`) carries half-way round every longest dimension L when it
wraps: x_d + y_d >= k_d gives x_d + y_d - k_d and adds k_L / 2 to each coordinate L. The link from c to
c + e_d is then a link for every c, wrap-around or not, so shortest paths from any chip are
those from chip 0 moved by a translation:

    dist(s, v) = dist(0, v - s),   sigma_s(v) = sigma_0(v - s).

One BFS from chip 0 routes every flow: the route of s -> t is that of 0 -> t - s, moved by s.
For a step in which every chip sends to every other (direct), a link carries what the links of
its orbit (same difference head - tail) carry from chip 0's flows, summed: no per-flow work.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse.csgraph import shortest_path

from topo_opt.collectives.fluid import transfer_time
from topo_opt.collectives.paths import layered_split, path_counts, reuse
from topo_opt.collectives.topology import Graphlet, LinkTable


@dataclass(frozen=True, eq=False)
class Translations:
    sizes: np.ndarray
    strides: np.ndarray
    twisted: np.ndarray  # bool per dimension
    longest: np.ndarray  # bool per dimension: the dimensions a twisted wrap carries into

    def coords(self, ids: np.ndarray) -> np.ndarray:
        return (np.asarray(ids)[..., None] // self.strides) % self.sizes

    def ids(self, coords: np.ndarray) -> np.ndarray:
        return coords @ self.strides

    def add(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        total = self.coords(a) + self.coords(b)
        carry = ((total >= self.sizes) & self.twisted).sum(axis=-1)
        total += carry[..., None] * np.where(self.longest, self.sizes // 2, 0)
        return self.ids(total % self.sizes)

    def sub(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """a - b: the element c with b + c = a."""
        y = self.coords(b)
        neg = (-y) % self.sizes
        borrow = ((y > 0) & self.twisted).sum(axis=-1)
        neg = (neg - borrow[..., None] * np.where(self.longest, self.sizes // 2, 0)) % self.sizes
        return self.add(np.asarray(a), self.ids(neg))


def torus_translations(graph, desc, links: LinkTable) -> Translations | None:
    """The translation group of a torus graph (`desc.translations`), checked on every link;
    None for other fabrics."""
    if not desc.translations:
        return None
    chips = links.chips
    coords = np.array([graph.nodes[c]["coords"] for c in range(chips)], dtype=np.int64)
    tr = translations_of(coords.max(axis=0) + 1, desc.twisted)
    for d in range(len(tr.sizes)):  # every generator must map links onto links
        step = np.full(len(links.tail), int(tr.strides[d]))
        try:
            links.ids(tr.add(links.tail, step), tr.add(links.head, step))
        except ValueError:
            return None
    return tr


def translations_of(sizes: np.ndarray, twist: bool) -> Translations:
    """The translations of a torus of `sizes`, twisted (TPU v4) in every dimension shorter than the
    longest but of more than 2 chips when `twist`."""
    sizes = np.asarray(sizes, dtype=np.int64)
    longest = sizes == sizes.max()
    twisted = np.array([twist and 2 < k < sizes.max() for k in sizes])
    return Translations(sizes, np.cumprod(np.concatenate([[1], sizes[:-1]])).astype(np.int64), twisted, longest)


@dataclass(frozen=True, eq=False)
class SingleSource:
    """Distances and path counts from chip 0; by translation, from every chip."""

    tr: Translations
    dist: np.ndarray
    sigma: np.ndarray

    def routes_from_zero(self, g: Graphlet, targets: np.ndarray, links: LinkTable):
        """(flow, link, frac, latency) of the flows 0 -> targets[i]."""
        tr, dist, sigma = self.tr, self.dist, self.sigma
        zero = np.zeros(len(targets), dtype=np.int64)
        return layered_split(g, zero, targets, dist[targets].astype(np.int64), sigma[targets], links,
                             dist_from=lambda f, u: dist[u],
                             dist_to=lambda f, v: dist[tr.sub(v, targets[f])],
                             sigma_from=lambda f, u: sigma[u],
                             sigma_to=lambda f, v: sigma[tr.sub(v, targets[f])])


def single_source(g: Graphlet, tr: Translations) -> SingleSource:
    dist = shortest_path(g.adj, unweighted=True, directed=True, indices=[0])
    sigma = path_counts(g.weight, dist, np.array([0]))
    return SingleSource(tr, dist[0], sigma[0])


def translated_routes(ss: SingleSource, g: Graphlet, links: LinkTable, src: np.ndarray, dst: np.ndarray):
    """(flow, link, frac, latency) of flows src[i] -> dst[i]: each distinct difference is routed
    once from chip 0, then moved onto its sources."""
    tr = ss.tr
    offsets, which = np.unique(tr.sub(dst, src), return_inverse=True)
    flow, link, frac, latency = ss.routes_from_zero(g, offsets, links)
    owner, link, frac = reuse((flow, link, frac), len(offsets), which)
    moved = links.ids(tr.add(links.tail[link], src[owner]), tr.add(links.head[link], src[owner]))
    return owner, moved, frac, latency[which]


def all_peers_step(ss: SingleSource, g: Graphlet, links: LinkTable, sizes: np.ndarray, model: str):
    """(alpha_s, transfer_s, busy) of a step in which every chip sends sizes[c] bytes to every
    other chip, for each class c: chip 0's flows, summed per link orbit (head - tail)."""
    chips = links.chips
    flow, link, frac, latency = ss.routes_from_zero(g, np.arange(1, chips), links)
    orbit = ss.tr.sub(links.head[link], links.tail[link])
    types, where = np.unique(orbit, return_inverse=True)
    load = np.bincount(where, weights=frac, minlength=len(types))
    rep = links.ids(np.zeros(len(types), dtype=np.int64), types)
    capacity = links.capacity_GBps[rep] * 1e9
    if model == "alpha-beta":
        per_flow = np.zeros(chips - 1)
        np.maximum.at(per_flow, flow, frac / links.capacity_GBps[link] / 1e9)
        transfer = float(per_flow.max() * sizes.max())
    else:
        transfer = transfer_time(np.repeat(load[:, None], len(sizes), axis=1), capacity, sizes, model)
    busy = load * sizes.sum() / capacity
    return float(latency.max()) * 1e-9, transfer, dict(zip(rep.tolist(), busy, strict=True))
