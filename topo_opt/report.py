"""Human-readable tables of results (plots join here as stages land)."""


def format_summary(s: dict) -> str:
    """Fabric summary as printed by `topo-opt build`."""
    hops, bis, inj = s["hops"], s["bisection"], s["injection_GBps"]
    sampled = f", {hops['sample_sources']} sources" if hops["method"] == "sampled" else ""
    if not hops["connected"]:
        sampled += "; NOT CONNECTED"
    lines = [
        f"fabric {s['name']} ({s['family']})",
        f"  chips            {s['chips']:,}" + (f" (+{s['spare_chips']} spare)" if s["spare_chips"] else ""),
        f"  cabinets         {s['compute_cabinets']} compute + {s['interconnect_cabinets']} interconnect"
        if s["compute_cabinets"] else f"  chip cabinets    {s['chip_cabinets']} (fixed by the fabric)",
        f"  switches         {s['switches']:,}"
        + (" (" + ", ".join(f"{r}: {n:,}" for r, n in s["switches_by_role"].items()) + ")" if s["switches"] else ""),
        f"  links            {s['links']:,} (" + ", ".join(f"{k}: {n:,}" for k, n in s["links_by_kind"].items()) + ")",
        f"  diameter         {hops['diameter_hops']} hops ({hops['method']}{sampled})",
        f"  mean hops        {hops['mean_hops']:.3f}",
        f"  bisection        {bis['bisection_GBps']:,.1f} GB/s ({bis['method']})",
        f"  injection/chip   {inj['min']:,.1f} GB/s" + (f" (max {inj['max']:,.1f})" if inj["max"] > inj["min"] else ""),
    ]
    return "\n".join(lines)


def format_placement(d: dict) -> str:
    """Placement summary as printed by `topo-opt place`."""
    rep, obj = d["report"], d["objective"]
    gap = f"{rep['gap']:.1%}" if rep["gap"] is not None else "n/a"
    bound = f"${rep['bound']:,.0f}" if rep["bound"] is not None else "none"
    lines = [
        f"placement {rep['status']}  cables ${rep['objective']:,.0f}  bound {bound}  gap {gap}",
        f"  bound method     {rep['bound_method']}",
        f"  greedy           ${d['greedy_objective_usd']:,.0f}",
        f"  cables           {obj['cables']:,} ({obj['optical_modules']:,} optical modules), "
        f"{obj['cable_length_m']:,.0f} m, {obj['network_power_kw']:,.1f} kW",
    ]
    for medium, m in d["cables_by_medium"].items():
        buckets = ", ".join(f"{b} m: {n:,}" for b, n in d["cables_by_length_m"][medium].items())
        lines.append(f"  {medium:<16} {m['cables']:,} cables, ${m['cost_usd']:,.0f} ({buckets})")
    rows = ", ".join(f"{r['power_kw']:,.0f}" for r in d["rows"])
    lines.append(f"  row kW           {rows} (cap {d['rows'][0]['cap_kw']:,.0f} each)" if d["rows"] else "")
    for z in d["zones"]:
        lines.append(f"  zone {z['zone']:<11} {z['power_kw']:,.1f} / {z['cap_kw']:,.0f} kW ({z['kind']})")
    lines.append(f"  packing          {d['packing']['method']}")
    lines.append("  phases           " + "; ".join(
        f"{p['phase']} ${p['objective_usd']:,.0f}" for p in d["phases"] if p["objective_usd"] is not None))
    lines.append(f"  wall {rep['wall_s']:.1f} s of {rep['time_limit_s']:g} s, "
                 f"seed {rep['seed']}, workers {rep['workers']}")
    return "\n".join(lines)
