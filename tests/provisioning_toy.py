"""A provisioning instance small enough to solve by hand (shared by the provisioning tests).

16 chips: two full-mesh dimensions of 4, dimension 0 inside a cabinet (4 cabinets of 4 chips),
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


def toy(target: float = 1.0, **workload):
    raw = copy.deepcopy(TOY)
    raw["workload"].update(target_throughput=target, **workload)
    return instance_from_mapping(raw, "toy16.yaml")
