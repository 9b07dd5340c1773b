"""Provisioning: a hand-computable optimum, the shipped instances, determinism, traffic closed forms."""

import dataclasses
import math

import pytest
from provisioning_toy import BYTES_PER_LEVEL, LANE_GBPS, REFERENCE_RATE_GBPS, toy

from topo_opt.catalog import CHIPS, MEDIA
from topo_opt.design import derive
from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.provisioning import provision
from topo_opt.provisioning.model import LANE_TIE_USD, POWER_WEIGHT_USD_PER_KW
from topo_opt.provisioning.traffic import AxisTraffic, Level, _level_bytes, workload_traffic
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_provisioning

OPTS = SolveOptions(time_limit_s=10, seed=0, workers=1)


@pytest.mark.parametrize("target", [0.5, 1.0, 2.0, 2.5])
def test_toy_optimum_is_the_hand_computed_one(target):
    inst = toy(target)
    graph = build_fabric(inst)
    plan = provision(derive(inst, graph), OPTS).to_dict()
    lanes = math.ceil(target * REFERENCE_RATE_GBPS * BYTES_PER_LEVEL / LANE_GBPS - 1e-9)
    # dim 0: 6 chip-pair bundles per cabinet x 4 cabinets, one link of lanes/3 lanes each;
    # dim 1: 6 cabinet pairs, 4 links of lanes/3 lanes each; DAC carries 100 GB/s.
    # Runs: 1 m inside a cabinet; between slots i and j of the 0.5 m row, 0.5 |i - j| + 2 x 0.25 m,
    # so the 6 cabinet pairs (3 at distance 1, 2 at 2, 1 at 3) run 8 m together.
    per_pair = math.ceil(4 * lanes / 3 * LANE_GBPS / 100)
    intra = 24 * math.ceil(lanes / 3 * LANE_GBPS / 100)
    inter = 6 * per_pair
    dac = MEDIA["dac"]
    metres = intra * 1.0 + per_pair * 8.0
    expected = (intra + inter) * (dac.cost_usd + POWER_WEIGHT_USD_PER_KW * dac.power_w / 1000) \
        + dac.cost_usd_per_m * metres + LANE_TIE_USD * 16 * 2 * lanes
    assert plan["report"]["status"] == "OPTIMAL"
    assert {k: v["lanes"] for k, v in plan["lanes_per_chip"].items()} == {"mesh0": lanes, "mesh1": lanes}
    assert plan["bom"]["cables_by_medium"] == {"dac": intra + inter}
    assert plan["report"]["objective"] == pytest.approx(expected, rel=1e-9)
    assert plan["report"]["gap"] == pytest.approx(0, abs=1e-9)
    assert plan["max_concurrent_flow"]["reference_rate_GBps"] == pytest.approx(REFERENCE_RATE_GBPS)
    assert plan["max_concurrent_flow"]["achieved"] >= target - 1e-9
    assert verify_provisioning(derive(inst, graph), plan) == []


def test_network_cost_share_uses_the_chip_system_cost():
    inst = toy(1.0)
    priced = dataclasses.replace(inst, chip=dataclasses.replace(inst.chip, cost_usd=1000.0))
    unpriced, bom = (provision(derive(i, build_fabric(i)), OPTS).bom for i in (inst, priced))
    network = bom["network_cost_usd"]
    assert bom["chips_cost_usd"] == 16 * 1000.0
    assert bom["network_cost_share"] == pytest.approx(network / (network + 16_000))
    assert bom["assumptions"][0] == "chip toy: 1,000 USD per chip for the cost share"
    assert unpriced["network_cost_share"] == 1.0  # an inline chip without a cost: the network alone
    assert CHIPS["ascend-950dt"].cost_usd == 25_000 and CHIPS["nvidia-h20"].cost_usd == 20_000
    assert all(c.cost_usd > 0 and any(a.startswith("cost_usd") for a in c.assumptions) for c in CHIPS.values())


def test_demand_over_the_lane_budget_names_it():
    inst = toy(3.0)  # each dimension needs ceil(3 x 40 x 0.75 / 10) = 9 lanes: 18 of 16
    with pytest.raises(InfeasibleError, match=r"lanes per chip: needs 18 of 16 \(mesh0 9, mesh1 9\)"):
        provision(derive(inst, build_fabric(inst)), OPTS)


@pytest.mark.parametrize("path", ["instances/ubmesh-pod1024.yaml", "instances/atlas950-superpod.yaml"])
def test_shipped_ubmesh_plans_verify_and_fit(path):
    inst = read_instance(path)
    graph = build_fabric(inst)
    plan = provision(derive(inst, graph), OPTS).to_dict()
    assert plan["report"]["status"] == "OPTIMAL"
    assert plan["lane_budget"]["used"] <= 72
    assert plan["max_concurrent_flow"]["achieved"] >= inst.workload.target_throughput - 1e-9
    assert plan["bom"]["chips"] == graph.chips
    assert verify_provisioning(derive(inst, graph), plan) == []


def test_same_seed_same_plan():
    inst = read_instance("instances/ubmesh-pod1024.yaml")
    graph = build_fabric(inst)
    first, second = (provision(derive(inst, graph), OPTS).to_dict() for _ in range(2))
    for d in (first, second):
        d["report"].pop("wall_s")
        d.pop("solver")
    assert first == second


def test_placement_slots_change_lengths_not_lanes():
    inst = read_instance("instances/ubmesh-pod1024.yaml")
    graph = build_fabric(inst)
    n = 20
    spread = [2 * i if i < 12 else i + 12 for i in range(n)]  # every other slot in the first rows
    a = provision(derive(inst, graph), OPTS).to_dict()
    b = provision(derive(inst, graph), OPTS, slot_of_cabinet=spread).to_dict()
    assert b["layout"] == "placement"
    assert {k: v["lanes"] for k, v in a["lanes_per_chip"].items()} == \
        {k: v["lanes"] for k, v in b["lanes_per_chip"].items()}
    length = {tuple(x["cabinets"]): x["length_m"] for x in b["bundles"]}
    assert length[(0, 1)] == pytest.approx(2 * inst.floor.slot_width_m + 2 * inst.floor.cable_slack_m)


def test_a_run_beyond_every_medium_reach_is_infeasible():
    inst = toy(1.0)
    wide = dataclasses.replace(inst, media=(MEDIA["dac"],),
                               floor=dataclasses.replace(inst.floor, slots_per_row=10))
    graph = build_fabric(wide)
    expected = r"media: no medium reaches 3.5 m \(cabinets 0 and 2\); the longest reach is 2 m"
    with pytest.raises(InfeasibleError, match=expected):
        provision(derive(wide, graph), OPTS, slot_of_cabinet=[0, 3, 6, 9])


def test_bad_layouts_are_input_errors():
    silent = toy(1.0, collectives=[])
    with pytest.raises(InstanceError, match="workload.collectives: is empty"):
        provision(derive(silent, build_fabric(silent)), OPTS)
    bad = toy(1.0, layout="tp=3,dp=4")
    with pytest.raises(InstanceError, match="covers 12 chips"):
        provision(derive(bad, build_fabric(bad)), OPTS)
    atlas960 = read_instance("instances/atlas960-superpod.yaml")
    workload = dataclasses.replace(atlas960.workload, layout="tp=8,pp=2,dp=968")
    uneven = dataclasses.replace(atlas960, workload=workload)
    levels = tuple(Level(n, s, "full-mesh", i) for i, (n, s) in enumerate(
        [("x", 8), ("y", 11), ("z", 4), ("w", 4), ("pod", 11)]))
    with pytest.raises(InstanceError, match="pp=2 splits the fabric level 'y' unevenly"):
        workload_traffic(uneven, levels)


# --- traffic closed forms ---------------------------------------------------------------------------

def _axis(collective, spans):
    return AxisTraffic("a", math.prod(g for _, g in spans), 1, collective, 1.0, tuple(spans))


def test_hierarchical_all_reduce_sends_the_flat_total():
    levels = {"z": Level("z", 4, "full-mesh", 2), "w": Level("w", 4, "full-mesh", 2),
              "pod": Level("pod", 8, "switch", 3, nested=True)}
    out = _level_bytes(_axis("all-reduce", [("z", 4), ("w", 4), ("pod", 8)]), levels)
    assert sum(out.values()) == pytest.approx(2 * (128 - 1) / 128)
    assert out["z"] == pytest.approx(out["w"])  # equal scope: both orders, half the buffer each
    assert out["pod"] == pytest.approx(2 * 7 / 8 / 16)  # the inter-pod phase sees 1/16 of the buffer


def test_all_to_all_and_p2p_on_products_and_nested_tiers():
    product = {n: Level(n, 4, "full-mesh", i) for i, n in enumerate("ab")}
    nested = {n: Level(n, 4, "switch", i, nested=True) for i, n in enumerate("ab")}
    spans = [("a", 4), ("b", 4)]
    # dimension-ordered on a product: each level carries 1 - 1/4; a Clos: each byte crosses one tier
    assert _level_bytes(_axis("all-to-all", spans), product) == pytest.approx({"a": 0.75, "b": 0.75})
    assert sum(_level_bytes(_axis("all-to-all", spans), nested).values()) == pytest.approx(1 - 1 / 16)
    # p2p chain of 16: all 15 boundaries change digit a, 3 change digit b
    assert _level_bytes(_axis("p2p", spans), product) == pytest.approx({"a": 1.0, "b": 3 / 15})
    assert _level_bytes(_axis("p2p", spans), nested) == pytest.approx({"a": 12 / 15, "b": 3 / 15})


def test_a_rail_server_domain_is_crossed_by_every_byte_to_another_rank():
    levels = {"server": Level("server", 2, "switch", 0, crossed_always=True),
              **{n: Level(n, 4, "switch", i + 1, nested=True) for i, n in enumerate("ab")}}
    spans = [("server", 2), ("a", 4), ("b", 4)]
    # all-to-all over 32 chips: half the bytes change rank, whatever else they change
    assert _level_bytes(_axis("all-to-all", spans), levels) == pytest.approx(
        {"server": 1 / 2, "a": 3 / 4 / 4, "b": 3 / 4})
    # p2p chain of 32: every one of the 31 boundaries changes the rank digit
    assert _level_bytes(_axis("p2p", spans), levels) == pytest.approx(
        {"server": 1.0, "a": (16 - 4) / 31, "b": (4 - 1) / 31})


def test_layout_maps_tp_onto_the_board():
    inst = read_instance("instances/atlas950-superpod.yaml")
    levels = tuple(Level(n, s, "full-mesh", i) for i, (n, s) in enumerate(
        [("x", 8), ("y", 8), ("z", 4), ("w", 4), ("pod", 8)]))
    axes = {a.name: dict(a.spans) for a in workload_traffic(inst, levels).axes}
    assert axes == {"tp": {"x": 8}, "pp": {"y": 8}, "dp": {"z": 4, "w": 4, "pod": 8}}
