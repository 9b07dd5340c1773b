"""Timing a step on a fabric whose chips each hang off one switch (`families.base.SwitchLevel`: an
oversubscribed Clos, a dragonfly), with the chips folded onto their switches: no per-flow routes.

When every flow of a step carries b bytes, the step's transfer time is b max_l load_l / c_l
(`fluid`), load_l being the summed fractions of the flows on link l. A flow s -> t crosses s's
terminal link up (fraction 1), then, when t hangs off another switch, the shortest paths between
the two switches, split alike for every flow of that switch pair, then t's terminal link down. So

    load(terminal up of c) = flows leaving c,   load(terminal down of c) = flows reaching c,
    load(l) = sum over switch pairs (a, b) of n_ab x frac_ab(l)  for a switch link l,

with n_ab the flows from chips of a to chips of b. When the sending switches each reach many others
(an all-to-all), the flow model lists no pair's links: the switch-link loads come from one
shortest-path DAG per sending switch with the demands n_ab accumulated back along it
(`paths.demand_loads`, Brandes), the same loads as routing each pair.
For a part in which every chip of a group sends to every other (a STAR shift), n = C^T C off its
diagonal, C[g, a] the chips of group g on switch a, and every chip sends and receives p - 1
flows: the flows are never listed. Alpha-beta (no sharing): a flow alone takes
b max(1/c_up, max_l frac_ab(l)/c_l, 1/c_down), so the step's slowest flow is the largest of those
terms over the chips and pairs in use. A step's alpha is its longest path latency: terminal up,
switch path, terminal down (every terminal link of a family has one latency, so the longest of
each term adds up to the longest path).

The alpha-beta model needs each pair's own largest fraction, so it routes switch pairs: on demand
until the pairs routed so far would outnumber all ordered pairs of the switches chips hang off;
then every such pair is routed once and kept (`PairRoutes`), so a schedule of many steps
(pairwise: N - 1 of them) costs at most twice the full table, and a ring never pays for it. A
table over MAX_ROUTE_ENTRIES entries is refused (NotApplicable), as per-flow routing is.
"""

from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix

from topo_opt.collectives.algorithms import NotApplicable
from topo_opt.collectives.paths import concat, demand_loads, node_pairs, ragged
from topo_opt.collectives.routing import MAX_ROUTE_ENTRIES, Network
from topo_opt.collectives.topology import Graphlet, LinkTable

_PAIR_CHUNK = 4096  # switch pairs routed at once
# A step whose sending switches each reach more switches than this (an all-to-all, not a ring or a
# tree) has its loads accumulated per sender (`demand_loads`) instead of routed pair by pair.
_PAIRS_PER_SENDER = 8


@dataclass(eq=False)
class PairRoutes:
    """Shortest-path splits of switch pairs, keyed a * nodes + b (global switch ids a != b)."""

    core: Graphlet
    links: LinkTable
    ends: np.ndarray  # the switches chips hang off (global ids)
    routed: int = 0  # pairs routed on demand so far
    table: tuple | None = None  # (sorted keys, indptr, link, frac, path_ns) of every pair of ends

    def get(self, key: np.ndarray):
        """(pair index into key, link, frac) entries and each pair's path latency (ns)."""
        if self.table is None and self.routed + key.size > self.ends.size * (self.ends.size - 1):
            self.table = self._full_table()
        if self.table is None:
            self.routed += key.size
            return self._route(key)
        keys, indptr, link, frac, path_ns = self.table
        pos = np.searchsorted(keys, key)
        owner, entry = ragged(indptr[pos], indptr[pos + 1] - indptr[pos])
        return owner, link[entry], frac[entry], path_ns[pos]

    def _route(self, key: np.ndarray):
        """Routed a chunk of pairs at a time, refused once the entries outgrow MAX_ROUTE_ENTRIES."""
        nodes, parts, latency, entries = self.links.nodes, [], [], 0
        for start in range(0, key.size, _PAIR_CHUNK):
            chunk = key[start:start + _PAIR_CHUNK]
            flow, link, frac, path_ns = node_pairs(self.core, self.core.local(chunk // nodes),
                                                   self.core.local(chunk % nodes), self.links)
            entries += flow.size
            if entries > MAX_ROUTE_ENTRIES:
                raise NotApplicable(f"the alpha-beta model needs each switch pair's own paths: {key.size:,} pairs "
                                    f"take more than {MAX_ROUTE_ENTRIES:,} (link, pair) entries")
            parts.append((flow + start, link, frac))
            latency.append(path_ns)
        return (*concat(parts), np.concatenate(latency))

    def _full_table(self):
        a, b = np.meshgrid(self.ends, self.ends, indexing="ij")
        off = a != b
        keys = a[off] * self.links.nodes + b[off]  # sorted: ends are sorted
        flow, link, frac, path_ns = self._route(keys)
        order = np.argsort(flow, kind="stable")
        indptr = np.concatenate([[0], np.cumsum(np.bincount(flow, minlength=keys.size))])
        return keys, indptr, link[order], frac[order], path_ns


def pair_routes(net: Network) -> PairRoutes:
    sub = net.subnet()
    return PairRoutes(sub.core, net.links, np.unique(sub.attach[sub.attach >= 0]))


def switch_level_step(net: Network, star_groups: np.ndarray | None, star_parts: int, src: np.ndarray,
                      dst: np.ndarray, size_bytes: float, model: str):
    """(alpha_s, transfer_s, link ids, busy seconds per link) of a step of equal flows of
    `size_bytes`: `star_parts` times every chip of each row of `star_groups` to every other, plus
    the chip flows src[i] -> dst[i]."""
    links, sub = net.links, net.subnet()
    routes = net.cached("switch pairs", pair_routes)
    chips, nodes = links.chips, links.nodes
    attach = sub.attach
    out = np.bincount(src, minlength=chips).astype(float)
    into = np.bincount(dst, minlength=chips).astype(float)
    cross = attach[src] != attach[dst]
    keys, counts = [attach[src][cross] * nodes + attach[dst][cross]], [np.ones(int(cross.sum()))]
    if star_parts:
        groups, p = star_groups.shape
        members = star_groups.ravel()
        out[members] += star_parts * (p - 1)
        into[members] += star_parts * (p - 1)
        on = csr_matrix((np.ones(members.size), (np.repeat(np.arange(groups), p), attach[members])),
                        shape=(groups, nodes))
        pairs = (on.T @ on).tocoo()
        off = pairs.row != pairs.col
        keys.append(pairs.row[off].astype(np.int64) * nodes + pairs.col[off])
        counts.append(pairs.data[off] * star_parts)
    key, which = np.unique(np.concatenate(keys), return_inverse=True)
    count = np.bincount(which, weights=np.concatenate(counts), minlength=len(key))
    load = np.zeros(len(links.tail))
    sending, receiving = np.flatnonzero(out), np.flatnonzero(into)
    up, down = sub.attach_link[sending], sub.detach_link[receiving]
    load[up] += out[sending]
    load[down] += into[receiving]
    cap = links.capacity_GBps * 1e9
    worst_alone = max(float((1 / cap[up]).max(initial=0)), float((1 / cap[down]).max(initial=0)))
    latency = links.latency_ns[up].max(initial=0) + links.latency_ns[down].max(initial=0)
    senders = np.unique(key // nodes)
    if key.size and (model == "alpha-beta" or key.size <= _PAIRS_PER_SENDER * senders.size):
        flow, link, frac, path_ns = routes.get(key)
        load += np.bincount(link, weights=frac * count[flow], minlength=len(load))
        worst_alone = max(worst_alone, float((frac / cap[link]).max()))
        latency += float(path_ns.max())
    elif key.size:
        core = sub.core
        a, b = core.local(key // nodes), core.local(key % nodes)
        sources, row = np.unique(a, return_inverse=True)
        demand = np.zeros((len(sources), core.adj.shape[0]))
        np.add.at(demand, (row.ravel(), b), count)
        pair_load, path_ns = demand_loads(core, sources, demand, links)
        load += pair_load
        latency += path_ns
    if model == "alpha-beta":
        transfer = size_bytes * worst_alone
    else:
        transfer = size_bytes * float((load / cap).max())
    used = np.flatnonzero(load > 0)
    return float(latency) * 1e-9, transfer, used, load[used] * size_bytes / cap[used]
