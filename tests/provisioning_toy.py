"""Provisioning instances small enough to solve by hand (shared by the provisioning tests).

TOY, 16 chips: two full-mesh dimensions of 4, dimension 0 inside a cabinet (4 cabinets of 4 chips),
dimension 1 across cabinets; 16 lanes of 10 GB/s per chip; one all-to-all over all chips.

Bytes per unit buffer on each dimension: 1 - 1/4 = 0.75. Nominal lanes: dim 0 has 3 links of
20 GB/s = 6 lanes, dim 1 3 links of 10 GB/s = 3 lanes, so the reference rate is
R = min(60, 30) / 0.75 = 40 GB/s, and at target t each dimension needs ceil(t x 40 x 0.75 / 10)
lanes. Every cable run is at most 2 m, so every cable is a DAC of 100 GB/s.
"""

import copy

from topo_opt.instance import instance_from_mapping

TOY = {
    "name": "toy16",
    "chip": {"name": "toy", "tdp_w": 100, "interconnect_GBps": 160, "lanes": 16},
    "fabric": {"family": "dims", "dims": [
        {"shape": "full-mesh", "size": 4, "bandwidth_GBps": 20},
        {"shape": "full-mesh", "size": 4, "bandwidth_GBps": 10},
    ]},
    "cabinets": [{"kind": "compute", "count": 4, "chips": 4, "power_cap_kw": 10, "cooling": "air",
                  "cooling_capacity_kw": 10, "overhead_kw": 1}],
    "floor": {"rows": 1, "slots_per_row": 4, "slot_width_m": 0.5, "row_pitch_m": 2.0, "row_power_kw": 50,
              "cable_slack_m": 0.25},
    "media": ["dac", "aec", "optics-800g"],
    "workload": {"collectives": ["all-to-all"], "sizes": ["1MiB"]},
}
REFERENCE_RATE_GBPS = 40.0
BYTES_PER_LEVEL = 0.75
LANE_GBPS = 10.0

TOY_CHIP = {"name": "toy-gpu", "tdp_w": 100, "interconnect_GBps": 200, "lanes": 8}


def _physical(cabinets: int, chips: int) -> dict:
    """Compute cabinets in slots 0.., one interconnect cabinet after them (every run <= 2 m: DAC),
    and an all-to-all over all chips."""
    return {
        "cabinets": [{"kind": "compute", "count": cabinets, "chips": chips, "power_cap_kw": 10,
                      "cooling": "air", "cooling_capacity_kw": 10},
                     {"kind": "interconnect", "count": 1, "power_cap_kw": 20, "cooling": "air",
                      "cooling_capacity_kw": 20, "switches": 6, "switch_power_kw": 1.8}],
        "floor": {"rows": 1, "slots_per_row": 5, "slot_width_m": 0.3, "row_pitch_m": 2.0, "row_power_kw": 50,
                  "cable_slack_m": 0.25},
        "media": ["dac", "aec", "optics-800g"],
        "workload": {"collectives": ["all-to-all"]},
    }


# A rail-optimized Clos of 128 chips: 64 servers of 2, each chip with 8 lanes of 25 GB/s (the
# catalog nvswitch's port speed) and one 100 GB/s NIC port (eth-800g-64: 32 down, 32 up); rails of
# 2 leaves, 2 spines. All cable runs <= 2 m (DAC). All-to-all over all chips; per unit of buffer:
# server level (crossed by every byte to the other rank) 1 - 1/2; leaf (31 other servers of the
# leaf, same rank) (1 - 1/32) / 2; spine (the other leaf) 1 - 1/2. Nominal: server 8 lanes (200
# GB/s), rail 1 port, so the rails bind: R = 100 / (31/64 + 1/2) = 6400 / 63 GB/s, and at target t
# the rail needs ceil(t) ports, the server domain ceil(t x R / 2 / 25) lanes.
RAIL = {
    "name": "rail128", "chip": TOY_CHIP,
    "fabric": {"family": "clos", "variant": "rail-optimized", "chips": 128, "server_chips": 2,
               "server_GBps": 200, "radix": 64, "port_GBps": 100},
    **_physical(4, 32),
}
RAIL_REFERENCE_GBPS = 6400 / 63

# A dragonfly of 3 groups x 2 routers x 2 chips, one global link per router (one per group pair),
# routers eth-800g-64, 100 GB/s links. One group per compute cabinet, routers in one interconnect
# cabinet, all runs DAC. All-to-all per unit buffer: router 1/12, group 1/6, global 2/3. Per chip
# at nominal: terminal 100, local (2-1) x 100 / 2 = 50, global 2 x 100 / (2 x 2) = 50 GB/s; loads
# terminal 11/12, local 1/6 + 2/3 x (1/2)(1 + 1) = 5/6, global 2/3: R = 50 / (5/6) = 60 GB/s, and
# at target t: terminal ceil(55 t / 100), local ceil(50 t / 50), global ceil(40 t / 50) ports.
DRAGONFLY = {
    "name": "dragonfly12", "chip": TOY_CHIP,
    "fabric": {"family": "dragonfly", "groups": 3, "routers_per_group": 2, "chips_per_router": 2,
               "global_links_per_router": 1},
    **_physical(3, 4),
}
DRAGONFLY_REFERENCE_GBPS = 60.0


def toy(target: float = 1.0, raw: dict = TOY, **workload):
    """One of the toys above (the 16-chip mesh by default) at a throughput target."""
    raw = copy.deepcopy(raw)
    raw["workload"].update(target_throughput=target, **workload)
    return instance_from_mapping(raw, f"{raw['name']}.yaml")
