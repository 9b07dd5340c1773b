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
