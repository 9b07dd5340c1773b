"""k-ary n-cube (torus), optionally twisted as in TPU v4 (Jouppi et al., arXiv 2304.01433)."""

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from topo_opt.families.base import (
    DimRecord,
    Fabric,
    FabricDesc,
    Family,
    FamilySpace,
    chip_GBps,
    dim_kind,
    template_chips,
    zero_ok,
)
from topo_opt.families.common import add_chips, add_links, chip_coords, chip_lines, ring_pairs
from topo_opt.families.dims import product_bisection_GBps, product_spec
from topo_opt.netspec import NetworkSpec


@dataclass(frozen=True)
class TorusParams:
    """k-ary n-cube with wrap-around links; `twist` shifts the wrap-around links (TPU v4 style)."""

    shape: tuple[int, ...]
    bandwidth_GBps: float
    latency_ns: float = zero_ok(default=500.0)
    twist: bool = False


def check(p: TorusParams, ctx: Any) -> None:
    if not 1 <= len(p.shape) <= 4 or any(k < 2 for k in p.shape):
        raise ctx.at("shape").fail(f"must list 1 to 4 sizes of at least 2, got {list(p.shape)}")


def torus_fabric(shape: tuple[int, ...], bandwidth_GBps: float, latency_ns: float = 500.0,
                 twist: bool = False, name: str = "") -> Fabric:
    """Torus of `shape`; each chip links to its two neighbours along every dimension (one link
    along a dimension of size 2). Links = sum over d of N (N/2 where size_d = 2); degree 2n.

    With ``twist``, the wrap-around link of every dimension shorter than the longest lands
    half-way round every longest dimension L (TPU v4's k x k x 2k twists each k-ring by k
    along the 2k dimension; its k x 2k x 2k twists the k-ring by (k, k) along both 2k
    dimensions, a diagonal seam): chip (…, x_d = k_d-1, …, x_L, …) links to
    (…, 0, …, (x_L + k_L/2) mod k_L, …). This is a bijection, so link count and degree are those
    of the plain torus while the diameter and bisection improve. A twisted torus is no longer a
    product of rings: it has no product dimensions (`desc.dims` empty).
    """
    sizes = tuple(shape)
    graph = nx.Graph()
    add_chips(graph, sizes, cabinet=-1, board=-1)
    longest = tuple(d for d, k in enumerate(sizes) if k == max(sizes))
    twisted = twist and any(k < max(sizes) for k in sizes)
    coords = chip_coords(sizes) if twisted else None
    records = []
    for d, k in enumerate(sizes):
        kind = dim_kind("ring", d)
        pairs = ring_pairs(chip_lines(sizes, d))
        if twisted and 2 < k < max(sizes):
            pairs = _twist_wraps(pairs, coords, sizes, d, longest)
        add_links(graph, pairs, bandwidth_GBps=bandwidth_GBps, latency_ns=latency_ns, lanes=1, kind=kind)
        records.append(DimRecord(kind, "ring", k, bandwidth_GBps, latency_ns, (d,), (kind,)))
    params = TorusParams(sizes, bandwidth_GBps, latency_ns, twist)
    dims = () if twisted else tuple(records)
    desc = FabricDesc("torus", name, math.prod(sizes), params, dims=dims, twisted=bool(twist),
                      translations=True, chip_symmetric=True,
                      bisection_GBps=product_bisection_GBps(dims) if dims else None)
    return Fabric(desc, graph)


def _twist_wraps(pairs: np.ndarray, coords: np.ndarray, sizes: tuple[int, ...], d: int,
                 longest: tuple[int, ...]) -> np.ndarray:
    """Move the far end (coordinate 0 along d) of each wrap-around link of dimension d half-way
    round every dimension in `longest`. `ring_pairs` lists wrap links as (x_d = k_d-1, x_d = 0)."""
    wrap = (coords[pairs[:, 0], d] == sizes[d] - 1) & (coords[pairs[:, 1], d] == 0)
    far = pairs[wrap, 1]
    moved = far.copy()
    for axis in longest:
        x_long = coords[far, axis]
        moved += ((x_long + sizes[axis] // 2) % sizes[axis] - x_long) * math.prod(sizes[:axis])
    out = pairs.copy()
    out[wrap, 1] = moved
    return out


def network_spec(instance: Any, graph: nx.Graph, node_cab: np.ndarray, cabinets: tuple) -> NetworkSpec:
    p = instance.fabric.params
    dims = tuple(("ring", k, p.bandwidth_GBps) for k in p.shape)
    notes = ("twisted wrap-around links are sized as the plain torus's",) if p.twist else ()
    return product_spec(instance, "torus", dims, node_cab, cabinets, notes)




# --- design space (optimize) ---------------------------------------------------------------------

def _shapes_3d(chips: int) -> tuple[tuple[int, ...], ...]:
    """Sorted 3-D shapes a <= b <= c with a * b * c = chips, a >= 4 and c <= 8 a (near-cubic)."""
    out = []
    for a in range(4, round(chips ** (1 / 3)) + 1):
        if chips % a:
            continue
        for b in range(a, math.isqrt(chips // a) + 1):
            c, rest = divmod(chips // a, b)
            if not rest and c >= b and c <= 8 * a:
                out.append((a, b, c))
    return tuple(out)


def _torus_space(chips: int, chip: Any) -> dict[str, tuple]:
    """Near-cubic 3-D shapes; links of the chip's bandwidth over 6 ports, or a half or a quarter of it;
    with and without twist."""
    per_link = chip_GBps(chip) / 6
    return {"shape": _shapes_3d(chips), "bandwidth_GBps": tuple(round(per_link * f, 3) for f in (0.25, 0.5, 1.0)),
            "twist": (False, True)}


def _torus_fabric(params: dict, chips: int) -> dict:
    shape = params.get("shape")
    if not isinstance(shape, list | tuple) or math.prod(shape) != chips:
        raise ValueError(f"shape {shape!r} does not hold {chips} chips")
    return {**params, "shape": list(shape)}


SEARCH = FamilySpace(_torus_space, (), _torus_fabric, template_chips)


FAMILY = Family(
    name="torus", params=TorusParams, check=check, chips=lambda p: math.prod(p.shape),
    build=lambda p, lane_GBps, name: torus_fabric(p.shape, p.bandwidth_GBps, p.latency_ns, p.twist, name),
    network_spec=network_spec,
    edge_kinds=lambda p: tuple(dim_kind("ring", d) for d in range(len(p.shape))),
    links_per_chip=lambda p: len(p.shape),
    tp_domain=lambda p: p.shape[0],
    search=SEARCH,
)
