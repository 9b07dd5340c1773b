"""Numpy views of a fabric graph for the scorer: directed links, sub-networks, product dimensions.

Every undirected edge i of the graph (in `graph.edges` order) becomes two directed links,
2i (u -> v) and 2i+1 (v -> u), each with the edge's `bandwidth_GBps` (per direction),
`latency_ns`, `lanes` and `kind`.

A *product view* exists for the fabrics whose description lists product dimensions (dims,
untwisted torus, ub-mesh, non-blocking Clos): chips are numbered mixed-radix over coordinate
axes (axis 0 fastest) and each dimension links the chips that differ in one axis only, as a
ring, a full mesh, or a switch network (a `dims` switch; UB-Mesh's HRS Clos between pods,
modelled as the switch it emulates).
UB-Mesh racks add a *virtual* dimension `lrs`: the rack's low-radix switch, a switch over the
two axes (x, y) of the rack, used only when a schedule routes through it explicitly.
"""

import weakref
from dataclasses import dataclass

import networkx as nx
import numpy as np
from scipy.sparse import csr_matrix


@dataclass(frozen=True, eq=False)
class LinkTable:
    """Directed links of a graph as arrays, with an (n x n) CSR whose data is link id + 1."""

    tail: np.ndarray
    head: np.ndarray
    capacity_GBps: np.ndarray
    latency_ns: np.ndarray
    lanes: np.ndarray
    kind: np.ndarray
    index: csr_matrix
    nodes: int
    chips: int

    def ids(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        """Link ids of the directed pairs (u[i], v[i]); every pair must be a link."""
        if len(u) == 0:
            return np.zeros(0, dtype=np.int64)
        found = np.asarray(self.index[np.asarray(u), np.asarray(v)]).ravel().astype(np.int64) - 1
        if (found < 0).any():
            bad = int(np.flatnonzero(found < 0)[0])
            raise ValueError(f"no link {int(u[bad])} -> {int(v[bad])}")
        return found

    def label(self, link: int) -> str:
        return f"{self.kind[link]} {int(self.tail[link])}->{int(self.head[link])}"


def link_table(graph: nx.Graph, chips: int) -> LinkTable:
    """The graph's directed links; cached per graph object (graphs are not mutated after build)."""
    cached = _TABLES.get(graph)
    if cached is not None:
        return cached
    uv = np.array([(u, v) for u, v in graph.edges()], dtype=np.int64).reshape(-1, 2)
    data = list(graph.edges(data=True))
    table = edge_table(uv, np.array([d["bandwidth_GBps"] for _, _, d in data], dtype=float),
                       np.array([d.get("latency_ns", 0.0) for _, _, d in data], dtype=float),
                       np.array([d.get("lanes", 1) for _, _, d in data], dtype=float),
                       np.array([str(d.get("kind", "")) for _, _, d in data], dtype=object),
                       graph.number_of_nodes(), chips)
    _TABLES[graph] = table
    return table


def edge_table(uv: np.ndarray, bandwidth_GBps: np.ndarray, latency_ns: np.ndarray, lanes: np.ndarray,
               kind: np.ndarray, nodes: int, chips: int) -> LinkTable:
    """The directed links of undirected edges uv (edge i -> links 2i, 2i+1), from arrays: a graph's,
    or a structured network's generated without one."""
    m = len(uv)
    tail = np.empty(2 * m, dtype=np.int64)
    head = np.empty(2 * m, dtype=np.int64)
    tail[0::2], head[0::2] = uv[:, 0], uv[:, 1]
    tail[1::2], head[1::2] = uv[:, 1], uv[:, 0]
    index = csr_matrix((np.arange(1, 2 * m + 1, dtype=np.int64), (tail, head)), shape=(nodes, nodes))
    index.sort_indices()
    return LinkTable(tail, head, np.repeat(bandwidth_GBps, 2), np.repeat(latency_ns, 2), np.repeat(lanes, 2),
                     np.repeat(kind, 2), index, nodes, int(chips))


_TABLES: "weakref.WeakKeyDictionary[nx.Graph, LinkTable]" = weakref.WeakKeyDictionary()


@dataclass(frozen=True, eq=False)
class Graphlet:
    """Adjacency over local node ids 0..len(nodes)-1: `adj` holds global link id + 1, `weight`
    the link's lane count (a bundle of m lanes counts as m parallel equal-cost links)."""

    nodes: np.ndarray  # global node id of each local id
    adj: csr_matrix
    weight: csr_matrix

    def local(self, node_ids: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.nodes, node_ids)


def graphlet(links: LinkTable, ids: np.ndarray) -> Graphlet:
    """The links `ids` over the nodes they touch."""
    nodes = np.unique(np.concatenate([links.tail[ids], links.head[ids]]))
    u, v = np.searchsorted(nodes, links.tail[ids]), np.searchsorted(nodes, links.head[ids])
    n = len(nodes)
    adj = csr_matrix((ids + 1, (u, v)), shape=(n, n))
    adj.sort_indices()
    weight = csr_matrix((links.lanes[ids], (u, v)), shape=(n, n))
    weight.sort_indices()
    return Graphlet(nodes, adj, weight)


@dataclass(frozen=True, eq=False)
class SubNet:
    """The links of some kinds (all links when `kinds` is empty), for shortest-path routing.

    `attach[c]` is the single switch a chip reaches in this sub-network, or -1 when the chip has
    another number of links in it. Attached chips are never on a path between others, so routes
    between them run over `core`, the sub-network without them.
    """

    kinds: tuple[str, ...]
    full: Graphlet
    core: Graphlet
    attach: np.ndarray
    attach_link: np.ndarray  # chip -> its switch
    detach_link: np.ndarray  # its switch -> chip


def subnet(links: LinkTable, kinds: tuple[str, ...] = ()) -> SubNet:
    mask = np.isin(links.kind, kinds) if kinds else np.ones(len(links.tail), dtype=bool)
    ids = np.flatnonzero(mask)
    chips = links.chips
    out_degree = np.bincount(links.tail[ids], minlength=links.nodes)[:chips]
    first_out = np.full(chips, -1, dtype=np.int64)
    from_chip = ids[links.tail[ids] < chips]
    first_out[links.tail[from_chip][::-1]] = from_chip[::-1]
    attached = (out_degree == 1) & (links.head[np.maximum(first_out, 0)] >= chips)
    attach = np.where(attached, links.head[np.maximum(first_out, 0)], -1)
    attach_link = np.where(attached, first_out, -1)
    detach_link = np.where(attached, attach_link ^ 1, -1)  # links 2i and 2i+1 are one edge's two directions
    is_attached = np.zeros(links.nodes, dtype=bool)
    is_attached[:chips] = attached
    core_ids = ids[~is_attached[links.tail[ids]] & ~is_attached[links.head[ids]]]
    return SubNet(tuple(kinds), graphlet(links, ids), graphlet(links, core_ids) if core_ids.size else None,
                  attach, attach_link, detach_link)


@dataclass(frozen=True)
class Dim:
    """One dimension of a product fabric.

    shape: ring | full-mesh | switch; `axes`: the chip coordinate axes it spans (one for a
    product dimension, two for UB-Mesh's rack LRS); `link_GBps`: per link and direction (the
    chip's own link for a switch); `hop_latency_ns`: one link of a ring or mesh, the whole
    chip-to-chip path of a switch network; `kinds`: edge kinds of its links.
    """

    name: str
    shape: str
    axes: tuple[int, ...]
    size: int
    link_GBps: float
    hop_latency_ns: float
    kinds: tuple[str, ...]
    virtual: bool = False

    @property
    def chip_GBps(self) -> float:
        """Bandwidth a chip can send into this dimension at once (all its links of the dimension)."""
        if self.shape == "full-mesh":
            return (self.size - 1) * self.link_GBps
        if self.shape == "ring":
            return (2 if self.size > 2 else 1) * self.link_GBps
        return self.link_GBps


@dataclass(frozen=True, eq=False)
class ProductView:
    """Chips as a mixed-radix product over `sizes` (axis 0 fastest) with their dimensions."""

    sizes: tuple[int, ...]
    dims: tuple[Dim, ...]  # product dimensions, in routing (dimension-order) order
    extras: tuple[Dim, ...]  # virtual dimensions, used only when a schedule names them

    @property
    def strides(self) -> np.ndarray:
        return np.cumprod((1,) + self.sizes[:-1]).astype(np.int64)

    def dim(self, name: str) -> Dim:
        for d in self.dims + self.extras:
            if d.name == name:
                return d
        raise KeyError(name)

    def dim_of_axis(self, axis: int) -> Dim:
        for d in self.dims:
            if d.axes == (axis,):
                return d
        raise KeyError(axis)


