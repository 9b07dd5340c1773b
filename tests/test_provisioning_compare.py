"""UB-Mesh (Atlas 950) against a non-oversubscribed Clos of the same 8,192 chips and workload:
UB-Mesh must need far fewer optical modules and high-radix switches (the paper claims -93 % and
-98 %), at equal workload and at equal per-chip bandwidth. The ratios are also in
results/bench/provision.json (bench/bench_provision.py)."""

import pytest

from topo_opt.design import derive
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.provisioning import provision, provision_at_rate, provision_nominal
from topo_opt.provisioning.bom import bom_ratios
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_provisioning

OPTS = SolveOptions(time_limit_s=30, seed=0, workers=1)


@pytest.fixture(scope="module")
def designs():
    ub_inst = read_instance("instances/atlas950-superpod.yaml")
    clos_inst = read_instance("instances/clos8k-950dt.yaml")
    ub_graph, clos_graph = build_fabric(ub_inst), build_fabric(clos_inst)
    ub = provision(derive(ub_inst, ub_graph), OPTS).to_dict()
    rate = ub["max_concurrent_flow"]["reference_rate_GBps"]
    clos_work = provision_at_rate(derive(clos_inst, clos_graph), OPTS, rate).to_dict()
    assert verify_provisioning(derive(clos_inst, clos_graph), clos_work) == []
    return {"ub": ub, "ub_published": provision_nominal(derive(ub_inst, ub_graph), OPTS).to_dict(),
            "clos_work": clos_work, "clos_bw": provision(derive(clos_inst, clos_graph), OPTS).to_dict()}


def test_same_chips_and_workload_rate(designs):
    ub, clos = designs["ub"], designs["clos_work"]
    assert ub["bom"]["chips"] == clos["bom"]["chips"] == 8192
    assert clos["max_concurrent_flow"]["injection_GBps_per_chip"] == pytest.approx(
        ub["max_concurrent_flow"]["injection_GBps_per_chip"], rel=1e-9)


@pytest.mark.parametrize("pair", [("ub", "clos_work"), ("ub_published", "clos_bw")])
def test_ubmesh_needs_far_fewer_optics_and_high_radix_switches(designs, pair):
    ratios = bom_ratios(designs[pair[0]]["bom"], designs[pair[1]]["bom"])
    assert ratios["optical_modules"] < 0.1
    assert ratios["high_radix_switches"] < 0.05
    assert ratios["network_cost_usd"] < 0.1
    assert ratios["network_power_kw"] < 0.1


def test_clos_planes_follow_the_demand(designs):
    """Non-blocking: ports per chip = ceil(injection / 100 GB/s), every tier sized to radix 64."""
    clos = designs["clos_work"]
    planes = clos["lanes_per_chip"]["plane"]["lanes"]
    assert planes == -(-clos["max_concurrent_flow"]["injection_GBps_per_chip"] // 100)
    counts = {s["tier"]: s["count"] for s in clos["switches"]}
    assert counts == {"leaf": 8192 * planes / 32, "agg": 8192 * planes / 32, "core": 8192 * planes / 64}
