"""The provisioning verifier's first-principles layer catches model bugs that the structural layer,
which shares the provisioning model's spec, lets through: each test plants a wrong coefficient in
the model, provisions with it, shows the plan passes a check made with that same (wrong) model, and
that `verify_provisioning` still rejects it from the graph, the catalog and the workload alone."""

import copy
import dataclasses

import pytest
from provisioning_toy import DRAGONFLY, RAIL, TOY, toy

from topo_opt import netspec
from topo_opt.design import derive
from topo_opt.instance import instance_from_mapping
from topo_opt.io import read_instance
from topo_opt.provisioning import provision, provision_at_rate
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_provisioning

OPTS = SolveOptions(time_limit_s=10, seed=0, workers=1)

# A ring of 16 chips, 4 per cabinet, 2 links of 20 GB/s per chip (4 of its 16 lanes of 10 GB/s),
# all-to-all over all chips: half the ring's chips must send 4 B across the two links of a half cut.
RING = copy.deepcopy(TOY)
RING["name"] = "ring16p"
RING["fabric"] = {"family": "dims", "dims": [{"shape": "ring", "size": 16, "bandwidth_GBps": 20}]}


def _ring():
    return instance_from_mapping(copy.deepcopy(RING), "ring16p.yaml")


def _shared_model_ok(design, plan) -> bool:
    """The structural layer alone: what a check sharing the model's spec would conclude."""
    return not [p for p in verify_provisioning(design, plan) if "(graph)" not in p]


def test_a_correct_ring_plan_passes_both_layers():
    design = derive(_ring())
    assert verify_provisioning(design, provision(design, OPTS).to_dict()) == []


def test_a_route_factor_bug_inflates_the_reference_rate_and_is_caught(monkeypatch):
    # the bug: ring traffic costs one hop per byte whatever the distance (the true mean is 64/15)
    monkeypatch.setattr(netspec, "route_factor", lambda shape, pattern, size: 1.0)
    design = derive(_ring())
    plan = provision(design, OPTS).to_dict()
    assert _shared_model_ok(design, plan)
    problems = verify_provisioning(design, plan)
    assert any(p.startswith("rate (graph): the plan's reference rate") for p in problems), problems


def test_a_route_factor_bug_at_a_given_rate_leaves_the_half_cut_short(monkeypatch):
    true = derive(_ring())
    rate = provision(true, OPTS).to_dict()["max_concurrent_flow"]["reference_rate_GBps"]
    monkeypatch.setattr(netspec, "route_factor", lambda shape, pattern, size: 1.0)
    design = derive(_ring())
    plan = provision_at_rate(design, OPTS, rate).to_dict()
    assert _shared_model_ok(design, plan)
    problems = verify_provisioning(design, plan)
    assert any(p.startswith("capacity (graph): half of dimension ring0") for p in problems), problems


def test_a_switch_tier_coefficient_bug_is_caught_by_the_ports_on_the_graph(monkeypatch):
    from topo_opt.families import clos

    def halved(*args):  # the bug: a switch's ports counted at half the links it terminates
        spec = clos.network_spec(*args)
        tiers = tuple(dataclasses.replace(t, terms=tuple((c, k / 2) for c, k in t.terms)) for t in spec.tiers)
        return dataclasses.replace(spec, tiers=tiers)

    inst = toy(1.0, RAIL)
    monkeypatch.setattr(type(inst.fabric), "family_def",
                        property(lambda self: dataclasses.replace(clos.FAMILY, network_spec=halved)))
    design = derive(inst)
    plan = provision(design, OPTS).to_dict()
    assert _shared_model_ok(design, plan)
    problems = verify_provisioning(design, plan)
    assert any(p.startswith("switch ports (graph): tier leaf") for p in problems), problems


def test_a_lane_budget_bug_is_caught_by_the_chip_links_on_the_graph(monkeypatch):
    from topo_opt.families import ub_mesh

    def roomier(*args):  # the bug: the NPU's lane budget read as 1.5 x lanes_total
        spec = ub_mesh.network_spec(*args)
        return dataclasses.replace(spec, lane_budget=spec.lane_budget * 1.5)

    inst = read_instance("instances/ubmesh-pod1024.yaml")
    inst = dataclasses.replace(inst, workload=dataclasses.replace(inst.workload, target_throughput=2.5))
    monkeypatch.setattr(type(inst.fabric), "family_def",
                        property(lambda self: dataclasses.replace(ub_mesh.FAMILY, network_spec=roomier)))
    design = derive(inst)
    plan = provision(design, OPTS).to_dict()
    assert plan["lane_budget"]["used"] > 72  # the model spent lanes the NPU does not have
    assert _shared_model_ok(design, plan)
    problems = verify_provisioning(design, plan)
    assert any(p.startswith("chip lanes (graph): chip") for p in problems), problems


@pytest.mark.parametrize("raw", [TOY, RAIL, DRAGONFLY, RING], ids=["mesh", "rail", "dragonfly", "ring"])
def test_correct_plans_pass_the_graph_layer(raw):
    inst = instance_from_mapping(copy.deepcopy(raw), f"{raw['name']}.yaml")
    design = derive(inst)
    assert verify_provisioning(design, provision(design, OPTS).to_dict()) == []
