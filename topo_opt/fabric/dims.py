"""The generic `dims` family: a product of ring, full-mesh and switch dimensions."""

import math

import networkx as nx

from topo_opt.fabric.common import (
    add_chips,
    add_links,
    add_switches,
    chip_lines,
    dim_record,
    mesh_pairs,
    ring_pairs,
)
from topo_opt.instance import DimSpec


def dims_fabric(dims: tuple[DimSpec, ...]) -> nx.Graph:
    """Chips = product of the sizes; dimension d links the chips that differ only in coordinate d.

    - ``ring``: each chip to its two neighbours along d (one link when size is 2);
    - ``full-mesh``: every pair along d;
    - ``switch``: one switch per line along d, one link from each chip of the line to it.

    Each link carries ``bandwidth_GBps`` per direction. Edge ``kind`` is ``ring<d>``,
    ``mesh<d>`` or ``switch<d>``.

    >>> from topo_opt.instance import DimSpec
    >>> g = dims_fabric((DimSpec("ring", 16, 50.0, 500.0),))
    >>> g.number_of_edges()
    16
    """
    sizes = tuple(d.size for d in dims)
    graph = nx.Graph(family="dims", chips=math.prod(sizes), dims=[])
    add_chips(graph, sizes, cabinet=-1, board=-1)
    for d, spec in enumerate(dims):
        lines = chip_lines(sizes, d)
        kind = {"ring": "ring", "full-mesh": "mesh", "switch": "switch"}[spec.shape] + str(d)
        attrs = {"bandwidth_GBps": spec.bandwidth_GBps, "latency_ns": spec.latency_ns, "lanes": 1, "kind": kind}
        add_dimension(graph, lines, spec.shape, attrs)
        graph.graph["dims"].append(dim_record(spec.shape, spec.size, spec.bandwidth_GBps, spec.latency_ns, kind))
    return graph


def add_dimension(graph: nx.Graph, lines, shape: str, attrs: dict) -> None:
    """Link the chips of every line (rows of `lines`) as a ring, a full mesh, or through a switch."""
    if shape == "ring":
        add_links(graph, ring_pairs(lines), **attrs)
    elif shape == "full-mesh":
        add_links(graph, mesh_pairs(lines), **attrs)
    else:
        switches = add_switches(graph, lines.shape[0], "switch", dim=attrs["kind"])
        for sw, line in zip(switches, lines, strict=True):
            graph.add_edges_from(((int(c), sw) for c in line), **attrs)


