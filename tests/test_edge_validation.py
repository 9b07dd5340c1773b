"""Named bad inputs at the edge (the fuzz suite covers the rest): each one line, the right exit code,
the limit or range named, nothing written."""

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from topo_opt.cli import main

ROOT = Path(__file__).resolve().parents[1]
RING = ROOT / "instances" / "ring16.yaml"
POD = ROOT / "instances" / "ubmesh-pod1024.yaml"


def _one_line(result, code: int, *needles: str) -> None:
    assert result.exit_code == code, (result.exit_code, result.output)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.mark.parametrize("args, needles", [
    (["build", str(RING), "--seed", "-1"], ["--seed", "0<=x<=2147483647"]),
    (["build", str(RING), "--seed", str(2**40)], ["--seed"]),
    (["place", str(POD), "--time-limit", "nan"], ["--time-limit", "not a finite number"]),
    (["place", str(POD), "--time-limit", "inf"], ["--time-limit"]),
    (["place", str(POD), "--time-limit", "0"], ["--time-limit"]),
    (["score", str(RING), "--plot", "x.xyz"], ["--plot", ".png"]),
    (["score", str(RING), "--size", "1e400"], ["--size", "1TiB"]),
    (["validate"], ["Missing argument"]),
])
def test_bad_options_are_one_line_exit_2(args, needles):
    _one_line(CliRunner().invoke(main, args), 2, *needles)


def test_out_under_a_file_is_one_line_and_writes_nothing(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    result = CliRunner().invoke(main, ["build", str(RING), "--out", str(blocker / "g.json")])
    _one_line(result, 2, f"{blocker} is a file, not a directory")
    assert blocker.read_text() == "x"


def _variant(tmp_path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / source.name
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return path


def test_media_reaching_no_run_exit_3_naming_runs_and_reach(tmp_path):
    short = "media: [{name: short, kind: copper, reach_m: 0.5, bandwidth_GBps: 100, power_w: 1, cost_usd: 10}]"
    path = _variant(tmp_path, POD, "media: [dac, aec, optics-800g]", short)
    result = CliRunner().invoke(main, ["place", str(path), "--time-limit", "2"])
    # shortest run: one slot width + 2 x the slack; the message names it, the longest run and the reach
    _one_line(result, 3, "cable reach", "longest medium reach is 0.5 m (short)",
              "shortest run between two slots is 4.2 m", "and the longest")


def test_absurd_sizes_are_refused_up_front_with_the_estimate(tmp_path):
    floor = _variant(tmp_path, POD, "  rows: 3\n", "  rows: 5000\n")
    _one_line(CliRunner().invoke(main, ["validate", str(floor)]), 2, "floor:", "GiB", "at most 16,384 slots")
    mesh = tmp_path / "mesh.yaml"  # 10^6 chips, each in a full mesh of 1,000: 5 x 10^8 links
    mesh.write_text("name: mesh\nfabric:\n  family: dims\n  dims:\n"
                    "    - {shape: ring, size: 1000, bandwidth_GBps: 50}\n"
                    "    - {shape: full-mesh, size: 1000, bandwidth_GBps: 50}\n")
    _one_line(CliRunner().invoke(main, ["validate", str(mesh)]), 2, "fabric:", "GiB for the graph alone")


@pytest.mark.parametrize("mutate, needles", [
    (lambda r: r.pop("scores"), ["(top): 'scores' is a required property"]),
    (lambda r: r.__setitem__("schema_version", "0.9"), ["schema_version: is '0.9'"]),
    (lambda r: r["stages"]["fabric"].__setitem__("wall_s", "fast"), ["stages.fabric.wall_s"]),
    (lambda r: r["placement"]["bundles"][0].__setitem__("cabinets", [0, 9999]), ["placement.bundles.0.cabinets"]),
])
def test_result_files_are_checked_before_use(tmp_path, mutate, needles):
    result = json.loads((ROOT / "results" / "ubmesh-pod1024.json").read_text(encoding="utf-8"))
    mutate(result)
    path = tmp_path / "r.json"
    path.write_text(json.dumps(result))
    for command in (["compare", str(path)], ["report", str(path), "--out", str(tmp_path / "rep")]):
        _one_line(CliRunner().invoke(main, command), 2, *needles)
    assert not (tmp_path / "rep").exists()


def test_non_finite_tokens_and_latin1_results_are_one_line(tmp_path):
    text = (ROOT / "results" / "ring16.json").read_text(encoding="utf-8")
    path = tmp_path / "r.json"
    path.write_text(text.replace('"wall_s": ', '"wall_s": NaN, "x": ', 1))
    _one_line(CliRunner().invoke(main, ["compare", str(path)]), 2, "NaN is not a JSON number")
    path.write_bytes(text.replace('"name": "', '"name": "café', 1).encode("latin-1"))
    _one_line(CliRunner().invoke(main, ["compare", str(path)]), 2, "is not UTF-8")
