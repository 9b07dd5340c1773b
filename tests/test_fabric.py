"""Generators against closed forms: link counts, degrees, diameters, bisection."""

import math
from collections import Counter

import networkx as nx
import pytest

from topo_opt.fabric.analysis import bisection, half_splits, hop_stats, split_maxflow_GBps
from topo_opt.families.clos import clos_fabric, fat_tree_bisection_GBps, rail_optimized_fabric
from topo_opt.families.dims import dims_fabric
from topo_opt.families.dragonfly import dragonfly_fabric
from topo_opt.families.torus import torus_fabric
from topo_opt.families.ub_mesh import ubmesh_fabric
from topo_opt.instance import ClosParams, DimSpec, DragonflyParams, UbMeshParams


def chip_degrees(g):
    return Counter(d for n, d in g.degree() if g.nodes[n]["kind"] == "chip")


@pytest.mark.parametrize("k", [2, 3, 5, 8, 16])
def test_full_mesh_links(k):
    fab = dims_fabric((DimSpec("full-mesh", k, 10.0),))
    g = fab.graph
    assert g.number_of_edges() == k * (k - 1) // 2
    assert chip_degrees(g) == {k - 1: k}


@pytest.mark.parametrize("sizes", [(4, 4), (8, 3), (2, 5), (4, 4, 4)])
def test_dims_product_of_full_meshes(sizes):
    fab = dims_fabric(tuple(DimSpec("full-mesh", s, 1.0) for s in sizes))
    g = fab.graph
    n = math.prod(sizes)
    assert g.number_of_edges() == sum(n // s * s * (s - 1) // 2 for s in sizes)
    assert chip_degrees(g) == {sum(s - 1 for s in sizes): n}


def test_switch_dimension_one_switch_per_line():
    fab = dims_fabric((DimSpec("ring", 4, 1.0), DimSpec("switch", 6, 2.0)))
    g = fab.graph
    switches = [n for n, k in g.nodes(data="kind") if k == "switch"]
    assert len(switches) == 4  # one per line along the switch dimension
    assert all(g.degree(s) == 6 for s in switches)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5, 7), (8, 8, 8), (2, 4), (4, 4, 4, 4)])
def test_torus_links_and_degree(shape):
    fab = torus_fabric(shape, 50.0)
    g = fab.graph
    n = math.prod(shape)
    assert g.number_of_edges() == sum(n if k > 2 else n // 2 for k in shape)
    assert chip_degrees(g) == {sum(2 if k > 2 else 1 for k in shape): n}


@pytest.mark.parametrize("k,n", [(4, 2), (5, 2), (4, 3), (6, 3), (3, 4)])
def test_k_ary_n_cube_diameter(k, n):
    fab = torus_fabric((k,) * n, 1.0)
    g = fab.graph
    hops = hop_stats(fab)
    assert hops["diameter_hops"] == n * (k // 2)
    assert hops["diameter_hops"] == nx.diameter(g)
    # mean distance of a ring of k: sum over offsets of min(j, k-j) / (k-1); summed over dimensions.
    ring_sum = sum(min(j, k - j) for j in range(k))
    assert hops["mean_hops"] == pytest.approx(n * ring_sum * k ** (n - 1) / (k**n - 1))


@pytest.mark.parametrize("shape", [(4, 8), (4, 4, 8), (4, 8, 8), (8, 16, 32)])
def test_twisted_torus_keeps_links_and_degree(shape):
    plain, twisted = torus_fabric(shape, 1.0), torus_fabric(shape, 1.0, twist=True)
    assert twisted.graph.number_of_edges() == plain.graph.number_of_edges()
    assert chip_degrees(twisted.graph) == chip_degrees(plain.graph)
    assert nx.is_connected(twisted.graph)
    assert set(twisted.graph.edges()) != set(plain.graph.edges())
    assert hop_stats(twisted)["diameter_hops"] <= hop_stats(plain)["diameter_hops"]


def test_twisted_torus_symmetric_hops_match_all_pairs():
    fab = torus_fabric((4, 8), 1.0, twist=True)
    g = fab.graph
    lengths = dict(nx.all_pairs_shortest_path_length(g))
    assert hop_stats(fab)["diameter_hops"] == max(max(d.values()) for d in lengths.values())
    mean = sum(sum(d.values()) for d in lengths.values()) / (32 * 31)
    assert hop_stats(fab)["mean_hops"] == pytest.approx(mean)


@pytest.mark.parametrize("shape", [(4, 4), (4, 6, 8), (8, 8)])
def test_torus_bisection_closed_form_matches_max_flow(shape):
    fab = torus_fabric(shape, 25.0)
    closed = bisection(fab)
    assert closed["method"] == "closed-form"
    assert closed["bisection_GBps"] == pytest.approx(2 * math.prod(shape) / max(shape) * 25.0)
    best_cut = min(split_maxflow_GBps(fab, side) for side in half_splits(fab))
    assert best_cut == pytest.approx(closed["bisection_GBps"], rel=1e-6)


def test_ubmesh_rack_degrees_and_lanes():
    p = UbMeshParams(pod_rows=1, pod_cols=1, pods=1, lanes_uplink=0)
    fab = ubmesh_fabric(p, 2000 / 72)
    g = fab.graph
    chips = [n for n, k in g.nodes(data="kind") if k == "chip"]
    assert len(chips) == 64
    # 7 board peers + 7 rack peers + the LRS, for every chip of the rack
    assert {g.degree(c) for c in chips} == {7 + 7 + 1}
    for c in chips:
        kinds = Counter(d["kind"] for _, _, d in g.edges(c, data=True))
        assert kinds == {"x": 7, "y": 7, "lrs": 1}
        lanes = sum(d["lanes"] for _, _, d in g.edges(c, data=True))
        assert lanes == pytest.approx(p.lanes_x + p.lanes_y + p.lanes_lrs)
    assert sum(1 for _, k in g.nodes(data="kind") if k == "spare") == 1


def test_ubmesh_pod_spends_the_whole_lane_budget():
    p = UbMeshParams(pods=2)
    fab = ubmesh_fabric(p, 2000 / 72)
    g = fab.graph
    assert fab.chips == 2 * 1024
    for c in (0, 777, 2047):
        assert sum(d["lanes"] for _, _, d in g.edges(c, data=True)) == pytest.approx(72)
        kinds = Counter(d["kind"] for _, _, d in g.edges(c, data=True))
        assert kinds == {"x": 7, "y": 7, "z": 3, "w": 3, "lrs": 1, "uplink": 1}
    roles = Counter(r for _, r in g.nodes(data="role") if r)
    leaves = 2 * math.ceil(1024 * p.lanes_uplink / (p.hrs_radix_lanes // 2))
    assert roles == {"lrs": 32, "hrs-leaf": leaves, "hrs-spine": leaves // 2}
    # every HRS leaf uses radix/2 lanes down and radix/2 up (non-blocking)
    for n, r in g.nodes(data="role"):
        if r == "hrs-leaf":
            up = sum(d["lanes"] for _, _, d in g.edges(n, data=True) if d["kind"] == "hrs")
            assert up == p.hrs_radix_lanes // 2
    assert nx.is_connected(g)


def test_two_tier_fat_tree_counts_and_bisection():
    p = ClosParams(chips=128, radix=16, port_GBps=100.0)
    fab = clos_fabric(p)
    g = fab.graph
    roles = Counter(r for _, r in g.nodes(data="role") if r)
    assert roles == {"leaf": 16, "spine": 8}
    assert sum(d["lanes"] for _, _, d in g.edges(data=True) if d["kind"] == "leaf-spine") == 16 * 8
    closed = bisection(fab)
    assert closed["bisection_GBps"] == pytest.approx(128 / 2 * 100.0)
    assert split_maxflow_GBps(fab, half_splits(fab)[0]) == pytest.approx(closed["bisection_GBps"])


def test_oversubscribed_fat_tree_bisection():
    p = ClosParams(chips=96, radix=16, port_GBps=100.0, oversubscription=3.0)
    fab = clos_fabric(p)
    down, up = p.leaf_ports()
    assert (down, up) == (12, 4)
    expected = fat_tree_bisection_GBps(96, 100.0, down, up)
    assert expected == pytest.approx(96 / 2 * 100.0 / 3)
    assert split_maxflow_GBps(fab, half_splits(fab)[0]) == pytest.approx(expected)


def test_three_tier_k_ary_fat_tree():
    k = 8
    fab = clos_fabric(ClosParams(chips=k**3 // 4, radix=k, tiers=3))
    g = fab.graph
    roles = Counter(r for _, r in g.nodes(data="role") if r)
    assert roles == {"leaf": k * k // 2, "agg": k * k // 2, "core": k * k // 4}
    assert sum(d["lanes"] for _, _, d in g.edges(data=True)) == 3 * k**3 // 4
    switch_ports = {n: sum(d["lanes"] for _, _, d in g.edges(n, data=True))
                    for n, kind in g.nodes(data="kind") if kind == "switch"}
    assert set(switch_ports.values()) == {k}
    assert split_maxflow_GBps(fab, half_splits(fab)[0]) == pytest.approx(k**3 / 8 * 100.0)


def test_rail_optimized_one_rail_per_local_rank():
    p = ClosParams(chips=128, radix=16, variant="rail-optimized", server_chips=8)
    fab = rail_optimized_fabric(p)
    g = fab.graph
    for c in range(128):
        leaf = next(n for n in g.neighbors(c) if g.nodes[n]["role"] == "leaf")
        rank_peers = {m % 8 for m in g.neighbors(leaf) if m < 128}
        assert rank_peers == {c % 8}
    assert nx.is_connected(g)


def test_dragonfly_counts():
    p = DragonflyParams(groups=9, routers_per_group=4, chips_per_router=2, global_links_per_router=2)
    fab = dragonfly_fabric(p)
    g = fab.graph
    assert fab.chips == 72
    local = sum(1 for _, _, k in g.edges(data="kind") if k == "local")
    assert local == 9 * 4 * 3 // 2
    global_lanes = sum(d["lanes"] for _, _, d in g.edges(data=True) if d["kind"] == "global")
    assert global_lanes == 9 * 8 // 2  # one link per group pair, a*h = g-1
    assert hop_stats(fab)["diameter_hops"] == 5  # chip-router-router-router-router-chip at most
