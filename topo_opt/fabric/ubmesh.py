"""UB-Mesh nD-FullMesh (Liao et al., arXiv 2503.20377), at chip granularity."""

import math
from collections import Counter

import networkx as nx
import numpy as np

from topo_opt.fabric.common import add_chips, add_links, add_switches, chip_lines, dim_record, mesh_pairs
from topo_opt.instance import UbMeshParams


def ubmesh_fabric(p: UbMeshParams, lane_GBps: float) -> nx.Graph:
    """UB-Mesh: 4D full mesh inside a pod, a two-tier HRS Clos over pods, an LRS per rack.

    Chip coordinates are (x, y, z, w, pod): x = NPU on its board, y = board in the rack,
    (z, w) = rack position in the pod's `pod_rows` x `pod_cols` grid. Links per NPU:

    - X (``kind="x"``): full mesh of the board's NPUs; `lanes_x` spread over the x-1 peers;
    - Y (``"y"``): full mesh of same-x NPUs over the rack's boards; `lanes_y` over y-1 peers;
    - Z/W (``"z"``, ``"w"``): same-position NPUs of the racks in a row / column of the pod;
      `lanes_inter_rack` split evenly over the (rows-1)+(cols-1) peer racks;
    - uplink (``"uplink"``): `lanes_uplink` to one of the pod's HRS leaves (round-robin), whose
      `hrs_radix_lanes / 2` up-lanes spread evenly over all HRS spines (a non-blocking
      two-tier Clos over pods); no HRS when there is one pod and no uplink lanes;
    - LRS (``"lrs"``): `lanes_lrs` to the rack's low-radix switch, which also holds the
      `spare_npus` spares (the 64 + 1 backup scheme) on `lanes_lrs` each.

    Per-peer bandwidth = lanes x `lane_GBps`. Each rack is one cabinet (node ``cabinet``);
    HRS switches carry ``cabinet = -1`` until placement puts them in interconnect cabinets.
    """
    sizes = (p.board_npus, p.rack_boards, p.pod_rows, p.pod_cols, p.pods)
    chips = math.prod(sizes)
    graph = nx.Graph(family="ub-mesh", chips=chips, dims=[])
    add_chips(graph, sizes)
    rack_of = np.arange(chips) // p.rack_npus
    nx.set_node_attributes(graph, {i: int(rack_of[i]) for i in range(chips)}, "cabinet")
    nx.set_node_attributes(graph, {i: i // p.board_npus for i in range(chips)}, "board")

    peers_inter = (p.pod_rows - 1) + (p.pod_cols - 1)
    levels = (
        ("x", 0, p.lanes_x / max(p.board_npus - 1, 1), p.latency_board_ns),
        ("y", 1, p.lanes_y / max(p.rack_boards - 1, 1), p.latency_rack_ns),
        ("z", 2, p.lanes_inter_rack / max(peers_inter, 1), p.latency_inter_rack_ns),
        ("w", 3, p.lanes_inter_rack / max(peers_inter, 1), p.latency_inter_rack_ns),
    )
    for kind, dim, lanes, latency in levels:
        if sizes[dim] < 2:
            continue
        bw = lanes * lane_GBps
        add_links(graph, mesh_pairs(chip_lines(sizes, dim)),
                  bandwidth_GBps=bw, latency_ns=latency, lanes=lanes, kind=kind)
        graph.graph["dims"].append(dim_record("full-mesh", sizes[dim], bw, latency, kind))

    _add_lrs(graph, p, lane_GBps, chips)
    if p.pods > 1 or p.lanes_uplink:
        _add_hrs_clos(graph, p, lane_GBps, chips)
        if p.pods > 1:
            graph.graph["dims"].append(dim_record(
                "switch", p.pods, p.lanes_uplink * lane_GBps, 2 * p.latency_switch_ns, "uplink"))
    return graph


def _add_lrs(graph: nx.Graph, p: UbMeshParams, lane_GBps: float, chips: int) -> None:
    if not p.lanes_lrs:
        return
    racks = chips // p.rack_npus
    lrs = add_switches(graph, racks, "lrs")
    attrs = {"bandwidth_GBps": p.lanes_lrs * lane_GBps, "latency_ns": p.latency_switch_ns,
             "lanes": p.lanes_lrs, "kind": "lrs"}
    for rack, sw in enumerate(lrs):
        graph.nodes[sw]["cabinet"] = rack
        graph.add_edges_from(((c, sw) for c in range(rack * p.rack_npus, (rack + 1) * p.rack_npus)), **attrs)
        start = graph.number_of_nodes()
        graph.add_nodes_from(range(start, start + p.spare_npus), kind="spare", cabinet=rack, board=-1)
        graph.add_edges_from(((s, sw) for s in range(start, start + p.spare_npus)), **attrs)


def _add_hrs_clos(graph: nx.Graph, p: UbMeshParams, lane_GBps: float, chips: int) -> None:
    """Leaves per pod = ceil(pod NPUs x uplink lanes / (radix/2)); spines = ceil(leaves / 2)."""
    half = p.hrs_radix_lanes // 2
    pod_npus = p.rack_npus * p.pod_racks
    leaves_per_pod = max(1, math.ceil(pod_npus * p.lanes_uplink / half))
    leaves = add_switches(graph, leaves_per_pod * p.pods, "hrs-leaf")
    up_attrs = {"bandwidth_GBps": p.lanes_uplink * lane_GBps, "latency_ns": p.latency_switch_ns,
                "lanes": p.lanes_uplink, "kind": "uplink"}
    graph.add_edges_from(((c, leaves[(c // pod_npus) * leaves_per_pod + (c % pod_npus) % leaves_per_pod])
                          for c in range(chips)), **up_attrs)
    if p.pods < 2:
        return
    spines = add_switches(graph, max(1, math.ceil(len(leaves) / 2)), "hrs-spine")
    bundles: Counter = Counter()
    for i, leaf in enumerate(leaves):
        for port in range(half):
            bundles[(leaf, spines[(i * half + port) % len(spines)])] += 1
    for (leaf, spine), lanes in sorted(bundles.items()):
        graph.add_edge(leaf, spine, bandwidth_GBps=lanes * lane_GBps, latency_ns=p.latency_switch_ns,
                       lanes=lanes, kind="hrs")
