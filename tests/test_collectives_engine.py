"""The fast engine (symmetric and per-flow) against the brute-force reference, and congestion."""

import numpy as np
import pytest

from topo_opt.collectives import COLLECTIVES, routing, score_fabric, shortest
from topo_opt.collectives.algorithms import ALGORITHMS, NotApplicable, build_schedule
from topo_opt.collectives.brute import route_dense
from topo_opt.collectives.engine import Evaluator, chip_flows
from topo_opt.collectives.groups import Groups, make_groups
from topo_opt.collectives.paths import demand_loads, node_pairs
from topo_opt.collectives.routing import network, route_pairs
from topo_opt.collectives.schedule import GroupShape
from topo_opt.families.clos import clos_fabric, rail_optimized_fabric
from topo_opt.families.dims import dims_fabric
from topo_opt.families.dragonfly import dragonfly_fabric
from topo_opt.families.torus import torus_fabric
from topo_opt.families.ub_mesh import ubmesh_fabric
from topo_opt.instance import ClosParams, DimSpec, DragonflyParams, UbMeshParams

SIZE = 3 * 2**20 + 7


def small_fabrics() -> dict:
    """A small instance of every family and shape the scorer meets."""
    return {
        "dims-ring": dims_fabric((DimSpec("ring", 8, 50, 300),)),
        "dims-mesh": dims_fabric((DimSpec("full-mesh", 6, 40, 200),)),
        "dims-switch": dims_fabric((DimSpec("switch", 5, 30, 100),)),
        "dims-mixed": dims_fabric((DimSpec("ring", 4, 50, 300), DimSpec("full-mesh", 3, 40, 200),
                                   DimSpec("switch", 2, 30, 100))),
        "torus": torus_fabric((4, 4), 50, 500),
        "torus-twisted": torus_fabric((3, 6), 50, 500, twist=True),
        "ubmesh-rack": ubmesh_fabric(UbMeshParams(board_npus=4, rack_boards=4, pod_rows=1, pod_cols=1,
                                                  lanes_uplink=0), 27.78),
        "ubmesh-pods": ubmesh_fabric(UbMeshParams(board_npus=2, rack_boards=2, pod_rows=2, pod_cols=2, pods=2,
                                                  hrs_radix_lanes=32), 27.78),
        "clos-fat-tree": clos_fabric(ClosParams(chips=16, radix=8, port_GBps=100)),
        "clos-3-tier": clos_fabric(ClosParams(chips=16, radix=4, port_GBps=100, tiers=3)),
        "clos-oversubscribed": clos_fabric(ClosParams(chips=24, radix=8, port_GBps=100, oversubscription=3)),
        "clos-rail": rail_optimized_fabric(ClosParams(chips=16, radix=8, port_GBps=50,
                                                      variant="rail-optimized", server_chips=4)),
        "dragonfly": dragonfly_fabric(DragonflyParams(groups=3, routers_per_group=2, chips_per_router=2,
                                                      global_links_per_router=1)),
    }


FABRICS = small_fabrics()


def test_families_take_the_expected_path() -> None:
    """Product views where the fabric is one (a non-blocking Clos acts as a switch), translations on
    a twisted torus, plain shortest paths elsewhere."""
    kind = {name: ("product" if network(g).view else "translations" if network(g).translations else "generic")
            for name, g in FABRICS.items()}
    assert kind["clos-rail"] == kind["clos-fat-tree"] == kind["ubmesh-pods"] == "product"
    assert kind["torus-twisted"] == "translations"
    assert kind["clos-oversubscribed"] == kind["dragonfly"] == "generic"


def schedules(groups: Groups):
    for collective in COLLECTIVES:
        for algorithm in ALGORITHMS:
            try:
                yield collective, algorithm, build_schedule(collective, algorithm, groups.shape, SIZE)
            except NotApplicable:
                continue


# The shortest routing differs from the structured one only where the family has a product view.
PRODUCT_FABRICS = ("clos-fat-tree", "clos-rail", "dims-mixed", "torus", "ubmesh-pods", "ubmesh-rack")


@pytest.mark.parametrize("name,routing", [(name, "structured") for name in sorted(FABRICS)]
                         + [(name, "shortest") for name in PRODUCT_FABRICS])
def test_fast_path_matches_brute_force(name: str, routing: str) -> None:
    net = network(FABRICS[name])
    groups = make_groups(net, None)
    checked = 0
    for model in ("flow", "alpha-beta"):
        fast = Evaluator(net, groups, model, routing)
        brute = Evaluator(net, groups, model, routing, brute_force=True)
        for collective, algorithm, schedule in schedules(groups):
            want = brute.run(schedule).time_s
            assert fast.run(schedule).time_s == pytest.approx(want, rel=1e-2), (collective, algorithm, model)
            checked += 1
    assert checked >= 20


def test_translations_that_are_automorphisms() -> None:
    """Shortest routing times a step from representative chips: one on UB-Mesh (every coordinate
    translation maps the graph onto itself, HRS leaves, spines and LRS included) and on a torus;
    on the fat-tree a shift by one chip splits a leaf's 4 chips, so only whole-leaf shifts count
    and one chip per leaf position represents the rest."""
    for name, reps, images in (("ubmesh-pods", 1, 32), ("torus", 1, 16), ("clos-fat-tree", 4, 4)):
        sym = network(FABRICS[name]).symmetry()
        assert (len(sym.reps), sym.images) == (reps, images), name
        assert len(sym.reps) * sym.images == FABRICS[name].chips
    assert network(FABRICS["dragonfly"]).symmetry() is None  # no product view: not needed


def test_representative_flows_routed_in_chunks_time_alike(monkeypatch) -> None:
    """Steps whose flows carry different bytes, and the alpha-beta model, route the representatives'
    flows a chunk at a time: chunks of 7 flows give the times of one chunk."""
    net = network(FABRICS["ubmesh-pods"])
    groups = make_groups(net, None)
    cases = [(c, a, s) for c, a, s in schedules(groups) if a in ("multi-dim", "ubmesh-xy", "direct")]
    whole = {(c, a, m): Evaluator(net, groups, m, "shortest").run(s).time_s
             for c, a, s in cases for m in ("flow", "alpha-beta")}
    monkeypatch.setattr(shortest, "_CHUNK_FLOWS", 7)
    for c, a, s in cases:
        for m in ("flow", "alpha-beta"):
            assert Evaluator(net, groups, m, "shortest").run(s).time_s == pytest.approx(whole[c, a, m], rel=1e-12)


def test_steps_too_large_to_time_flow_by_flow_are_refused(monkeypatch) -> None:
    net = network(FABRICS["ubmesh-pods"])
    groups = make_groups(net, None)
    schedule = build_schedule("all-to-all", "ubmesh-xy", groups.shape, SIZE)  # halves and wholes
    monkeypatch.setattr(shortest, "MAX_REDUCED_ENTRIES", 100)
    with pytest.raises(NotApplicable, match="too large to time flow by flow"):
        Evaluator(net, groups, "flow", "shortest").run(schedule)


@pytest.mark.parametrize("name", ["dragonfly", "torus-twisted", "clos-oversubscribed"])
def test_routings_agree_without_dimension_order(name: str) -> None:
    """Where the family defines no dimension order, structured routing is shortest-path routing."""
    graph = FABRICS[name]
    for algorithm in ("direct", "ring"):
        structured, shortest = (score_fabric(graph, ["all-reduce"], [SIZE], [algorithm], routing=r)[0]
                                for r in ("structured", "shortest"))
        assert shortest["time_s"] == structured["time_s"]
        assert (structured["routing"], shortest["routing"]) == ("structured", "shortest")


@pytest.mark.parametrize("name,spec,routing", [
    ("torus", "x=4,y=4@x", "structured"), ("torus", "x=4,y=4@y", "structured"),
    ("torus", "a=2,b=8@b", "structured"), ("torus", "a=8,b=2@a", "structured"),
    ("torus", "a=8,b=2@a", "shortest"), ("ubmesh-pods", "rack", "shortest"), ("ubmesh-pods", "pod", "shortest"),
    # groups across a fat-tree's leaves, which are no dimension of it: timed on its switches
    ("clos-3-tier", "a=2,b=4,c=2@b", "structured"), ("clos-fat-tree", "a=4,b=4@a", "structured"),
])
def test_concurrent_groups_match_brute_force(name: str, spec: str, routing: str) -> None:
    net = network(FABRICS[name])
    groups = make_groups(net, spec)
    for model in ("flow", "alpha-beta"):
        for collective, algorithm, schedule in schedules(groups):
            want = Evaluator(net, groups, model, routing, brute_force=True).run(schedule).time_s
            assert Evaluator(net, groups, model, routing).run(schedule).time_s == pytest.approx(want, rel=1e-2), \
                (collective, algorithm, model)


def _shares_a_link(net, groups: Groups, schedule) -> bool:
    for step in schedule.steps:
        src, dst, _, via = chip_flows(groups, list(step.parts))
        for label, idx in via.items():
            a, _ = route_dense(net, src[idx], dst[idx], label)
            if ((a > 0).sum(axis=1) > 1).any():
                return True
    return False


@pytest.mark.parametrize("name", ["dims-ring", "dims-mesh", "dims-switch", "torus", "ubmesh-rack",
                                  "clos-fat-tree"])
def test_flow_model_equals_alpha_beta_without_shared_links(name: str) -> None:
    """Where no two flows of a step meet on a link, sharing cannot slow anything; elsewhere it
    can only slow."""
    net = network(FABRICS[name])
    groups = make_groups(net, None)
    exact = 0
    for collective, algorithm, schedule in schedules(groups):
        flow = Evaluator(net, groups, "flow").run(schedule).time_s
        alone = Evaluator(net, groups, "alpha-beta").run(schedule).time_s
        if _shares_a_link(net, groups, schedule):
            assert flow >= alone * (1 - 1e-12), (collective, algorithm)
        else:
            assert flow == pytest.approx(alone, rel=1e-12), (collective, algorithm)
            exact += 1
    assert exact >= 3


def test_schedules_too_large_to_route_are_refused_early() -> None:
    """Pairwise on a 4,096-chip twisted torus has no symmetric form: refused before any routing."""
    net = network(torus_fabric((8, 16, 32), 50, 500, twist=True))
    groups = make_groups(net, None)
    schedule = build_schedule("all-to-all", "pairwise", groups.shape, SIZE)
    with pytest.raises(NotApplicable, match="16,773,120 chip flows"):
        Evaluator(net, groups).run(schedule)


def test_ring_against_the_torus_is_congested() -> None:
    """A ring all-reduce over a 4x4 torus in chip order uses each link once; the same ring over a
    shuffled chip order crosses links other flows use, and runs slower than alone."""
    net = network(torus_fabric((4, 4), 50, 500))
    shape = GroupShape((16,))
    schedule = build_schedule("all-reduce", "ring", shape, SIZE)
    times = {}
    for name, order in (("follows", np.arange(16)), ("against", np.random.default_rng(7).permutation(16))):
        groups = Groups(name, order[None, :], shape, None)
        times[name] = {m: Evaluator(net, groups, m).run(schedule).time_s for m in ("flow", "alpha-beta")}
    assert times["follows"]["flow"] == pytest.approx(times["follows"]["alpha-beta"], rel=1e-12)
    assert times["against"]["flow"] > 1.2 * times["against"]["alpha-beta"]
    assert times["against"]["flow"] > 1.2 * times["follows"]["flow"]


def test_layout_against_the_torus_is_congested() -> None:
    """Two rings of 32 on an 8x8 torus: four rows each (a=32,b=2@a), or every other chip
    (u=2,v=32@v), whose hops of two chips cross links the other ring uses too: about twice the
    transfer time once bandwidth dominates."""
    graph = torus_fabric((8, 8), 50, 500)
    follow, against = (score_fabric(graph, ["all-reduce"], [2**28], ["ring"], groups=g)[0]
                       for g in ("a=32,b=2@a", "u=2,v=32@v"))
    assert against["time_s"] > 1.8 * follow["time_s"]
    assert against["bottleneck_utilization"] > 0.95


@pytest.mark.parametrize("name", ["clos-3-tier", "clos-oversubscribed", "dragonfly"])
def test_demand_loads_equal_routing_every_switch_pair(name: str) -> None:
    """Brandes' accumulation per sending switch gives every link the load of routing each switch
    pair on its own (`node_pairs`) and weighting it by the pair's flows; and the same longest path."""
    net = network(FABRICS[name])
    sub = net.subnet()
    core, ends = sub.core, np.unique(sub.attach[sub.attach >= 0])
    local = core.local(ends)
    rng = np.random.default_rng(3)
    a, b = np.meshgrid(local, local, indexing="ij")
    off = a != b
    a, b = a[off], b[off]
    count = rng.integers(0, 4, a.size).astype(float)
    a, b, count = a[count > 0], b[count > 0], count[count > 0]
    flow, link, frac, path_ns = node_pairs(core, a, b, net.links)
    want = np.bincount(link, weights=frac * count[flow], minlength=len(net.links.tail))
    sources, row = np.unique(a, return_inverse=True)
    demand = np.zeros((len(sources), core.adj.shape[0]))
    np.add.at(demand, (row, b), count)
    load, latency_ns = demand_loads(core, sources, demand, net.links)
    assert load == pytest.approx(want, rel=1e-12, abs=1e-12)
    assert latency_ns == pytest.approx(path_ns.max(), rel=1e-12)
    assert want.max() > 1  # the demands share links: the test weighs, not only routes


def test_switch_pairs_whose_paths_are_too_many_are_refused(monkeypatch) -> None:
    """On a fat-tree a chip pair across pods spreads over every spine: past MAX_ROUTE_ENTRIES
    entries the step is refused (NotApplicable, so `auto` moves on) instead of filling memory."""
    net = network(FABRICS["clos-3-tier"])
    monkeypatch.setattr(routing, "MAX_ROUTE_ENTRIES", 50)
    with pytest.raises(NotApplicable, match="equal-cost paths, more than 50"):
        route_pairs(net.subnet(), np.arange(8), np.arange(8)[::-1] + 8, net.links)


def test_a_non_blocking_fat_tree_times_groups_across_leaves_on_its_switches() -> None:
    """The fat-tree's per-chip network folds equal-flow steps onto switch pairs; a UB-Mesh does not
    (its chips have links of several kinds)."""
    assert network(FABRICS["clos-3-tier"]).switch_level and network(FABRICS["clos-oversubscribed"]).switch_level
    assert not network(FABRICS["ubmesh-pods"]).switch_level and not network(FABRICS["clos-rail"]).switch_level
    (rec,) = score_fabric(FABRICS["clos-3-tier"], ["all-to-all"], [SIZE], ["direct"], groups="a=2,b=4,c=2@b")
    assert rec["engine"] == "switch-level"
