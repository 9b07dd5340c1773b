"""Bad search specs: one line naming the field, exit 2, no search.json."""

import pathlib

import pytest
import yaml
from click.testing import CliRunner

from topo_opt.cli import main
from topo_opt.optimize import load_spec
from topo_opt.optimize.candidates import space_size

SMALL = pathlib.Path(__file__).resolve().parents[1] / "instances" / "search" / "small.yaml"


def small() -> dict:
    return yaml.safe_load(SMALL.read_text())


def run_bad(tmp_path, raw: dict) -> tuple[str, pathlib.Path]:
    spec = tmp_path / "spec.yaml"
    spec.write_text(yaml.safe_dump(raw))
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["optimize", str(spec), "--out", str(out), "--workers", "1"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith(f"error: {spec}: "), result.output
    assert not (out / "search.json").exists()
    return lines[0], out


def with_space(family: str, params: dict) -> dict:
    raw = small()
    raw["space"] = {family: params}
    return raw


@pytest.mark.parametrize("raw,field", [
    (with_space("fat-tree", {"radix": [64]}), "space.fat-tree: unknown or unsearchable family"),
    (with_space("clos", {"radixx": [64]}), "space.clos.radixx: unknown parameter of clos"),
    (with_space("clos", {"radix": []}), "space.clos.radix: empty range"),
    (with_space("clos", {"radix": {"from": 64, "to": 32}}), "space.clos.radix: empty range"),
    (with_space("clos", {"chips": [256]}), "space.clos.chips: is derived"),
    (with_space("clos", {"radix": [4], "tiers": [2]}), "space.clos.tiers: no value yields a valid candidate"),
    (with_space("torus", {"shape": [[4, 4, 4], [2, 2, 2]]}), "space.torus: no value yields a valid candidate"),
    ({**small(), "caps": {"total_power": "400 USD"}}, "caps.total_power: unit 'USD' is not one of W, kW, MW"),
    ({**small(), "caps": {"network_cost": 20}}, "caps.network_cost: must be a number with a unit"),
    ({**small(), "caps": {"budget": "1 MUSD"}}, "caps.budget: unknown cap"),
    ({**small(), "search": {"objectives": ["cost"]}}, "search.objectives[0]: unknown objective"),
    ({k: v for k, v in small().items() if k != "chips"}, "chips: is required"),
])
def test_bad_spec(tmp_path, raw, field):
    line, _ = run_bad(tmp_path, raw)
    assert field in line


def test_no_space_searches_every_family_at_default_ranges(tmp_path):
    raw = small()
    del raw["space"]
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(raw))
    spec, _ = load_spec(str(spec_file))
    assert [f for f, _ in spec.space] == ["ub-mesh", "clos", "torus", "dragonfly"]
    assert all(values for _, grid in spec.space for _, values in grid)
    assert space_size(spec) > 50


def test_range_expands_inclusive(tmp_path):
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump(with_space("clos", {"oversubscription": {"from": 1, "to": 2, "step": 0.5}})))
    spec, _ = load_spec(str(spec_file))
    assert dict(dict(spec.space)["clos"])["oversubscription"] == (1.0, 1.5, 2.0)
