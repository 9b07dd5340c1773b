"""score_fabric records, auto, groups, errors, and the `topo-opt score` command."""

import json

import numpy as np
import pytest
from click.testing import CliRunner

from topo_opt.cli import main
from topo_opt.collectives import ALGORITHMS, COLLECTIVES, score_fabric
from topo_opt.collectives.groups import make_groups
from topo_opt.collectives.routing import network
from topo_opt.errors import InstanceError
from topo_opt.fabric import build_fabric
from topo_opt.families.clos import rail_optimized_fabric
from topo_opt.families.dims import dims_fabric
from topo_opt.families.torus import torus_fabric
from topo_opt.instance import ClosParams, DimSpec
from topo_opt.io import read_instance

KEYS = {"collective", "algorithm", "auto", "size_bytes", "time_s", "algbw_GBps", "busbw_GBps",
        "lower_bound_s", "efficiency", "bottleneck", "bottleneck_utilization", "model", "group_chips"}
SIZES = [2**10, 2**20, 2**30]
BUSBW = {"all-reduce": lambda p: 2 * (p - 1) / p, "reduce-scatter": lambda p: (p - 1) / p,
         "all-gather": lambda p: (p - 1) / p, "all-to-all": lambda p: (p - 1) / p, "broadcast": lambda p: 1.0}


def rail32():
    return rail_optimized_fabric(ClosParams(chips=32, radix=8, port_GBps=50, variant="rail-optimized",
                                            server_chips=4))


@pytest.fixture(scope="module")
def rack64():
    return build_fabric(read_instance("instances/ubmesh-rack64.yaml"))


def _explicit(graph, collective, size, groups=None):
    out = {}
    for algorithm in ALGORITHMS:
        try:
            (rec,) = score_fabric(graph, [collective], [size], [algorithm], groups=groups)
        except InstanceError:
            continue
        out[algorithm] = rec
    return out


@pytest.mark.parametrize("name", ["rack64", "torus", "rail"])
def test_records_follow_the_conventions_and_never_beat_the_bound(name, rack64) -> None:
    graph = {"rack64": rack64, "torus": torus_fabric((4, 6), 50, 500), "rail": rail32()}[name]
    for collective in COLLECTIVES:
        for size in SIZES:
            for algorithm, rec in _explicit(graph, collective, size).items():
                assert KEYS <= rec.keys()
                p = rec["group_chips"]
                assert rec["algbw_GBps"] == pytest.approx(size / rec["time_s"] / 1e9)
                assert rec["busbw_GBps"] == pytest.approx(rec["algbw_GBps"] * BUSBW[collective](p))
                assert rec["efficiency"] == pytest.approx(rec["lower_bound_s"] / rec["time_s"])
                assert rec["efficiency"] <= 1 + 1e-9, (collective, algorithm, size)
                assert 0 < rec["bottleneck_utilization"] <= 1 + 1e-9


@pytest.mark.parametrize("groups", [None, "board", "a=16,b=4@b"])
def test_auto_picks_the_fastest_and_says_so(rack64, groups) -> None:
    for collective in COLLECTIVES:
        for size in SIZES:
            (auto,) = score_fabric(rack64, [collective], [size], groups=groups)
            times = {a: r["time_s"] for a, r in _explicit(rack64, collective, size, groups).items()}
            assert auto["auto"] is True
            assert auto["time_s"] == pytest.approx(min(times.values()), rel=1e-9)
            assert times[auto["algorithm"]] == pytest.approx(auto["time_s"], rel=1e-12)
            assert set(auto["alternatives"]) == set(times)


def test_lower_bounds_closed_form() -> None:
    ring = dims_fabric((DimSpec("ring", 16, 50, 500),))
    n = 2**30
    recs = {r["collective"]: r for r in score_fabric(ring, COLLECTIVES, [n])}
    inj = 2 * 50e9  # two ring links per chip
    assert recs["all-reduce"]["lower_bound_s"] == pytest.approx(2 * 15 / 16 * n / inj)
    assert recs["reduce-scatter"]["lower_bound_s"] == pytest.approx(15 / 16 * n / inj)
    assert recs["broadcast"]["lower_bound_s"] == pytest.approx(n / inj)
    # all-to-all: cutting the ring in halves leaves 2 links each way for 8 x 8 x n/16 bytes
    assert recs["all-to-all"]["lower_bound_s"] == pytest.approx(8 * 8 * n / 16 / (2 * 50e9))


def test_concurrent_groups_contend(rack64) -> None:
    """Eight rack-row rings through the LRS-free mesh: one board alone, or all eight boards at
    once (each on its own X links), take the same time; boards sharing links would not."""
    (one,) = score_fabric(rack64, ["all-reduce"], [2**26], ["ring"], groups="board")
    (alone,) = score_fabric(dims_fabric((DimSpec("full-mesh", 8, 95.23809523809524, 150),)),
                            ["all-reduce"], [2**26], ["ring"])
    assert one["groups"] == 8 and one["group_chips"] == 8
    assert one["time_s"] == pytest.approx(alone["time_s"], rel=1e-9)


def test_groups_from_node_attributes() -> None:
    groups = make_groups(network(rail32()), "board")
    assert groups.count == 8 and groups.p == 4
    assert (np.sort(groups.chips[1]) == np.arange(4, 8)).all()


@pytest.mark.parametrize("kwargs,field,text", [
    ({"collectives": ["allreduce"]}, "collective", "unknown collective 'allreduce'"),
    ({"algorithms": ["rings"]}, "algorithm", "unknown algorithm 'rings'"),
    ({"model": "fluid"}, "model", "unknown model 'fluid'"),
    ({"groups": "tp=3,dp=5"}, "groups", "covers 15 chips but the fabric has 64"),
    ({"groups": "tp=8,dp=8@pp"}, "groups", "no axis 'pp'"),
    ({"groups": "pod=x"}, "groups", "bad layout"),
    ({"algorithms": ["pairwise"]}, "algorithm", "pairwise for all-reduce: pairwise is an all-to-all"),
    ({"sizes_bytes": [0]}, "size", "positive"),
])
def test_bad_requests_name_the_field(rack64, kwargs, field, text) -> None:
    args = {"collectives": ["all-reduce"], "sizes_bytes": [2**20], **kwargs}
    with pytest.raises(InstanceError, match=text) as err:
        score_fabric(rack64, **args)
    assert err.value.field == field


def test_groups_need_a_fabric_that_defines_them() -> None:
    with pytest.raises(InstanceError, match="defines no racks"):
        score_fabric(torus_fabric((4, 4), 50), ["all-reduce"], [2**20], groups="rack")


def test_cli_json_has_the_design_keys() -> None:
    result = CliRunner().invoke(main, ["score", "instances/ring16.yaml", "--collective", "all-reduce",
                                       "--size", "1GiB", "--json"])
    assert result.exit_code == 0, result.output
    (rec,) = json.loads(result.output)
    assert KEYS <= rec.keys()
    assert rec["size_bytes"] == 2**30 and rec["auto"] is True


def test_cli_defaults_to_the_workload_and_prints_a_table(tmp_path) -> None:
    plot = tmp_path / "busbw.png"
    result = CliRunner().invoke(main, ["score", "instances/ubmesh-rack64.yaml", "--algorithm", "direct",
                                       "--algorithm", "auto", "--collective", "all-to-all",
                                       "--plot", str(plot)])
    assert result.exit_code == 0, result.output
    assert "all-to-all" in result.output and "direct" in result.output and "(auto)" in result.output
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_reads_the_instance_named_by_a_result(tmp_path) -> None:
    result_file = tmp_path / "r.json"
    shipped = json.loads(open("results/ring16.json", encoding="utf-8").read())
    assert shipped["instance"]["path"] == "instances/ring16.yaml"
    result_file.write_text(json.dumps(shipped))
    ok = CliRunner().invoke(main, ["score", str(result_file), "--collective", "broadcast", "--size", "1MiB"])
    assert ok.exit_code == 0, ok.output
    del shipped["instance"]["path"]  # a result file is checked against its schema before it is used
    result_file.write_text(json.dumps(shipped))
    bad = CliRunner().invoke(main, ["score", str(result_file)])
    assert bad.exit_code == 2
    assert bad.output.strip() == f"error: {result_file}: instance: 'path' is a required property"
    result_file.write_text(json.dumps({"schema_version": 1}))
    bad = CliRunner().invoke(main, ["score", str(result_file)])
    assert bad.exit_code == 2
    assert bad.output.strip() == (
        f"error: {result_file}: schema_version: is 1; this tool reads '1.0' (re-run `topo-opt solve`)")


@pytest.mark.parametrize("args,text", [
    (["--collective", "gather"], "error: instances/ring16.yaml: --collective: unknown collective 'gather'"),
    (["--size", "12 parsecs"], "error: instances/ring16.yaml: --size: not a size"),
    (["--algorithm", "ubmesh-xy", "--collective", "all-to-all"], "ubmesh-xy needs a group spanning two"),
    (["--routing", "naive"], "error: instances/ring16.yaml: --routing: unknown routing 'naive'"),
])
def test_cli_errors_are_one_line_with_exit_2(args, text) -> None:
    result = CliRunner().invoke(main, ["score", "instances/ring16.yaml", *args])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert text in result.output


def test_cli_routing_is_recorded() -> None:
    """The same direct all-to-all on one UB-Mesh rack under both routings: naive shortest-path
    routing puts part of the two-hop flows on the LRS, which then limits it."""
    runs = {}
    for routing in ("structured", "shortest"):
        result = CliRunner().invoke(main, ["score", "instances/ubmesh-rack64.yaml", "--collective", "all-to-all",
                                           "--algorithm", "direct", "--size", "1GiB", "--routing", routing, "--json"])
        assert result.exit_code == 0, result.output
        (runs[routing],) = json.loads(result.output)
        assert runs[routing]["routing"] == routing
    assert runs["shortest"]["bottleneck_kind"] == "lrs"
    assert runs["shortest"]["time_s"] > 2 * runs["structured"]["time_s"]
