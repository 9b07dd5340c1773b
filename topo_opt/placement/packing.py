"""Chips -> cabinets: how `physical.node_cabinets` packs the fabric, checked and reported.

A UB-Mesh rack is one cabinet (the instance loader insists on it). Elsewhere chips fill the compute
cabinets in fabric order, so each cabinet holds consecutive servers: servers of a Clos stay whole when
the cabinet's chips are a multiple of the server's, and consecutive servers share leaves (pods). The
cabinet's power against its own power and cooling caps is checked by the placement pre-checks; here
it is reported with the headroom left.
"""

import networkx as nx
import numpy as np

from topo_opt.instance import Instance, fabric_chip_count
from topo_opt.physical import Cabinet


def packing_report(
    instance: Instance, graph: nx.Graph, cabinets: tuple[Cabinet, ...], node_cab: np.ndarray
) -> dict:
    chips = fabric_chip_count(instance.fabric)
    servers = [n for n, role in graph.nodes(data="role") if role == "server"]
    split = sum(1 for sw in servers if len({int(node_cab[c]) for c in graph.neighbors(sw) if c < chips}) > 1)
    compute = [c for c in cabinets if c.kind == "compute"]
    headroom = [min(c.power_cap_kw, c.cooling_capacity_kw) - c.power_kw for c in cabinets]
    method = instance.fabric.family_def.packing
    method += f"; {split} of {len(servers)} servers split across cabinets" if servers else ""
    return {
        "method": method,
        "compute_cabinets": len(compute),
        "chips_per_cabinet": sorted({c.chips for c in compute}),
        "servers": len(servers),
        "servers_split": split,
        "groups": len({c.group for c in cabinets}),
        "min_headroom_kw": round(min(headroom), 3) if headroom else None,
    }
