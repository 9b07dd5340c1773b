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


def format_scores(records: list[dict]) -> str:
    """Score records as printed by `topo-opt score` (one line per collective, algorithm and size)."""
    from topo_opt.units import format_size

    if not records:
        return "no scores"
    r0 = records[0]
    head = (f"{r0['group_chips']:,} chips per group x {r0['groups']:,} group(s) ({r0['group_spec']}), "
            f"model {r0['model']}")
    rows = [("collective", "algorithm", "size", "time", "algbw GB/s", "busbw GB/s", "bound", "eff",
             "bottleneck (util)")]
    for r in records:
        alg = r["algorithm"] + (" (auto)" if r.get("auto") else "")
        rows.append((r["collective"], alg, format_size(r["size_bytes"]), _seconds(r["time_s"]),
                     f"{r['algbw_GBps']:,.1f}", f"{r['busbw_GBps']:,.1f}", _seconds(r["lower_bound_s"]),
                     f"{100 * r['efficiency']:.1f}%",
                     f"{r['bottleneck']} ({100 * r['bottleneck_utilization']:.0f}%)"))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [head] + ["  ".join(c.ljust(w) if i < 3 or i == 8 else c.rjust(w)
                                for i, (c, w) in enumerate(zip(row, widths, strict=True))).rstrip()
                      for row in rows]
    return "\n".join(lines)


def _seconds(t: float) -> str:
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if t >= scale:
            return f"{t / scale:.3g} {unit}"
    return f"{t / 1e-9:.3g} ns"


def plot_scores(records: list[dict], title: str = ""):
    """Figure of bus bandwidth against message size, one line per algorithm (auto's points named
    after the algorithm chosen) and the bound's line (the bus bandwidth the lower bound would
    give), one panel per collective. Agg backend, no display."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    collectives = list(dict.fromkeys(r["collective"] for r in records))
    fig = Figure(figsize=(6.4, 3.6 * len(collectives)), layout="constrained")
    axes = fig.subplots(len(collectives), 1, squeeze=False)[:, 0]
    for ax, collective in zip(axes, collectives, strict=True):
        mine = [r for r in records if r["collective"] == collective]
        lines: dict[str, list[dict]] = {}
        for r in mine:
            lines.setdefault("auto" if r.get("auto") else r["algorithm"], []).append(r)
        for name, rs in lines.items():
            rs = sorted(rs, key=lambda r: r["size_bytes"])
            ax.plot([r["size_bytes"] for r in rs], [r["busbw_GBps"] for r in rs], marker="o", label=name)
            if name == "auto":  # say which algorithm auto chose at each size
                for r in rs:
                    ax.annotate(r["algorithm"], (r["size_bytes"], r["busbw_GBps"]), fontsize="x-small",
                                textcoords="offset points", xytext=(3, -9))
        by_size = sorted({r["size_bytes"]: r for r in mine}.values(), key=lambda r: r["size_bytes"])
        ax.plot([r["size_bytes"] for r in by_size],
                [r["busbw_GBps"] * r["time_s"] / r["lower_bound_s"] for r in by_size],
                linestyle="--", color="black", label="bound")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("message size (bytes)")
        ax.set_ylabel("bus bandwidth (GB/s)")
        ax.set_title(f"{title} {collective}".strip())
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize="small")
    return fig
