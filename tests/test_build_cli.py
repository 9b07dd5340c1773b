"""`build` on the shipped instances: chip and cabinet counts, graph files."""

import json

import networkx as nx
import pytest
from click.testing import CliRunner

from topo_opt.cli import main


def build_json(path, *extra):
    result = CliRunner().invoke(main, ["build", path, "--json", *extra])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_atlas950_counts(instance_path):
    s = build_json(instance_path("atlas950-superpod"))
    assert s["chips"] == 8192
    assert s["compute_cabinets"] == 128 and s["chip_cabinets"] == 128
    assert s["interconnect_cabinets"] == 32
    assert s["hops"]["connected"]


def test_atlas960_counts(instance_path):
    s = build_json(instance_path("atlas960-superpod"))
    assert s["chips"] == 15488
    assert s["compute_cabinets"] + s["interconnect_cabinets"] == 220


@pytest.mark.parametrize("name,chips", [("cloudmatrix384", 384), ("h20-rail8k", 8192), ("tpuv4-twisted4k", 4096),
                                        ("ring16", 16), ("ubmesh-rack64", 64), ("ubmesh-pod1024", 1024)])
def test_other_instances(instance_path, name, chips):
    s = build_json(instance_path(name))
    assert s["chips"] == chips
    assert s["hops"]["connected"]
    assert s["bisection"]["bisection_GBps"] > 0


def test_human_summary_and_graph_files(instance_path, tmp_path):
    out = tmp_path / "ring.json"
    result = CliRunner().invoke(main, ["build", instance_path("ring16"), "--out", str(out)])
    assert result.exit_code == 0
    assert "chips            16" in result.output and "bisection        100.0 GB/s (closed-form)" in result.output
    graph = nx.node_link_graph(json.loads(out.read_text()), edges="links")
    assert graph.number_of_edges() == 16
    gml = tmp_path / "ring.graphml"
    assert CliRunner().invoke(main, ["build", instance_path("ring16"), "--out", str(gml)]).exit_code == 0
    assert nx.read_graphml(gml).number_of_edges() == 16
    bad = CliRunner().invoke(main, ["build", instance_path("ring16"), "--out", str(tmp_path / "g.txt")])
    assert bad.exit_code == 2 and "must end in .json" in bad.output
