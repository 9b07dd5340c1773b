"""Atlas 950 SuperPoD (8,192 chips, UB-Mesh): the figures the scorer is built to reach."""

import pytest

from topo_opt.collectives import score_fabric
from topo_opt.collectives.groups import make_groups
from topo_opt.collectives.routing import network
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


def test_parallel_layout_lines_up_with_the_dimensions(atlas950) -> None:
    net = network(atlas950)
    layout = "tp=8,pp=8,dp=128"
    for axis, dims, count in (("tp", ["x"], 1024), ("pp", ["y"], 1024), ("dp", ["z", "w", "uplink"], 64)):
        groups = make_groups(net, f"{layout}@{axis}")
        assert [d.name for d in groups.shape.dims] == dims
        assert groups.count == count
    assert make_groups(net, "rack").p == 64
    assert make_groups(net, "pod").count == 8
