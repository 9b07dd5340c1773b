"""`solve` end to end: result files, schema, reproducibility, overwrite guard, compare and report."""

import json
import pathlib
import struct

import pytest
from click.testing import CliRunner

from topo_opt import pipeline
from topo_opt.cli import main
from topo_opt.io import read_json
from topo_opt.pipeline import result_errors, strip_timing

ROOT = pathlib.Path(__file__).resolve().parents[1]


def solve(instance, out, *extra):
    result = CliRunner().invoke(main, ["solve", instance, "--out", str(out), "--time-limit", "4", *extra])
    assert result.exit_code == 0, result.output
    return read_json(out)


@pytest.fixture(scope="module")
def pod_result(tmp_path_factory):
    out = tmp_path_factory.mktemp("solve") / "pod.json"
    return solve(str(ROOT / "instances/ubmesh-pod1024.yaml"), out), out


def test_result_matches_schema_and_reports_honestly(pod_result):
    result, _ = pod_result
    assert result_errors(result) == []
    for stage in ("placement", "provisioning"):
        report = result["stages"][stage]
        assert report["status"] in ("OPTIMAL", "FEASIBLE")
        assert report["bound"] is not None and report["objective"] is not None
        if report["status"] == "FEASIBLE":
            assert report["gap"] > 0 or report["objective"] == pytest.approx(report["bound"])
        assert {"time_limit_s", "seed", "workers"} <= set(report)
    sizes = {r["size_bytes"] for r in result["scores"] if r["collective"] == "all-reduce"}
    assert 2**30 in sizes and len(sizes) >= 6


def test_same_seed_same_file(pod_result, tmp_path):
    first, _ = pod_result
    second = solve(str(ROOT / "instances/ubmesh-pod1024.yaml"), tmp_path / "again.json")
    assert json.dumps(strip_timing(first)) == json.dumps(strip_timing(second))


def test_schema_rejects_a_broken_result(pod_result):
    result, _ = pod_result
    broken = json.loads(json.dumps(result))
    broken["stages"]["placement"]["status"] = "PROBABLY_FINE"
    del broken["scores"][0]["time_s"]
    errors = result_errors(broken)
    assert any("PROBABLY_FINE" in e for e in errors) and any("time_s" in e for e in errors)


def test_refuses_to_overwrite_another_instance(pod_result, tmp_path):
    _, out = pod_result
    before = out.read_bytes()
    ring = str(ROOT / "instances/ring16.yaml")
    refused = CliRunner().invoke(main, ["solve", ring, "--out", str(out)])
    assert refused.exit_code == 2
    assert "holds the result of instance 'ubmesh-pod1024'" in refused.output
    assert out.read_bytes() == before
    copy = tmp_path / "copy.json"
    copy.write_bytes(before)
    forced = CliRunner().invoke(main, ["solve", ring, "--out", str(copy), "--force"])
    assert forced.exit_code == 0, forced.output
    assert read_json(copy)["instance"]["name"] == "ring16"


def test_fabric_only_instance_marks_physical_stages_not_run(tmp_path):
    result = solve(str(ROOT / "instances/ring16.yaml"), tmp_path / "ring.json")
    assert result_errors(result) == []
    assert result["stages"]["placement"]["status"] == "NOT_RUN"
    assert result["stages"]["provisioning"]["status"] == "NOT_RUN"
    assert result["scores"]


def test_interrupted_solve_leaves_no_file(tmp_path, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("topo_opt.pipeline.solve", interrupted)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["solve", str(ROOT / "instances/ring16.yaml"), "--out", str(out)])
    assert result.exit_code == 130
    assert list(tmp_path.iterdir()) == []


def test_out_of_memory_is_one_line_and_leaves_no_file(tmp_path, monkeypatch):
    def too_big(*args, **kwargs):
        raise MemoryError("Unable to allocate 25.0 GiB")

    monkeypatch.setattr("topo_opt.pipeline.solve", too_big)
    out = tmp_path / "r.json"
    result = CliRunner().invoke(main, ["solve", str(ROOT / "instances/ring16.yaml"), "--out", str(out)])
    assert result.exit_code == 1
    assert result.output.strip() == "error: out of memory (Unable to allocate 25.0 GiB); no result file was written"
    assert list(tmp_path.iterdir()) == []


def test_compare_prints_a_column_per_design(pod_result, tmp_path):
    _, pod = pod_result
    ring = tmp_path / "ring.json"
    solve(str(ROOT / "instances/ring16.yaml"), ring)
    table = CliRunner().invoke(main, ["compare", str(pod), str(ring)])
    assert table.exit_code == 0, table.output
    header = table.output.splitlines()[0].split()
    assert header == ["metric", "ubmesh-pod1024", "ring16"]
    busbw = next(line for line in table.output.splitlines() if line.startswith("all-reduce busbw"))
    assert len(busbw.split("  ")) >= 3
    csv = CliRunner().invoke(main, ["compare", str(pod), str(ring), "--csv"])
    assert csv.output.splitlines()[0] == "metric,ubmesh-pod1024,ring16"
    as_json = json.loads(CliRunner().invoke(main, ["compare", str(pod), "--json"]).output)
    assert as_json[0]["chips"] == 1024
    bad = CliRunner().invoke(main, ["compare", str(ROOT / "pyproject.toml")])
    assert bad.exit_code == 2 and bad.output.startswith("error: ")


def png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_report_writes_figures_and_html(pod_result, tmp_path):
    _, pod = pod_result
    out = tmp_path / "report"
    result = CliRunner().invoke(main, ["report", str(pod), "--out", str(out)])
    assert result.exit_code == 0, result.output
    names = ("floor", "headroom", "lanes", "cables", "collectives", "bom")
    for name in names:
        width, height = png_size(out / f"{name}.png")
        assert width >= 600 and height >= 300
        assert (out / f"{name}.png").stat().st_size > 10_000  # drawn, not blank
    html = (out / "index.html").read_text()
    assert html.count("<img src='data:image/png;base64,") == len(names)
    assert "ubmesh-pod1024" in html and "<table>" in html


@pytest.mark.parametrize("path", sorted(p for p in (ROOT / "results").glob("*.json")), ids=lambda p: p.name)
def test_committed_results_match_the_schema(path):
    assert result_errors(read_json(path)) == []


def test_every_shipped_instance_has_a_committed_result():
    names = {p.stem for p in (ROOT / "instances").glob("*.yaml")}
    assert names <= {p.stem for p in (ROOT / "results").glob("*.json")}


def test_time_budget_is_split_among_stages():
    assert pipeline.PLACEMENT_SHARE + pipeline.JOINT_SHARE + pipeline.PROVISIONING_SHARE < 1


def test_placement_cables_what_provisioning_buys(pod_result):
    """One set of cable figures: the placement's objective is the BOM's between-cabinet cables."""
    result, _ = pod_result
    placement, bom = result["placement"], result["provisioning"]["bom"]
    obj, between = placement["objective"], bom["between_cabinets"]
    assert obj["cables"] == between["cables"] > 0
    assert obj["optical_modules"] == between["optical_modules"]
    assert obj["cable_cost_usd"] == pytest.approx(between["cost_usd"], rel=1e-9)
    assert obj["network_power_kw"] == pytest.approx(between["power_kw"], rel=1e-6)
    rounds = placement["joint_rounds"]
    assert rounds[0]["round"] == 0 and rounds[0]["accepted"]
    # every accepted round after the first bought a cheaper network than the one before it
    costs = [r["network_cost_usd"] for r in rounds if r["accepted"]]
    assert costs == sorted(costs, reverse=True)
    assert bom["network_cost_usd"] == pytest.approx(costs[-1], rel=1e-9)
