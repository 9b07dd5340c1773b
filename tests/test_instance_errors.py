"""Every kind of bad input: one line `error: FILE: field: what`, exit 2, no traceback."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

from topo_opt.cli import main

GOOD = """name: t
fabric:
  family: dims
  dims:
    - {shape: ring, size: 16, bandwidth_GBps: 50, latency_ns: 500}
"""

PHYSICAL = """name: t
chip: ascend-950dt
fabric: {family: ub-mesh, pods: 1, pod_rows: 1, pod_cols: 2, lanes_uplink: 0}
cabinets:
  - {kind: compute, count: COUNT, chips: 64, power_cap_kw: 80, cooling: liquid, cooling_capacity_kw: 80}
floor: {rows: 1, slots_per_row: 4, slot_width_m: 0.6, row_pitch_m: 3, row_power_kw: 200,
        cooling_zones: [{name: z, kind: liquid, rows: [0], capacity_kw: 200}]}
media: [dac, aec]
"""

CASES = {
    "malformed-yaml": ("name: t\nfabric: [unclosed\n", "malformed YAML"),
    "not-a-mapping": ("- just\n- a list\n", "must hold a YAML mapping"),
    "missing-fabric": ("name: t\n", "fabric: is required"),
    "wrong-type": (GOOD.replace("size: 16", "size: sixteen"),
                   "fabric.dims[0].size: must be a whole number between 1 and 1,000,000"),
    "negative-size": (GOOD.replace("size: 16", "size: -4"),
                      "fabric.dims[0].size: must be a whole number between 1 and 1,000,000, got -4"),
    "nan-bandwidth": (GOOD.replace("bandwidth_GBps: 50", "bandwidth_GBps: .nan"),
                      "fabric.dims[0].bandwidth_GBps: must be a finite number between 1e-06 and 1e+09, got nan"),
    "inf-latency": (GOOD.replace("latency_ns: 500", "latency_ns: .inf"),
                    "fabric.dims[0].latency_ns: must be a finite number between 0 and 1e+09, got inf"),
    "huge-size": (GOOD.replace("size: 16", "size: 1000000000000"),
                  "fabric.dims[0].size: must be a whole number between 1 and 1,000,000, got 1,000,000,000,000"),
    "duplicate-key": (GOOD.replace("name: t", "name: t\nname: u"), "duplicate key 'name' (first at line"),
    "zero-size": (GOOD.replace("bandwidth_GBps: 50", "bandwidth_GBps: 0"),
                  "fabric.dims[0].bandwidth_GBps: must be a finite number between 1e-06 and 1e+09"),
    "fractional-count": (GOOD.replace("size: 16", "size: 2.5"), "must be a whole number"),
    "infinite-count": (GOOD.replace("size: 16", "size: .inf"), "fabric.dims[0].size: must be a whole number"),
    "unknown-family": (GOOD.replace("family: dims", "family: hypercube"), "fabric.family: unknown fabric family"),
    "unknown-shape": (GOOD.replace("shape: ring", "shape: rung"), "did you mean 'ring'"),
    "unknown-field": (GOOD.replace("latency_ns: 500", "latency_ms: 500"), "did you mean 'latency_ns'"),
    "unknown-chip": (GOOD + "chip: ascend-999\n", "chip: unknown chip 'ascend-999'"),
    "unknown-medium": (GOOD + "media: [dac, fibre]\n", "media[1]: unknown medium 'fibre'"),
    "sizes-do-not-multiply": (
        PHYSICAL.replace("COUNT", "3"),
        "cabinets: compute cabinets hold 192 chips (sum of count x chips) but the fabric has 128"),
    "lanes-over-budget": ("name: t\nfabric: {family: ub-mesh, lanes_x: 40}\n", "fabric.lanes_total: lanes_x + lanes_y"),
    "clos-two-tier-too-big": ("name: t\nfabric: {family: clos, chips: 4096, radix: 32}\n",
                              "fabric.tiers: 256 leaves exceed a spine's 32 ports"),
    "rail-three-tiers": ("name: t\nfabric: {family: clos, variant: rail-optimized, chips: 512, tiers: 3}\n",
                         "fabric.tiers: the rail-optimized variant is built with 2 tiers, got 3"),
    "bad-size-unit": (GOOD + "workload: {sizes: [1XB]}\n", "workload.sizes[0]: not a size"),
    "bad-layout": (GOOD + "workload: {layout: 'tp=eight'}\n", "workload.layout: bad term"),
    "zone-row-outside": (PHYSICAL.replace("COUNT", "2").replace("rows: [0]", "rows: [3]"),
                         "floor.cooling_zones[0].rows: row 3 is outside"),
}


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("command", ["validate", "build"])
def test_bad_input_is_one_line_exit_2(tmp_path, case, command):
    text, expected = CASES[case]
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    result = CliRunner().invoke(main, [command, str(path)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith(f"error: {path}: ")
    assert expected in lines[0]
    assert "Traceback" not in result.output


def test_missing_file(tmp_path):
    result = CliRunner().invoke(main, ["build", str(tmp_path / "nope.yaml")])
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {tmp_path / 'nope.yaml'}: no such file"


def test_good_physical_instance_validates(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(PHYSICAL.replace("COUNT", "2"))
    result = CliRunner().invoke(main, ["validate", str(path)])
    assert result.exit_code == 0, result.output
    assert "128 chips, with physical sections" in result.output


def test_real_subprocess_bad_input(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(CASES["negative-size"][0])
    proc = subprocess.run([sys.executable, "-m", "topo_opt.cli", "build", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.strip() == (
        f"error: {path}: fabric.dims[0].size: must be a whole number between 1 and 1,000,000, got -4")
    graph = tmp_path / "g.json"
    proc = subprocess.run([sys.executable, "-m", "topo_opt.cli", "build", str(path), "--out", str(graph)],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and not graph.exists()
