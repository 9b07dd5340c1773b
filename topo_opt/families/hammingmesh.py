"""HammingMesh (Hoefler et al., "HammingMesh: A Network Topology for Large-Scale Deep Learning",
SC22): boards of `board_rows` x `board_cols` accelerators with board-local links, arranged in a
`boards_x` x `boards_y` grid; every row of boards is joined by a row network and every column by
a column network (fat trees in the paper).

As a product of dimensions (chip coordinates (i, j, X, Y), i fastest): dimensions 0 and 1 are the
board's rows and columns (`board_GBps` per link: a single link for a board side of 2, the paper's
Hx2Mesh, else a ring: the wrap-around is an optimistic stand-in for the paper's 2D board mesh);
dimensions 2 and 3 are the row and column networks, each an ideal non-blocking switch joining the
chips of a line (`network_GBps` per chip port). With 2 x 2 boards every accelerator sits on a
board edge, so each has one row and one column port, as in Hx2Mesh.

Provisioning prices each network line as catalog switches whose ports carry `network_GBps`
(ports per line = line chips x ports per chip; one switch tier, so a line longer than a switch's
radix is priced as that many radix-sized switches rather than a multi-tier fat tree).
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import networkx as nx
import numpy as np

from topo_opt.families.base import Fabric, Family, dim_kind, zero_ok
from topo_opt.families.dims import DimSpec, dims_fabric, product_spec
from topo_opt.netspec import NetworkSpec, SwitchTier, catalog_switch


@dataclass(frozen=True)
class HammingMeshParams:
    boards_x: int
    boards_y: int
    board_rows: int = 2
    board_cols: int = 2
    board_GBps: float = 500.0
    network_GBps: float = 500.0
    board_latency_ns: float = zero_ok(default=150.0)
    network_latency_ns: float = zero_ok(default=600.0)


def _dims(p: HammingMeshParams) -> tuple[DimSpec, ...]:
    return (DimSpec("ring", p.board_rows, p.board_GBps, p.board_latency_ns),
            DimSpec("ring", p.board_cols, p.board_GBps, p.board_latency_ns),
            DimSpec("switch", p.boards_x, p.network_GBps, p.network_latency_ns),
            DimSpec("switch", p.boards_y, p.network_GBps, p.network_latency_ns))


def check(p: HammingMeshParams, ctx: Any) -> None:
    for name in ("boards_x", "boards_y", "board_rows", "board_cols"):
        if getattr(p, name) < 2:
            raise ctx.at(name).fail(f"must be at least 2, got {getattr(p, name)}")


def build(p: HammingMeshParams, chip_lane_GBps: float | None, name: str) -> Fabric:
    fabric = dims_fabric(_dims(p), name)
    desc = dataclasses.replace(fabric.desc, family="hammingmesh", params=p, groups=(("board", (0, 1)),))
    return Fabric(desc, fabric.graph)


def network_spec(instance: Any, graph: nx.Graph, node_cab: np.ndarray, cabinets: tuple) -> NetworkSpec:
    p = instance.fabric.params
    dims = tuple((d.shape, d.size, d.bandwidth_GBps) for d in _dims(p))
    spec = product_spec(instance, "hammingmesh", dims, node_cab, cabinets, ())
    sw = catalog_switch(instance, "fabric.network_GBps", (p.network_GBps,))
    lane = instance.chip.lane_GBps
    chips = math.prod(d.size for d in _dims(p))
    tiers = tuple(SwitchTier(f"{what}-network", sw, chips // size, sw.radix,
                             ((dim_kind("switch", d), size * lane / sw.port_GBps),))
                  for what, d, size in (("row", 2, p.boards_x), ("column", 3, p.boards_y)))
    note = (f"row and column networks: {chips // p.boards_x:,} + {chips // p.boards_y:,} lines of "
            f"{sw.name} ({sw.radix} x {sw.port_GBps:g} GB/s), one switch tier per line")
    return dataclasses.replace(spec, tiers=tiers, notes=(note,))


FAMILY = Family(
    name="hammingmesh", params=HammingMeshParams, check=check,
    chips=lambda p: p.boards_x * p.boards_y * p.board_rows * p.board_cols,
    build=build, network_spec=network_spec,
    edge_kinds=lambda p: tuple(dim_kind(d.shape, i) for i, d in enumerate(_dims(p))),
    packing="fabric order: whole boards fill the compute cabinets in chip order",
    links_per_chip=lambda p: 3.0,  # half a link per board side of 2, a row and a column port
    tp_domain=lambda p: p.board_rows * p.board_cols,
)
