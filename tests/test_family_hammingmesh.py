"""The HammingMesh family (the family added through the registry alone): counts and bisection in
closed form, ring all-reduce on a board and row network against the textbook cost, and the whole
`solve` pipeline (placement, provisioning, scoring, each independently verified) on its instance."""

import math

import pytest
from click.testing import CliRunner

from topo_opt.cli import main
from topo_opt.collectives import score_fabric
from topo_opt.design import derive
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import bisection, half_splits, split_maxflow_GBps
from topo_opt.families import FAMILIES
from topo_opt.families.hammingmesh import HammingMeshParams
from topo_opt.io import read_instance, read_json
from topo_opt.pipeline import result_errors

B_BOARD, B_NET = 300.0, 200.0


def hx2(bx: int, by: int):
    return FAMILIES["hammingmesh"].build(HammingMeshParams(bx, by, board_GBps=B_BOARD, network_GBps=B_NET,
                                                           board_latency_ns=0, network_latency_ns=0), None, "hx")


@pytest.mark.parametrize(("bx", "by"), [(2, 2), (4, 3), (8, 8)])
def test_counts_are_those_of_hx2mesh(bx, by):
    fabric = hx2(bx, by)
    n = 4 * bx * by
    kinds = [k for _, _, k in fabric.graph.edges(data="kind")]
    # a 2 x 2 board: one link per chip pair along each board side; one row and one column port per chip
    assert {k: kinds.count(k) for k in set(kinds)} == {"ring0": n // 2, "ring1": n // 2, "switch2": n, "switch3": n}
    assert sum(1 for _, k in fabric.graph.nodes(data="kind") if k == "switch") == n // bx + n // by
    assert fabric.chips == n == FAMILIES["hammingmesh"].chips(fabric.desc.params)


@pytest.mark.parametrize(("bx", "by"), [(4, 4), (4, 2)])
def test_bisection_closed_form_and_max_flow(bx, by):
    fabric = hx2(bx, by)
    n = 4 * bx * by
    # cut across a board side: n/2 links of B_BOARD; across a network: n/k lines x k/2 ports of B_NET
    expected = min(n / 2 * B_BOARD, n / 2 * B_NET)
    closed = bisection(fabric)
    assert closed == {"bisection_GBps": pytest.approx(expected), "method": "closed-form"}
    assert min(split_maxflow_GBps(fabric, s) for s in half_splits(fabric)) == pytest.approx(expected)


def test_ring_all_reduce_over_a_row_network_is_the_textbook_cost():
    fabric = hx2(8, 2)
    p, size = 8, 2**30
    (rec,) = score_fabric(fabric, ["all-reduce"], [size], ["ring"], groups="tp=4,dp=8,rest=2@dp")
    assert rec["group_chips"] == p
    assert rec["time_s"] == pytest.approx(2 * (p - 1) / p * size / (B_NET * 1e9), rel=1e-6)


def test_solve_places_provisions_and_scores_the_instance(tmp_path):
    out = tmp_path / "hm.json"
    res = CliRunner().invoke(main, ["solve", "instances/hammingmesh-1k.yaml", "--out", str(out),
                                    "--time-limit", "6"])
    assert res.exit_code == 0, res.output
    result = read_json(out)
    assert result_errors(result) == []
    assert result["instance"]["family"] == "hammingmesh"
    assert result["stages"]["placement"]["status"] in ("OPTIMAL", "FEASIBLE")
    assert result["stages"]["provisioning"]["status"] == "OPTIMAL"
    tiers = {s["tier"]: s for s in result["provisioning"]["switches"]}
    assert set(tiers) == {"row-network", "column-network"}
    # every line of 16 chips needs 16 x (lanes x lane speed / port speed) ports of the catalog switch
    plan = result["provisioning"]
    for tier, cls in (("row-network", "switch2"), ("column-network", "switch3")):
        ports = 16 * plan["lanes_per_chip"][cls]["bandwidth_GBps"] / 100.0
        assert tiers[tier]["per_unit"] == math.ceil(ports / tiers[tier]["ports_per_switch"] - 1e-9)
    assert {r["collective"] for r in result["scores"]} >= {"all-reduce", "all-to-all"}


def test_design_derives_with_the_families_defaults():
    design = derive(read_instance("instances/hammingmesh-1k.yaml"))
    assert design.fabric.desc.family == "hammingmesh"
    assert design.fabric.desc.named_group("board") == (0, 1)
    assert len(design.cabinets) == 20 and design.node_cab.max() == 19
    assert build_fabric(design.instance).chips == 1024
