"""`topo-opt place`: summary, files, and exit 3 naming the binding limit for each kind of infeasibility."""

import json

import pytest
from click.testing import CliRunner
from placement_cases import small, write_instance

from topo_opt.cli import main
from topo_opt.design import derive
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.verify import verify_placement


def _place(path, *extra):
    return CliRunner().invoke(main, ["place", str(path), "--time-limit", "5", *extra])


def test_place_prints_summary_and_writes_result_and_plot(tmp_path):
    path = write_instance(tmp_path, small())
    out, plot = tmp_path / "placement.json", tmp_path / "floor.png"
    res = _place(path, "--out", str(out), "--plot", str(plot))
    assert res.exit_code == 0, res.output
    assert res.output.startswith("placement OPTIMAL")
    data = json.loads(out.read_text())
    inst = read_instance(path)
    assert verify_placement(derive(inst, build_fabric(inst)), data) == []
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_place_json_output(tmp_path):
    res = _place(write_instance(tmp_path, small()), "--json")
    assert res.exit_code == 0
    data = json.loads(res.output)
    assert data["report"]["stage"] == "placement" and data["report"]["status"] == "OPTIMAL"
    assert {
        "cabinets",
        "rows",
        "zones",
        "cables_by_medium",
        "cables_by_length_m",
        "greedy_objective_usd",
    } <= set(data)


@pytest.mark.parametrize(
    "changes, limit, amount",
    [
        ({"floor.row_power_kw": 12}, "row power: cabinets draw 25.0 kW", "exceeded by 1.0 kW"),
        (
            {"floor.cooling_zones": [{"name": "aisle", "kind": "air", "rows": [0, 1], "capacity_kw": 30}]},
            "no liquid cooling zone",
            "20.0 kW",
        ),
        ({"floor.slots_per_row": 2}, "floor space: 5 cabinets but 4 slots", "1 slots short"),
        ({"cabinets.0.power_cap_kw": 4.5}, "above its power_cap_kw 4.5 kW", "by 0.5 kW"),
        (
            {"floor.cooling_zones.0.capacity_kw": 18},
            "zone capacity: liquid-cooled cabinets draw 20.0 kW",
            "exceeded by 2.0 kW",
        ),
        (
            {"floor.cooling_zones.1.capacity_kw": 4},
            "zone capacity: air-cooled cabinets draw 5.0 kW",
            "exceeded by 1.0 kW",
        ),
        # copper only, 4 m slots: the interconnect cabinet reaches at most 3 of the 4 compute cabinets
        (
            {"media": ["dac", "aec"], "floor.slot_width_m": 4.0},
            "cable reach: no placement keeps every bundle within the longest medium's 7 m",
            "exceeded by 1.0 m",
        ),
    ],
)
def test_prechecks_exit_3_naming_the_limit(tmp_path, changes, limit, amount):
    out = tmp_path / "placement.json"
    res = _place(write_instance(tmp_path, small(**changes)), "--out", str(out))
    assert res.exit_code == 3, res.output
    line = res.output.strip()
    assert line.startswith("error: ") and "infeasible" in line and len(line.splitlines()) == 1
    assert limit in line and amount in line
    assert not out.exists()


def test_combined_limits_found_by_cp_sat_assumptions(tmp_path):
    # 25 kW over 2 rows of 13 kW passes the counting checks (26 kW), but 5 cabinets of 5 kW fit only
    # 2 per row: CP-SAT names the row caps, and the smallest total excess is 2 kW (15 kW in one row).
    res = _place(write_instance(tmp_path, small(**{"floor.row_power_kw": 13})))
    assert res.exit_code == 3, res.output
    assert "row 0 power cap 13.0 kW" in res.output and "row 1 power cap 13.0 kW" in res.output
    assert "exceeded by 2.0 kW in total" in res.output


def test_bad_options_exit_2(tmp_path):
    path = write_instance(tmp_path, small())
    assert CliRunner().invoke(main, ["place", str(path), "--time-limit", "0"]).exit_code == 2
    assert CliRunner().invoke(main, ["place", str(path), "--workers", "0"]).exit_code == 2
    missing = CliRunner().invoke(main, ["place", str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2 and "no such file" in missing.output
