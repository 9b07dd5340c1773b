"""Provisioning of the rail-optimized Clos and the dragonfly: hand-computed optima, verify
rejections, and the catalog switch each tier is priced as."""

import pytest

from topo_opt.catalog import SWITCHES
from topo_opt.errors import InstanceError
from topo_opt.io import read_instance
from topo_opt.provisioning.network import catalog_switch


def test_switch_matches_the_fabric_radix_and_port_speed():
    h20 = read_instance("instances/h20-rail8k.yaml")  # radix 128, 50 GB/s ports
    assert catalog_switch(h20, "fabric.radix", (50.0,), 128) is SWITCHES["eth-51t-128x400g"]
    clos = read_instance("instances/clos8k-950dt.yaml")  # radix 64, 2,000 GB/s = 20 ports of 100
    assert catalog_switch(clos, "fabric.radix", (2000.0,), 64) is SWITCHES["eth-800g-64"]
    # no radix named: the exact speed first (25 GB/s NVLink lanes), else fewest ports per link
    assert catalog_switch(h20, "f", (25.0,)) is SWITCHES["nvswitch"]
    assert catalog_switch(h20, "f", (100.0, 200.0)) is SWITCHES["eth-800g-64"]
    with pytest.raises(InstanceError, match=r"fabric.radix: no catalog switch has 96 ports whose speed divides 50"):
        catalog_switch(h20, "fabric.radix", (50.0,), 96)
