"""The per-chip route model against an exact chip-level max-concurrent flow (scipy's HiGHS, no
OR-Tools) on a 64-chip UB-Mesh with two pods: both must give the same lambda, because the fabric
is chip-symmetric and the model's routes (direct per level, or up and down the HRS) dominate
every other path."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.optimize import linprog

from topo_opt.fabric import build_fabric
from topo_opt.fabric.common import chip_lines
from topo_opt.instance import instance_from_mapping
from topo_opt.physical import cabinets_of, node_cabinets
from topo_opt.provisioning.model import max_concurrent_flow
from topo_opt.provisioning.network import network_spec, nominal_lanes
from topo_opt.provisioning.traffic import workload_traffic

SMALL_UBMESH = {
    "name": "ubmesh64",
    "chip": "ascend-950dt",
    "fabric": {"family": "ub-mesh", "board_npus": 4, "rack_boards": 2, "pod_rows": 2, "pod_cols": 2,
               "pods": 2},
    "cabinets": [
        {"kind": "compute", "count": 8, "chips": 8, "power_cap_kw": 20, "cooling": "liquid",
         "cooling_capacity_kw": 20},
        {"kind": "interconnect", "count": 2, "power_cap_kw": 10, "cooling": "air", "cooling_capacity_kw": 10,
         "switches": 2, "switch_power_kw": 2.5},
    ],
    "floor": {"rows": 2, "slots_per_row": 6, "slot_width_m": 1.2, "row_pitch_m": 4.0, "row_power_kw": 200},
    "media": ["dac", "aec", "optics-800g"],
    "workload": {"collectives": ["all-reduce"], "layout": "tp=4,dp=16"},
}


def chip_level_lambda(graph, spec, demand, lanes):
    """max lambda: source-aggregated multi-commodity flow on the chip graph with scaled capacities."""
    class_of = spec.class_of_kind()
    nominal = nominal_lanes(spec)
    edges = [(u, v, d["bandwidth_GBps"] * lanes[class_of[d["kind"]]] / nominal[class_of[d["kind"]]])
             for u, v, d in graph.edges(data=True) if class_of.get(d["kind"]) in lanes
             and not spec.link_class(class_of[d["kind"]]).fixed]
    nodes = sorted({n for u, v, _ in edges for n in (u, v)})
    index = {n: i for i, n in enumerate(nodes)}
    arcs = [(index[u], index[v], c) for u, v, c in edges] + [(index[v], index[u], c) for u, v, c in edges]
    chips = graph.graph["chips"]
    n_nodes, n_arcs = len(nodes), len(arcs)
    pair = np.zeros((chips, n_nodes))
    sizes = tuple(lv.size for lv in spec.levels)
    per_level = {lv: sum(d for lv2, _, d in demand if lv2 == lv) for lv, _, _ in demand}
    for i, lv in enumerate(spec.levels):
        for line in chip_lines(sizes, i):
            for s in line:
                for t in line:
                    if s != t:
                        pair[s, index[t]] += per_level.get(lv.name, 0.0) / (lv.size - 1)
    tail = np.array([a for a, _, _ in arcs])
    head = np.array([b for _, b, _ in arcs])
    n_vars = chips * n_arcs + 1
    rows, cols, vals = [], [], []
    for s in range(chips):  # conservation: out - in - supply x lambda = 0 at every node
        base = s * n_arcs
        rows += list(s * n_nodes + tail) + list(s * n_nodes + head)
        cols += list(base + np.arange(n_arcs)) * 2
        vals += [1.0] * n_arcs + [-1.0] * n_arcs
        supply = -pair[s].copy()
        supply[index[s]] = pair[s].sum()
        rows += list(s * n_nodes + np.arange(n_nodes))
        cols += [n_vars - 1] * n_nodes
        vals += list(-supply)
    a_eq = sp.csr_matrix((vals, (rows, cols)), shape=(chips * n_nodes, n_vars))
    cap_rows = np.tile(np.arange(n_arcs), chips)
    cap_cols = np.arange(chips * n_arcs)
    a_ub = sp.csr_matrix((np.ones(chips * n_arcs), (cap_rows, cap_cols)), shape=(n_arcs, n_vars))
    c = np.zeros(n_vars)
    c[-1] = -1.0
    res = linprog(c, A_ub=a_ub, b_ub=np.array([cap for _, _, cap in arcs]), A_eq=a_eq,
                  b_eq=np.zeros(chips * n_nodes), bounds=(0, None), method="highs")
    assert res.status == 0, res.message
    return -res.fun


@pytest.mark.parametrize("lanes", [
    {"x": 24, "y": 24, "inter_rack": 16, "uplink": 4, "lrs": 4},  # the published split
    {"x": 6, "y": 2, "inter_rack": 1, "uplink": 8, "lrs": 4},  # thin meshes: traffic detours via the HRS
])
def test_route_model_matches_chip_level_max_concurrent_flow(lanes):
    inst = instance_from_mapping(SMALL_UBMESH, "ubmesh64.yaml")
    graph = build_fabric(inst)
    cabinets = cabinets_of(inst)
    spec = network_spec(inst, graph, node_cabinets(inst, graph, cabinets), cabinets)
    demand = workload_traffic(inst, spec.levels).demand
    assert {p for _, p, _ in demand} == {"exchange"}
    lanes = {k: float(v) for k, v in lanes.items()}
    assert max_concurrent_flow(spec, demand, lanes) == pytest.approx(
        chip_level_lambda(graph, spec, demand, lanes), rel=1e-6)
