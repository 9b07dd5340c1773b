"""The derived design: what every stage needs from an instance, built once and handed to
placement, provisioning and verification (nothing is computed twice).

- fabric: the graph and its typed description (`families`);
- cabinets: every cabinet with its power from contents (`physical.cabinets_of`);
- node_cab: the cabinet of every graph node (`physical.node_cabinets`);
- bundles: the fabric's links between cabinets, aggregated per cabinet pair;
- spec: the provisioning model's view of the fabric (the family's `network_spec`);
- traffic: the workload's per-level demand per unit of buffer rate (`provisioning.traffic`).
"""

from dataclasses import dataclass, replace

import numpy as np

from topo_opt.errors import InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.families.base import ClusterOf, Fabric
from topo_opt.instance import Instance, parse_layout
from topo_opt.netspec import NetworkSpec
from topo_opt.physical import Cabinet, cabinet_bundles, cabinets_of, node_cabinets
from topo_opt.provisioning.traffic import Traffic, workload_traffic


@dataclass(frozen=True, eq=False)
class Design:
    instance: Instance
    fabric: Fabric
    cabinets: tuple[Cabinet, ...]
    node_cab: np.ndarray
    bundles: dict[tuple[int, int], dict]
    spec: NetworkSpec
    traffic: Traffic

    @property
    def graph(self):
        return self.fabric.graph


def derive(instance: Instance, fabric: Fabric | None = None) -> Design:
    """The design of an instance with physical sections (InstanceError when they are missing)."""
    fabric = fabric or build_fabric(instance)
    cabinets = cabinets_of(instance)
    node_cab = node_cabinets(instance, fabric.graph, cabinets)
    spec = instance.fabric.family_def.network_spec(instance, fabric.graph, node_cab, cabinets)
    return Design(instance, fabric, cabinets, node_cab, cabinet_bundles(fabric.graph, node_cab), spec,
                  workload_traffic(instance, spec.levels))


def member_instance(instance: Instance, cluster: ClusterOf) -> Instance:
    """One member (SuperPoD) of a cluster fabric as an instance of its own: the same chip,
    cabinets, floor, media and workload (the physical sections describe one SuperPoD's hall), the
    member's fabric section, no halls. The layout's outermost axis spans the SuperPoDs (data
    parallel across the DCN): one SuperPoD keeps it divided by the number of SuperPoDs."""
    workload = instance.workload
    terms = parse_layout(workload.layout) if workload.layout else ()
    if terms:
        name, size = terms[-1]
        if size % cluster.copies:
            raise InstanceError(instance.source_file, "workload.layout",
                                f"the outermost axis {name}={size} spans the {cluster.copies} SuperPoDs, so it must "
                                f"be a multiple of {cluster.copies}")
        inner = terms[:-1] + ((name, size // cluster.copies),)
        workload = replace(workload, layout=",".join(f"{n}={k}" for n, k in inner))
    return replace(instance, name=f"{instance.name}-superpod", fabric=cluster.member, workload=workload, hall=None)
