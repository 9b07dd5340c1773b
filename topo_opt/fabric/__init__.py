"""Fabrics: the per-chip graph every family builds (`topo_opt.families`), and its conventions.

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

The graph carries no attributes of its own: what the stages need to know about the fabric as a
whole (family, chips, name, the product dimensions the scorer routes by, named groups, symmetry)
is the typed `FabricDesc` that travels beside it in a `Fabric` (`topo_opt.families.base`).
"""

from topo_opt.families import FAMILIES, Fabric


def build_fabric(instance) -> Fabric:
    """The instance's fabric (graph and typed description), named after the instance."""
    spec = instance.fabric
    lane_GBps = instance.chip.lane_GBps if instance.chip else None
    return FAMILIES[spec.family].build(spec.params, lane_GBps, instance.name)
