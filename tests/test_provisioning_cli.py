"""`topo-opt provision`: plan and BOM on stdout, exit 3 naming the binding budget, exit 2 on bad input."""

import copy
import json
from pathlib import Path

import yaml
from click.testing import CliRunner
from provisioning_toy import TOY

from topo_opt.cli import main


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
