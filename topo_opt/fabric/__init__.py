"""Fabric generators: one pure function per family, each returning a networkx graph.

Graph conventions (every family):

Nodes are integers. Chips come first, `0 .. chips-1`, numbered mixed-radix over the family's
dimensions with dimension 0 fastest; switches (and spare chips) follow.

Node attributes
    kind : "chip" | "switch" | "spare"
    role : for switches, e.g. "switch" (a `dims` switch), "leaf", "spine", "core", "agg",
           "lrs", "hrs-leaf", "hrs-spine", "server", "router"
    coords : tuple of ints, the chip's coordinates over the family's dimensions
    cabinet : cabinet index where the family fixes it (a UB-Mesh rack), else -1
    board : board index where the family defines boards, else -1

Edge attributes (links are full duplex)
    bandwidth_GBps : per direction, 10^9 bytes/s
    latency_ns : one traversal
    lanes : lane (or port) count the link bundles; may be fractional where a lane budget is
            shared evenly over several peers
    kind : which dimension or tier the link belongs to ("x", "y", "ring0", "mesh1", "leaf-spine", …)
    medium : absent until placement chooses one

Graph attributes
    family, chips, name; `dims` (a list of dicts: shape, size, bandwidth_GBps, latency_ns, kind)
    where the chips form a product of ring / full-mesh / switch dimensions, which the scorer uses.
"""

from typing import Any

import networkx as nx

from topo_opt.catalog import CHIPS
from topo_opt.fabric.clos import clos_fabric, rail_optimized_fabric
from topo_opt.fabric.dims import dims_fabric
from topo_opt.fabric.dragonfly import dragonfly_fabric
from topo_opt.fabric.torus import torus_fabric
from topo_opt.fabric.ubmesh import ubmesh_fabric
from topo_opt.instance import FabricSpec, Instance

# Lane bandwidth when an ub-mesh instance names no chip: the Ascend 950's 2 TB/s over x72.
_DEFAULT_LANE_GBPS = CHIPS["ascend-950dt"].lane_GBps


def build_fabric(instance: Instance) -> nx.Graph:
    """The instance's fabric graph, named after the instance."""
    graph = fabric_from_spec(instance.fabric, instance.chip.lane_GBps if instance.chip else None)
    graph.graph["name"] = instance.name
    return graph


def fabric_from_spec(spec: FabricSpec, chip_lane_GBps: float | None = None) -> nx.Graph:
    p: Any = spec.params
    if spec.family == "dims":
        return dims_fabric(p.dims)
    if spec.family == "ub-mesh":
        return ubmesh_fabric(p, p.lane_GBps or chip_lane_GBps or _DEFAULT_LANE_GBPS)
    if spec.family == "clos":
        return rail_optimized_fabric(p) if p.variant == "rail-optimized" else clos_fabric(p)
    if spec.family == "torus":
        return torus_fabric(p.shape, p.bandwidth_GBps, p.latency_ns, p.twist)
    return dragonfly_fabric(p)
