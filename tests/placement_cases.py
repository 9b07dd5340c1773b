"""Small placement instances for the placement tests, written to a temporary directory."""

import copy
from pathlib import Path

import yaml

# 4 compute cabinets (liquid) of 8 chips and 1 interconnect cabinet (air) holding 16 switches:
# ring links join cabinets 0-1 and 2-3, switch links join every compute cabinet to the interconnect.
SMALL = {
    "name": "small5",
    "chip": {"name": "test-chip", "tdp_w": 500, "interconnect_GBps": 400, "lanes": 8},
    "fabric": {
        "family": "dims",
        "dims": [
            {"shape": "full-mesh", "size": 4, "bandwidth_GBps": 100},
            {"shape": "ring", "size": 4, "bandwidth_GBps": 150},
            {"shape": "switch", "size": 2, "bandwidth_GBps": 50},
        ],
    },
    "cabinets": [
        {
            "kind": "compute",
            "count": 4,
            "chips": 8,
            "power_cap_kw": 10,
            "cooling": "liquid",
            "cooling_capacity_kw": 10,
            "overhead_kw": 1,
        },
        {
            "kind": "interconnect",
            "count": 1,
            "power_cap_kw": 10,
            "cooling": "air",
            "cooling_capacity_kw": 10,
            "switches": 16,
            "switch_power_kw": 0.25,
            "overhead_kw": 1,
        },
    ],
    "floor": {
        "rows": 2,
        "slots_per_row": 4,
        "slot_width_m": 1.0,
        "row_pitch_m": 3.0,
        "row_power_kw": 15,
        "cable_slack_m": 0.5,
        "cooling_zones": [
            {"name": "loop", "kind": "liquid", "rows": [0, 1], "capacity_kw": 30},
            {"name": "aisle", "kind": "air", "rows": [1], "capacity_kw": 6},
        ],
    },
    "media": ["dac", "aec", "optics-400g"],
}


def small(**changes: object) -> dict:
    """A deep copy of SMALL with dotted-path changes, e.g. small(**{"floor.row_power_kw": 9})."""
    data = copy.deepcopy(SMALL)
    for path, value in changes.items():
        *parents, last = path.split(".")
        node = data
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node[key]
        if isinstance(node, list):
            node[int(last)] = value
        else:
            node[last] = value
    return data


def write_instance(directory: Path, data: dict, name: str = "case.yaml") -> Path:
    path = directory / name
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path
