"""Provisioning of the rail-optimized Clos and the dragonfly: hand-computed optima (the toys'
closed forms in provisioning_toy), the shipped H20 instance, verify rejections, the binding limit
named, and the catalog switch each tier is priced as."""

import copy
import math

import pytest
from provisioning_toy import DRAGONFLY, DRAGONFLY_REFERENCE_GBPS, RAIL, RAIL_REFERENCE_GBPS, toy

from topo_opt.catalog import MEDIA, SWITCHES
from topo_opt.design import derive
from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.netspec import catalog_switch
from topo_opt.provisioning import provision
from topo_opt.provisioning.model import LANE_TIE_USD, POWER_WEIGHT_USD_PER_KW
from topo_opt.provisioning.traffic import AXIS_ROLES
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_provisioning

OPTS = SolveOptions(time_limit_s=10, seed=0, workers=1)


def _usd(part) -> float:
    """Objective weight of one switch or cable: cost + power weight x kW."""
    return part.cost_usd + POWER_WEIGHT_USD_PER_KW * part.power_w / 1000


def _lanes(plan: dict) -> dict[str, float]:
    return {k: v["lanes"] for k, v in plan["lanes_per_chip"].items()}


def test_switch_matches_the_fabric_radix_and_port_speed():
    h20 = read_instance("instances/h20-rail8k.yaml")  # radix 128, 50 GB/s ports
    assert catalog_switch(h20, "fabric.radix", (50.0,), 128) is SWITCHES["eth-51t-128x400g"]
    clos = read_instance("instances/clos8k-950dt.yaml")  # radix 64, 2,000 GB/s = 20 ports of 100
    assert catalog_switch(clos, "fabric.radix", (2000.0,), 64) is SWITCHES["eth-800g-64"]
    # no radix named: the exact speed first (25 GB/s NVLink lanes), else fewest ports per link
    assert catalog_switch(h20, "f", (25.0,)) is SWITCHES["nvswitch"]
    assert catalog_switch(h20, "f", (100.0, 200.0)) is SWITCHES["eth-800g-64"]
    with pytest.raises(InstanceError, match=r"fabric.radix: no catalog switch has 96 ports whose speed divides 50"):
        catalog_switch(h20, "fabric.radix", (50.0,), 96)


# --- rail-optimized Clos ---------------------------------------------------------------------------

@pytest.mark.parametrize("target", [1.0, 1.5, 2.0])
def test_rail_optimum_is_the_hand_computed_one(target):
    inst = toy(target, RAIL)
    graph = build_fabric(inst)
    plan = provision(derive(inst, graph), OPTS).to_dict()
    server = math.ceil(target * RAIL_REFERENCE_GBPS / 2 / 25 - 1e-9)
    rail = math.ceil(target - 1e-9)
    # 64 servers, one nvswitch each (2 chips x server lanes <= 72 ports); per rail port per chip:
    # 4 leaves and 2 spines, and 256 DAC (128 chip-leaf links, 8 leaf-spine bundles of 16 links)
    # DAC metres per rail port: compute cabinet i (slot i) to the interconnect (slot 4) runs
    # 0.3 (4 - i) + 2 x 0.25 m with 32 cables (1.7 + 1.4 + 1.1 + 0.8 = 5 m), leaf-spine 1 m inside it
    metres = (32 * 5.0 + 128 * 1.0) * rail
    expected = 64 * _usd(SWITCHES["nvswitch"]) + 6 * rail * _usd(SWITCHES["eth-800g-64"]) \
        + 256 * rail * _usd(MEDIA["dac"]) + MEDIA["dac"].cost_usd_per_m * metres \
        + LANE_TIE_USD * 128 * (server + rail)
    assert plan["report"]["status"] == "OPTIMAL"
    assert _lanes(plan) == {"server": server, "rail": rail}
    assert plan["bom"]["switches"] == {"eth-800g-64": 6 * rail, "nvswitch": 64}
    assert plan["bom"]["cables_by_medium"] == {"dac": 256 * rail}
    assert plan["bom"]["board_trace_links"] == 128  # chip to its server's switch
    assert plan["report"]["objective"] == pytest.approx(expected, rel=1e-9)
    assert plan["max_concurrent_flow"]["reference_rate_GBps"] == pytest.approx(RAIL_REFERENCE_GBPS)
    assert plan["lane_budget"]["used"] == server  # NIC ports are off the chip's lanes
    assert verify_provisioning(derive(inst, graph), plan) == []


def test_rail_ports_over_their_maximum_are_named():
    # target 2.5: 3 rail ports per chip, at most 200 / 100 = 2 (the chip's interconnect)
    inst = toy(2.5, RAIL)
    with pytest.raises(InfeasibleError, match=r"lanes per chip: rail needs 3 of at most 2 to carry target_throughput"):
        provision(derive(inst, build_fabric(inst)), OPTS)


def test_h20_rail8k_provisions_to_its_closed_form():
    inst = read_instance("instances/h20-rail8k.yaml")
    graph = build_fabric(inst)
    plan = provision(derive(inst, graph), OPTS).to_dict()
    # tp=8 in the server; pp=8 over 8 servers of a leaf (one leaf hop per boundary); dp=128 over 8
    # leaf positions and 16 leaf groups, all-reduced leaf first: per unit buffer the 50 GB/s port
    # carries pp + dp (2 x 7/8 + 2 x 15/16 / 8), the server domain 2 x 7/8 of TP's.
    port = AXIS_ROLES["pp"].buffer + AXIS_ROLES["dp"].buffer * (2 * 7 / 8 + 2 * 15 / 16 / 8)
    rate = 50 / port
    assert plan["max_concurrent_flow"]["reference_rate_GBps"] == pytest.approx(rate)
    assert _lanes(plan) == {"server": math.ceil(2 * 7 / 8 * rate / 25), "rail": 1}
    assert {s["tier"]: s["count"] for s in plan["switches"]} == {"server": 1024, "leaf": 128, "spine": 64}
    assert plan["switches"][1]["type"] == "eth-51t-128x400g"
    assert verify_provisioning(derive(inst, graph), plan) == []


@pytest.fixture(scope="module")
def rail_plan():
    inst = toy(1.0, RAIL)
    graph = build_fabric(inst)
    return inst, graph, provision(derive(inst, graph), OPTS).to_dict()


@pytest.mark.parametrize(("cls", "lanes", "message"), [
    ("server", 9, "lanes per chip: 9 used of 8"),  # over the chip's 8 lanes
    ("rail", 3, "lanes: rail allows at most 2 lane(s), the plan gives 3"),
    ("server", 2, "capacity: server must carry 50.8 GB/s per chip, the plan gives 50.0"),
])
def test_verify_rejects_bad_rail_lanes(rail_plan, cls, lanes, message):
    inst, graph, plan = rail_plan
    bad = copy.deepcopy(plan)
    bad["lanes_per_chip"][cls]["lanes"] = lanes
    problems = verify_provisioning(derive(inst, graph), bad)
    assert any(p.startswith(message) for p in problems), problems


@pytest.mark.parametrize("tier", ["server", "leaf", "spine"])
def test_verify_rejects_rail_tiers_short_of_ports(rail_plan, tier):
    inst, graph, plan = rail_plan
    bad = copy.deepcopy(plan)
    next(s for s in bad["switches"] if s["tier"] == tier)["per_unit"] -= 1
    problems = verify_provisioning(derive(inst, graph), bad)
    assert any(p.startswith(f"switch radix: tier {tier}") for p in problems), problems


# --- dragonfly -------------------------------------------------------------------------------------

@pytest.mark.parametrize("target", [1.0, 1.5, 2.0, 2.5])
def test_dragonfly_optimum_is_the_hand_computed_one(target):
    inst = toy(target, DRAGONFLY)
    graph = build_fabric(inst)
    plan = provision(derive(inst, graph), OPTS).to_dict()
    rate = target * DRAGONFLY_REFERENCE_GBPS
    terminal = math.ceil(rate * 11 / 12 / 100 - 1e-9)
    local = math.ceil(rate * 5 / 6 / 50 - 1e-9)
    glob = math.ceil(rate * 2 / 3 / 50 - 1e-9)
    # 6 routers of one switch each (2 terminal + 1 local + 1 global link per router, <= 64 ports);
    # DAC: 3 cabinets x 4 terminal links, 3 local links, 3 global links
    # DAC metres: cabinet i (slot i) to the routers (slot 3) runs 0.3 (3 - i) + 0.5 m with 4 terminal
    # cables per port (1.4 + 1.1 + 0.8 = 3.3 m), local and global links 1 m inside the router cabinet
    metres = 4 * 3.3 * terminal + 3 * local + 3 * glob
    expected = 6 * _usd(SWITCHES["eth-800g-64"]) + (12 * terminal + 3 * local + 3 * glob) * _usd(MEDIA["dac"]) \
        + MEDIA["dac"].cost_usd_per_m * metres + LANE_TIE_USD * 12 * (terminal + local + glob)
    assert plan["report"]["status"] == "OPTIMAL"
    assert _lanes(plan) == {"terminal": terminal, "local": local, "global": glob}
    assert plan["bom"]["switches"] == {"eth-800g-64": 6}
    assert plan["report"]["objective"] == pytest.approx(expected, rel=1e-9)
    assert plan["max_concurrent_flow"]["reference_rate_GBps"] == pytest.approx(DRAGONFLY_REFERENCE_GBPS)
    assert plan["lane_budget"]["used"] == 4 * terminal  # a 100 GB/s port takes four 25 GB/s lanes
    assert verify_provisioning(derive(inst, graph), plan) == []


def test_dragonfly_over_the_lane_budget_names_it():
    inst = toy(4.0, DRAGONFLY)  # terminal ceil(220 / 100) = 3 ports = 12 lanes of 8
    with pytest.raises(InfeasibleError, match=r"lanes per chip: needs 12 of 8 \(terminal 12, local 0, global 0\)"):
        provision(derive(inst, build_fabric(inst)), OPTS)


@pytest.mark.parametrize(("change", "message"), [
    ({"local": 1}, "capacity: local must carry 75.0 GB/s per chip, the plan gives 50.0"),
    ({"terminal": 3}, "lanes per chip: 12 used of 8"),
    ({"router": 0}, "switch radix: tier router has 0 x eth-800g-64"),
])
def test_verify_rejects_bad_dragonfly_plans(change, message):
    inst = toy(1.5, DRAGONFLY)
    graph = build_fabric(inst)
    plan = provision(derive(inst, graph), OPTS).to_dict()
    for key, value in change.items():
        if key in plan["lanes_per_chip"]:
            plan["lanes_per_chip"][key]["lanes"] = value
        else:
            next(s for s in plan["switches"] if s["tier"] == key)["per_unit"] = value
    problems = verify_provisioning(derive(inst, graph), plan)
    assert any(p.startswith(message) for p in problems), problems
