"""Failures, spares and availability: closed forms, hand figures and full per-chip rescoring."""

import dataclasses
import json
import math
import pathlib

import numpy as np
import pytest
from click.testing import CliRunner

from topo_opt import resilience as R
from topo_opt.catalog import FAILURE_RATES
from topo_opt.cli import main
from topo_opt.fabric import build_fabric
from topo_opt.families.clos import clos_fabric
from topo_opt.families.dims import dims_fabric
from topo_opt.families.ub_mesh import ubmesh_fabric
from topo_opt.instance import ClosParams, DimSpec, Reliability, UbMeshParams
from topo_opt.io import read_instance

ROOT = pathlib.Path(__file__).resolve().parents[1]

LANE_GBPS = 2000 / 72  # the Ascend 950's x72 lanes


def _one(plan: R.Plan, scenario: dict):
    f = R.named_failures(plan.space, scenario, "scenario")
    times, causes = R.degraded_times(plan, R.perturb(plan.space, f))
    return f, times, causes


@pytest.mark.parametrize("algorithm", ["ring", "bidir-ring"])
def test_failed_ring_link_gives_the_closed_form_detour(algorithm: str) -> None:
    """One link of a 16-ring fails: the flows that crossed it go the other way round, p-1 hops.
    One-way ring: the reverse links were idle, so T = 2(p-1) [(p-1) alpha + n / (p B)]; the
    two-way ring loses its halving, and gets the same figure."""
    p, bw, lat_s, n = 16, 50.0, 500e-9, 2**26
    graph = dims_fabric((DimSpec("ring", p, bw, 500),))
    plan = R.plan(graph, ["all-reduce"], [n], [algorithm])
    f, times, causes = _one(plan, {"links": [[3, 4]]})
    closed = 2 * (p - 1) * ((p - 1) * lat_s + n / p / (bw * 1e9))
    assert times[0] == pytest.approx(closed, rel=1e-9)
    intact, exact = R.exact_times(plan.space, f, graph, plan.records)
    assert intact[0] == pytest.approx(plan.records[0]["time_s"], rel=1e-9)
    assert exact[0] == pytest.approx(closed, rel=1e-9)
    assert causes[0] == "ring0 link 3-4 (1 of 1 units)"


def test_full_mesh_detour_matches_full_rescoring() -> None:
    """A lost edge of a 6-chip full mesh: 2-hop detours through the 4 other peers, r = 1 + 1/4,
    against per-chip rescoring of the degraded graph."""
    graph = dims_fabric((DimSpec("full-mesh", 6, 40, 200),))
    plan = R.plan(graph, ["all-reduce", "all-to-all"], [2**20, 2**26])
    f, times, _ = _one(plan, {"links": [[1, 4]]})
    _, exact = R.exact_times(plan.space, f, graph, plan.records)
    np.testing.assert_allclose(times, exact, rtol=1e-9)
    big = [i for i, r in enumerate(plan.records) if r["size_bytes"] == 2**26]
    for i in big:  # bandwidth-bound: the factor itself
        assert times[i] / plan.records[i]["time_s"] == pytest.approx(1.25, rel=0.01)


def test_bundle_losing_a_unit_and_clos_planes() -> None:
    """A bundle of n units losing one runs at (n-1)/n; a Clos chip link of 4 planes loses one."""
    graph = clos_fabric(ClosParams(chips=16, radix=8, port_GBps=400))
    plan = R.plan(graph, ["all-to-all"], [2**28], cable_GBps=100)
    assert plan.space.units.min() == 4
    chip_edge = int(np.flatnonzero(plan.space.u < 16)[0])
    u, v = int(plan.space.u[chip_edge]), int(plan.space.v[chip_edge])
    f, times, causes = _one(plan, {"links": [[u, v]]})
    assert times[0] / plan.records[0]["time_s"] == pytest.approx(4 / 3, rel=0.01)
    _, exact = R.exact_times(plan.space, f, graph, plan.records)
    assert exact[0] == pytest.approx(times[0], rel=0.01)
    assert "1 of 4 units" in causes[0]


def test_spare_npu_keeps_the_rack_all_reduce_at_the_lrs_detour_figure(instance_path) -> None:
    """A failed NPU of the 64-NPU rack is replaced by the LRS's spare, whose only link is the LRS
    link of lanes_lrs = 4 lanes. By hand: the spare must send 2 (p-1)/p n bytes of an all-reduce
    (p-1)/p n of an all-to-all) over 4 x 2000/72 GB/s, so T >= that / B_lrs, and nothing else
    is slower: T within that plus two LRS hops per step. Full rescoring agrees."""
    inst = read_instance(instance_path("ubmesh-rack64"))
    graph = build_fabric(inst)
    n, p = 2**30, 64
    plan = R.plan(graph, ["all-reduce", "all-to-all"], [n], cable_GBps=R.cable_GBps(inst))
    f, times, causes = _one(plan, {"chips": [5]})
    b_lrs = inst.fabric.params.lanes_lrs * LANE_GBPS * 1e9
    hand = {"all-reduce": 2 * (p - 1) / p * n / b_lrs, "all-to-all": (p - 1) / p * n / b_lrs}
    _, exact = R.exact_times(plan.space, f, graph, plan.records)
    for i, r in enumerate(plan.records):
        figure = hand[r["collective"]]
        assert figure <= times[i] <= figure * 1.001
        assert exact[i] == pytest.approx(times[i], rel=1e-6)
        assert "replaced by its cabinet's spare" in causes[i]


def test_no_spare_stops_the_job(instance_path) -> None:
    """spare_npus: 0 — the group does not shrink: a chip failure stops the job (documented)."""
    inst = read_instance(instance_path("ubmesh-rack64"))
    params = dataclasses.replace(inst.fabric.params, spare_npus=0)
    graph = ubmesh_fabric(params, LANE_GBPS)
    plan = R.plan(graph, ["all-reduce"], [2**20])
    out = R.run_trials(plan, {"chips": 1}, 5, 0)
    rec = out["records"][0]
    assert rec["stopped_trials"] == 5 and rec["time_s"]["median"] is None
    assert "no free spare" in rec["worst"]["cause"]
    # two failures in the 64 + 1 rack: the second one stops it too
    spared = R.plan(build_fabric(inst), ["all-reduce"], [2**20])
    assert R.run_trials(spared, {"chips": 2}, 3, 0)["records"][0]["stopped_trials"] == 3
    assert R.run_trials(spared, {"chips": 1}, 3, 0)["records"][0]["stopped_trials"] == 0


def test_partitioned_ring_stops_the_job() -> None:
    graph = dims_fabric((DimSpec("ring", 8, 50, 300),))
    plan = R.plan(graph, ["all-reduce"], [2**20])
    _, times, causes = _one(plan, {"links": [[1, 2], [5, 6]]})
    assert math.isinf(times[0]) and "splits" in causes[0]


def test_same_seed_same_trials(instance_path) -> None:
    graph = build_fabric(read_instance(instance_path("ubmesh-pod1024")))
    plan = R.plan(graph, ["all-reduce", "all-to-all"], [2**26])
    a = R.run_trials(plan, {"links": 20, "chips": 2}, 8, 7)
    b = R.run_trials(plan, {"links": 20, "chips": 2}, 8, 7)
    c = R.run_trials(plan, {"links": 20, "chips": 2}, 8, 8)
    assert json.dumps(a) == json.dumps(b)
    assert json.dumps(a) != json.dumps(c)


def test_sampling_counts_units() -> None:
    graph = clos_fabric(ClosParams(chips=16, radix=8, port_GBps=400))
    space = R.failure_space(graph, 100)
    f = R.sample_failures(space, {"links": 37, "switches": 3}, np.random.default_rng(1))
    assert f.edge_units.sum() == 37 and (f.edge_units <= space.units).all()
    assert f.switch_units.sum() == 3
    assert R.parse_fail_spec("links=10%,chips=1", space) == {"links": round(0.1 * space.population("links")),
                                                              "chips": 1}


def test_availability_closed_form() -> None:
    """A = 1 / (1 + sum lambda_i d_i); job-stopping MTBF = 1 / (sum of the stopping rates)."""
    graph = ubmesh_fabric(UbMeshParams(board_npus=4, rack_boards=4, pod_rows=1, pod_cols=1, lanes_uplink=0),
                          LANE_GBPS)
    space = R.failure_space(graph)
    rel = Reliability(mttr_h=2.0, detection_s=36.0, migration_s=360.0)
    inv = R.inventory_from_graph(graph, space, rel)
    a = R.availability(inv, R.spare_groups(space), rel)
    lam = FAILURE_RATES["chip"].per_hour
    g = 16
    second = g * lam * (g - 1) * lam * 2.0
    stop = second + inv["boards"] * FAILURE_RATES["board"].per_hour
    assert a["job_stop_mtbf_h"] == pytest.approx(1 / stop)
    down = g * lam * (0.01 + 0.1) + stop * (0.01 + 2.0) + a["fabric_rate_per_h"] * 0.01
    assert a["availability"] == pytest.approx(1 / (1 + down))
    assert inv["boards"] == 4 and inv["low-radix-switch"] == 1
    links_stop = R.availability(inv, R.spare_groups(space), dataclasses.replace(rel, links_stop_job=True))
    assert links_stop["job_stop_mtbf_h"] < a["job_stop_mtbf_h"]


def test_cli_json_and_errors(instance_path, tmp_path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["resilience", instance_path("ring16"), "--fail", "links=1", "--trials", "3",
                              "--json"])
    assert ok.exit_code == 0, ok.output
    data = json.loads(ok.output)
    assert data["trials"] == 3 and data["records"][0]["efficiency"]["max"] <= 1 + 1e-12
    scenario = tmp_path / "s.yaml"
    scenario.write_text("links: [[0, 5]]\n")
    bad = runner.invoke(main, ["resilience", instance_path("ring16"), "--scenario", str(scenario)])
    assert bad.exit_code == 2 and "links[0]: no link between nodes 0 and 5" in bad.output
    both = runner.invoke(main, ["resilience", instance_path("ring16"), "--fail", "links=1",
                                "--scenario", str(scenario)])
    assert both.exit_code == 2 and both.output.startswith("error: ")
    assert runner.invoke(main, ["resilience", instance_path("ring16"), "--fail", "cables=1"]).exit_code == 2
    for spec in ("links=nan%", "links=-1", "links=1.5", "chips=17"):
        out = runner.invoke(main, ["resilience", instance_path("ring16"), "--fail", spec])
        assert out.exit_code == 2 and out.output.startswith("error: --fail: "), (spec, out.output)
    scenario.write_text("links: [[0, 1]\n")
    broken = runner.invoke(main, ["resilience", instance_path("ring16"), "--scenario", str(scenario)])
    assert broken.exit_code == 2 and "malformed YAML" in broken.output and "Traceback" not in broken.output


def test_reliability_section_is_parsed_and_checked() -> None:
    from topo_opt.errors import InstanceError
    from topo_opt.instance import instance_from_mapping

    base = {"name": "r", "fabric": {"family": "dims", "dims": [{"shape": "ring", "size": 4, "bandwidth_GBps": 10}]}}
    inst = instance_from_mapping({**base, "reliability": {"mttr_h": 4, "links_stop_job": True}}, "r.yaml")
    assert inst.reliability == Reliability(mttr_h=4.0, links_stop_job=True)
    assert instance_from_mapping(base, "r.yaml").reliability == Reliability()
    with pytest.raises(InstanceError, match="reliability.mttr_h: must be a finite number between"):
        instance_from_mapping({**base, "reliability": {"mttr_h": 0}}, "r.yaml")
    with pytest.raises(InstanceError, match="reliability.mtr_h: unknown field"):
        instance_from_mapping({**base, "reliability": {"mtr_h": 1}}, "r.yaml")


def test_compare_availability_matches_the_graph_count(instance_path) -> None:
    """`compare` reads availability off the result file alone (spares spread over the chip
    cabinets); the same BOM with the spares counted on the fabric graph gives the same figures."""
    from topo_opt.compare import design_metrics
    from topo_opt.io import read_json

    result = read_json(ROOT / "results" / "atlas950-superpod.json")
    inst = read_instance(instance_path("atlas950-superpod"))
    space = R.failure_space(build_fabric(inst), R.cable_GBps(inst))
    inv = R.inventory_from_bom(result["provisioning"]["bom"], space, inst.reliability)
    a = R.availability(inv, R.spare_groups(space), inst.reliability)
    m = design_metrics(result)
    assert m["job_stop_mtbf_h"] == pytest.approx(a["job_stop_mtbf_h"])
    assert m["job_availability"] == pytest.approx(a["availability"])
    assert m["network_availability"] == pytest.approx(a["fabric_availability"])
    assert R.spare_groups(space) == [(64, 1)] * 128


def test_exact_rescoring_agrees_with_brute_force() -> None:
    """The degraded graph rescored by the per-flow engine and by the brute-force reference
    (networkx paths, progressive filling) agree; the spare-bound fast figure agrees with both."""
    graph = ubmesh_fabric(UbMeshParams(board_npus=4, rack_boards=4, pod_rows=1, pod_cols=1, lanes_uplink=0),
                          LANE_GBPS)
    plan = R.plan(graph, ["all-reduce", "all-to-all"], [2**24])
    f, fast, _ = _one(plan, {"chips": [6], "links": [[0, 1]]})
    intact, exact = R.exact_times(plan.space, f, graph, plan.records)
    b_intact, brute = R.exact_times(plan.space, f, graph, plan.records, brute_force=True)
    np.testing.assert_allclose(b_intact, intact, rtol=1e-6)
    np.testing.assert_allclose(brute, exact, rtol=1e-6)
    np.testing.assert_allclose(fast, exact, rtol=0.02)
