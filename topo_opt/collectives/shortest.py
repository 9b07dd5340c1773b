"""Naive routing on product fabrics: every flow split over all shortest paths of the whole graph,
timed from representative chips by the coordinate translations that map the graph onto itself.

`routing="shortest"` ignores what the family's links are for (dimension order, the X and Y
meshes, the LRS, the HRS leaves): a flow s -> t is split over every minimum-hop path of the
graph in proportion to the product of its links' lane counts (`paths`). On UB-Mesh this sends
part of a rack's two-hop traffic through the rack's LRS and part of a pod's traffic through
the HRS leaf two chips share.

**Symmetry.** Moving every chip by m along axis a (c_a -> c_a + m mod k_a) permutes the chips;
it is an automorphism of the fabric when it extends to the other nodes so that every link maps
onto a link of the same bandwidth, latency, lanes and kind. The extension is built layer by
layer outward from the chips (layer = hops to the nearest chip): a node goes to the node of its
layer whose links to lower layers reach the images of its own lower-layer neighbours (nodes with
the same such neighbourhood, e.g. the spines of a Clos, are paired in id order), and the map is
then checked on every link. The smallest step m_a that passes (1, else a divisor of k_a; k_a
when none does: no symmetry along a) generates a group T of N = prod_a k_a / m_a translations,
acting freely on the chips; the chips with c_a < m_a on every axis represent one orbit each.

An automorphism gamma moves shortest paths with it: dist(gamma u, gamma v) = dist(u, v), path
counts likewise. A flow s -> t with s = gamma r, r a representative, is routed as
r -> gamma^-1 t and its links moved by gamma; distances to a target t = gamma' r' are read from
r' at gamma'^-1 v (the graph is undirected). BFS runs from the representatives only.

**A step of Shifts** on groups aligned with the axes is T-invariant, and so are its max-min fair
rates (they are unique): the flows of one T-orbit share a rate and the links of one orbit a
load. With A_r[l, f] the fraction of representative flow f on link l, a link l of orbit O
carries sum_f r_f (N / |O|) sum_{l' in O} A_r[l', f], so the fluid model on the reduced matrix
(link orbits x representative flows) with those entries gives every rate, the makespan and
every link's load exactly. When all flows carry the same bytes, the loads suffice (`fluid`)
and come from one Brandes sweep per representative, with no flow routed on its own: on the
Atlas 950 (one representative) a direct all-to-all on 8,192 chips takes 0.03 s; the Atlas 960,
whose uplinks go to HRS leaves by (x + 8y) mod 22 and so break the X and Y translations, has 88
representatives (0.7 s), and there its alpha-beta model, which routes each of the 1.4 million
representative flows, takes over a minute.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import coo_matrix, csr_matrix, hstack
from scipy.sparse.csgraph import connected_components, shortest_path

from topo_opt.collectives.algorithms import NotApplicable
from topo_opt.collectives.fluid import transfer_time
from topo_opt.collectives.paths import layered_split, path_counts, reuse
from topo_opt.collectives.schedule import Shift, shift_targets
from topo_opt.collectives.topology import Graphlet, LinkTable

_TABLE_ENTRIES = 20_000_000  # (representative, node) entries of the distance and path-count tables
MAX_REP_FLOWS = 4_000_000  # flows of the representatives in one step
MAX_REDUCED_ENTRIES = 20_000_000  # entries of a reduced (link orbit x flow) matrix
_CHUNK_FLOWS = 10_000  # representative flows routed at once


@dataclass(frozen=True, eq=False)
class Symmetry:
    """Translations of the chip coordinates (sizes k, strides) by multiples of `step` that are
    automorphisms; `power[a][j]` / `inverse[a][j]` are the node images under the j-th power of
    axis a's generator and of its inverse; distances and path counts from each representative."""

    sizes: np.ndarray
    strides: np.ndarray
    step: np.ndarray
    power: tuple[np.ndarray, ...]
    inverse: tuple[np.ndarray, ...]
    reps: np.ndarray
    rep_index: np.ndarray  # per chip: its index in `reps`, or -1
    orbit: np.ndarray  # per directed link: its orbit under the translations
    orbit_size: np.ndarray
    dist: np.ndarray  # (reps, nodes)
    sigma: np.ndarray  # (reps, nodes)

    @property
    def images(self) -> int:
        """N: the translations, i.e. the chips of each representative's orbit."""
        return int(np.prod(self.sizes // self.step))

    def split(self, chips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(representative index, jumps) such that chips = gamma_jumps(representative)."""
        coords = (np.asarray(chips)[:, None] // self.strides) % self.sizes
        return self.rep_index[(coords % self.step) @ self.strides], coords // self.step

    def apply(self, jumps: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        """gamma_jumps(nodes), gamma = g_0^j_0 o g_1^j_1 o ... (the last axis applied first)."""
        for a in reversed(range(len(self.power))):
            if len(self.power[a]) > 1:  # an axis without symmetry moves nothing
                nodes = self.power[a][jumps[:, a], nodes]
        return nodes

    def unapply(self, jumps: np.ndarray, nodes: np.ndarray) -> np.ndarray:
        for a in range(len(self.inverse)):
            if len(self.inverse[a]) > 1:
                nodes = self.inverse[a][jumps[:, a], nodes]
        return nodes

    def routes(self, g: Graphlet, links: LinkTable, rep: np.ndarray, targets: np.ndarray):
        """(flow, link, frac, latency_ns) of the flows reps[rep[i]] -> targets[i]."""
        trep, tjump = self.split(targets)
        d = self.dist[rep, targets]
        if np.isinf(d).any():
            i = int(np.flatnonzero(np.isinf(d))[0])
            raise ValueError(f"no path from node {int(self.reps[rep[i]])} to node {int(targets[i])}")
        return layered_split(g, self.reps[rep], targets, d.astype(np.int64), self.sigma[rep, targets], links,
                             dist_from=lambda f, u: self.dist[rep[f], u],
                             dist_to=lambda f, v: self.dist[trep[f], self.unapply(tjump[f], v)],
                             sigma_from=lambda f, u: self.sigma[rep[f], u],
                             sigma_to=lambda f, v: self.sigma[trep[f], self.unapply(tjump[f], v)])


def find_symmetry(links: LinkTable, g: Graphlet, sizes: tuple[int, ...]) -> Symmetry | None:
    """The translations of a product fabric that are automorphisms (see the module docstring),
    with BFS tables from the representatives; None when the tables would be too large or some
    node lies outside `g` or out of reach of every chip."""
    n, chips = links.nodes, links.chips
    layer = _layers(links)
    if len(g.nodes) != n or (layer < 0).any():
        return None
    k = np.array(sizes, dtype=np.int64)
    strides = np.cumprod(np.concatenate([[1], k[:-1]])).astype(np.int64)
    coords = (np.arange(chips)[:, None] // strides) % k
    cls = _link_classes(links)
    steps, powers, inverses, link_maps = [], [], [], []
    for a, size in enumerate(k.tolist()):
        found = None
        for m in (m for m in range(1, size) if size % m == 0):
            moved = np.arange(chips) + (((coords[:, a] + m) % size) - coords[:, a]) * strides[a]
            found = _extend(links, cls, layer, moved)
            if found is not None:
                break
        if found is None:
            m, found = size, (np.arange(n), np.arange(len(links.tail)))
        else:
            link_maps.append(found[1])
        steps.append(m)
        power = [np.arange(n)]
        for _ in range(size // m - 1):
            power.append(found[0][power[-1]])
        powers.append(np.array(power))
        inverses.append(np.argsort(powers[-1], axis=1))
    step = np.array(steps, dtype=np.int64)
    reps = np.flatnonzero((coords < step).all(axis=1))
    if len(reps) * n > _TABLE_ENTRIES:
        return None
    rep_index = np.full(chips, -1, dtype=np.int64)
    rep_index[reps] = np.arange(len(reps))
    orbit = _orbits(len(links.tail), link_maps)
    dist = shortest_path(g.adj, unweighted=True, directed=True, indices=reps)
    return Symmetry(k, strides, step, tuple(powers), tuple(inverses), reps, rep_index, orbit,
                    np.bincount(orbit), dist, path_counts(g.weight, dist, reps))


def _layers(links: LinkTable) -> np.ndarray:
    """Hops from every node to the nearest chip (-1: unreachable)."""
    n = links.nodes
    adj = csr_matrix((np.ones(len(links.tail)), (links.tail, links.head)), shape=(n, n))
    layer = np.full(n, -1, dtype=np.int64)
    frontier = np.arange(links.chips)
    layer[frontier] = 0
    depth = 0
    while frontier.size:
        depth += 1
        reached = np.unique(adj[frontier].indices)
        frontier = reached[layer[reached] < 0]
        layer[frontier] = depth
    return layer


def _link_classes(links: LinkTable) -> np.ndarray:
    """Links with equal bandwidth, latency, lanes and kind share a class id."""
    kind = np.unique(links.kind.astype(str), return_inverse=True)[1].ravel()
    table = np.stack([links.capacity_GBps, links.latency_ns, links.lanes, kind], axis=1)
    return np.unique(table, axis=0, return_inverse=True)[1].ravel()


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser: a well-spread 64-bit hash of each value (wrapping arithmetic)."""
    x = x.astype(np.uint64)
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _neighbourhood_hash(owner: np.ndarray, tokens: np.ndarray, n: int) -> np.ndarray:
    """Per node, a hash of the multiset of tokens it owns (order-free: a wrapping sum)."""
    h = np.zeros(n, dtype=np.uint64)
    np.add.at(h, owner, _mix(tokens))
    return h


def _extend(links: LinkTable, cls: np.ndarray, layer: np.ndarray, chip_perm: np.ndarray):
    """(node map, link map) extending a permutation of the chips to an automorphism, or None."""
    n, tail, head = links.nodes, links.tail, links.head
    perm = np.full(n, -1, dtype=np.int64)
    perm[: links.chips] = chip_perm
    down = layer[head] < layer[tail]
    classes = int(cls.max()) + 1
    for depth in range(1, int(layer.max()) + 1):
        nodes = np.flatnonzero(layer == depth)
        sel = down & (layer[tail] == depth)
        mine = _neighbourhood_hash(tail[sel], perm[head[sel]] * classes + cls[sel], n)
        theirs = _neighbourhood_hash(tail[sel], head[sel] * classes + cls[sel], n)
        src = nodes[np.lexsort((nodes, mine[nodes]))]
        dst = nodes[np.lexsort((nodes, theirs[nodes]))]
        if (mine[src] != theirs[dst]).any():
            return None
        perm[src] = dst
    image = np.asarray(links.index[perm[tail], perm[head]]).ravel().astype(np.int64) - 1
    if (image < 0).any() or (cls[image] != cls).any():
        return None
    return perm, image


def _orbits(count: int, link_maps: list[np.ndarray]) -> np.ndarray:
    """Orbit id of every link under the group the link maps generate."""
    if not link_maps:
        return np.arange(count)
    rows = np.tile(np.arange(count), len(link_maps))
    graph = coo_matrix((np.ones(rows.size), (rows, np.concatenate(link_maps))), shape=(count, count))
    return connected_components(graph, directed=True, connection="weak")[1]


def symmetric_routes(sym: Symmetry, g: Graphlet, links: LinkTable, src: np.ndarray, dst: np.ndarray):
    """(flow, link, frac, latency_ns) of flows src[i] -> dst[i]: each is routed from its
    representative (distinct pairs once) and moved back onto its source."""
    rep, jumps = sym.split(src)
    target = sym.unapply(jumps, dst)
    n = links.nodes
    keys, which = np.unique(rep * n + target, return_inverse=True)
    which = which.ravel()
    route, link, frac, latency = sym.routes(g, links, keys // n, keys % n)
    owner, link, frac = reuse((route, link, frac), len(keys), which)
    moved = links.ids(sym.apply(jumps[owner], links.tail[link]), sym.apply(jumps[owner], links.head[link]))
    return owner, moved, frac, latency[which]


def shortest_step(sym: Symmetry, g: Graphlet, links: LinkTable, groups: np.ndarray,
                  shape: tuple[int, ...], parts: list[Shift], model: str):
    """(alpha_s, transfer_s, link ids, busy seconds per link) of one step of Shifts run by every
    group (rows of `groups`: chip of each rank, ranks mixed-radix over `shape`), the groups aligned
    with the fabric's axes; timed from the representatives' flows (module docstring).

    When every flow carries the same bytes b, the flow model needs only each link's load:
    makespan = b max_l load_l / c_l (`fluid`), which Brandes' accumulation gives per
    representative in one backward sweep over its shortest-path DAG. Otherwise (and in the
    alpha-beta model) every representative flow is routed on its own, in chunks.
    """
    rep, target, size = _rep_flows(sym, groups, shape, parts)
    orbit_cap = np.ones(len(sym.orbit_size))
    orbit_cap[sym.orbit] = links.capacity_GBps * 1e9  # equal over an orbit: automorphisms keep bandwidths
    if model == "flow" and np.ptp(size) <= 1e-9 * size.max():
        load, latency_ns = _accumulated(sym, links, rep, target)
        orbit_load = sym.images * np.bincount(sym.orbit, weights=load, minlength=len(orbit_cap)) / sym.orbit_size
        transfer = transfer_time(orbit_load[:, None], orbit_cap, size[:1], model)
        orbit_busy = orbit_load * size[0] / orbit_cap
    else:
        latency_ns, transfer, orbit_busy = _flow_by_flow(sym, g, links, rep, target, size, orbit_cap, model)
    busy = orbit_busy[sym.orbit]
    used = np.flatnonzero(busy > 0)
    return latency_ns * 1e-9, transfer, used, busy[used]


def _accumulated(sym: Symmetry, links: LinkTable, rep: np.ndarray, target: np.ndarray):
    """(flows' worth on every link, longest path latency_ns) of the flows reps[rep[i]] -> target[i].

    From a source s with distances d and path counts sigma, link (u -> v) of its DAG (d(v) =
    d(u) + 1) carries sigma(u) lanes(u, v) / sigma(v) of everything that passes v, and
    delta(v) = demand(v) + sum of v's DAG links out (Brandes 2001), so one sweep from the
    farthest layer inwards loads every link; the longest latency follows forward, layer by layer.
    """
    n, tail, head = links.nodes, links.tail, links.head
    load = np.zeros(len(tail))
    latency = 0.0
    for r in np.unique(rep):
        d, sigma = sym.dist[r], sym.sigma[r]
        demand = np.bincount(target[rep == r], minlength=n).astype(float)
        if np.isinf(d[demand > 0]).any():
            raise ValueError(f"no path from node {int(sym.reps[r])} to some of its targets")
        dag = np.flatnonzero(np.isfinite(d[tail]) & (d[head] == d[tail] + 1))
        dag = dag[np.argsort(d[head[dag]], kind="stable")]
        layers = np.split(dag, np.flatnonzero(np.diff(d[head[dag]])) + 1)
        coef = np.zeros(len(tail))
        coef[dag] = sigma[tail[dag]] * links.lanes[dag] / sigma[head[dag]]
        delta = demand.copy()
        for ids in reversed(layers):
            through = coef[ids] * delta[head[ids]]
            load[ids] += through
            delta += np.bincount(tail[ids], weights=through, minlength=n)
        arrive = np.full(n, -np.inf)
        arrive[sym.reps[r]] = 0.0
        for ids in layers:
            np.maximum.at(arrive, head[ids], arrive[tail[ids]] + links.latency_ns[ids])
        latency = max(latency, float(arrive[demand > 0].max()))
    return load, latency


def _flow_by_flow(sym: Symmetry, g: Graphlet, links: LinkTable, rep: np.ndarray, target: np.ndarray,
                  size: np.ndarray, orbit_cap: np.ndarray, model: str):
    """(latency_ns, transfer_s, busy seconds per link orbit), every representative flow routed on
    its own (a chunk at a time): exact for any bytes, and for the alpha-beta model."""
    n = links.nodes
    cap = links.capacity_GBps * 1e9
    order = np.argsort(rep * n + target, kind="stable")
    latency, alone, busy, blocks, entries = 0.0, 0.0, np.zeros(len(orbit_cap)), [], 0
    for start in range(0, len(order), _CHUNK_FLOWS):
        idx = order[start:start + _CHUNK_FLOWS]
        keys, which = np.unique(rep[idx] * n + target[idx], return_inverse=True)
        route, link, frac, lat = sym.routes(g, links, keys // n, keys % n)
        flow, link, frac = reuse((route, link, frac), len(keys), which.ravel())
        latency = max(latency, float(lat.max()))
        orbit = sym.orbit[link]
        block = csr_matrix((frac * sym.images / sym.orbit_size[orbit], (orbit, flow)),
                           shape=(len(orbit_cap), len(idx)))
        busy += np.asarray(block @ size[idx]).ravel() / orbit_cap
        if model == "alpha-beta":  # each flow alone: its busiest link
            per_byte = np.zeros(len(idx))
            np.maximum.at(per_byte, flow, frac / cap[link])
            alone = max(alone, float((size[idx] * per_byte).max()))
            continue
        blocks.append(block)
        entries += block.nnz
        if entries > MAX_REDUCED_ENTRIES:
            raise NotApplicable(f"over {MAX_REDUCED_ENTRIES:,} (link orbit, flow) entries for a step whose "
                                "flows carry different bytes: too large to time flow by flow")
    if model == "alpha-beta":
        return latency, alone, busy
    return latency, transfer_time(hstack(blocks).tocsr(), orbit_cap, size[order], model), busy


def _rep_flows(sym: Symmetry, groups: np.ndarray, shape: tuple[int, ...], parts: list[Shift]):
    """(representative index, target chip, bytes) of every flow the representatives send."""
    where = np.empty(len(sym.rep_index), dtype=np.int64)
    where[groups.ravel()] = np.arange(groups.size)
    row, rank = np.divmod(where[sym.reps], groups.shape[1])
    rep, target, size = [], [], []
    for part in parts:
        i, dst = shift_targets(shape, part, rank)
        rep.append(i)
        target.append(groups[row[i], dst])
        size.append(np.full(len(i), float(part.size_bytes)))
    count = sum(len(r) for r in rep)
    if count > MAX_REP_FLOWS:
        raise NotApplicable(f"{count:,} flows leave the {len(sym.reps):,} representative chips of this "
                            "fabric's symmetry: too many to route")
    return np.concatenate(rep), np.concatenate(target), np.concatenate(size)
