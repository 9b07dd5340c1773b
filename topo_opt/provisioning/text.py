"""The plan and bill of materials as text (what `topo-opt provision` prints), from `to_dict()`."""


def _n(x: float) -> str:
    return f"{x:,.0f}" if abs(x - round(x)) < 1e-9 else f"{x:,.2f}"


def _lanes(d: dict) -> str:
    parts = [f"{k} {_n(v['lanes'])}" + (" reserved" if v["fixed"] else f" (nominal {_n(v['nominal'])})")
             for k, v in d["lanes_per_chip"].items()]
    return ", ".join(parts) + f"; {_n(d['lane_budget']['used'])} of {_n(d['lane_budget']['lanes'])} used"


def _listing(pairs: list[tuple[str, int]]) -> str:
    return ", ".join(f"{k} {n:,}" for k, n in pairs) or "none"


def format_provisioning(d: dict) -> str:
    r, mcf, bom = d["report"], d["max_concurrent_flow"], d["bom"]
    gap = "n/a" if r["gap"] is None else f"{100 * r['gap']:.2f} %"
    share = mcf["injection_GBps_per_chip"] / mcf["chip_interconnect_GBps"]
    traces = bom["board_trace_links"]
    lines = [
        f"provisioning {d['instance']} ({d['family']}), cable lengths from the {d['layout']} layout"
        + (", lanes pinned to the instance's nominal" if d["pinned_to_nominal"] else ""),
        f"  solver          {r['status']}, objective {_n(r['objective'])} USD, bound {_n(r['bound'])}, "
        f"gap {gap}, {r['wall_s']:.2f} s ({d['solver']['mip']}; seed {r['seed']}, "
        f"workers {r['workers']}, limit {r['time_limit_s']:g} s)",
        f"  workload        {d['traffic']['layout']}: {mcf['injection_GBps_per_chip']:,.1f} GB/s sent "
        f"per chip ({100 * share:.0f} % of its {mcf['chip_interconnect_GBps']:,.0f})",
        f"  concurrent flow {mcf['achieved']:.3f} x the reference rate (target {mcf['target']:g}; "
        f"reference {mcf['reference_rate_GBps']:,.1f} GB/s of buffer per chip: {mcf['reference']})",
        f"  lanes per chip  {_lanes(d)}",
        "  switches        " + (", ".join(f"{s['tier']} {s['count']:,} x {s['type']}" for s in d["switches"])
                                 or "none"),
        "bill of materials",
        f"  cables          {bom['cables_total']:,} ({_listing(list(bom['cables_by_medium'].items()))}"
        + (f"; plus {traces:,} board-trace links)" if traces else ")"),
        *(f"    {c['medium']:<14}{c['length']:>9}  {c['count']:>9,}" for c in bom["cables"]),
        f"  optical modules {bom['optical_modules']:,}",
        f"  switches        {_listing(list(bom['switches'].items()))} "
        f"({bom['high_radix_switches']:,} high-radix)",
        f"  chips           {bom['chips']:,}",
        f"  network cost    {bom['network_cost_usd']:,.0f} USD "
        f"({100 * bom['network_cost_share']:.1f} % of the whole)",
        f"  network power   {bom['network_power_kw']:,.1f} kW ({100 * bom['network_power_share']:.1f} % of "
        f"{bom['total_power_kw']:,.1f} kW)",
    ]
    lines += [f"  note: {n}" for n in d["notes"]]
    return "\n".join(lines)
