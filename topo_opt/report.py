"""Human-readable tables of results, the report page and its figures."""

from dataclasses import fields
from html import escape

from matplotlib.figure import Figure

from topo_opt.compare import METRICS, design_metrics
from topo_opt.instance import CoolingZone, Floor
from topo_opt.plots import placement_figure
from topo_opt.units import format_size


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


# --- report page: figures as PNG bytes and one self-contained HTML page -----------------------------

def bom_figure(bom: dict):
    """Two bars: network cost by part, and power by part (compute shown for scale)."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_cost, ax_power = fig.subplots(1, 2)
    costs = bom.get("cost_breakdown_usd", {})
    ax_cost.barh(list(costs), [v / 1e6 for v in costs.values()], color="#4C72B0")
    ax_cost.set_xlabel("network cost (million USD)")
    ax_cost.set_title(f"network cost {bom.get('network_cost_usd', 0) / 1e6:,.1f} M USD "
                      f"({bom.get('network_cost_share', 0):.1%} of the whole)")
    power = bom.get("power_breakdown_kw", {})
    ax_power.barh(list(power), list(power.values()), color="#DD8452")
    ax_power.set_xscale("log")
    ax_power.set_xlabel("power (kW, log scale)")
    ax_power.set_title(f"network power {bom.get('network_power_kw', 0):,.0f} kW "
                       f"({bom.get('network_power_share', 0):.1%} of the whole)")
    return fig


def _html_table(header: list[str], rows: list[list[object]]) -> str:
    head = "".join(f"<th>{escape(str(h))}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _fmt(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4g}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def report_html(result: dict, images: dict[str, str]) -> str:
    """One HTML page: key figures, stage reports, scores and BOM; `images` maps titles to data URIs."""

    metrics = design_metrics(result)
    key_rows = [[label, "-" if metrics[key] is None else fmt.format(metrics[key])] for key, label, fmt in METRICS]
    stage_cols = ["status", "objective", "bound", "gap", "bound_method", "wall_s", "time_limit_s", "seed", "workers"]
    stage_rows = [[name] + [_fmt(stage.get(c)) for c in stage_cols] for name, stage in result["stages"].items()]
    score_cols = ["collective", "algorithm", "size_bytes", "time_s", "busbw_GBps", "lower_bound_s", "efficiency"]
    score_rows = [[_fmt(r.get(c)) for c in score_cols] for r in result["scores"] if r.get("auto", True)]
    bom = (result.get("provisioning") or {}).get("bom") or {}
    bom_rows = [[k, _fmt(v)] for k, v in bom.items() if not isinstance(v, dict | list)]
    figures = "".join(f"<figure><img src='{uri}' alt='{escape(title)}'>"
                      f"<figcaption>{escape(title)}</figcaption></figure>" for title, uri in images.items())
    inst = result["instance"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>topo_opt report: {escape(inst['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}
img{{max-width:100%;border:1px solid #eee}}figure{{margin:1em 0}}</style></head><body>
<h1>{escape(inst['name'])}</h1>
<p>{escape(inst['family'])} fabric, {inst['chips']:,} chips; instance sha256 <code>{inst['sha256'][:16]}…</code>;
tool {escape(result['tool_version'])}, schema {escape(result['schema_version'])};
time limit {result['options']['time_limit_s']} s, seed {result['options']['seed']},
{result['options']['workers']} workers.</p>
<h2>Key figures</h2>{_html_table(["metric", "value"], key_rows)}
<h2>Stages</h2>{_html_table(["stage"] + stage_cols, stage_rows)}
<h2>Figures</h2>{figures}
<h2>Collectives</h2>{_html_table(score_cols, score_rows)}
<h2>Bill of materials</h2>{_html_table(["item", "value"], bom_rows)}
</body></html>
"""


def format_scores(records: list[dict]) -> str:
    """Score records as printed by `topo-opt score` (one line per collective, algorithm and size)."""
    if not records:
        return "no scores"
    r0 = records[0]
    head = (f"{r0['group_chips']:,} chips per group x {r0['groups']:,} group(s) ({r0['group_spec']}), "
            f"model {r0['model']}, routing {r0.get('routing', 'structured')}")
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


def format_solve(result: dict, path: str) -> str:
    """What `topo-opt solve` prints: per-stage status and the design's key figures."""
    lines = [f"{result['instance']['name']}: {result['instance']['chips']:,} chips ({result['instance']['family']})"]
    for name, stage in result["stages"].items():
        extra = ""
        if stage.get("objective") is not None:
            gap = "-" if stage["gap"] is None else f"{stage['gap']:.2%}"
            extra = f", objective {stage['objective']:,.0f}, bound {_fmt(stage['bound'])}, gap {gap}"
        lines.append(f"  {name:<13} {stage['status']}{extra} ({stage['wall_s']:.1f} s)")
    metrics = design_metrics(result)
    for key, label, fmt in METRICS:
        if key in ("family", "chips", "placement_status", "placement_gap") or metrics[key] is None:
            continue
        lines.append(f"  {label:<31} {fmt.format(metrics[key])}")
    lines.append(f"result written to {path}")
    return "\n".join(lines)


def floor_from_summary(summary: dict) -> Floor:
    """The Floor a result file describes (pipeline.floor_summary), for figures drawn from results alone."""
    names = {f.name for f in fields(Floor)} - {"cooling_zones"}
    zones = tuple(CoolingZone(z["name"], z["kind"], tuple(z["rows"]), z["capacity_kw"])
                  for z in summary["cooling_zones"])
    return Floor(**{k: summary[k] for k in names}, cooling_zones=zones)


def report_figures(result: dict) -> list[tuple[str, str, object]]:
    """(file stem, title, matplotlib figure) for every figure the result supports."""
    name = result["instance"]["name"]
    figures = []
    if result.get("floor") and "cabinets" in result["placement"]:
        figures.append(("floor", "floor plan: cabinets by kW, cooling zones, optical links",
                        placement_figure(name, floor_from_summary(result["floor"]), result["placement"])))
    figures.append(("collectives", "bus bandwidth against message size, with the bound",
                    plot_scores(result["scores"], name)))
    bom = (result.get("provisioning") or {}).get("bom")
    if bom:
        figures.append(("bom", "network cost and power breakdown", bom_figure(bom)))
    return figures
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
        buckets = ", ".join(f"{b}: {n:,}" for b, n in d["cables_by_length_m"][medium].items())
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
