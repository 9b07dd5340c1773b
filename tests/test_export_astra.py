"""`export --format astra-sim`: the files parse and carry ASTRA-sim's documented field names.

The field names are those of the astra-sim/astra-sim repository's examples
(examples/network/analytical/Ring_16npus.yml: topology, npus_count, bandwidth, latency;
examples/system/native_collectives/Ring_4chunks.json: scheduling-policy, endpoint-delay,
active-chunks-per-dimension, preferred-dataset-splits, *-implementation, collective-optimization,
local-mem-bw, boost-mode); the implementation names those its system parser accepts.
"""

import json

import yaml
from click.testing import CliRunner

from topo_opt.cli import main

NETWORK_FIELDS = {"topology", "npus_count", "bandwidth", "latency"}
SYSTEM_FIELDS = {"scheduling-policy", "endpoint-delay", "active-chunks-per-dimension", "preferred-dataset-splits",
                 "all-reduce-implementation", "all-gather-implementation", "reduce-scatter-implementation",
                 "all-to-all-implementation", "collective-optimization", "local-mem-bw", "boost-mode"}
TOPOLOGIES = {"Ring", "FullyConnected", "Switch"}
IMPLEMENTATIONS = {"ring", "direct", "halvingDoubling", "doubleBinaryTree"}


def _export(path, out):
    result = CliRunner().invoke(main, ["export", path, "--format", "astra-sim", str(out)])
    return result, out / "network.yml", out / "system.json"


def test_ring16_matches_astra_sims_own_ring_example(instance_path, tmp_path):
    """ring16 is ASTRA-sim's Ring_16npus example: Ring, 16 NPUs, 50 GB/s, 500 ns."""
    result, net, system = _export(instance_path("ring16"), tmp_path)
    assert result.exit_code == 0, result.output
    network = yaml.safe_load(net.read_text())
    assert network == {"topology": ["Ring"], "npus_count": [16], "bandwidth": [50.0], "latency": [500.0]}
    sys_cfg = json.loads(system.read_text())
    assert set(sys_cfg) == SYSTEM_FIELDS
    assert sys_cfg["all-reduce-implementation"] == ["ring"]


def test_atlas950_exports_five_dimensions_that_multiply_to_its_chips(instance_path, tmp_path):
    result, net, system = _export(instance_path("atlas950-superpod"), tmp_path)
    assert result.exit_code == 0, result.output
    network = yaml.safe_load(net.read_text())
    assert set(network) == NETWORK_FIELDS
    assert set(network["topology"]) <= TOPOLOGIES
    dims = len(network["topology"])
    assert all(len(network[k]) == dims for k in NETWORK_FIELDS)
    chips = 1
    for n in network["npus_count"]:
        chips *= n
    assert chips == 8192
    assert all(b > 0 for b in network["bandwidth"]) and all(v >= 0 for v in network["latency"])
    sys_cfg = json.loads(system.read_text())
    for key in (k for k in SYSTEM_FIELDS if k.endswith("-implementation")):
        assert len(sys_cfg[key]) == dims and set(sys_cfg[key]) <= IMPLEMENTATIONS
    assert "lrs" in result.output  # what does not map is said


def test_twisted_torus_is_refused_without_files(instance_path, tmp_path):
    out = tmp_path / "t"
    result, net, system = _export(instance_path("tpuv4-twisted4k"), out)
    assert result.exit_code == 2
    assert result.output.startswith("error: ") and "fabric.family" in result.output
    assert not out.exists()
