"""Bill of materials of a provisioning plan: cables by medium and length bucket, optical modules,
switches by type, chips; network cost and power with their shares of the whole.

between_cabinets: the cables whose two ends stand in different cabinets (placement's objective).
network cost  = sum cables x (medium fixed cost + per-metre price x run length) + sum switches x switch cost
network power = sum cables x medium power + sum switches x switch power
whole cost    = network cost + chips x the chip's system cost (catalog ChipType.cost_usd)
whole power   = compute cabinets (chips x TDP + overhead) + interconnect cabinets' overhead + network power
"""

from collections import Counter

from topo_opt.catalog import ChipType, MediumType
from topo_opt.instance import Instance
from topo_opt.netspec import NetworkSpec, ports_needed
from topo_opt.physical import Cabinet, length_bucket, length_bucket_order
from topo_opt.provisioning.bundles import PCB, Bundle

ASSUMPTIONS = (
    "cable cost is per cable: fixed parts (both ends' modules or connectors) plus a per-metre price "
    "times the run's length; power is per cable end to end (catalog media)",
    "LRS power is counted here and may also sit in the compute cabinets' assumed overhead_kw",
)


def bill_of_materials(instance: Instance, spec: NetworkSpec, cabinets: tuple[Cabinet, ...],
                      bundles: tuple[Bundle, ...], cables: tuple[int, ...], lanes: dict[str, float],
                      switches: dict[str, int]) -> dict:
    """`cables[i]` is the cable count of `bundles[i]`; `switches` per unit of each tier."""
    media: dict[str, MediumType] = {m.name: m for m in instance.media}
    by_bucket: Counter = Counter()
    by_medium: Counter = Counter()
    between: Counter = Counter()  # cables between cabinets by medium: what placement lays on the floor
    cable_cost = between_cost = 0.0
    traces = 0
    for b, n in zip(bundles, cables, strict=True):
        if b.medium == PCB:
            traces += b.links
        elif n:
            by_bucket[(b.medium, length_bucket(b.length_m))] += n
            by_medium[b.medium] += n
            cost = n * media[b.medium].cable_cost_usd(b.length_m)
            cable_cost += cost
            if b.cabinets[0] != b.cabinets[1]:
                between[b.medium] += n
                between_cost += cost
    by_type: Counter = Counter()
    high_radix = 0
    switch_cost = switch_power_w = 0.0
    for t in spec.tiers:
        count = t.units * switches[t.name]
        by_type[t.switch.name] += count
        high_radix += count if t.switch.high_radix else 0
        switch_cost += count * t.switch.cost_usd
        switch_power_w += count * t.switch.power_w
    cable_power_w = sum(n * media[m].power_w for m, n in by_medium.items())
    network_cost = cable_cost + switch_cost
    network_kw = (cable_power_w + switch_power_w) / 1000
    chip = instance.chip
    chips_cost = spec.chips * chip.cost_usd
    compute_kw = sum(c.power_kw for c in cabinets if c.kind == "compute")
    overhead_kw = sum(k.overhead_kw * k.count for k in instance.cabinets if k.kind == "interconnect")
    total_kw = compute_kw + overhead_kw + network_kw
    return {
        "cables": [{"medium": m, "length": bucket, "count": n} for (m, bucket), n in sorted(by_bucket.items(),
                   key=lambda kv: (kv[0][0], length_bucket_order(kv[0][1])))],
        "cables_by_medium": dict(sorted(by_medium.items())),
        "cables_total": sum(by_medium.values()),
        "between_cabinets": {"cables": sum(between.values()),
                             "cost_usd": between_cost,
                             "optical_modules": sum(n * media[m].optical_modules for m, n in between.items()),
                             "power_kw": sum(n * media[m].power_w for m, n in between.items()) / 1000},
        "board_trace_links": traces,
        "optical_modules": sum(n * media[m].optical_modules for m, n in by_medium.items()),
        "switches": dict(sorted(by_type.items())),
        "high_radix_switches": high_radix,
        "switch_ports_needed": {t.name: t.units * ports_needed(t, lanes) for t in spec.tiers},
        "chips": spec.chips,
        "network_cost_usd": network_cost,
        "cost_breakdown_usd": {"cables_and_optics": cable_cost, "switches": switch_cost},
        "chips_cost_usd": chips_cost,
        "chip_cost_usd": chip.cost_usd,
        "network_cost_share": network_cost / (network_cost + chips_cost) if network_cost + chips_cost else 0.0,
        "network_power_kw": network_kw,
        "power_breakdown_kw": {"cables_and_optics": cable_power_w / 1000, "switches": switch_power_w / 1000,
                               "compute_cabinets": compute_kw, "interconnect_overhead": overhead_kw},
        "total_power_kw": total_kw,
        "network_power_share": network_kw / total_kw if total_kw else 0.0,
        "assumptions": [_chip_cost_assumption(chip), *ASSUMPTIONS],
    }


def _chip_cost_assumption(chip: ChipType) -> str:
    basis = next((a for a in chip.assumptions if a.startswith("cost_usd")), "")
    if not chip.cost_usd:
        return f"chip {chip.name}: no system cost given, so the cost share counts the network alone"
    return f"chip {chip.name}: {chip.cost_usd:,.0f} USD per chip for the cost share" + \
        (f" (assumed; {basis.removeprefix('cost_usd: ')})" if basis else "")



COMPARED = ("optical_modules", "high_radix_switches", "network_cost_usd", "network_power_kw")


def bom_ratios(a: dict, b: dict) -> dict[str, float | None]:
    """a / b for the figures two designs are compared on (None where b has none)."""
    return {k: (a[k] / b[k] if b[k] else None) for k in COMPARED}
