"""The structured scorer (`collectives.structured`) against the per-chip graph scorer, on every
product family at sizes where both fit, and the SuperCluster's bounds against hand-computed cuts."""

import json
import math

import pytest
import yaml
from click.testing import CliRunner

from topo_opt.cli import main
from topo_opt.collectives import score_fabric
from topo_opt.collectives.algorithms import ALGORITHMS, SHIFT_ALGORITHMS
from topo_opt.errors import InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.families.clos import ClosParams, clos_fabric, rail_optimized_fabric
from topo_opt.families.dims import DimSpec, dims_fabric
from topo_opt.families.dragonfly import FAMILY as DRAGONFLY
from topo_opt.families.hammingmesh import FAMILY as HAMMINGMESH
from topo_opt.families.hammingmesh import HammingMeshParams
from topo_opt.families.supercluster import member_fabric
from topo_opt.families.torus import torus_fabric
from topo_opt.families.ub_mesh import UbMeshParams, ubmesh_fabric
from topo_opt.instance import instance_from_mapping
from topo_opt.io import read_instance

COLLECTIVES = ["all-reduce", "all-to-all", "all-gather", "reduce-scatter"]
SIZES = [2**10, 2**20, 2**30]
TOLERANCE = 1e-3  # the 0.1 %


def _supercluster(superpods: int = 3, **member) -> dict:
    """A small SuperCluster of UB-Mesh SuperPoDs, as a raw instance mapping."""
    raw = yaml.safe_load(open("instances/atlas950-supercluster.yaml"))
    for physical in ("cabinets", "floor", "media", "hall"):  # they describe an Atlas 950 SuperPoD's hall
        raw.pop(physical, None)
    raw["fabric"]["superpods"] = superpods
    raw["fabric"]["superpod"].update({"pods": 1, "pod_rows": 2, "pod_cols": 2, **member})
    raw["workload"]["layout"] = f"tp=8,pp=8,dp={4 * superpods}"
    return raw


def _small_supercluster():
    return build_fabric(instance_from_mapping(_supercluster(), "small-supercluster.yaml"))


PRODUCT_FABRICS = {
    "dims ring x mesh x switch": lambda: dims_fabric((DimSpec("ring", 8, 50.0, 500.0),
                                                      DimSpec("full-mesh", 4, 40.0, 300.0),
                                                      DimSpec("switch", 4, 100.0, 700.0))),
    "dims ring of 2 x ring": lambda: dims_fabric((DimSpec("ring", 2, 50.0, 500.0), DimSpec("ring", 6, 25.0, 200.0))),
    "torus 4x4x4": lambda: torus_fabric((4, 4, 4), 50.0, 400.0),
    "ub-mesh 2 pods": lambda: ubmesh_fabric(UbMeshParams(pod_rows=2, pod_cols=2, pods=2), 2000 / 72),
    "ub-mesh 1 pod (HRS stub)": lambda: ubmesh_fabric(UbMeshParams(pod_rows=2, pod_cols=2), 2000 / 72),
    "clos fat-tree 2 tiers": lambda: clos_fabric(ClosParams(chips=128, radix=16)),
    "clos fat-tree 3 tiers": lambda: clos_fabric(ClosParams(chips=256, radix=16, tiers=3)),
    "clos rail-optimized": lambda: rail_optimized_fabric(ClosParams(chips=512, radix=32, variant="rail-optimized")),
    "hammingmesh": lambda: HAMMINGMESH.build(HammingMeshParams(boards_x=4, boards_y=4), None, "hm"),
    "supercluster of 3": _small_supercluster,
}


def _pairs(fabric, algorithm: str, groups: str | None = None, model: str = "flow"):
    """(structured, per-chip) record pairs of every collective the algorithm scores structurally;
    where the structured scorer refuses, it is because the algorithm needs per-flow routing or
    does not apply at all (the per-chip scorer refuses it too)."""
    pairs = []
    for collective in COLLECTIVES:
        try:
            structured = score_fabric(fabric, [collective], SIZES, [algorithm], groups=groups, model=model,
                                      engine="structured")
        except InstanceError as exc:
            if "structured scorer" not in exc.message:
                with pytest.raises(InstanceError):
                    score_fabric(fabric, [collective], SIZES, [algorithm], groups=groups, model=model,
                                 engine="per-chip")
            continue
        per_chip = score_fabric(fabric, [collective], SIZES, [algorithm], groups=groups, model=model,
                                engine="per-chip")
        pairs += list(zip(structured, per_chip, strict=True))
    return pairs


@pytest.mark.parametrize("name", sorted(PRODUCT_FABRICS))
def test_structured_equals_per_chip_on_every_product_family(name):
    fabric = PRODUCT_FABRICS[name]()
    compared = 0
    for algorithm in ("auto",) + SHIFT_ALGORITHMS:
        for s, c in _pairs(fabric, algorithm):
            for key in ("time_s", "lower_bound_s"):
                where = (algorithm, s["collective"], s["size_bytes"], key)
                assert s[key] == pytest.approx(c[key], rel=TOLERANCE), where
            assert s["engine"] == "symmetric"
            compared += 1
    assert compared >= 3 * len(COLLECTIVES) * len(SIZES)  # auto plus at least two named algorithms


@pytest.mark.parametrize("groups", ["rack", "tp=8,pp=8,dp=4@dp", "tp=8,pp=8,dp=4@pp"])
def test_structured_equals_per_chip_on_groups(groups):
    fabric = PRODUCT_FABRICS["ub-mesh 1 pod (HRS stub)"]()
    pairs = _pairs(fabric, "auto", groups)
    assert pairs
    for s, c in pairs:
        assert s["time_s"] == pytest.approx(c["time_s"], rel=TOLERANCE)
        assert s["lower_bound_s"] == pytest.approx(c["lower_bound_s"], rel=TOLERANCE)
        assert s["groups"] == c["groups"] and s["group_chips"] == c["group_chips"]


@pytest.mark.slow
def test_structured_equals_per_chip_on_the_atlas_950_superpod():
    fabric = build_fabric(read_instance("instances/atlas950-superpod.yaml"))
    for s, c in _pairs(fabric, "auto"):
        assert s["algorithm"] == c["algorithm"]
        assert s["time_s"] == pytest.approx(c["time_s"], rel=TOLERANCE)
        assert s["lower_bound_s"] == pytest.approx(c["lower_bound_s"], rel=TOLERANCE)


NON_PRODUCT_FABRICS = {
    "twisted torus 4x4x8": (lambda: torus_fabric((4, 4, 8), 50.0, twist=True), "per-flow"),
    "oversubscribed clos 2 tiers": (lambda: clos_fabric(ClosParams(chips=128, radix=16, oversubscription=3)),
                                    "switch-level"),
    "oversubscribed clos 3 tiers": (lambda: clos_fabric(ClosParams(chips=192, radix=8, tiers=3,
                                                                   oversubscription=3)), "switch-level"),
    "dragonfly": (lambda: DRAGONFLY.build(DRAGONFLY.params(groups=5, routers_per_group=4, chips_per_router=2,
                                                           global_links_per_router=1), None, "df"),
                  "switch-level"),
}


@pytest.mark.parametrize("name", sorted(NON_PRODUCT_FABRICS))
def test_structured_equals_per_chip_on_fabrics_that_are_not_products(name):
    """No product of dimensions: the structured network is the family's switch level (chips on
    switches, flows folded per switch pair) or the torus's translations, as link arrays."""
    build, engine = NON_PRODUCT_FABRICS[name]
    fabric = build()
    compared, engines = 0, set()
    for model in ("flow", "alpha-beta"):
        for algorithm in ("auto",) + ALGORITHMS:
            for s, c in _pairs(fabric, algorithm, model=model):
                for key in ("time_s", "lower_bound_s"):
                    where = (model, algorithm, s["collective"], s["size_bytes"], key)
                    assert s[key] == pytest.approx(c[key], rel=TOLERANCE), where
                assert s["algorithm"] == c["algorithm"]
                engines.add(s["engine"])
                compared += 1
    assert compared >= 2 * 3 * len(COLLECTIVES) * len(SIZES)
    assert engine in engines


@pytest.mark.parametrize("name", ["oversubscribed clos 3 tiers", "dragonfly", "twisted torus 4x4x8"])
def test_structured_equals_per_chip_on_groups_of_fabrics_that_are_not_products(name):
    fabric = NON_PRODUCT_FABRICS[name][0]()
    pairs = _pairs(fabric, "auto", f"tp=4,dp={fabric.chips // 4}@dp")
    assert len(pairs) == len(COLLECTIVES) * len(SIZES)
    for s, c in pairs:
        assert s["time_s"] == pytest.approx(c["time_s"], rel=TOLERANCE)
        assert s["lower_bound_s"] == pytest.approx(c["lower_bound_s"], rel=TOLERANCE)
        assert s["group_chips"] == c["group_chips"] == fabric.chips // 4


def test_structured_refuses_an_oversubscribed_rail_optimized_clos():
    fabric = rail_optimized_fabric(ClosParams(chips=512, radix=32, variant="rail-optimized", oversubscription=2))
    with pytest.raises(InstanceError, match="not a product of dimensions, nor chips on switches") as exc:
        score_fabric(fabric, ["all-reduce"], [2**20], engine="structured")
    assert exc.value.field == "engine"


def test_the_supercluster_graph_is_the_superpod_copied_with_dcn_planes():
    fabric = _small_supercluster()
    p = fabric.desc.params
    member = member_fabric(p, None, "")
    assert not fabric.graph_built
    graph = fabric.graph
    dcn = [(u, v) for u, v, k in graph.edges(data="kind") if k == "dcn"]
    assert fabric.chips == 3 * member.chips == 768
    assert len(dcn) == fabric.chips  # one DCN port per chip
    planes = {v for _, v in dcn}
    assert len(planes) == member.chips  # one plane switch per chip position
    assert graph.number_of_edges() == 3 * member.graph.number_of_edges() + fabric.chips
    assert graph.nodes[member.chips + 5]["coords"][-1] == 1  # chip 5 of SuperPoD 1
    assert p.dcn.chip_GBps == graph.edges[dcn[0]]["bandwidth_GBps"]


def test_supercluster_bounds_are_the_hand_computed_cuts():
    """Atlas 950 SuperCluster, N = 524,288 chips in G = 64 SuperPoDs of P = 8,192. Injection per chip:
    72 UB lanes of 2000/72 GB/s plus one 50 GB/s DCN port = 2,050 GB/s, so all-reduce >= 2 (N-1)/N n
    / 2,050 GB/s. All-to-all: cutting one SuperPoD from the rest, P (N - P) / N n bytes cross each
    way over its P DCN links only (nothing else leaves a SuperPoD): >= (N - P)/N n / 50 GB/s."""
    fabric = build_fabric(read_instance("instances/atlas950-supercluster.yaml"))
    n, chips, per_pod = 2**30, 524_288, 8_192
    ar, a2a = score_fabric(fabric, ["all-reduce", "all-to-all"], [n])
    assert fabric.chips == chips and ar["engine"] == "symmetric"
    assert ar["lower_bound_s"] == pytest.approx(2 * (chips - 1) / chips * n / 2050e9, rel=1e-12)
    assert a2a["lower_bound_s"] == pytest.approx((chips - per_pod) / chips * n / 50e9, rel=1e-12)
    assert "dcn slice" in a2a["lower_bound_method"]
    assert a2a["efficiency"] <= 1 + 1e-9 and ar["efficiency"] <= 1 + 1e-9


def test_dp_groups_across_superpods_are_bounded_by_their_cut():
    """dp groups of 4 SuperPoDs x 4 pods... here: tp=8,pp=8,dp=12 on 3 SuperPoDs of 4 racks; the dp
    all-to-all's one-SuperPoD cut: 64 groups, a = 4 of p = 12 ranks inside, over 256 DCN links."""
    fabric = _small_supercluster()
    n = 2**30
    (rec,) = score_fabric(fabric, ["all-to-all"], [n], groups="tp=8,pp=8,dp=12@dp", engine="structured")
    groups, p, a = 64, 12, 4
    cut = groups * a * (p - a) / p * n / (256 * 50e9)
    assert rec["lower_bound_s"] == pytest.approx(max(cut, rec["lower_bound_s"]), rel=1e-12)
    assert rec["lower_bound_s"] >= cut * (1 - 1e-12)
    assert math.isfinite(rec["time_s"]) and rec["time_s"] >= rec["lower_bound_s"]


def test_a_supercluster_of_a_non_product_superpod_is_bad_input():
    raw = _supercluster()
    raw["fabric"]["superpod"] = {"family": "torus", "shape": [4, 4, 8], "bandwidth_GBps": 50, "twist": True}
    with pytest.raises(InstanceError, match="not a product of dimensions") as exc:
        instance_from_mapping(raw, "bad.yaml")
    assert exc.value.field == "fabric.superpod.family"


def test_a_supercluster_cannot_nest_a_supercluster():
    raw = _supercluster()
    raw["fabric"]["superpod"] = {"family": "supercluster", "superpods": 2}
    with pytest.raises(InstanceError, match="cannot nest"):
        instance_from_mapping(raw, "bad.yaml")


def test_build_and_score_the_atlas_950_supercluster_from_the_cli(tmp_path):
    runner = CliRunner()
    built = runner.invoke(main, ["build", "instances/atlas950-supercluster.yaml"])
    assert built.exit_code == 0, built.output
    assert "chips            524,288" in built.output
    scored = runner.invoke(main, ["score", "instances/atlas950-supercluster.yaml", "--size", "1GiB", "--json"])
    assert scored.exit_code == 0, scored.output
    assert {r["engine"] for r in json.loads(scored.output)} == {"symmetric"}
    refused = runner.invoke(main, ["build", "instances/atlas960-supercluster.yaml", "--out", str(tmp_path / "g.json")])
    assert refused.exit_code == 2
    assert "GiB" in refused.output and "fabric" in refused.output
    assert not (tmp_path / "g.json").exists()
