"""Routing of chip-to-chip flows onto directed links, as sparse (link, flow, fraction) entries.

Two routings (`ROUTINGS`): `structured` routes by dimension order on product fabrics and by
shortest paths elsewhere; `shortest` routes every family by shortest paths over the whole graph
(`shortest`: naive routing that ignores dimensions, and any dimensions a schedule names).
The two policies:

- **shortest paths** (every family): a flow s -> t is split over all minimum-hop paths in
  proportion to their multiplicity, a bundle of m lanes counting as m parallel links (`paths`).
  A chip with a single link into the network (a leaf of a Clos, a router port) is routed from
  its switch, so BFS runs over switches only; on a torus, one BFS from chip 0 serves every chip
  (`translation`).
- **dimension order** (product fabrics): a flow corrects its coordinates one dimension at a
  time, in the fabric's dimension order unless the schedule names dimensions to take first
  (`via`); a ring hop goes the shorter way round (split evenly on a tie), a full-mesh hop takes
  the direct link, a switch hop takes the shortest paths of the dimension's own sub-network
  (for UB-Mesh's uplink: chip -> HRS leaf -> spines -> leaf -> chip).
"""

import math
import weakref
from dataclasses import dataclass, field

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix

from topo_opt.collectives.algorithms import NotApplicable
from topo_opt.collectives.paths import concat, node_pairs, reuse
from topo_opt.collectives.shortest import Symmetry, find_symmetry, symmetric_routes
from topo_opt.collectives.topology import (
    Dim,
    LinkTable,
    ProductView,
    SubNet,
    link_table,
    subnet,
)
from topo_opt.collectives.translation import (
    SingleSource,
    Translations,
    single_source,
    torus_translations,
    translated_routes,
)
from topo_opt.families.base import Fabric, FabricDesc

ROUTINGS = ("structured", "shortest")
MAX_ROUTE_ENTRIES = 40_000_000  # (link, flow) entries a batch of new flows may need (8 bytes each, 3 arrays)


@dataclass(frozen=True, eq=False)
class Routes:
    """Sparse incidence of flows on links: link `link[i]` carries `frac[i]` of flow `flow[i]`."""

    flow: np.ndarray
    link: np.ndarray
    frac: np.ndarray
    latency_ns: np.ndarray  # per flow: the longest of its shortest paths

    def matrix(self, links: int) -> csr_matrix:
        """(links x flows) matrix of fractions; duplicate entries (a flow crossing a link twice) add."""
        return csr_matrix((self.frac, (self.link, self.flow)), shape=(links, len(self.latency_ns)))



def route_pairs(sub: SubNet, s: np.ndarray, t: np.ndarray, links: LinkTable):
    """Shortest-path routes of chip pairs s[i] != t[i] inside `sub`: (flow, link, frac, latency_ns)."""
    s, t = np.asarray(s, dtype=np.int64), np.asarray(t, dtype=np.int64)
    parts, core, latency = _pieces(sub, s, t, links)
    if core is not None:
        members, which, (pflow, plink, pfrac, plat) = core
        entries = int(np.bincount(pflow, minlength=len(plat))[which].sum())
        if entries > MAX_ROUTE_ENTRIES:
            raise NotApplicable(f"{members.size:,} flows would take {entries:,} (link, flow) entries over their "
                                f"switches' equal-cost paths, more than {MAX_ROUTE_ENTRIES:,}")
        owner, link, frac = reuse((pflow, plink, pfrac), len(plat), which)
        parts.append((members[owner], link, frac))
    flow, link, frac = concat(parts)
    return flow, link, frac, latency


def pair_loads(sub: SubNet, s: np.ndarray, t: np.ndarray, size: np.ndarray, links: LinkTable):
    """What `route_pairs` routes, summed into bytes per link without listing flows: a switch
    core's split is computed once per (switch, switch) pair for the bytes of all its flows.
    Returns (bytes per link, latency_ns per flow)."""
    parts, core, latency = _pieces(sub, s, t, links)
    loads = np.zeros(len(links.tail))
    for flow, link, frac in parts:
        loads += np.bincount(link, weights=frac * size[flow], minlength=len(loads))
    if core is not None:
        members, which, (pflow, plink, pfrac, plat) = core
        per_pair = np.bincount(which, weights=size[members], minlength=len(plat))
        loads += np.bincount(plink, weights=pfrac * per_pair[pflow], minlength=len(loads))
    return loads, latency


def _pieces(sub: SubNet, s: np.ndarray, t: np.ndarray, links: LinkTable):
    """The routes of chip pairs in `sub` before a switch core is expanded flow by flow: (entries
    [(flow, link, frac)] of direct paths and of switch attach / detach links; the core's flows
    (members, their switch pair `which`, the pairs' split from `node_pairs`) or None; latency_ns)."""
    att_s, att_t = sub.attach[s], sub.attach[t]
    viaswitch = (att_s >= 0) & (att_t >= 0)
    parts, latency = [], np.zeros(len(s))
    direct = np.flatnonzero(~viaswitch)
    if direct.size:
        g = sub.full
        flow, link, frac, latency[direct] = node_pairs(g, g.local(s[direct]), g.local(t[direct]), links)
        parts.append((direct[flow], link, frac))
    idx = np.flatnonzero(viaswitch)
    core = None
    if idx.size:
        first, last = sub.attach_link[s[idx]], sub.detach_link[t[idx]]
        parts += [(idx, first, np.ones(idx.size)), (idx, last, np.ones(idx.size))]
        latency[idx] = links.latency_ns[first] + links.latency_ns[last]
        members = idx[att_s[idx] != att_t[idx]]
        if members.size:
            pairs, which = np.unique(np.stack([att_s[members], att_t[members]], axis=1), axis=0,
                                     return_inverse=True)
            which = which.ravel()
            g = sub.core
            split = node_pairs(g, g.local(pairs[:, 0]), g.local(pairs[:, 1]), links)
            latency[members] += split[3][which]
            core = (members, which, split)
    return parts, core, latency


@dataclass(eq=False)
class Network:
    """A graph's link table, product view and the sub-networks used for routing (cached)."""

    graph: nx.Graph | None  # None for a structured network (`structured`)
    desc: FabricDesc
    links: LinkTable
    view: ProductView | None = None
    translations: Translations | None = None
    types: dict | None = None  # structured: (dimension, link type) -> its one representative link
    switch_level: bool = False  # chips each hang off one switch: equal-flow steps fold onto switches
    _cache: dict = field(default_factory=dict)
    _single: SingleSource | None = None
    _symmetry: Symmetry | None = None
    _symmetry_known: bool = False

    def cached(self, name: object, make):
        """make(self), computed once per network (state a scoring engine keeps between steps)."""
        if name not in self._cache:
            self._cache[name] = make(self)
        return self._cache[name]

    def subnet(self, kinds: tuple[str, ...] = ()) -> SubNet:
        return self.cached(("subnet", kinds), lambda net: subnet(net.links, kinds))

    @property
    def chips(self) -> int:
        return self.links.chips

    @property
    def structured(self) -> bool:
        """A product fabric's structured network (one link per type): Shift steps only, bounds in closed form."""
        return self.types is not None

    def type_link(self, dim: Dim, key: object, origin: int = 0) -> int:
        """The link of type `key` of dimension `dim` leaving chip `origin` (a switch's down link
        arrives at it)."""
        if self.types is not None:
            return self.types[(dim.name, key)]
        if dim.shape == "switch":
            sub = self.subnet(dim.kinds)
            return int(sub.attach_link[origin] if key == "up" else sub.detach_link[origin])
        axis = dim.axes[0]
        stride = int(self.view.strides[axis])
        pos = (origin // stride) % dim.size
        step = {"cw": 1, "ccw": -1}.get(key, key)
        other = origin + ((pos + step) % dim.size - pos) * stride
        return int(self.links.ids(np.array([origin]), np.array([other]))[0])

    def route(self, src: np.ndarray, dst: np.ndarray, via: tuple[str, ...] = (),
              routing: str = "structured") -> Routes:
        """Routes of chip flows src[i] != dst[i]: dimension order on product fabrics under the
        structured routing, else shortest paths (`via` ignored under the shortest routing)."""
        src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
        if routing == "structured" and self.view is not None:
            return _dimension_order(self, src, dst, via)
        if routing == "structured" and via:
            raise ValueError(f"routing via {via} needs a product fabric")
        if self.translations is not None:
            flow, link, frac, lat = translated_routes(self.single_source(), self.subnet().full,
                                                      self.links, src, dst)
        elif self.symmetry() is not None:
            flow, link, frac, lat = symmetric_routes(self.symmetry(), self.subnet().full, self.links, src, dst)
        else:
            flow, link, frac, lat = route_pairs(self.subnet(), src, dst, self.links)
        return Routes(flow, link, frac, lat)

    def loads(self, src: np.ndarray, dst: np.ndarray, size: np.ndarray, via: tuple[str, ...] = ()):
        """(bytes per link, latency_ns per flow) of flows src[i] -> dst[i] of size[i] bytes under the
        structured routing of a product fabric, without their routes' matrix (`pair_loads`)."""
        return _dimension_order(self, np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64), via,
                                np.asarray(size, dtype=float))

    def symmetry(self) -> Symmetry | None:
        """The coordinate translations of a product fabric that map the graph onto itself, with
        shortest-path tables from representative chips (`shortest`); None for other fabrics."""
        if not self._symmetry_known:
            self._symmetry = (find_symmetry(self.links, self.subnet().full, self.view.sizes)
                              if self.view is not None else None)
            self._symmetry_known = True
        return self._symmetry

    def single_source(self) -> SingleSource:
        """Distances and path counts from chip 0, for a fabric with translations."""
        if self._single is None:
            self._single = single_source(self.subnet().full, self.translations)
        return self._single

    def hops_estimate(self, src: np.ndarray, dst: np.ndarray) -> int:
        """Upper estimate of the (link, flow) entries routing would create (to refuse huge steps)."""
        if self.view is None:
            return 8 * len(src)
        sizes = np.array(self.view.sizes)
        strides = self.view.strides
        delta = (dst[:, None] // strides - src[:, None] // strides) % sizes
        # only a ring hop grows with the offset; a full-mesh or switch hop is one link or one
        # switch path, which the 8 entries per flow cover
        ring = np.zeros(len(sizes), dtype=bool)
        for d in self.view.dims:
            if d.shape == "ring":
                ring[list(d.axes)] = True
        per_axis = np.where(delta > 0, np.where(ring, np.minimum(delta, sizes - delta), 1), 0)
        return int(per_axis.sum()) * 2 + 8 * len(src)


def network(fabric: Fabric) -> Network:
    """The scorer's view of a fabric, cached per graph object (graphs are not mutated after build)."""
    graph = fabric.graph
    net = _NETWORKS.get(graph)
    if net is None:
        net = Network(graph, fabric.desc, link_table(graph, fabric.chips))
        net.view = _product_view(net)
        net.translations = torus_translations(graph, fabric.desc, net.links) if net.view is None else None
        net.switch_level = _routes_switch_to_switch(net)
        _NETWORKS[graph] = net
    return net


_NETWORKS: "weakref.WeakKeyDictionary[nx.Graph, Network]" = weakref.WeakKeyDictionary()


def _routes_switch_to_switch(net: Network) -> bool:
    """Whether every chip hangs off one switch and flows take the shortest paths of the whole
    network (no product, or a product of one switch dimension over every link kind, as a
    non-blocking fat-tree): equal-flow steps then fold onto switch pairs (`switchlevel`), which
    on a fat-tree keeps ECMP's thousands of links per chip pair from being listed flow by flow."""
    if not (net.subnet().attach >= 0).all():
        return False
    view = net.view
    if view is None:
        return net.translations is None
    kinds = set(net.links.kind.tolist())
    return (len(view.dims) == 1 and not view.extras and view.dims[0].shape == "switch"
            and kinds <= set(view.dims[0].kinds))


def _product_view(net: Network) -> ProductView | None:
    """The product structure the fabric's description gives (its dimensions, bandwidth and
    latency read from the graph), or None when the fabric is not a product."""
    desc = net.desc
    if not desc.dims:
        return None
    coords = np.array([net.graph.nodes[c]["coords"] for c in range(net.chips)], dtype=np.int64)
    sizes = tuple(int(s) for s in coords.max(axis=0) + 1)
    dims = tuple(_make_dim(net, d.name, d.shape, d.axes, sizes, d.kinds) for d in desc.dims)
    extras = tuple(_make_dim(net, d.name, d.shape, d.axes, sizes, d.kinds, virtual=True) for d in desc.extras
                   if (net.links.kind == d.name).any())
    return ProductView(sizes, dims, extras)


def _make_dim(net: Network, name: str, shape: str, axes: tuple[int, ...], sizes: tuple[int, ...],
              kinds: tuple[str, ...], virtual: bool = False) -> Dim:
    """Bandwidth and latency read from the graph: the chips' links of these kinds (uniform per
    dimension in every generator); a switch dimension's latency is the longer of the routed paths
    from chip 0 to its nearest and its farthest neighbour along the axes (the same switch, or
    across the switch network's top tier)."""
    links = net.links
    mask = np.isin(links.kind, kinds) & (links.tail < links.chips)
    size = math.prod(sizes[a] for a in axes)
    bw = float(links.capacity_GBps[mask].min())
    if shape != "switch":
        return Dim(name, shape, axes, size, bw, float(links.latency_ns[mask].max()), kinds, virtual)
    stride = int(np.cumprod((1,) + sizes[:-1])[axes[0]])
    far = stride * (sizes[axes[-1]] - 1) * (math.prod(sizes[a] for a in axes[:-1]) if len(axes) > 1 else 1)
    *_, lat = route_pairs(net.subnet(kinds), np.array([0, 0]), np.array([stride, max(far, stride)]), links)
    return Dim(name, shape, axes, size, bw, float(lat.max()), kinds, virtual)


def _dimension_order(net: Network, src: np.ndarray, dst: np.ndarray, via: tuple[str, ...],
                     size: np.ndarray | None = None):
    """Routes of the flows, or with `size` their bytes per link and latencies (`Network.loads`)."""
    view = net.view
    strides, sizes = view.strides, np.array(view.sizes)
    cur = (src[:, None] // strides) % sizes
    goal = (dst[:, None] // strides) % sizes
    order = [view.dim(v) for v in via] + [d for d in view.dims if d.name not in via]
    parts, latency = [], np.zeros(len(src))
    loads = None if size is None else np.zeros(len(net.links.tail))
    for dim in order:
        axes = list(dim.axes)
        idx = np.flatnonzero((cur[:, axes] != goal[:, axes]).any(axis=1))
        if not idx.size:
            continue
        here = cur[idx] @ strides
        cur[np.ix_(idx, axes)] = goal[np.ix_(idx, axes)]
        there = cur[idx] @ strides
        if loads is not None and dim.shape == "switch":
            hop_loads, lat = pair_loads(net.subnet(dim.kinds), here, there, size[idx], net.links)
            loads += hop_loads
            latency[idx] += lat
            continue
        flow, link, frac, lat = _hop(net, dim, here, there)
        if loads is None:
            parts.append((idx[flow], link, frac))
        else:
            loads += np.bincount(link, weights=frac * size[idx][flow], minlength=len(loads))
        latency[idx] += lat
    if loads is not None:
        return loads, latency
    flow, link, frac = concat(parts)
    return Routes(flow, link, frac, latency)


def _hop(net: Network, dim: Dim, here: np.ndarray, there: np.ndarray):
    """Links of one hop along `dim` (chips differ only in the dimension's axes)."""
    links = net.links
    if dim.shape == "full-mesh" or (dim.shape == "ring" and dim.size == 2):
        link = links.ids(here, there)
        return np.arange(len(here)), link, np.ones(len(here)), links.latency_ns[link]
    if dim.shape == "switch":
        return route_pairs(net.subnet(dim.kinds), here, there, links)
    axis, k = dim.axes[0], dim.size
    stride = int(net.view.strides[axis])
    pos = (here // stride) % k
    delta = ((there // stride) % k - pos) % k
    cw_hops = np.where(delta <= k - delta, delta, 0)
    ccw_hops = np.where(delta >= k - delta, k - delta, 0)
    frac = np.where(2 * delta == k, 0.5, 1.0)
    parts, lat_cw, lat_ccw = [], np.zeros(len(here)), np.zeros(len(here))
    base = here - pos * stride
    for hops, sign, lat in ((cw_hops, 1, lat_cw), (ccw_hops, -1, lat_ccw)):
        for j in range(int(hops.max(initial=0))):
            m = np.flatnonzero(hops > j)
            u = base[m] + ((pos[m] + sign * j) % k) * stride
            v = base[m] + ((pos[m] + sign * (j + 1)) % k) * stride
            link = links.ids(u, v)
            parts.append((m, link, frac[m]))
            lat[m] += links.latency_ns[link]
    flow, link, f = concat(parts)
    return flow, link, f, np.maximum(lat_cw, lat_ccw)


def dor_latency_ns(view: ProductView, axes: tuple[int, ...], offsets: np.ndarray,
                   via: tuple[str, ...]) -> np.ndarray:
    """Path latency (ns) of dimension-order routes from rank-digit offsets (flows x digits), no routing.

    A ring digit d costs min(d, k-d) hops, a full-mesh digit one hop, a switch its path; a virtual
    dimension named in `via` replaces the digits it spans.
    """
    offsets = np.asarray(offsets)
    latency = np.zeros(len(offsets))
    done = np.zeros(offsets.shape, dtype=bool)
    for dim in [view.dim(v) for v in via] + [d for d in view.dims if d.name not in via]:
        if not all(a in axes for a in dim.axes):
            continue
        digits = [axes.index(a) for a in dim.axes]
        moves = (offsets[:, digits] != 0).any(axis=1) & ~done[:, digits].any(axis=1)
        done[:, digits] |= moves[:, None]
        if dim.shape == "ring" and dim.size > 2:
            o = offsets[:, digits[0]] % dim.size
            latency += moves * np.minimum(o, dim.size - o) * dim.hop_latency_ns
        else:
            latency += moves * dim.hop_latency_ns
    return latency
