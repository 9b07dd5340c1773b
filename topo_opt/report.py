"""Human-readable tables of results, the report page and its figures."""

from dataclasses import fields
from html import escape

from matplotlib.figure import Figure

from topo_opt.compare import METRICS, design_metrics
from topo_opt.instance import CoolingZone, Floor
from topo_opt.plots import cables_figure, hall_figure, headroom_figure, lanes_figure, placement_figure
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
    """Two bars (provisioning BOM): network cost by part, and power by part with the compute cabinets'
    kW beside the network's for scale (log axis, as compute is ten times the network or more)."""
    fig = Figure(figsize=(11, 4), layout="constrained")
    ax_cost, ax_power = fig.subplots(1, 2)
    costs = bom.get("cost_breakdown_usd", {})
    ax_cost.barh(list(costs), [v / 1e6 for v in costs.values()], color="#4C72B0")
    ax_cost.set_xlabel("network cost (million USD)")
    power = bom.get("power_breakdown_kw", {})
    ax_power.barh(list(power), [max(v, 1e-3) for v in power.values()], color="#DD8452")
    ax_power.set_xscale("log")
    ax_power.set_xlabel("power (kW, log scale)")
    ax_power.set_title(f"power by part (kW): network {bom.get('network_power_kw', 0):,.0f} kW "
                       f"= {bom.get('network_power_share', 0):.1%} of {bom.get('total_power_kw', 0):,.0f} kW",
                       fontsize=10)
    ax_cost.set_title(f"network cost by part (M USD): {bom.get('network_cost_usd', 0) / 1e6:,.1f} M USD "
                      f"= {bom.get('network_cost_share', 0):.1%} of the whole", fontsize=10)
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


# Which stage of the result each key figure comes from (the report labels every number with it).
METRIC_STAGE = {
    "family": "instance", "chips": "fabric", "cabinets": "placement", "floor_used": "placement",
    "floor_area_m2": "instance floor", "network_cost_usd": "provisioning BOM",
    "network_cost_share": "provisioning BOM", "network_power_kw": "provisioning BOM",
    "total_power_kw": "provisioning BOM", "optical_modules": "provisioning BOM", "switches": "provisioning BOM",
    "high_radix_switches": "provisioning BOM", "allreduce_busbw_GBps": "scoring", "allreduce_algorithm": "scoring",
    "allreduce_efficiency": "scoring", "alltoall_time_ms": "scoring", "placement_status": "placement",
    "placement_gap": "placement",
}
# Stage report columns: (key, heading with unit, format).
STAGE_COLUMNS = (
    ("status", "status", "{}"), ("objective", "objective (USD)", "{:,.0f}"), ("bound", "bound (USD)", "{:,.0f}"),
    ("gap", "gap", "{:.2%}"), ("bound_method", "bound method", "{}"), ("wall_s", "wall time (s)", "{:,.2f}"),
    ("time_limit_s", "time limit (s)", "{:g}"), ("seed", "seed", "{}"), ("workers", "workers", "{}"),
)
SCORE_COLUMNS = (
    ("collective", "collective", "{}"), ("algorithm", "algorithm (auto's choice)", "{}"),
    ("size_bytes", "size per chip", None), ("time_s", "time (ms)", "{:,.4g}"),
    ("busbw_GBps", "bus bandwidth (GB/s)", "{:,.1f}"), ("lower_bound_s", "lower bound (ms)", "{:,.4g}"),
    ("efficiency", "efficiency (bound / time)", "{:.1%}"),
)


def _cell(value: object, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def _score_cell(record: dict, key: str, fmt: str | None) -> str:
    if key == "size_bytes":
        return format_size(record[key])
    value = record.get(key)
    return _cell(value * 1e3 if key.endswith("_s") and value is not None else value, fmt)


def _bom_rows(bom: dict) -> list[list[str]]:
    """The BOM's scalar figures with units and shares as percentages."""
    labels = {
        "cables_total": ("cables (count)", "{:,}"), "board_trace_links": ("board-trace links (count)", "{:,}"),
        "optical_modules": ("optical modules (count)", "{:,}"), "high_radix_switches": ("high-radix switches", "{:,}"),
        "chips": ("chips", "{:,}"), "network_cost_usd": ("network cost (USD)", "{:,.0f}"),
        "chips_cost_usd": ("chips' system cost (USD)", "{:,.0f}"), "chip_cost_usd": ("system cost per chip (USD)",
                                                                                    "{:,.0f}"),
        "network_cost_share": ("network cost share of the whole", "{:.1%}"),
        "network_power_kw": ("network power (kW)", "{:,.1f}"), "total_power_kw": ("total power (kW)", "{:,.1f}"),
        "network_power_share": ("network power share of the whole", "{:.1%}"),
    }
    return [[label, _cell(bom.get(key), fmt)] for key, (label, fmt) in labels.items() if key in bom]


def _cabinet_rows(placement: dict) -> list[list[object]]:
    return [[c["cabinet"], c["kind"], c.get("group", "-"), c["cooling"], c["row"], c["position"], c["slot"],
             f"{c['power_kw']:,.1f}"] for c in sorted(placement["cabinets"], key=lambda c: c["cabinet"])]


def report_html(result: dict, images: dict[str, str]) -> str:
    """One HTML page: key figures (each with its stage), stage reports, the figures (each once),
    scores, the BOM and the cabinet -> slot list; `images` maps titles to data URIs."""
    metrics = design_metrics(result)
    key_rows = [[label, _cell(metrics[key], fmt), METRIC_STAGE.get(key, "")] for key, label, fmt in METRICS]
    stage_rows = [[name] + [_cell(stage.get(k), f) for k, _, f in STAGE_COLUMNS]
                  for name, stage in result["stages"].items()]
    score_rows = [[_score_cell(r, k, f) for k, _, f in SCORE_COLUMNS] for r in result["scores"] if r.get("auto", True)]
    bom = result["provisioning"].get("bom") or {}
    figures = "".join(f"<figure><img src='{uri}' alt='{escape(title)}'>"
                      f"<figcaption>{escape(title)}</figcaption></figure>" for title, uri in images.items())
    placement = result["placement"]
    cabinets = ""
    if "cabinets" in placement:
        cabinets = ("<h2>Cabinet slots (placement stage; slot = row x slots per row + position)</h2>"
                    + _html_table(["cabinet", "kind", "pod / group", "cooling", "row", "position", "slot",
                                   "power (kW)"], _cabinet_rows(placement)))
    inst = result["instance"]
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>topo_opt report: {escape(inst['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:1200px}}table{{border-collapse:collapse;margin:1em 0}}
td,th{{border:1px solid #ccc;padding:3px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}
img{{max-width:100%;border:1px solid #eee;display:block}}figure{{margin:1.5em 0}}
figcaption{{font-size:90%;color:#444}}</style></head><body>
<h1>{escape(inst['name'])}</h1>
<p>{escape(inst['family'])} fabric, {inst['chips']:,} chips; instance sha256 <code>{inst['sha256'][:16]}…</code>;
tool {escape(result['tool_version'])}, schema {escape(result['schema_version'])};
time limit {result['options']['time_limit_s']} s, seed {result['options']['seed']},
{result['options']['workers']} workers.</p>
<p>{escape(_stages_sentence(result))}</p>
{_joint_table(result)}
<h2>Key figures</h2>{_html_table(["metric (unit)", "value", "stage"], key_rows)}
<h2>Stages (solver reports)</h2>{_html_table(["stage"] + [h for _, h, _ in STAGE_COLUMNS], stage_rows)}
<h2>Figures</h2>{figures}
<h2>Collectives (scoring stage; auto's choice per size)</h2>{_html_table([h for _, h, _ in SCORE_COLUMNS], score_rows)}
<h2>Bill of materials (provisioning stage{_template_note(result)})</h2>{_html_table(["item (unit)", "value"],
                                                                                 _bom_rows(bom))}
{_supercluster_html(result)}
{cabinets}
</body></html>
"""


def _template_note(result: dict) -> str:
    return "; one SuperPoD, the template of every copy" if "supercluster" in result else ""


def _supercluster_html(result: dict) -> str:
    """A SuperCluster's halls, DCN bill of materials and totals (G x the SuperPoD's BOM + the DCN's)."""
    sc = result.get("supercluster")
    if sc is None:
        return ""
    halls, dcn, totals, power = sc["halls"], sc["dcn"], sc["totals"], sc["halls"]["power"]
    rep = halls["report"]
    hall_rows = [["grid (rows x cols)", f"{halls['rows']} x {halls['cols']}"], ["pitch (m)", f"{halls['pitch_m']:g}"],
                 ["DCN hall cell (row, col)", str(tuple(halls["dcn_cell"]))],
                 ["DCN cables per SuperPoD", f"{halls['cables_per_superpod']:,}"],
                 ["runs (m), shortest to longest", f"{min(halls['run_lengths_m']):,.1f} to "
                                                   f"{max(halls['run_lengths_m']):,.1f}"],
                 ["status, objective = total DCN cable (m)", f"{rep['status']}, {rep['objective']:,.0f}"],
                 ["bound (m), gap", f"{rep['bound']:,.0f}, {rep['gap']:.2%}"],
                 ["a SuperPoD hall: need / feed / cooling (kW)",
                  f"{power['superpod_hall_kw']:,.0f} / {power['hall_power_kw']:,.0f} / "
                  f"{power['hall_cooling_kw']:,.0f}"],
                 ["the DCN hall: need / feed / cooling (kW)",
                  f"{power['dcn_hall_kw']:,.0f} / {power['dcn_hall_power_kw']:,.0f} / "
                  f"{power['dcn_hall_cooling_kw']:,.0f}"]]
    tiers = (f"one tier, {dcn['planes_per_box']} planes per box" if dcn["tiers"] == 1 else
             f"two tiers, {dcn['leaves_per_plane']} leaves + {dcn['spines_per_plane']} spines per plane")
    dcn_rows = [["switch", f"{dcn['switch']} x {sum(dcn['switches'].values()):,} ({tiers}; {dcn['planes']:,} planes "
                           f"of {dcn['ports_per_plane']} ports)"],
                ["DCN cabinets", f"{dcn['cabinets']:,}"]]
    dcn_rows += [[f"cables: {c['medium']} {c['length']}", f"{c['count']:,}"] for c in dcn["cables"]]
    cost = dcn["cost_breakdown_usd"]
    dcn_rows += [["optical modules", f"{dcn['optical_modules']:,}"],
                 ["cost: cables and optics / switches (USD)",
                  f"{cost['cables_and_optics']:,.0f} / {cost['switches']:,.0f}"],
                 ["cost (USD)", f"{dcn['cost_usd']:,.0f}"], ["power (kW)", f"{dcn['power_kw']:,.1f}"]]
    g = sc["superpods"]
    total_rows = [[f"{label} ({g} x SuperPoD + DCN)", fmt.format(totals[key])] for key, label, fmt in (
        ("chips", "chips", "{:,}"), ("cables_total", "cables", "{:,}"), ("optical_modules", "optical modules", "{:,}"),
        ("high_radix_switches", "high-radix switches", "{:,}"), ("network_cost_usd", "network cost (USD)", "{:,.0f}"),
        ("network_cost_share", "network cost share", "{:.1%}"), ("network_power_kw", "network power (kW)", "{:,.1f}"),
        ("total_power_kw", "total power (kW)", "{:,.0f}"), ("network_power_share", "network power share", "{:.1%}"))]
    total_rows += [[f"switches: {k}", f"{n:,}"] for k, n in totals["switches"].items()]
    return (f"<h2>SuperCluster: {g} SuperPoDs of {sc['superpod_chips']:,} chips ({sc['chips']:,} chips)</h2>"
            f"<p>Placement and provisioning above are one SuperPoD's ({escape(sc['template']['name'])}, layout "
            f"{escape(sc['template']['layout'] or '-')}), the template of every copy.</p>"
            "<h3>Halls (hall placement stage)</h3>" + _html_table(["item (unit)", "value"], hall_rows)
            + "<h3>DCN bill of materials (DCN stage)</h3>" + _html_table(["item (unit)", "value"], dcn_rows)
            + "<h3>Totals</h3>" + _html_table(["item (unit)", "value"], total_rows))


def _stages_sentence(result: dict) -> str:
    """What each stage optimised, and which figures are the same thing counted once."""
    placement, bom = result["placement"], (result["provisioning"].get("bom") or {})
    if "joint_rounds" in placement and "between_cabinets" in bom:
        b = bom["between_cabinets"]
        return (f"Placement and provisioning ran jointly ({len(placement['joint_rounds'])} rounds): provisioning "
                f"buys the lanes, cables and switches the workload needs on the current floor, placement moves "
                f"the cabinets to make those cables cheaper. The placement's objective is the cables between "
                f"cabinets of the bill of materials (BOM): {b['cables']:,} cables, {b['optical_modules']:,} optical "
                f"modules, {b['cost_usd']:,.0f} USD, {b['power_kw']:,.1f} kW; the BOM adds the cables inside "
                f"cabinets and the switches. The key figures use the BOM; each number names its stage.")
    return ("Placement sized the cables for the fabric as built (every nominal lane); provisioning sized them "
            "for the workload (its bill of materials, BOM). The key figures use the BOM; each number names its "
            "stage.")


def _joint_table(result: dict) -> str:
    rounds = result["placement"].get("joint_rounds")
    if not rounds:
        return ""
    rows = [[r["round"], f"{r['placement_objective_usd']:,.0f}", f"{r['network_cost_usd']:,.0f}",
             f"{r['cables']:,}", f"{r['optical_modules']:,}", f"{r['network_power_kw']:,.1f}",
             "yes" if r["accepted"] else "no", r["note"]] for r in rounds]
    return ("<h2>Joint placement and provisioning (rounds)</h2>"
            + _html_table(["round", "placement objective (USD)", "network cost (USD)", "cables", "optical modules",
                           "network power (kW)", "accepted", "note"], rows))


def joint_lines(result: dict) -> list[str]:
    """The joint loop's rounds and the cables between cabinets, as `solve` prints them."""
    rounds = result["placement"].get("joint_rounds")
    between = (result["provisioning"].get("bom") or {}).get("between_cabinets")
    if not rounds or between is None:
        return []
    trail = " -> ".join(f"{r['network_cost_usd'] / 1e6:,.2f}" + ("" if r["accepted"] else " (dropped)")
                        for r in rounds if r["note"] != "the floor did not change")
    stop = rounds[-1]["note"] or f"{len(rounds)} rounds, the most `solve` runs"
    return [f"  joint rounds    network M USD {trail}; stopped: {stop}",
            f"  between cabinets {between['cables']:,} cables, {between['optical_modules']:,} optical modules, "
            f"{between['cost_usd']:,.0f} USD, {between['power_kw']:,.1f} kW (placement objective = BOM)"]


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
    """Figure of bus bandwidth against message size, one line per algorithm (auto's points marked by
    the algorithm chosen, in the legend rather than as text, so labels never overlap) and the bound's
    line (the bus bandwidth the lower bound would give), one panel per collective. Sizes on a log2
    axis labelled in KiB / MiB / GiB. Agg backend, no display."""
    collectives = list(dict.fromkeys(r["collective"] for r in records))
    fig = Figure(figsize=(7.5, 3.4 * len(collectives)), layout="constrained")
    axes = fig.subplots(len(collectives), 1, squeeze=False)[:, 0]
    markers = dict(zip(sorted({r["algorithm"] for r in records if r.get("auto")}), "osD^v<>phX*", strict=False))
    for ax, collective in zip(axes, collectives, strict=True):
        mine = [r for r in records if r["collective"] == collective]
        lines: dict[str, list[dict]] = {}
        for r in mine:
            lines.setdefault("auto" if r.get("auto") else r["algorithm"], []).append(r)
        for name, rs in lines.items():
            rs = sorted(rs, key=lambda r: r["size_bytes"])
            ax.plot([r["size_bytes"] for r in rs], [r["busbw_GBps"] for r in rs], label=name,
                    marker=None if name == "auto" else "o", lw=2 if name == "auto" else 1)
            if name == "auto":  # which algorithm auto chose at each size: a marker per algorithm
                for alg in dict.fromkeys(r["algorithm"] for r in rs):
                    at = [r for r in rs if r["algorithm"] == alg]
                    ax.scatter([r["size_bytes"] for r in at], [r["busbw_GBps"] for r in at], zorder=3, s=28,
                               marker=markers.get(alg, "o"), color="black", label=f"auto chose {alg}")
        by_size = sorted({r["size_bytes"]: r for r in mine}.values(), key=lambda r: r["size_bytes"])
        ax.plot([r["size_bytes"] for r in by_size],
                [r["busbw_GBps"] * r["time_s"] / r["lower_bound_s"] for r in by_size],
                linestyle="--", color="black", label="bound")
        ax.set_xscale("log", base=2)
        sizes = [r["size_bytes"] for r in by_size]
        ax.minorticks_off()
        ax.set_xticks(sizes, [""] * len(sizes), minor=True)
        ax.set_xticks(*_spaced_ticks(sizes), fontsize=8)
        ax.set_xlabel("message size per chip (KiB / MiB / GiB)")
        ax.set_ylabel("bus bandwidth (GB/s)")
        ax.set_title(f"{title} {collective}: bus bandwidth (GB/s) against size".strip(), fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return fig


def _spaced_ticks(sizes: list[int]) -> tuple[list[int], list[str]]:
    """Labelled ticks at the sizes at least 4x apart (so labels cannot overlap), in KiB / MiB / GiB."""
    kept: list[int] = []
    for size in sizes:
        if not kept or size >= 4 * kept[-1]:
            kept.append(size)
    return kept, [format_size(s) for s in kept]


def format_solve(result: dict, path: str) -> str:
    """What `topo-opt solve` prints: per-stage status and the design's key figures."""
    lines = [f"{result['instance']['name']}: {result['instance']['chips']:,} chips ({result['instance']['family']})"]
    for name, stage in result["stages"].items():
        extra = ""
        if stage.get("objective") is not None:
            gap = "-" if stage["gap"] is None else f"{stage['gap']:.2%}"
            extra = f", objective {stage['objective']:,.0f}, bound {_fmt(stage['bound'])}, gap {gap}"
        lines.append(f"  {name:<13} {stage['status']}{extra} ({stage['wall_s']:.1f} s)")
    lines.extend(joint_lines(result))
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
    """(file stem, title with units and stage, matplotlib figure) for every figure the result supports."""
    name = result["instance"]["name"]
    placement = result["placement"]
    provisioning = result["provisioning"]
    bom = provisioning.get("bom")
    figures = []
    if result.get("floor") and "cabinets" in placement:
        figures.append(("floor", "floor plan (m): cabinets by kW and number, pods and cooling zones outlined, "
                        "optical runs in magenta (placement stage)",
                        placement_figure(name, floor_from_summary(result["floor"]), placement, bom)))
        figures.append(("headroom", "power headroom (kW): per row against the feed cap, per cooling zone against "
                        "its capacity (placement stage)", headroom_figure(placement)))
    if "lanes_per_chip" in provisioning:
        figures.append(("lanes", "lanes per chip by class (lanes; provisioning stage)",
                        lanes_figure(provisioning["lanes_per_chip"])))
    if bom and bom.get("cables"):
        figures.append(("cables", "cables by medium and length bucket (count; provisioning BOM)",
                        cables_figure(bom["cables"])))
    if "supercluster" in result:
        figures.append(("halls", "SuperCluster halls on their grid (m), coloured by DCN run (hall placement stage)",
                        hall_figure(name, result["supercluster"]["halls"])))
        figures.append(("dcn-cables", "DCN cables by medium and length bucket (count; DCN stage)",
                        cables_figure(result["supercluster"]["dcn"]["cables"])))
    figures.append(("collectives", "bus bandwidth (GB/s) against message size, with the bound (scoring stage)",
                    plot_scores(result["scores"], name)))
    if bom:
        figures.append(("bom", "network cost (M USD) and power (kW) by part (provisioning BOM)", bom_figure(bom)))
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
