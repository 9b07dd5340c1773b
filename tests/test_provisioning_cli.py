"""`topo-opt provision`: plan and BOM on stdout, exit 3 naming the binding budget, exit 2 on bad input."""

import copy
import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from provisioning_toy import TOY

from topo_opt.cli import main
from topo_opt.design import derive
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.verify import verify_provisioning


def _write(tmp_path, target):
    raw = copy.deepcopy(TOY)
    raw["workload"]["target_throughput"] = target
    path = tmp_path / "toy16.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_prints_plan_and_bom(tmp_path):
    result = CliRunner().invoke(main, ["provision", _write(tmp_path, 1.0)])
    assert result.exit_code == 0, result.output
    assert "solver          OPTIMAL" in result.output
    assert "optical modules 0" in result.output
    assert "lanes per chip  mesh0 3 (nominal 6), mesh1 3 (nominal 3); 6 of 16 used" in result.output


def test_json_output_is_the_plan(tmp_path):
    result = CliRunner().invoke(main, ["provision", _write(tmp_path, 2.0), "--json", "--seed", "3"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    assert plan["report"]["stage"] == "provisioning" and plan["report"]["seed"] == 3
    assert plan["lanes_per_chip"]["mesh0"]["lanes"] == 6
    assert set(plan["bom"]) >= {"cables", "optical_modules", "switches", "chips", "network_cost_usd",
                                "network_cost_share", "network_power_kw", "network_power_share"}


def test_demand_over_budget_exits_3_naming_it(tmp_path):
    result = CliRunner().invoke(main, ["provision", _write(tmp_path, 3.0)])
    assert result.exit_code == 3
    assert result.output.startswith("error: lanes per chip: needs 18 of 16")
    assert "Traceback" not in result.output


def test_rail_optimized_clos_provisions():
    result = CliRunner().invoke(main, ["provision", "instances/h20-rail8k.yaml"])
    assert result.exit_code == 0, result.output
    assert "lanes per chip  server 9 (nominal 18), rail 1 (nominal 1); 9 of 18 used" in result.output
    assert "leaf 128 x eth-51t-128x400g, spine 64 x eth-51t-128x400g" in result.output


def test_catalog_without_the_fabric_radix_exits_2(tmp_path):
    raw = yaml.safe_load(Path("instances/h20-rail8k.yaml").read_text())
    raw["fabric"]["port_GBps"] = 30
    path = tmp_path / "h20-port30.yaml"
    path.write_text(yaml.safe_dump(raw))
    result = CliRunner().invoke(main, ["provision", str(path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {path}: fabric.radix: no catalog switch has 128 ports whose "
                                    "speed divides 30 GB/s")


def test_fabric_only_instance_exits_2():
    result = CliRunner().invoke(main, ["provision", "instances/ring16.yaml"])
    assert result.exit_code == 2
    assert "chip: is required for placement and provisioning" in result.output


def _write_absolute(tmp_path, target_GBps, layout=None):
    raw = copy.deepcopy(TOY)
    raw["workload"]["target_GBps"] = target_GBps
    if layout:
        raw["workload"]["layout"] = layout
    path = tmp_path / "toy16-absolute.yaml"
    path.write_text(yaml.safe_dump(raw))
    return str(path)


def test_absolute_target_is_carried_and_verified(tmp_path):
    """The toy sends 1.5 B per unit rate per chip (R = 40 GB/s): 100 GB/s per chip is 5/3 x R, so
    every mesh takes ceil(5/3 x 40 x 0.75 / 10) = 5 lanes; verify_provisioning re-checks the plan."""
    path = _write_absolute(tmp_path, {"all": 100})
    result = CliRunner().invoke(main, ["provision", path, "--json"])
    assert result.exit_code == 0, result.output
    plan = json.loads(result.output)
    mcf = plan["max_concurrent_flow"]
    assert mcf["target"] == pytest.approx(5 / 3) and mcf["achieved"] >= mcf["target"] - 1e-9
    assert mcf["injection_GBps_per_chip"] == pytest.approx(100)
    assert {k: v["lanes"] for k, v in plan["lanes_per_chip"].items()} == {"mesh0": 5, "mesh1": 5}
    inst = read_instance(path)
    assert verify_provisioning(derive(inst, build_fabric(inst)), plan) == []


def test_absolute_target_over_the_lane_budget_exits_3_naming_class_and_excess(tmp_path):
    result = CliRunner().invoke(main, ["provision", _write_absolute(tmp_path, {"all": 1000})])
    assert result.exit_code == 3
    assert result.output.startswith(
        "error: lanes per chip: needs 100 of 16 (mesh0 50, mesh1 50), exceeded by 84 "
        "to carry workload.target_GBps all: 1000 GB/s per chip (16.67 x the reference rate)")


@pytest.mark.parametrize(("target", "message"), [
    ({"dp": 100}, "workload.target_GBps.dp: is not an axis of the layout that spans chips (axes: all)"),
    ({"all": float("nan")}, "workload.target_GBps.all: must be a finite number"),
    ({"all": -5}, "workload.target_GBps.all: must be a finite number"),
    ([100], "workload.target_GBps: must be a non-empty mapping of axis to GB/s per chip"),
])
def test_bad_absolute_target_exits_2(tmp_path, target, message):
    result = CliRunner().invoke(main, ["provision", _write_absolute(tmp_path, target)])
    assert result.exit_code == 2, result.output
    assert message in result.output and "Traceback" not in result.output


def test_absolute_target_of_one_axis_binds_it(tmp_path):
    """Layout tp=4,dp=4 on the toy: each axis's rate is fixed relative to the other by its role, so
    asking dp for G GB/s gives dp exactly G and tp its proportional share."""
    path = _write_absolute(tmp_path, {"dp": 20}, layout="tp=4,dp=4")
    plan = json.loads(CliRunner().invoke(main, ["provision", path, "--json"]).output)
    mcf = plan["max_concurrent_flow"]
    assert "workload.target_GBps dp: 20 GB/s per chip" in mcf["target_basis"]
    traffic = derive(read_instance(path), build_fabric(read_instance(path))).traffic
    dp = dict(traffic.axis_injection)["dp"]
    assert mcf["target"] * mcf["reference_rate_GBps"] * dp == pytest.approx(20)
