"""Atlas 950 SuperPoD (8,192 chips, UB-Mesh): the figures the scorer is built to reach."""

import numpy as np
import pytest

from topo_opt.collectives import score_fabric
from topo_opt.collectives.groups import make_groups
from topo_opt.collectives.routing import network, route_pairs
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance

GIB = 2**30


@pytest.fixture(scope="module")
def atlas950():
    return build_fabric(read_instance("instances/atlas950-superpod.yaml"))


def test_multi_dim_all_reduce_reaches_90_percent_of_the_bound(atlas950) -> None:
    (rec,) = score_fabric(atlas950, ["all-reduce"], [GIB], ["multi-dim"])
    # the bound: 2(p-1)/p n over 72 lanes x 27.78 GB/s = 2,000 GB/s per chip
    assert rec["lower_bound_s"] == pytest.approx(2 * 8191 / 8192 * GIB / 2000e9, rel=1e-9)
    assert rec["efficiency"] >= 0.90
    assert rec["engine"] == "symmetric"


def test_one_dimension_at_a_time_cannot_reach_it(atlas950) -> None:
    (rec,) = score_fabric(atlas950, ["all-reduce"], [GIB], ["hierarchical"])
    assert rec["efficiency"] < 0.5


def test_auto_picks_multi_dim_for_large_all_reduce(atlas950) -> None:
    (rec,) = score_fabric(atlas950, ["all-reduce"], [GIB])
    assert rec["auto"] and rec["algorithm"] == "multi-dim"


def test_all_to_all_is_bound_by_the_pod_uplinks(atlas950) -> None:
    """Direct all-to-all sends 7/8 of every chip's buffer through its 4 uplink lanes, which is
    exactly the cut around one pod: it meets the bound, so the UB-Mesh X/Y split can only tie
    (a uniform all-to-all loads every X and Y link alike whichever order a flow takes)."""
    direct, xy = score_fabric(atlas950, ["all-to-all"], [GIB], ["direct", "ubmesh-xy"])
    assert direct["efficiency"] == pytest.approx(1.0, abs=1e-3)  # all but one step's latency
    assert direct["bottleneck_kind"] == "uplink"
    assert xy["time_s"] == pytest.approx(direct["time_s"], rel=1e-9)


LANE_GBPS = 2000 / 72  # an Ascend 950DT lane
MESH_LANES = 24 / 7  # X (and Y) lanes per peer: 24 lanes over 7 peers


def test_ubmesh_all_to_all_beats_naive_direct_in_a_rack(atlas950) -> None:
    """All-to-all in every rack at once. Of a chip's 63 peers, 49 differ in X and Y: two hops.
    UB-Mesh's all-to-all sends half of those X-first and half Y-first, so an X link carries its
    own flow and 7 + 7 halves: 8 flows of n/64 at 24/7 lanes, after 150 + 200 ns. Naive routing
    splits each two-hop flow over all its shortest paths, lanes counted as parallel links:
    X-then-Y and Y-then-X (24/7 x 24/7 each) and chip -> LRS -> chip (4 x 4), so the chip's
    4-lane LRS link carries 49 x 16 / (16 + 2 (24/7)^2) of them, after 300 + 300 ns."""
    xy, naive = (score_fabric(atlas950, ["all-to-all"], [GIB], [algorithm], groups="rack", routing=routing)[0]
                 for algorithm, routing in (("ubmesh-xy", "structured"), ("direct", "shortest")))
    flow_bytes = GIB / 64
    assert xy["time_s"] == pytest.approx(8 * flow_bytes / (MESH_LANES * LANE_GBPS * 1e9) + 350e-9, rel=1e-9)
    lrs_share = 16 / (16 + 2 * MESH_LANES**2)
    assert naive["time_s"] == pytest.approx(49 * lrs_share * flow_bytes / (4 * LANE_GBPS * 1e9) + 600e-9, rel=1e-9)
    assert naive["bottleneck_kind"] == "lrs" and naive["routing"] == "shortest"


def test_ubmesh_all_to_all_beats_naive_direct_across_racks(atlas950) -> None:
    """Across racks, naive routing also sends pod-internal flows through HRS leaves (two chips on
    one leaf are two hops apart; a pair four mesh hops apart has three-hop paths through a
    neighbour's leaf, and four-hop ones through the spines), so a chip's 4 uplink lanes carry
    pod-internal traffic besides the 7/8 of its buffer that leaves the pod.

    Independent check of the symmetric engine: chip 0's flows to its pod, routed one by one on
    the whole graph (no symmetry), load all uplinks together with u flows; every chip -> leaf
    uplink being alike, each carries u flows of n/1024 in a pod-wide all-to-all and 7168 + u
    flows of n/8192 across the SuperPoD, where UB-Mesh's all-to-all carries exactly the 7168
    inter-pod flows (the cut bound)."""
    net = network(atlas950)
    links = net.links
    _, link, frac, latency = route_pairs(net.subnet(), np.zeros(1023, dtype=np.int64), np.arange(1, 1024), links)
    uplink = (links.kind[link] == "uplink") & (links.tail[link] < links.chips)
    u = frac[uplink].sum()
    cap = 4 * LANE_GBPS * 1e9
    alpha = latency.max()  # 1,400 ns, above the 4 x 300 ns of an inter-pod path
    times = {}
    for groups, p in (("pod", 1024), (None, 8192)):
        xy, naive = (score_fabric(atlas950, ["all-to-all"], [GIB], [algorithm], groups=groups, routing=routing)[0]
                     for algorithm, routing in (("ubmesh-xy", "structured"), ("direct", "shortest")))
        crossing = 7168 if groups is None else 0
        assert naive["time_s"] == pytest.approx((crossing + u) * GIB / p / cap + alpha * 1e-9, rel=1e-9)
        assert naive["bottleneck_kind"] == "uplink"
        times[groups] = (xy["time_s"], naive["time_s"])
    xy_all, naive_all = times[None]
    assert xy_all == pytest.approx(7168 * GIB / 8192 / cap, rel=1e-3)  # the uplink cut, plus one latency
    assert naive_all > 1.05 * xy_all
    assert times["pod"][1] > 1.3 * times["pod"][0]


def test_parallel_layout_lines_up_with_the_dimensions(atlas950) -> None:
    net = network(atlas950)
    layout = "tp=8,pp=8,dp=128"
    for axis, dims, count in (("tp", ["x"], 1024), ("pp", ["y"], 1024), ("dp", ["z", "w", "uplink"], 64)):
        groups = make_groups(net, f"{layout}@{axis}")
        assert [d.name for d in groups.shape.dims] == dims
        assert groups.count == count
    assert make_groups(net, "rack").p == 64
    assert make_groups(net, "pod").count == 8
