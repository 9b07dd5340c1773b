"""The scorer's view of a product fabric from its description alone: no per-chip graph.

A product fabric (`FabricDesc.dims`) is translation-invariant, so every link is one of a few
*types*, each an orbit of one link leaving every chip (`symmetric`): a ring's cw and ccw links,
a full mesh's link of each offset o (c -> c + o), a switch dimension's up (chip -> switch) and
down (switch -> chip) links. The structured network keeps one representative link per type,
leaving chip 0, in a link table of a few dozen rows, whatever the chip count: the symmetric
engine times Shift steps on it exactly as on the per-chip graph, and the bounds come in closed
form (`injection_GBps`, `cut_GBps`). Steps that need per-flow routing (explicit chip pairs:
trees, pipelined chains, scatters) are refused, so `auto` picks among the symmetric algorithms.

Memory is that of the group tables (one int per chip), so 1,000,000 chips take megabytes.

Fabrics that are no product have a structured network too, generated from their description's
arithmetic as arrays of links (no graph, no object per chip or link, about 60 bytes per link):

- chips that each hang off one switch (an oversubscribed Clos, a dragonfly: the family's
  `switch_level`): steps of equal flows are timed with the chips folded onto their switches,
  flows counted per switch pair (`switchlevel`), so an all-to-all never lists its flows;
- a twisted torus, a Cayley graph of its translations (`translation`): its links are c -> c + e_d
  in the twisted group, and every route is one from chip 0, moved.
"""

import math

import numpy as np
from scipy.sparse import csr_matrix

from topo_opt.collectives.routing import Network
from topo_opt.collectives.topology import Dim, LinkTable, ProductView, edge_table
from topo_opt.collectives.translation import translations_of
from topo_opt.families import FAMILIES
from topo_opt.families.base import Fabric, FabricDesc, SwitchLevel, dim_kind


def structured_network(fabric: Fabric) -> Network:
    """The structured network of a fabric: by link type for a product, else its switch level or
    its translations (ValueError when it has none of them)."""
    desc = fabric.desc
    if desc.dims:
        return _product_network(desc)
    level = FAMILIES[desc.family].switch_level(desc.params)
    if level is not None:
        return _switch_level_network(desc, level)
    if desc.translations:
        return _torus_network(desc)
    raise ValueError(f"the {desc.family} fabric is not a product of dimensions, nor chips on switches, nor a "
                     "torus: only the per-chip scorer applies")


def _switch_level_network(desc: FabricDesc, level: SwitchLevel) -> Network:
    """Terminal links in chip order, then the switch bundles: the per-chip graph's links, in its order."""
    chips = level.chips
    uv = np.concatenate([np.stack([np.arange(chips), chips + level.attach], axis=1), chips + level.edges])
    ones = np.ones(chips)
    table = edge_table(uv, np.concatenate([ones * level.terminal_GBps, level.bandwidth_GBps]),
                       np.concatenate([ones * level.terminal_latency_ns, level.latency_ns]),
                       np.concatenate([ones, level.lanes]),
                       np.concatenate([np.full(chips, level.terminal_kind, dtype=object), level.kind]),
                       chips + level.switches, chips)
    return Network(None, desc, table, switch_level=True)


def _torus_network(desc: FabricDesc) -> Network:
    """Links c -> c + e_d of the (twisted) translation group, one edge per chip and dimension (one
    per pair along a dimension of 2)."""
    p = desc.params
    tr = translations_of(np.array(p.shape), desc.twisted)
    chips = np.arange(desc.chips, dtype=np.int64)
    uv, kinds = [], []
    for d, k in enumerate(p.shape):
        tail = chips[tr.coords(chips)[:, d] == 0] if k == 2 else chips
        uv.append(np.stack([tail, tr.add(tail, np.full(len(tail), int(tr.strides[d])))], axis=1))
        kinds.append(np.full(len(tail), dim_kind("ring", d), dtype=object))
    uv = np.concatenate(uv)
    table = edge_table(uv, np.full(len(uv), float(p.bandwidth_GBps)), np.full(len(uv), float(p.latency_ns)),
                       np.ones(len(uv)), np.concatenate(kinds), desc.chips, desc.chips)
    return Network(None, desc, table, translations=tr)


def _product_network(desc: FabricDesc) -> Network:
    sizes = axis_sizes(desc)
    dims = tuple(_dim(d, sizes) for d in desc.dims)
    extras = tuple(_dim(d, sizes, virtual=True) for d in desc.extras)
    view = ProductView(sizes, dims, extras)
    links, types = _type_links(view.dims + view.extras + _stubs(desc, sizes), view.strides, desc.chips)
    return Network(None, desc, links, view=view, types=types)


def axis_sizes(desc: FabricDesc) -> tuple[int, ...]:
    """Chip coordinate sizes: each single-axis dimension's size; an axis no dimension spans has size 1."""
    count = 1 + max(a for d in desc.dims + desc.extras for a in d.axes)
    sizes = [1] * count
    for d in desc.dims:
        if len(d.axes) == 1:
            sizes[d.axes[0]] = d.size
    if math.prod(sizes) != desc.chips:
        raise ValueError(f"the {desc.family} fabric's dimensions span {math.prod(sizes):,} chips, "
                         f"not its {desc.chips:,}")
    return tuple(sizes)


def _dim(record, sizes: tuple[int, ...], virtual: bool = False) -> Dim:
    size = math.prod(sizes[a] for a in record.axes)
    return Dim(record.name, record.shape, record.axes, size, record.bandwidth_GBps, record.latency_ns,
               record.kinds, virtual)


def type_keys(dim: Dim) -> tuple:
    """The link types of a dimension, as the symmetric engine names them."""
    if dim.shape == "switch":
        return ("up", "down")
    if dim.shape == "full-mesh":
        return tuple(range(1, dim.size))
    return ("cw",) if dim.size == 2 else ("cw", "ccw")


def _stubs(desc: FabricDesc, sizes: tuple[int, ...]) -> tuple[Dim, ...]:
    return tuple(_dim(d, sizes, virtual=True) for d in desc.stubs)


def _type_links(dims: tuple[Dim, ...], strides: np.ndarray, chips: int) -> tuple[LinkTable, dict]:
    """One directed link per type from chip 0 (switch types through a virtual node per dimension);
    a switch link carries half the dimension's chip-to-chip path latency."""
    tail, head, cap, lat, kind, types = [], [], [], [], [], {}
    switch_node = chips
    for dim in dims:
        stride = int(strides[dim.axes[0]])
        for key in type_keys(dim):
            if dim.shape == "switch":
                u, v = (0, switch_node) if key == "up" else (switch_node, 0)
                latency = dim.hop_latency_ns / 2
            else:
                offset = {"cw": 1, "ccw": dim.size - 1}.get(key, key)
                u, v, latency = 0, offset * stride, dim.hop_latency_ns
            types[(dim.name, key)] = len(tail)
            tail.append(u)
            head.append(v)
            cap.append(dim.link_GBps)
            lat.append(latency)
            kind.append(dim.kinds[0])
        switch_node += dim.shape == "switch"
    n = switch_node
    tail_a, head_a = np.array(tail, dtype=np.int64), np.array(head, dtype=np.int64)
    index = csr_matrix((np.arange(1, len(tail) + 1, dtype=np.int64), (tail_a, head_a)), shape=(n, n))
    table = LinkTable(tail_a, head_a, np.array(cap, dtype=float), np.array(lat, dtype=float),
                      np.ones(len(tail)), np.array(kind, dtype=object), index, n, chips)
    return table, types


def injection_GBps(net: Network) -> float:
    """Every chip's links: one of each type leaving chip 0."""
    links = net.links
    return float(links.capacity_GBps[links.tail == 0].sum())


def cut_GBps(net: Network, axis: int, inside: int) -> float:
    """Capacity leaving the chips whose coordinate on `axis` is below `inside`, in closed form.

    Along the axis's dimension of size k, each of the N/k lines is cut with a = `inside` chips
    inside: a ring (k > 2) by 2 links, (1 for k = 2), a full mesh by a (k - a) links, a switch by
    min(a, k - a) chip links (its switch joins the larger side). A virtual dimension spanning
    the axis (a rack switch over K chips), or a stub, is cut as a switch with a K / k chips inside.
    """
    view, chips = net.view, net.chips
    total = 0.0
    for dim in view.dims + view.extras + _stubs(net.desc, view.sizes):
        if axis not in dim.axes:
            continue
        k = dim.size
        a = inside * k // view.sizes[axis]
        if dim.shape == "ring":
            per_line = (2 if k > 2 else 1) * dim.link_GBps
        elif dim.shape == "full-mesh":
            per_line = a * (k - a) * dim.link_GBps
        else:
            per_line = min(a, k - a) * dim.link_GBps
        total += chips / k * per_line
    return float(total)
