"""Timing a translation-invariant step on a product fabric from one representative chip.

When every group of a layout lines up with whole fabric dimensions and a step is made of
`Shift`s, the flows are invariant under the translations of the chip coordinates, and so are
dimension-order routes and the fabric. Links then fall into a few *types*, each an orbit of
N links (N chips), one leaving every chip: a ring's clockwise and counter-clockwise links, a
full mesh's links of each offset o (c -> c + o), a switch dimension's up and down links. Flows
fall into classes, one per offset vector (a STAR digit on a full mesh or switch is one class:
the symmetric group of that dimension maps its offsets onto one another).

A class-c flow crosses h[t, c] links of type t (fractional when split over paths); with m_c
flows of class c per chip, a type-t link carries a[t, c] = m_c h[t, c] flows' worth of class c.
Max-min fair rates are unique, hence invariant too: one rate per class, and the fluid model on
the small matrix a (types x classes) is the fluid model of the whole fabric. A switch network
(UB-Mesh's HRS Clos) counts as a switch: its chip links are the only ones that can saturate
when it is non-blocking, which the brute-force tests check on a small multi-pod fabric.
"""

import itertools
import math

import numpy as np

from topo_opt.collectives.fluid import transfer_time
from topo_opt.collectives.routing import Network
from topo_opt.collectives.schedule import STAR, Shift
from topo_opt.collectives.topology import Dim


def _expand(parts: list[Shift], dims: tuple[Dim, ...]) -> list[tuple[tuple[int, ...], int, float, tuple]]:
    """Classes (offset, flows per chip, bytes per flow, via). A STAR digit stays one class on a full
    mesh or switch unless another part of the step names a specific offset on that digit."""
    mixed = [d.shape == "ring" or any(p.offset[i] not in (0, STAR) for p in parts)
             for i, d in enumerate(dims)]
    classes = []
    for part in parts:
        choices = [range(1, d.size) if (o == STAR and mixed[i]) else (o,)
                   for i, (o, d) in enumerate(zip(part.offset, dims, strict=True))]
        for offset in itertools.product(*choices):
            mult = math.prod(dims[i].size - 1 for i, o in enumerate(offset) if o == STAR)
            classes.append((offset, mult, part.size_bytes, part.via))
    return classes


class _Types:
    """Link types met so far: key -> row, with capacity and a representative link of chip `origin`."""

    def __init__(self, net: Network, origin: int):
        self.net, self.origin = net, origin
        self.rows: dict[tuple, int] = {}
        self.capacity: list[float] = []
        self.link: list[int] = []

    def row(self, dim: Dim, key: object) -> int:
        full = (dim.name, key)
        if full not in self.rows:
            self.rows[full] = len(self.capacity)
            self.capacity.append(dim.link_GBps * 1e9)
            self.link.append(self.net.type_link(dim, key, self.origin))
        return self.rows[full]


def symmetric_step(net: Network, axes: tuple[int, ...], parts: list[Shift], model: str):
    """(alpha_s, transfer_s, busy) of one step of Shifts; busy maps a representative link id to
    the seconds each link of its type is busy."""
    view = net.view
    classes = _expand(parts, tuple(view.dim_of_axis(a) for a in axes))
    types = _Types(net, 0)
    entries, single, latency = [], [], np.zeros(len(classes))
    for c, (offset, mult, _, via) in enumerate(classes):
        for dim, hops, frac, lat_ns in _route(view, axes, offset, via):
            for key, h in hops.items():
                t = types.row(dim, key)
                entries.append((t, c, mult * h))
                single.append((t, c, frac))
            latency[c] += lat_ns
    ntypes = len(types.capacity)
    a = np.zeros((ntypes, len(classes)))
    f = np.zeros((ntypes, len(classes)))
    for t, c, v in entries:
        a[t, c] += v
    for t, c, v in single:
        f[t, c] = max(f[t, c], v)
    capacity = np.array(types.capacity)
    size = np.array([cl[2] for cl in classes])
    transfer = transfer_time(f if model == "alpha-beta" else a, capacity, size, model)
    busy_s = (a @ size) / capacity
    return float(latency.max()) * 1e-9, transfer, dict(zip(types.link, busy_s, strict=True))


def _route(view, axes, offset, via):
    """Dimension-order route of one class: per dimension crossed, (dim, {link type: links crossed},
    fraction of the flow on any one link, latency_ns)."""
    done = set()
    order = [view.dim(v) for v in via] + [d for d in view.dims if d.name not in via]
    out = []
    for dim in order:
        digits = [axes.index(a) for a in dim.axes if a in axes]
        if len(digits) < len(dim.axes) or not any(offset[i] for i in digits) or done & set(digits):
            continue
        done.update(digits)
        lat = dim.hop_latency_ns
        if dim.shape == "switch":
            out.append((dim, {"up": 1.0, "down": 1.0}, 1.0, lat))
            continue
        o, k = offset[digits[0]], dim.size
        if dim.shape == "full-mesh":
            hops = {j: 1.0 / (k - 1) for j in range(1, k)} if o == STAR else {o: 1.0}
            out.append((dim, hops, 1.0, lat))
        elif k == 2:
            out.append((dim, {"cw": 1.0}, 1.0, lat))
        elif 2 * o == k:
            out.append((dim, {"cw": o / 2, "ccw": o / 2}, 0.5, o * lat))
        else:
            dist = min(o, k - o)
            out.append((dim, {"cw" if o < k - o else "ccw": float(dist)}, 1.0, dist * lat))
    return out
