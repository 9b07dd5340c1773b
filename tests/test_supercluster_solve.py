"""SuperCluster solve: DCN tiers and media against hand counts, hall placement against brute force,
hall limits (exit 3), bad `hall` input (exit 2), the closed-form fabric summary against the per-chip
graph, and one end-to-end solve of a small SuperCluster with its result file and report."""

import copy
import itertools
import json
import math

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

from topo_opt.catalog import MEDIA
from topo_opt.cli import main
from topo_opt.errors import InfeasibleError, InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.fabric.analysis import summarize
from topo_opt.families.supercluster import DcnParams
from topo_opt.instance import Hall, instance_from_mapping
from topo_opt.io import result_schema_errors
from topo_opt.pipeline import cluster_summary, result_consistency_errors
from topo_opt.placement.hall import check_dcn_hall, check_superpod_hall, place_halls
from topo_opt.provisioning.dcn import dcn_medium, dcn_tiers, provision_dcn
from topo_opt.resilience import availability_from_result
from topo_opt.solution import SolveOptions

POD1024 = {"family": "ub-mesh", "pods": 1}
POD1024_PHYSICAL = {
    "cabinets": [
        {"kind": "compute", "count": 16, "chips": 64, "power_cap_kw": 80, "cooling": "liquid",
         "cooling_capacity_kw": 80, "overhead_kw": 12},
        {"kind": "interconnect", "count": 4, "power_cap_kw": 25, "cooling": "air", "cooling_capacity_kw": 25,
         "switches": 4, "switch_power_kw": 2.5, "overhead_kw": 2}],
    "floor": {"rows": 3, "slots_per_row": 8, "slot_width_m": 1.2, "row_pitch_m": 4.0, "row_power_kw": 700,
              "cable_slack_m": 1.5,
              "cooling_zones": [{"name": "liquid", "kind": "liquid", "rows": [0, 1], "capacity_kw": 1400},
                                {"name": "air", "kind": "air", "rows": [2], "capacity_kw": 120}]},
}
HALL = {"rows": 2, "cols": 3, "pitch_m": 40, "power_kw": 1500, "cooling_kw": 1500, "dcn_cabinet_switches": 4,
        "cable_slack_m": 20}


def supercluster4(**hall) -> dict:
    """4 SuperPoDs of instances/ubmesh-pod1024.yaml's fabric, cabinets and floor (4,096 chips)."""
    return copy.deepcopy({"name": "ubmesh-supercluster4", "chip": "ascend-950dt",
            "fabric": {"family": "supercluster", "superpods": 4, "superpod": POD1024,
                       "dcn": {"port_GBps": 50, "ports_per_chip": 1, "switch_radix": 128, "latency_ns": 3000}},
            **POD1024_PHYSICAL, "hall": {**HALL, **hall},
            "media": ["dac", "aec", "optics-800g-sr8", "optics-800g"],
            "workload": {"collectives": ["all-reduce", "all-to-all"], "sizes": ["1MiB", "1GiB"],
                         "layout": "tp=8,pp=8,dp=64"}})


def write(tmp_path, raw: dict, name: str = "sc.yaml") -> str:
    path = tmp_path / name
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


# --- DCN tiers and media -------------------------------------------------------------------------

@pytest.mark.parametrize(("superpods", "chips", "ports", "radix", "per_box", "boxes"), [
    (64, 8192, 1, 128, 2, 4096),  # Atlas 950 SuperCluster: 64-port planes, two per 128-port box
    (4, 1024, 1, 128, 32, 32),
    (64, 8192, 0.5, 128, 4, 2048),  # half a port per chip: 32-port planes
    (3, 10, 1, 8, 2, 5),
    (8, 5, 1, 8, 1, 5),  # a plane fills a box exactly
])
def test_dcn_one_tier_against_hand_counts(superpods, chips, ports, radix, per_box, boxes):
    t = dcn_tiers(superpods, chips, ports, radix)
    assert (t.tiers, t.planes_per_box, t.leaves, t.spines, t.boxes, t.leaf_spine_cables) == (
        1, per_box, boxes, 0, boxes, 0)


@pytest.mark.parametrize(("superpods", "chips", "radix", "leaves", "spines"), [
    (65, 15488, 64, 3, 2),  # Atlas 960 SuperCluster: 65 ports, 32 down per leaf: 3 leaves, 96 uplinks, 2 spines
    (7, 3, 4, 4, 2),  # 7 ports, 2 down per leaf: 4 leaves, 8 uplinks on 2 four-port spines
    (9, 1, 6, 3, 2),  # 9 ports, 3 down: 3 leaves, 9 uplinks on 2 six-port spines
])
def test_dcn_two_tier_against_hand_counts(superpods, chips, radix, leaves, spines):
    t = dcn_tiers(superpods, chips, 1, radix)
    assert (t.tiers, t.leaves_per_plane, t.spines_per_plane) == (2, leaves, spines)
    assert (t.leaves, t.spines) == (chips * leaves, chips * spines)
    assert t.leaf_spine_cables == chips * leaves * (radix // 2)


def test_dcn_beyond_two_tiers_is_refused_naming_the_limit():
    with pytest.raises(InfeasibleError, match=r"r\^2/2 = 8 ports"):
        dcn_tiers(10, 3, 1, 4)


def test_dcn_medium_by_run_length():
    media = (MEDIA["dac"], MEDIA["optics-800g-sr8"], MEDIA["optics-800g"])
    assert dcn_medium(media, 1.5, 50).name == "dac"
    assert dcn_medium(media, 60, 50).name == "optics-800g-sr8"  # 1,800 + 3 x 60 < 2,500 + 2 x 60
    assert dcn_medium(media, 140, 50).name == "optics-800g"  # beyond SR8's 100 m
    assert dcn_medium(media, 600, 50) is None
    # a 400G optic cannot carry an 800G port, however cheap
    assert dcn_medium((MEDIA["optics-400g"], MEDIA["optics-800g"]), 50, 100).name == "optics-800g"


def test_dcn_plan_prices_every_run_and_names_the_longest_unreachable_one():
    dcn = DcnParams(port_GBps=50, ports_per_chip=1, switch_radix=128)
    media = (MEDIA["optics-800g-sr8"], MEDIA["optics-800g"])
    plan = provision_dcn(4, 1024, dcn, (60.0, 60.0, 140.0, 140.0), media, 46.7, 4, "f.yaml")
    assert plan.switch.name == "eth-51t-128x400g" and plan.tiers.boxes == 32 and plan.cabinets == 8
    sr8, dr8 = MEDIA["optics-800g-sr8"], MEDIA["optics-800g"]
    cables = 2 * 1024 * (sr8.cable_cost_usd(60) + dr8.cable_cost_usd(140))
    assert plan.cost_usd == pytest.approx(cables + 32 * plan.switch.cost_usd)
    assert plan.power_kw == pytest.approx((2048 * (sr8.power_w + dr8.power_w) + 32 * plan.switch.power_w) / 1000)
    assert plan.optical_modules == 2 * 4096
    assert {(c["medium"], c["length"], c["count"]) for c in plan.bom_lines()} == {
        ("optics-800g-sr8", "<=100 m", 2048), ("optics-800g", "<=200 m", 2048)}
    with pytest.raises(InfeasibleError, match=r"SuperPoD 2 to the DCN hall, is 900\.0 m .* longest reach .* 500 m"):
        provision_dcn(4, 1024, dcn, (60.0, 800.0, 900.0, 60.0), media, 46.7, 4, "f.yaml")
    with pytest.raises(InstanceError, match="no catalog switch has 96 ports"):
        provision_dcn(4, 1024, DcnParams(switch_radix=96), (60.0,) * 4, media, 46.7, 4, "f.yaml")


def test_two_tier_plan_cables_leaf_to_spine_inside_the_dcn_hall():
    dcn = DcnParams(port_GBps=100, ports_per_chip=1, switch_radix=64)
    plan = provision_dcn(65, 2, dcn, (100.0,) * 65, (MEDIA["optics-800g"],), 46.7, 4, "f.yaml")
    inner = [r for r in plan.runs if r.where.startswith("leaf-spine")]
    assert [(r.count, r.length_m) for r in inner] == [(2 * 3 * 32, 46.7)]
    assert plan.tiers.boxes == 2 * 5 and plan.cables == 65 * 2 + 192


# --- hall placement ------------------------------------------------------------------------------

def brute_force_cells(rows: int, cols: int, superpods: int) -> int:
    """min over the DCN cell and every set of SuperPoD cells of the summed Manhattan distances."""
    cells = [(r, c) for r in range(rows) for c in range(cols)]
    best = math.inf
    for d in cells:
        rest = [x for x in cells if x != d]
        for chosen in itertools.combinations(rest, superpods):
            best = min(best, sum(abs(r - d[0]) + abs(c - d[1]) for r, c in chosen))
    return best


@pytest.mark.parametrize(("rows", "cols", "superpods"), [(1, 4, 2), (2, 3, 4), (3, 3, 5), (3, 4, 7), (2, 5, 9)])
def test_hall_placement_is_optimal_against_brute_force(rows, cols, superpods):
    hall = Hall(rows, cols, 40.0, 1000.0, 1000.0, cable_slack_m=15.0)
    halls = place_halls(hall, superpods, 10, SolveOptions(5.0))
    cells = brute_force_cells(rows, cols, superpods)
    assert halls.report.objective == pytest.approx(10 * (40.0 * cells + 15.0 * superpods))
    assert (halls.report.status, halls.report.bound, halls.report.gap) == ("OPTIMAL", halls.report.objective, 0.0)
    taken = set(halls.superpod_cells) | {halls.dcn_cell}
    assert len(taken) == superpods + 1 and all(0 <= r < rows and 0 <= c < cols for r, c in taken)
    lengths = [(abs(r - halls.dcn_cell[0]) + abs(c - halls.dcn_cell[1])) * 40.0 + 15.0 for r, c in halls.superpod_cells]
    assert list(halls.run_lengths_m) == lengths == sorted(lengths)


def test_hall_over_its_power_or_cooling_is_infeasible_naming_hall_resource_and_excess():
    hall = Hall(3, 3, 40.0, power_kw=1000.0, cooling_kw=900.0, dcn_power_kw=5000.0, dcn_cooling_kw=5000.0)
    check_superpod_hall(hall, 900.0)
    check_dcn_hall(hall, 5000.0)
    with pytest.raises(InfeasibleError, match=r"a SuperPoD hall needs 1,200\.0 kW of power .*over by 200\.0 kW"):
        check_superpod_hall(hall, 1200.0)
    with pytest.raises(InfeasibleError, match=r"a SuperPoD hall needs 950\.0 kW of cooling .*over by 50\.0 kW"):
        check_superpod_hall(hall, 950.0)
    with pytest.raises(InfeasibleError, match=r"the DCN hall needs 5,001\.0 kW of power .*over by 1\.0 kW"):
        check_dcn_hall(hall, 5001.0)
    # without dcn_cooling_kw the DCN hall is cooled as the others
    with pytest.raises(InfeasibleError, match=r"the DCN hall needs 1,000\.0 kW of cooling .* has 900\.0 kW"):
        check_dcn_hall(Hall(3, 3, 40.0, power_kw=1000.0, cooling_kw=900.0), 1000.0)


# --- bad hall input --------------------------------------------------------------------------------

HALL_FIELDS = ("rows", "cols", "pitch_m", "power_kw", "cooling_kw", "dcn_cabinet_switches", "cable_slack_m",
               "dcn_power_kw", "dcn_cooling_kw")
BAD_NUMBERS = st.sampled_from([float("nan"), float("inf"), float("-inf"), -1, -0.5, 1e12, "forty", True, [1]])


@given(field=st.sampled_from(HALL_FIELDS), value=BAD_NUMBERS)
def test_bad_hall_values_name_file_and_field(field, value):
    raw = supercluster4()
    raw["hall"][field] = value
    with pytest.raises(InstanceError) as err:
        instance_from_mapping(raw, "sc.yaml")
    assert (err.value.file, err.value.field) == ("sc.yaml", f"hall.{field}")
    assert "\n" not in str(err.value)


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"rows": 1, "cols": 4}, "hall.rows", "cannot hold 4 SuperPoD halls and the DCN hall"),
    ({"rows": 0}, "hall.rows", "must be a whole number between 1 and 100"),
    ({"pitch_m": 0}, "hall.pitch_m", "must be a finite number"),
    ({"rows": 101}, "hall.rows", "between 1 and 100"),
    ({"halls": 3}, "hall.halls", "unknown field"),
])
def test_bad_hall_sections_exit_2_in_one_line(tmp_path, change, field, message):
    raw = supercluster4()
    raw["hall"].update(change)
    result = CliRunner().invoke(main, ["validate", write(tmp_path, raw)])
    assert result.exit_code == 2
    assert f": {field}: " in result.output and message in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "Traceback" not in result.output


def test_hall_outside_a_supercluster_and_cabinets_of_the_wrong_size(tmp_path):
    pod = {"name": "pod", "chip": "ascend-950dt", "fabric": POD1024, **POD1024_PHYSICAL, "media": ["dac"],
           "hall": HALL}
    with pytest.raises(InstanceError, match="only for a fabric of SuperPoDs"):
        instance_from_mapping(pod, "pod.yaml")
    raw = supercluster4()
    raw["cabinets"][0]["count"] = 64  # the whole SuperCluster's chips, not one SuperPoD's
    with pytest.raises(InstanceError, match=r"the fabric has 1024 in one SuperPoD"):
        instance_from_mapping(raw, "sc.yaml")


# --- closed-form summary against the per-chip graph ---------------------------------------------

def test_structured_summary_matches_the_per_chip_graph():
    """A DCN of radix G puts one plane per box, as the per-chip graph models it (one switch per plane)."""
    raw = {"name": "small", "fabric": {"family": "supercluster", "superpods": 3,
                                       "superpod": {"family": "dims", "dims": [
                                           {"shape": "ring", "size": 4, "bandwidth_GBps": 100, "latency_ns": 200},
                                           {"shape": "full-mesh", "size": 2, "bandwidth_GBps": 50,
                                            "latency_ns": 300}]},
                                       "dcn": {"port_GBps": 25, "switch_radix": 3}}}
    inst = instance_from_mapping(raw, "small.yaml")
    fabric = build_fabric(inst)
    cluster = inst.fabric.family_def.cluster(inst.fabric.params)
    closed = cluster_summary(inst, fabric, cluster, seed=0)
    graph = summarize(fabric)
    for key in ("chips", "switches", "links", "links_by_kind", "lanes_by_kind", "injection_GBps"):
        assert closed[key] == pytest.approx(graph[key]), key
    assert closed["switches_by_role"] == {"dcn": 8} and graph["switches_by_role"] == {"dcn": 8}
    assert closed["hops"]["diameter_hops"] == graph["hops"]["diameter_hops"]
    assert closed["hops"]["mean_hops"] == pytest.approx(graph["hops"]["mean_hops"])
    assert closed["bisection"]["bisection_GBps"] == pytest.approx(graph["bisection"]["bisection_GBps"])


# --- end to end ------------------------------------------------------------------------------------

def test_solve_small_supercluster_writes_a_consistent_result_and_report(tmp_path):
    """4 SuperPoDs of instances/ubmesh-pod1024.yaml (4,096 chips), 10 s: result, schema, report."""
    out = tmp_path / "sc.json"
    runner = CliRunner()
    solved = runner.invoke(main, ["solve", write(tmp_path, supercluster4()), "--time-limit", "10", "--seed", "0",
                                  "--workers", "2", "--quiet", "--out", str(out)])
    assert solved.exit_code == 0, solved.output
    assert "halls         OPTIMAL" in solved.output
    result = json.loads(out.read_text())
    assert result_schema_errors(result) == [] and result_consistency_errors(result) == []
    sc = result["supercluster"]
    assert (sc["superpods"], sc["chips"], result["instance"]["chips"]) == (4, 4096, 4096)
    assert sc["dcn"]["switches"] == {"eth-51t-128x400g": 32} and sc["dcn"]["cables_total"] == 4096
    # 2 x 3 halls: the DCN in a middle column, two SuperPoDs one hall away, two two halls away
    assert sorted(sc["halls"]["run_lengths_m"]) == [60.0, 60.0, 60.0, 100.0]
    assert sc["halls"]["report"]["objective"] == pytest.approx(1024 * (3 * 60 + 100))
    bom = result["provisioning"]["bom"]
    assert sc["totals"]["network_cost_usd"] == pytest.approx(4 * bom["network_cost_usd"] + sc["dcn"]["cost_usd"])
    assert result["fabric"]["switches_by_role"]["dcn"] == 32
    # availability counts the whole SuperCluster's parts: 4 SuperPoDs and the DCN
    assert availability_from_result(result) == availability_from_result(
        {**result, "provisioning": {"bom": sc["totals"]}, "supercluster": None})
    assert sc["totals"]["optical_modules"] == 4 * bom["optical_modules"] + 2 * 4096
    tampered = json.loads(out.read_text())
    tampered["supercluster"]["totals"]["optical_modules"] += 1
    assert any(e.startswith("supercluster.totals.optical_modules") for e in result_consistency_errors(tampered))
    reported = runner.invoke(main, ["report", str(out), "--out", str(tmp_path / "report")])
    assert reported.exit_code == 0, reported.output
    page = (tmp_path / "report" / "index.html").read_text()
    assert "SuperCluster: 4 SuperPoDs" in page and "DCN bill of materials" in page
    assert (tmp_path / "report" / "halls.png").stat().st_size > 0


@pytest.mark.parametrize(("hall", "message"), [
    ({"dcn_power_kw": 50}, "the DCN hall needs"),  # found before the SuperPoD's stages run
    ({"cooling_kw": 500, "dcn_cooling_kw": 1500}, "a SuperPoD hall needs"),
])
def test_solve_exits_3_when_a_hall_is_over_its_limit(tmp_path, hall, message):
    result = CliRunner().invoke(main, ["solve", write(tmp_path, supercluster4(**hall)), "--time-limit", "2", "--quiet",
                                       "--out", str(tmp_path / "r.json")])
    assert result.exit_code == 3
    assert message in result.output and "over by" in result.output
    assert not (tmp_path / "r.json").exists()
