"""verify_placement rejects hand-broken placements, each with a sentence naming what is wrong."""

import copy

import pytest
from placement_cases import small, write_instance

from topo_opt.design import derive
from topo_opt.fabric import build_fabric
from topo_opt.io import read_instance
from topo_opt.placement import place
from topo_opt.solution import SolveOptions
from topo_opt.verify import verify_placement


@pytest.fixture(scope="module")
def solved(tmp_path_factory):
    inst = read_instance(write_instance(tmp_path_factory.mktemp("verify"), small()))
    graph = build_fabric(inst)
    return inst, graph, place(derive(inst, graph), SolveOptions(time_limit_s=5)).to_dict()


def _broken(d: dict) -> dict:
    return copy.deepcopy(d)


def test_valid_placement_passes(solved):
    inst, graph, d = solved
    assert verify_placement(derive(inst, graph), d) == []


def test_slot_used_twice(solved):
    inst, graph, d = solved
    bad = _broken(d)
    bad["cabinets"][1]["slot"] = bad["cabinets"][0]["slot"]
    assert any(
        f"slot {bad['cabinets'][0]['slot']} holds 2 cabinets" in v for v in verify_placement(derive(inst, graph), bad)
    )


def test_cabinet_missing_or_twice(solved):
    inst, graph, d = solved
    missing = _broken(d)
    del missing["cabinets"][2]
    assert any("1 cabinets have no slot (first: 2)" in v for v in verify_placement(derive(inst, graph), missing))
    twice = _broken(d)
    twice["cabinets"].append(dict(twice["cabinets"][0], slot=99))
    assert any("cabinet 0 is placed twice" in v for v in verify_placement(derive(inst, graph), twice))


def test_row_over_cap(solved):
    inst, graph, d = solved
    bad = _broken(d)
    spr = inst.floor.slots_per_row
    rows = {r: [c for c in bad["cabinets"] if c["slot"] // spr == r] for r in range(inst.floor.rows)}
    light, heavy = sorted(rows, key=lambda r: len(rows[r]))
    free = sorted(set(range(heavy * spr, (heavy + 1) * spr)) - {c["slot"] for c in rows[heavy]})
    mover = next(c for c in rows[light] if c["cooling"] == "liquid")
    mover["slot"] = free[0]
    kw = sum(c["power_kw"] for c in rows[heavy]) + mover["power_kw"]
    assert any(
        f"row {heavy} draws {kw:.3f} kW above its cap 15.000 kW" in v
        for v in verify_placement(derive(inst, graph), bad)
    )


def test_copper_beyond_reach(solved):
    inst, graph, d = solved
    bad = _broken(d)
    long_run = next(b for b in bad["bundles"] if b["length_m"] > 2.0)
    long_run["medium"] = "dac"
    found = verify_placement(derive(inst, graph), bad)
    assert any(f"dac reaches 2 m but the run is {long_run['length_m']:.2f} m" in v for v in found)


def test_too_few_cables_and_unknown_medium(solved):
    inst, graph, d = solved
    bad = _broken(d)
    bad["bundles"][0]["cables"] = 1
    bad["bundles"][1]["medium"] = "pigeon"
    found = verify_placement(derive(inst, graph), bad)
    assert any("cables carry less than" in v for v in found)
    assert any("'pigeon', which the instance does not list" in v for v in found)


def test_air_cabinet_in_a_row_without_air_cooling(solved):
    inst, graph, d = solved
    bad = _broken(d)
    air = next(c for c in bad["cabinets"] if c["cooling"] == "air")
    used = {c["slot"] for c in bad["cabinets"]}
    air["slot"] = next(s for s in range(inst.floor.slots_per_row) if s not in used)  # row 0: liquid only
    assert any(
        f"cabinet {air['cabinet']} (air-cooled) stands in row 0, which no air zone cools" in v
        for v in verify_placement(derive(inst, graph), bad)
    )


def test_zone_and_cabinet_caps_of_a_stricter_instance(solved, tmp_path):
    _, graph, d = solved
    strict = read_instance(
        write_instance(
            tmp_path, small(**{"floor.cooling_zones.0.capacity_kw": 15, "cabinets.1.power_cap_kw": 4})
        )
    )
    found = verify_placement(derive(strict, graph), d)
    assert any("zone loop carries 20.000 kW above its capacity 15.000 kW" in v for v in found)
    assert any("cabinet 4 draws 5.000 kW above its power_cap_kw 4.000 kW" in v for v in found)
