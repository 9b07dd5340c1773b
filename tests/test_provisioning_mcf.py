"""The per-chip route model against an exact chip-level max-concurrent flow (scipy's HiGHS, no
OR-Tools) of the same per-level demand, routed over any path of the chip graph: on a 64-chip
UB-Mesh with two pods (direct per level, or up and down the HRS, dominate every other path), on
meshes carrying a pipeline chain (the neighbour factor of `route_factor`) and on a torus carrying
uniform exchanges (mean shortest-path hops). Both must give the same lambda."""

import numpy as np
import pytest
import scipy.sparse as sp
from provisioning_toy import DRAGONFLY, RAIL
from scipy.optimize import linprog

from topo_opt.design import derive
from topo_opt.families.common import chip_lines
from topo_opt.instance import instance_from_mapping
from topo_opt.netspec import nominal_lanes
from topo_opt.provisioning.model import max_concurrent_flow

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


def pipeline_mesh(n: int) -> dict:
    """n-chip full meshes (a pipeline chain of n stages) x 4 across cabinets."""
    return {
        "name": f"mesh{n}x4",
        "chip": {"name": "toy", "tdp_w": 100, "interconnect_GBps": 320, "lanes": 32},
        "fabric": {"family": "dims", "dims": [{"shape": "full-mesh", "size": n, "bandwidth_GBps": 30},
                                              {"shape": "full-mesh", "size": 4, "bandwidth_GBps": 20}]},
        "cabinets": [{"kind": "compute", "count": 4, "chips": n, "power_cap_kw": 10, "cooling": "air",
                      "cooling_capacity_kw": 10}],
        "floor": {"rows": 1, "slots_per_row": 4, "slot_width_m": 0.6, "row_pitch_m": 2.0, "row_power_kw": 50},
        "media": ["dac", "aec", "optics-800g"],
        "workload": {"collectives": ["all-reduce"], "layout": f"pp={n},dp=4"},
    }


TORUS = {
    "name": "torus6x4",
    "chip": {"name": "toy", "tdp_w": 100, "interconnect_GBps": 160, "lanes": 16},
    "fabric": {"family": "torus", "shape": [6, 4], "bandwidth_GBps": 20},
    "cabinets": [{"kind": "compute", "count": 4, "chips": 6, "power_cap_kw": 10, "cooling": "air",
                  "cooling_capacity_kw": 10}],
    "floor": {"rows": 1, "slots_per_row": 4, "slot_width_m": 0.6, "row_pitch_m": 2.0, "row_power_kw": 50},
    "media": ["dac", "aec", "optics-800g"],
    "workload": {"collectives": ["all-to-all"]},
}


def _pairs(line, pattern, per_chip, column):
    """Chip-to-node demand along one line: exchange spreads a chip's bytes over its peers; a
    neighbour (pipeline) chain splits the line's bytes over its n - 1 boundaries, both ways."""
    n = len(line)
    out = []
    if pattern == "exchange":
        out = [(s, column[t], per_chip / (n - 1)) for s in line for t in line if s != t]
    else:
        each = per_chip * n / (2 * (n - 1))
        for a, b in zip(line[:-1], line[1:], strict=True):
            out += [(a, column[b], each), (b, column[a], each)]
    return out


def chip_level_lambda(graph, spec, demand, lanes, uniform_GBps=None):
    """max lambda: source-aggregated multi-commodity flow on the chip graph with scaled capacities.
    The demand runs along each level's lines, or with `uniform_GBps`, from every chip to every other."""
    class_of = spec.class_of_kind()
    nominal = nominal_lanes(spec)
    edges = [(u, v, d["bandwidth_GBps"] * lanes[class_of[d["kind"]]] / nominal[class_of[d["kind"]]])
             for u, v, d in graph.edges(data=True) if class_of.get(d["kind"]) in lanes
             and not spec.link_class(class_of[d["kind"]]).fixed]
    nodes = sorted({n for u, v, _ in edges for n in (u, v)})
    index = {n: i for i, n in enumerate(nodes)}
    arcs = [(index[u], index[v], c) for u, v, c in edges] + [(index[v], index[u], c) for u, v, c in edges]
    chips = sum(1 for _, k in graph.nodes(data="kind") if k == "chip")
    n_nodes, n_arcs = len(nodes), len(arcs)
    pair = np.zeros((chips, n_nodes))
    sizes = tuple(lv.size for lv in spec.levels)
    level_index = {lv.name: i for i, lv in enumerate(spec.levels)}
    for level, pattern, d in demand if uniform_GBps is None else ():
        for line in chip_lines(sizes, level_index[level]):
            for s, t, amount in _pairs(list(line), pattern, d, index):
                pair[s, t] += amount
    if uniform_GBps is not None:
        pair[:, [index[c] for c in range(chips)]] = uniform_GBps * (1 - np.eye(chips))
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


def _model_of(raw: dict):
    """The fabric graph, network spec and per-level demand (per unit buffer) of an instance."""
    design = derive(instance_from_mapping(raw, f"{raw['name']}.yaml"))
    return design.graph, design.spec, design.traffic.demand


@pytest.mark.parametrize(("raw", "lanes"), [
    (SMALL_UBMESH, {"x": 24, "y": 24, "inter_rack": 16, "uplink": 4, "lrs": 4}),  # the published split
    (SMALL_UBMESH, {"x": 6, "y": 2, "inter_rack": 1, "uplink": 8, "lrs": 4}),  # thin meshes: HRS detours
    (pipeline_mesh(8), {"mesh0": 1, "mesh1": 30}),  # the pipeline chain binds
    (pipeline_mesh(5), {"mesh0": 1, "mesh1": 30}),
    (TORUS, {"ring0": 4, "ring1": 3}),  # uniform exchange on rings: mean shortest-path hops
])
def test_route_model_matches_chip_level_max_concurrent_flow(raw, lanes):
    graph, spec, demand = _model_of(raw)
    lanes = {k: float(v) for k, v in lanes.items()}
    assert max_concurrent_flow(spec, demand, lanes) == pytest.approx(
        chip_level_lambda(graph, spec, demand, lanes), rel=1e-6)


# One rail leaf (16 servers of 2 chips in one cabinet): the chip-level LP stays small.
SMALL_RAIL = {**RAIL, "name": "rail32", "fabric": {**RAIL["fabric"], "chips": 32},
              "cabinets": [{**RAIL["cabinets"][0], "count": 1}, RAIL["cabinets"][1]]}


@pytest.mark.parametrize(("raw", "lanes", "exact"), [
    (SMALL_RAIL, {"server": 8, "rail": 1}, True),  # the rail binds: every route is forced
    pytest.param(RAIL, {"server": 8, "rail": 1}, True, marks=pytest.mark.slow),  # with spines (~12 s)
    (SMALL_RAIL, {"server": 1, "rail": 2}, False),  # the server domain binds
    (DRAGONFLY, {"terminal": 1, "local": 1, "global": 1}, False),
    (DRAGONFLY, {"terminal": 1, "local": 1, "global": 2}, False),
    (DRAGONFLY, {"terminal": 2, "local": 3, "global": 1}, False),
])
def test_route_model_against_a_chip_level_all_to_all(raw, lanes, exact):
    """A true all-to-all (every chip to every other, not along level lines). Rail-optimized: the
    rails carry same-rank traffic between servers and the server domain the rest; exact while the
    rails bind, a lower bound otherwise (the shared spines could carry server traffic too).
    Dragonfly: minimal routes only, a lower bound (Valiant paths trade global for local load)."""
    graph, spec, demand = _model_of(raw)
    lanes = {k: float(v) for k, v in lanes.items()}
    model = max_concurrent_flow(spec, demand, lanes)
    chip_level = chip_level_lambda(graph, spec, demand, lanes, uniform_GBps=1 / spec.chips)
    if exact:
        assert model == pytest.approx(chip_level, rel=1e-6)
    else:
        assert model <= chip_level * (1 + 1e-6)
