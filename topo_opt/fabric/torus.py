"""k-ary n-cube (torus), optionally twisted as in TPU v4 (Jouppi et al., arXiv 2304.01433)."""

import math

import networkx as nx
import numpy as np

from topo_opt.fabric.common import add_chips, add_links, chip_coords, chip_lines, dim_record, ring_pairs


def torus_fabric(shape: tuple[int, ...], bandwidth_GBps: float, latency_ns: float = 500.0,
                 twist: bool = False) -> nx.Graph:
    """Torus of `shape`; each chip links to its two neighbours along every dimension (one link
    along a dimension of size 2). Links = sum over d of N (N/2 where size_d = 2); degree 2n.

    With ``twist``, the wrap-around link of every dimension shorter than the longest lands
    half-way round the longest dimension: chip (…, x_d = k_d-1, …, x_L) links to
    (…, 0, …, (x_L + k_L/2) mod k_L). This is a bijection, so link count and degree are those of
    the plain torus while the diameter and bisection improve on k x 2k-like shapes.
    """
    sizes = tuple(shape)
    chips = math.prod(sizes)
    graph = nx.Graph(family="torus", chips=chips, twisted=bool(twist), dims=[])
    add_chips(graph, sizes, cabinet=-1, board=-1)
    longest = int(np.argmax(sizes))
    twisted = twist and any(k < sizes[longest] for k in sizes)
    coords = chip_coords(sizes) if twisted else None
    for d, k in enumerate(sizes):
        pairs = ring_pairs(chip_lines(sizes, d))
        if twisted and d != longest and k < sizes[longest] and k > 2:
            pairs = _twist_wraps(pairs, coords, sizes, d, longest)
        add_links(graph, pairs, bandwidth_GBps=bandwidth_GBps, latency_ns=latency_ns, lanes=1, kind=f"ring{d}")
        graph.graph["dims"].append(dim_record("ring", k, bandwidth_GBps, latency_ns, f"ring{d}"))
    if twisted:
        del graph.graph["dims"]  # no longer a plain product of rings
    return graph


def _twist_wraps(pairs: np.ndarray, coords: np.ndarray, sizes: tuple[int, ...], d: int, longest: int) -> np.ndarray:
    """Move the far end (coordinate 0 along d) of each wrap-around link of dimension d half-way
    round dimension `longest`. `ring_pairs` lists wrap links as (x_d = k_d-1, x_d = 0)."""
    stride = math.prod(sizes[:longest])
    wrap = (coords[pairs[:, 0], d] == sizes[d] - 1) & (coords[pairs[:, 1], d] == 0)
    far = pairs[wrap, 1]
    x_long = coords[far, longest]
    out = pairs.copy()
    out[wrap, 1] = far + ((x_long + sizes[longest] // 2) % sizes[longest] - x_long) * stride
    return out
