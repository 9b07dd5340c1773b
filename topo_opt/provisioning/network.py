"""The fabric as the provisioning model sees it: each family's `network_spec` (`topo_opt.families`,
data types in `topo_opt.netspec`), and the demand scale the model derives from it."""

import networkx as nx
import numpy as np

from topo_opt.errors import InfeasibleError
from topo_opt.instance import Instance
from topo_opt.netspec import NetworkSpec, capacities_GBps, nominal_lanes
from topo_opt.physical import Cabinet
from topo_opt.provisioning.traffic import Traffic


def network_spec(instance: Instance, graph: nx.Graph, node_cab: np.ndarray,
                 cabinets: tuple[Cabinet, ...]) -> NetworkSpec:
    """The group-level view of the instance's fabric (every family is modelled)."""
    return instance.fabric.family_def.network_spec(instance, graph, node_cab, cabinets)


def default_loads(spec: NetworkSpec, demand: tuple[tuple[str, str, float], ...]) -> dict[str, float]:
    """Load per resource when every (level, pattern) takes its first (dimension-ordered) route."""
    loads = {r.name: 0.0 for r in spec.resources}
    for level, pattern, d in demand:
        route = next((r for r in spec.routes if r.level == level and r.pattern == pattern), None)
        if route is None:
            raise InfeasibleError(f"level {level}: the fabric has no links that carry its traffic")
        for res, factor in route.uses:
            loads[res] += factor * d
    return loads


def reference_rate(spec: NetworkSpec, traffic: Traffic) -> float:
    """R: the buffer rate the instance's own fabric carries with dimension-ordered routes,
    min over resources of capacity / load at unit rate. The workload's demand is target x R."""
    caps = capacities_GBps(spec, nominal_lanes(spec))
    loads = default_loads(spec, traffic.demand)
    return min(caps[r] / load for r, load in loads.items() if load > 0)
