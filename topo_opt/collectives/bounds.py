"""Bandwidth lower bounds of collectives, from injection bandwidth and cuts of the fabric.

With p chips per group, n = size_bytes and B the injection bandwidth of a chip (the sum of its
links' bandwidths, one direction):

- all-reduce: every chip sends at least 2(p-1)/p n (Patarasuk and Yuan 2009): 2(p-1)/p n / B;
- reduce-scatter, all-gather: (p-1)/p n / B;  broadcast: n / B;
- all-to-all: max((p-1)/p n / B, traffic across a cut / the cut's capacity). Splitting each of
  the G groups into a chips on side S and p - a outside puts G a (p-a) n / p bytes across the
  cut in each direction. Any set S of nodes gives a valid bound, so S is built cheaply: the
  chips of one half of a coordinate, or of one slice of it (one UB-Mesh pod against the other
  pods), or one half of the rank order; then every switch joins the side it has more bandwidth
  to, level by level. Its capacity is an upper bound on the minimum cut for
  that split of the chips, which keeps the time bound valid. On a torus (twisted or not), all
  chips in one group, also the hop bound: every byte crosses at least its shortest distance,
  over the links' summed capacity (`_hop_bound_s_per_byte`).
"""

import numpy as np
from scipy.sparse import csr_matrix

from topo_opt.collectives import structured
from topo_opt.collectives.groups import Groups
from topo_opt.collectives.routing import Network


def injection_GBps(net: Network, groups: Groups) -> float:
    if net.structured:
        return structured.injection_GBps(net)
    links = net.links
    out = links.tail < links.chips
    per_chip = np.bincount(links.tail[out], weights=links.capacity_GBps[out], minlength=links.chips)
    return float(per_chip[groups.chips.ravel()].min())


def lower_bound_s(collective: str, size_bytes: float, net: Network, groups: Groups) -> tuple[float, str]:
    """(bound in seconds, how it was obtained)."""
    p = groups.p
    inj = injection_GBps(net, groups) * 1e9
    factor = {"all-reduce": 2 * (p - 1) / p, "reduce-scatter": (p - 1) / p, "all-gather": (p - 1) / p,
              "all-to-all": (p - 1) / p, "broadcast": 1.0}[collective]
    bound, method = factor * size_bytes / inj, f"injection {inj / 1e9:,.1f} GB/s per chip"
    if collective == "all-to-all":
        hop = _hop_bound_s_per_byte(net, groups)
        if hop is not None and hop * size_bytes > bound:
            bound, method = hop * size_bytes, "hops: every byte crosses its shortest distance over all links"
        for crossing, capacity_GBps, what in _cuts(net, groups):
            cut = crossing * size_bytes / (capacity_GBps * 1e9)
            if cut > bound:
                bound, method = cut, f"cut {what}: {capacity_GBps:,.1f} GB/s"
    return bound, method


def _hop_bound_s_per_byte(net: Network, groups: Groups) -> float | None:
    """All-to-all of every chip on a fabric with translations (a torus, twisted or not): each
    of the p(p-1) flows of n/p bytes uses at least dist(s, t) links, and all links together
    carry at most their summed capacity C, so time >= (n/p) sum_{s != t} dist(s, t) / C =
    n sum_v dist(0, v) / C (distances from chip 0 stand for every chip by translation)."""
    if net.translations is None or groups.count != 1 or groups.p != net.chips:
        return None
    dist = net.single_source().dist[: net.chips]
    return float(dist.sum()) / (float(net.links.capacity_GBps.sum()) * 1e9)


def _digit_cuts(groups: Groups) -> list[tuple[int, int, str]]:
    """(rank digit, digit values inside, description) of each cut tried on aligned groups."""
    out = []
    for i, (k, dim) in enumerate(zip(groups.shape.shape, groups.shape.dims, strict=True)):
        if k > 1:
            out.append((i, k // 2, f"halving {dim.name}"))
        if k > 2:
            out.append((i, 1, f"one {dim.name} slice from the rest"))
    return out


def _cuts(net: Network, groups: Groups):
    """(fraction of n crossing, capacity in GB/s, description) of each cut tried."""
    p, count = groups.p, groups.count
    if groups.axes is None:
        halves = [(np.arange(p) < p // 2, "halving the rank order")]
    else:
        shape = groups.shape.shape
        if net.structured:  # the same cuts, in closed form
            return [(count * (a := inside * p // shape[i]) * (p - a) / p,
                     structured.cut_GBps(net, groups.axes[i], inside), what)
                    for i, inside, what in _digit_cuts(groups)]
        strides = np.cumprod((1,) + shape[:-1])
        ranks = np.arange(p)
        halves = [((ranks // strides[i]) % shape[i] < inside, what) for i, inside, what in _digit_cuts(groups)]
    out = []
    for in_side, what in halves:
        a = int(in_side.sum())
        side = np.zeros(net.links.nodes, dtype=bool)
        side[groups.chips[:, in_side].ravel()] = True
        out.append((count * a * (p - a) / p, _cut_GBps(net, side), what))
    return out


def _cut_GBps(net: Network, chips_in: np.ndarray) -> float:
    """Capacity of the links leaving S: the chips marked, plus the switches that join them."""
    links = net.links
    n = links.nodes
    cap = csr_matrix((links.capacity_GBps, (links.tail, links.head)), shape=(n, n))
    side = chips_in.copy()
    placed = np.zeros(n, dtype=bool)
    placed[: links.chips] = True
    while True:
        to_in = cap @ (placed & side).astype(float)
        to_out = cap @ (placed & ~side).astype(float)
        reach = ~placed & ((to_in > 0) | (to_out > 0))
        if not reach.any():
            break
        side[reach] = to_in[reach] > to_out[reach]
        placed |= reach
    leaving = side[links.tail] & ~side[links.head]
    return float(links.capacity_GBps[leaving].sum())
