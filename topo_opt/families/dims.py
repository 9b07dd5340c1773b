"""The generic `dims` family: a product of ring, full-mesh and switch dimensions."""

import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from topo_opt.families.base import DimRecord, Fabric, FabricDesc, Family, choice, dim_kind, zero_ok
from topo_opt.families.common import add_chips, add_links, add_switches, chip_lines, mesh_pairs, ring_pairs
from topo_opt.netspec import Level, LinkClass, NetworkSpec, Resource, dim_scope, direct_routes

DIM_SHAPES = ("ring", "full-mesh", "switch")


@dataclass(frozen=True)
class DimSpec:
    """One dimension of a `dims` fabric: ring, full-mesh or switch of `size` chips."""

    shape: str
    size: int
    bandwidth_GBps: float
    latency_ns: float = zero_ok(default=500.0)


@dataclass(frozen=True)
class DimsParams:
    dims: tuple[DimSpec, ...]


def check(p: DimsParams, ctx: Any) -> None:
    if not p.dims:
        raise ctx.at("dims").fail("needs at least one dimension")
    for i, d in enumerate(p.dims):
        choice(d.shape, DIM_SHAPES, ctx.at("dims").at(i).at("shape"), "dimension shape")
        if d.size < 2:
            raise ctx.at("dims").at(i).at("size").fail(f"must be at least 2, got {d.size}")


def chips(p: DimsParams) -> int:
    return math.prod(d.size for d in p.dims)


def dims_fabric(dims: tuple[DimSpec, ...], name: str = "") -> Fabric:
    """Chips = product of the sizes; dimension d links the chips that differ only in coordinate d.

    - ``ring``: each chip to its two neighbours along d (one link when size is 2);
    - ``full-mesh``: every pair along d;
    - ``switch``: one switch per line along d, one link from each chip of the line to it.

    Each link carries ``bandwidth_GBps`` per direction. Edge ``kind`` is ``ring<d>``,
    ``mesh<d>`` or ``switch<d>``.

    >>> from topo_opt.families.dims import DimSpec
    >>> dims_fabric((DimSpec("ring", 16, 50.0, 500.0),)).graph.number_of_edges()
    16
    """
    sizes = tuple(d.size for d in dims)
    graph = nx.Graph()
    add_chips(graph, sizes, cabinet=-1, board=-1)
    records = []
    for d, spec in enumerate(dims):
        kind = dim_kind(spec.shape, d)
        attrs = {"bandwidth_GBps": spec.bandwidth_GBps, "latency_ns": spec.latency_ns, "lanes": 1, "kind": kind}
        add_dimension(graph, chip_lines(sizes, d), spec.shape, attrs)
        path_ns = spec.latency_ns * (2 if spec.shape == "switch" else 1)  # a switch: chip -> switch -> chip
        records.append(DimRecord(kind, spec.shape, spec.size, spec.bandwidth_GBps, path_ns, (d,), (kind,)))
    desc = FabricDesc("dims", name, math.prod(sizes), DimsParams(tuple(dims)), dims=tuple(records),
                      chip_symmetric=True, bisection_GBps=product_bisection_GBps(records))
    return Fabric(desc, graph)


def add_dimension(graph: nx.Graph, lines: np.ndarray, shape: str, attrs: dict) -> None:
    """Link the chips of every line (rows of `lines`) as a ring, a full mesh, or through a switch."""
    if shape == "ring":
        add_links(graph, ring_pairs(lines), **attrs)
    elif shape == "full-mesh":
        add_links(graph, mesh_pairs(lines), **attrs)
    else:
        switches = add_switches(graph, lines.shape[0], "switch", dim=attrs["kind"])
        for sw, line in zip(switches, lines, strict=True):
            graph.add_edges_from(((int(c), sw) for c in line), **attrs)


def product_bisection_GBps(records) -> float:
    """A product cut across dimension d cuts N/k_d lines, each at ring: 2B (k_d > 2; B for
    k_d = 2), full mesh: floor(k/2) ceil(k/2) B, switch: floor(k/2) B; the minimum over d."""
    total = math.prod(r.size for r in records)
    best = math.inf
    for r in records:
        k, bw = r.size, r.bandwidth_GBps
        per_line = {"ring": (2 if k > 2 else 1) * bw, "full-mesh": (k // 2) * ((k + 1) // 2) * bw,
                    "switch": (k // 2) * bw}[r.shape]
        best = min(best, total / k * per_line)
    return float(best)


def product_spec(instance: Any, family: str, dims: tuple[tuple[str, int, float], ...], node_cab: np.ndarray,
                 cabinets: tuple, notes: tuple[str, ...]) -> NetworkSpec:
    """One class per dimension (shape, size, GB/s per link); links per chip: ring 2 (1 when
    size 2), full mesh size - 1, switch 1. A dimension's scope: cabinet when each line stays in
    one cabinet, group, else global."""
    chip = instance.chip
    sizes = tuple(k for _, k, _ in dims)
    group = np.array([c.group for c in cabinets])
    levels, classes, resources, routes = [], [], [], []
    for d, (shape, size, bw) in enumerate(dims):
        kind = dim_kind(shape, d)
        links = {"ring": 2 if size > 2 else 1, "full-mesh": size - 1, "switch": 1}[shape]
        level = Level(kind, size, shape, dim_scope(chip_lines(sizes, d), node_cab, group))
        levels.append(level)
        classes.append(LinkClass(kind, chip.lane_GBps, links * bw / chip.lane_GBps, 1, chip.lanes, 1.0, (kind,)))
        resources.append(Resource(kind, ((kind, chip.lane_GBps),)))
        routes += direct_routes(level)
    return NetworkSpec(family, math.prod(sizes), tuple(levels), tuple(classes), tuple(resources),
                       tuple(routes), (), float(chip.lanes), notes)


def network_spec(instance: Any, graph: nx.Graph, node_cab: np.ndarray, cabinets: tuple) -> NetworkSpec:
    dims = tuple((d.shape, d.size, d.bandwidth_GBps) for d in instance.fabric.params.dims)
    notes = ("switch dimensions are ideal switches (no catalog type: not priced)",) \
        if any(s == "switch" for s, _, _ in dims) else ()
    return product_spec(instance, "dims", dims, node_cab, cabinets, notes)


FAMILY = Family(
    name="dims", params=DimsParams, check=check, chips=chips,
    build=lambda p, lane_GBps, name: dims_fabric(p.dims, name),
    network_spec=network_spec,
    edge_kinds=lambda p: tuple(dim_kind(d.shape, i) for i, d in enumerate(p.dims)),
    links_per_chip=lambda p: sum((d.size - 1) / 2 if d.shape == "full-mesh" else 1 for d in p.dims),
    tp_domain=lambda p: p.dims[0].size,
)
