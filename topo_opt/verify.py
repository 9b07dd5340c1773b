"""Independent re-checks of solutions, without any solver: plain Python and numpy.

Each `verify_*` returns a list of violations (empty = valid), one readable sentence each, so tests
can assert on them and `solve` can refuse to write an invalid design.
"""

from collections import Counter

import networkx as nx

from topo_opt.instance import Instance
from topo_opt.physical import cabinet_bundles, cabinets_of, cable_length_m, node_cabinets

# --- placement -------------------------------------------------------------------------------------

_KW_TOLERANCE = 1e-6


def verify_placement(instance: Instance, graph: nx.Graph, placement: dict) -> list[str]:
    """Re-check a placement dict (`Placement.to_dict()`) against the instance, from first principles:
    every cabinet in exactly one slot on the floor, no slot used twice, cooling kind of each row,
    row power and zone capacity, each cabinet within its own caps, and every bundle's medium within
    reach with enough cables for its bandwidth (and the bundles those of the fabric)."""
    cabinets = cabinets_of(instance)
    floor = instance.floor
    slot_of, out = _slots(placement, len(cabinets), floor.rows * floor.slots_per_row)
    for c in cabinets:
        for limit, cap in (("power_cap_kw", c.power_cap_kw), ("cooling_capacity_kw", c.cooling_capacity_kw)):
            if c.power_kw > cap + _KW_TOLERANCE:
                out.append(f"cabinet {c.index} draws {c.power_kw:.3f} kW above its {limit} {cap:.3f} kW")
    if len(slot_of) != len(cabinets):
        return out
    row_kw = Counter()
    zone_kw = Counter()
    for c in cabinets:
        row = slot_of[c.index] // floor.slots_per_row
        row_kw[row] += c.power_kw
        zones = [z for z in floor.cooling_zones if z.kind == c.cooling and row in z.rows]
        if floor.cooling_zones and not zones:
            out.append(
                f"cabinet {c.index} ({c.cooling}-cooled) stands in row {row}, which no {c.cooling} zone cools"
            )
        for z in zones:
            zone_kw[z.name] += c.power_kw
    for row, kw in sorted(row_kw.items()):
        if kw > floor.row_power_kw + _KW_TOLERANCE:
            out.append(f"row {row} draws {kw:.3f} kW above its cap {floor.row_power_kw:.3f} kW")
    for z in floor.cooling_zones:
        if zone_kw[z.name] > z.capacity_kw + _KW_TOLERANCE:
            out.append(
                f"zone {z.name} carries {zone_kw[z.name]:.3f} kW above its capacity {z.capacity_kw:.3f} kW"
            )
    out.extend(_check_cables(instance, graph, cabinets, slot_of, placement))
    return out


def _slots(placement: dict, n_cabinets: int, n_slots: int) -> tuple[dict[int, int], list[str]]:
    out = []
    slot_of: dict[int, int] = {}
    for entry in placement.get("cabinets", []):
        c, s = entry["cabinet"], entry["slot"]
        if c in slot_of:
            out.append(f"cabinet {c} is placed twice (slots {slot_of[c]} and {s})")
        elif not 0 <= c < n_cabinets:
            out.append(f"cabinet {c} does not exist (the instance has {n_cabinets})")
        elif not 0 <= s < n_slots:
            out.append(f"cabinet {c} stands in slot {s}, outside the floor's {n_slots} slots")
        else:
            slot_of[c] = s
    missing = sorted(set(range(n_cabinets)) - set(slot_of))
    if missing:
        out.append(f"{len(missing)} cabinets have no slot (first: {missing[0]})")
    for s, n in sorted(Counter(slot_of.values()).items()):
        if n > 1:
            out.append(f"slot {s} holds {n} cabinets")
    return slot_of, out


def _check_cables(
    instance: Instance, graph: nx.Graph, cabinets, slot_of: dict[int, int], placement: dict
) -> list[str]:
    media = {m.name: m for m in instance.media}
    bundles = cabinet_bundles(graph, node_cabinets(instance, graph, cabinets))
    out = []
    seen = set()
    for entry in placement.get("bundles", []):
        a, b = entry["cabinets"]
        key = (min(a, b), max(a, b))
        seen.add(key)
        if key not in bundles:
            out.append(f"bundle {key} is not a link bundle of the fabric")
            continue
        medium = media.get(entry["medium"])
        if medium is None:
            out.append(f"bundle {key} uses medium {entry['medium']!r}, which the instance does not list")
            continue
        length = cable_length_m(instance.floor, slot_of[a], slot_of[b])
        if length > medium.reach_m + 1e-9:
            out.append(
                f"bundle {key}: {medium.name} reaches {medium.reach_m:g} m but the run is {length:.2f} m"
            )
        if entry["cables"] * medium.bandwidth_GBps < bundles[key]["bandwidth_GBps"] - 1e-6:
            out.append(
                f"bundle {key}: {entry['cables']} x {medium.bandwidth_GBps:g} GB/s cables carry less than "
                f"its {bundles[key]['bandwidth_GBps']:.1f} GB/s"
            )
    missing = sorted(set(bundles) - seen)
    if missing:
        out.append(f"{len(missing)} link bundles have no cables (first: {missing[0]})")
    return out


# --- provisioning ----------------------------------------------------------------------------------
