"""verify_provisioning rejects plans over a lane budget, over a switch radix, or short of capacity."""

import copy

import pytest
from provisioning_toy import toy

from topo_opt.design import derive
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.provisioning import provision
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_provisioning

OPTS = SolveOptions(time_limit_s=10, seed=0, workers=1)


@pytest.fixture(scope="module")
def pod():
    inst = read_instance("instances/ubmesh-pod1024.yaml")
    graph = build_fabric(inst)
    return inst, graph, provision(derive(inst, graph), OPTS).to_dict()


def test_valid_plan_has_no_violations(pod):
    inst, graph, plan = pod
    assert verify_provisioning(derive(inst, graph), plan) == []


def test_rejects_a_plan_over_the_lane_budget(pod):
    inst, graph, plan = pod
    bad = copy.deepcopy(plan)
    bad["lanes_per_chip"]["y"]["lanes"] += 72 - plan["lane_budget"]["used"] + 2  # two lanes over
    problems = verify_provisioning(derive(inst, graph), bad)
    assert any(p.startswith("lanes per chip: 74 used of 72") for p in problems), problems


def test_rejects_a_plan_over_a_switch_radix(pod):
    inst, graph, plan = pod
    bad = copy.deepcopy(plan)
    leaf = next(s for s in bad["switches"] if s["tier"] == "hrs-leaf")
    leaf["per_unit"] -= 1
    problems = verify_provisioning(derive(inst, graph), bad)
    assert any(p.startswith("switch radix: tier hrs-leaf") for p in problems), problems


def test_rejects_a_plan_short_of_capacity(pod):
    inst, graph, plan = pod
    bad = copy.deepcopy(plan)
    bad["lanes_per_chip"]["x"]["lanes"] -= 1  # TP fills the board mesh exactly: one lane short
    problems = verify_provisioning(derive(inst, graph), bad)
    assert any(p.startswith("capacity: x must carry") for p in problems), problems


def test_rejects_bundles_short_of_cables(pod):
    inst, graph, plan = pod
    bad = copy.deepcopy(plan)
    for b in bad["bundles"]:
        if b["kind"] in ("z", "w"):
            b["cables"] = 1
    problems = verify_provisioning(derive(inst, graph), bad)
    assert any(p.startswith("cables: bundle z") for p in problems), problems
    assert any(p.startswith("capacity: cabinet 0 sends") for p in problems), problems


def test_rejects_a_higher_target_than_the_plan_carries():
    low = toy(1.0)
    graph = build_fabric(low)
    plan = provision(derive(low, graph), OPTS).to_dict()
    problems = verify_provisioning(derive(toy(2.0), graph), plan)
    assert any(p.startswith("capacity: mesh0 must carry 60.0") for p in problems), problems
