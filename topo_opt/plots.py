"""Figures built as matplotlib `Figure` objects without pyplot (so no GUI backend is touched: saving
renders with Agg); `io.write_figure` writes them."""

from matplotlib import colormaps
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from topo_opt.instance import Floor
from topo_opt.physical import length_bucket_order

# File formats `io.write_figure` can write (by suffix), from matplotlib itself.
FIGURE_FORMATS = tuple(sorted(FigureCanvasBase.get_supported_filetypes()))

_ZONE_COLOURS = {"liquid": "tab:blue", "air": "tab:orange"}


def placement_figure(name: str, floor: Floor, placement: dict, bom: dict | None = None) -> Figure:
    """Floor plan: slots as boxes, cabinets coloured by kW and labelled with their number, pods outlined,
    cooling zones outlined, optical runs drawn thick. The title names the stage of every figure it
    quotes: the placement's cables (the fabric as built, every nominal lane) and, when given, the
    provisioning bill of materials (the workload's lanes), which the report's key figures use."""
    w, pitch = floor.slot_width_m, floor.row_pitch_m
    fig = Figure(
        figsize=(max(7.0, floor.slots_per_row * w * 0.5), max(4.5, floor.rows * pitch * 0.3 + 2.0)),
        layout="constrained",
    )
    ax = fig.add_subplot()
    kw = [c["power_kw"] for c in placement["cabinets"]]
    norm = Normalize(vmin=0, vmax=max(kw) if kw and max(kw) > 0 else 1)
    cmap = colormaps["viridis"]
    for r in range(floor.rows):
        for p in range(floor.slots_per_row):
            ax.add_patch(
                Rectangle((p * w, r * pitch), 0.9 * w, 0.6 * w, facecolor="0.94", edgecolor="0.8", lw=0.3)
            )
    centre = {}
    label_size = max(3.0, min(7.0, 14 * w / max(len(str(len(kw))), 1)))
    for c in placement["cabinets"]:
        x, y = c["position"] * w, c["row"] * pitch
        colour = cmap(norm(c["power_kw"]))
        ax.add_patch(Rectangle((x, y), 0.9 * w, 0.6 * w, facecolor=colour,
                               edgecolor="black" if c["kind"] == "compute" else "red", lw=0.6, zorder=2))
        centre[c["cabinet"]] = (x + 0.45 * w, y + 0.3 * w)
        ax.text(x + 0.45 * w, y + 0.3 * w, str(c["cabinet"]), ha="center", va="center", fontsize=label_size,
                color="white" if norm(c["power_kw"]) < 0.6 else "black", zorder=4)
    _outline_pods(ax, placement["cabinets"], w, pitch)
    optics = {m for m, d in placement["cables_by_medium"].items() if d["kind"] == "optics"}
    runs = [b["cabinets"] for b in placement["bundles"] if b["medium"] in optics]
    alpha = max(0.12, min(0.7, 60 / max(len(runs), 1)))  # overlapping runs add up; a few stay solid
    for i, (a, b) in enumerate(runs):
        (xa, ya), (xb, yb) = centre[a], centre[b]
        ax.plot([xa, xb], [ya, yb], color=OPTICAL_COLOUR, alpha=alpha, lw=1.6, solid_capstyle="round", zorder=1,
                label=f"optical run ({len(runs):,} bundles)" if i == 0 else None)
    for z in floor.cooling_zones:
        for first, last in _runs(sorted(z.rows)):  # one outline per run of consecutive rows
            top, height = first * pitch - 0.25 * w, (last - first) * pitch + 1.1 * w
            ax.add_patch(Rectangle((-0.15 * w, top), floor.slots_per_row * w + 0.1 * w, height, fill=False,
                                   edgecolor=_ZONE_COLOURS[z.kind], lw=1.2, ls="--"))
            ax.text(-0.3 * w, top, z.name, ha="right", va="top", fontsize=7, color=_ZONE_COLOURS[z.kind])
    ax.set_title(floor_title(name, placement, bom), fontsize=9, loc="left")
    ax.set_xlim(-3.5 * w, floor.slots_per_row * w + w)
    ax.set_ylim(floor.rows * pitch, -pitch)
    ax.set_aspect("equal")
    ax.set_xlabel("position along the row (m)")
    ax.set_ylabel("distance across rows (m)")
    if runs:
        for handle in ax.legend(loc="upper right", fontsize=7, framealpha=0.9).legend_handles:
            handle.set_alpha(1)  # the key solid, whatever the runs' transparency
    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="cabinet power (kW); red edge: interconnect",
                 shrink=0.8)
    return fig


OPTICAL_COLOUR = "#e6007e"  # magenta: apart from the zone outlines, the colour map and the cabinet edges


def floor_title(name: str, placement: dict, bom: dict | None) -> str:
    """Title lines of the floor plan, each figure with the stage it comes from."""
    rep, obj = placement["report"], placement["objective"]
    bound = f"{rep['bound'] / 1e6:,.1f} M" if rep["bound"] is not None else "none"
    lines = [f"{name}: floor plan, placement {rep['status']}",
             f"placement stage (fabric as built, every nominal lane): cables {rep['objective'] / 1e6:,.1f} M USD "
             f"(bound {bound}), {obj['optical_modules']:,} optical modules"]
    if bom:
        lines.append(f"provisioning BOM (the workload's lanes; the key figures): network "
                     f"{bom['network_cost_usd'] / 1e6:,.1f} M USD, {bom['optical_modules']:,} optical modules")
    return "\n".join(lines)


def _outline_pods(ax, cabinets: list[dict], w: float, pitch: float) -> None:
    """One dotted outline per pod and row around the slots its compute cabinets take, labelled once."""
    groups = sorted({c["group"] for c in cabinets if c["kind"] == "compute" and "group" in c})
    if len(groups) < 2:
        return
    for g in groups:
        colour = colormaps["tab10"](g % 10)
        rows: dict[int, list[int]] = {}
        for c in cabinets:
            if c["kind"] == "compute" and c.get("group") == g:
                rows.setdefault(c["row"], []).append(c["position"])
        for k, (row, positions) in enumerate(sorted(rows.items())):
            left, right = min(positions) * w - 0.05 * w, (max(positions) + 1) * w - 0.05 * w
            ax.add_patch(Rectangle((left, row * pitch - 0.1 * w), right - left, 0.8 * w, fill=False,
                                   edgecolor=colour, lw=1.3, ls=":", zorder=3))
            if k == 0:
                ax.text(left, row * pitch - 0.15 * w, f"pod {g}", fontsize=7, color=colour, va="bottom", zorder=4,
                        fontweight="bold")


def headroom_figure(placement: dict) -> Figure:
    """kW per row against its feed cap and per cooling zone against its capacity: bars, caps as lines,
    the share of the cap on each bar."""
    fig = Figure(figsize=(11, 3.8), layout="constrained")
    rows, zones = placement["rows"], placement["zones"]
    ax_rows, ax_zones = fig.subplots(1, 2, width_ratios=[max(len(rows), 1), max(len(zones), 4)])
    _bars_against_caps(ax_rows, [f"{r['row']}" for r in rows], [r["power_kw"] for r in rows],
                       [r["cap_kw"] for r in rows], ["tab:gray"] * len(rows))
    ax_rows.set_xlabel("row")
    ax_rows.set_title("rows: power against the feed cap (kW)", fontsize=10)
    _bars_against_caps(ax_zones, [z["zone"] for z in zones], [z["power_kw"] for z in zones],
                       [z["cap_kw"] for z in zones], [_ZONE_COLOURS.get(z["kind"], "tab:gray") for z in zones])
    ax_zones.set_xlabel("cooling zone (blue: liquid, orange: air)")
    ax_zones.set_title("cooling zones: load against capacity (kW)", fontsize=10)
    for ax in (ax_rows, ax_zones):
        ax.set_ylabel("kW")
    return fig


def _bars_against_caps(ax, labels: list[str], loads: list[float], caps: list[float], colours: list) -> None:
    x = range(len(labels))
    ax.bar(x, loads, color=colours, width=0.7, label="load")
    ax.hlines(caps, [i - 0.45 for i in x], [i + 0.45 for i in x], colors="black", lw=2, label="cap")
    for i, (load, cap) in enumerate(zip(loads, caps, strict=True)):  # the share, above bar and cap line
        ax.annotate(f"{load / cap:.0%}", (i, max(load, cap)), xytext=(0, 3), textcoords="offset points",
                    ha="center", va="bottom", fontsize=7)
    ax.set_xticks(list(x), labels, fontsize=8, rotation=30 if max(map(len, labels), default=0) > 4 else 0)
    ax.set_ylim(0, max(caps + loads, default=1) * 1.3)
    ax.grid(True, axis="y", alpha=0.3)
    if labels:
        ax.legend(fontsize=7, loc="upper left", ncols=2)


def lanes_figure(lanes_per_chip: dict) -> Figure:
    """Lanes per chip per class: provisioned for the workload against the fabric's nominal."""
    fig = Figure(figsize=(6.4, 3.4), layout="constrained")
    ax = fig.add_subplot()
    names = list(lanes_per_chip)
    x = range(len(names))
    ax.bar([i - 0.2 for i in x], [lanes_per_chip[n]["nominal"] for n in names], width=0.4, color="0.75",
           label="nominal (fabric as built)")
    ax.bar([i + 0.2 for i in x], [lanes_per_chip[n]["lanes"] for n in names], width=0.4, color="tab:blue",
           label="provisioned (workload)")
    for i, n in enumerate(names):
        ax.text(i + 0.2, lanes_per_chip[n]["lanes"], f"{lanes_per_chip[n]['lanes']:g}", ha="center", va="bottom",
                fontsize=7)
    ax.set_xticks(list(x), names, fontsize=8)
    ax.set_ylabel("lanes per chip")
    ax.set_xlabel("lane class")
    ax.set_title("lanes per chip by class (provisioning stage)")
    ax.legend(fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def cables_figure(cables: list[dict]) -> Figure:
    """Cables by medium and length bucket (stacked bars); `cables` holds {medium, length, count}."""
    fig = Figure(figsize=(8, 3.6), layout="constrained")
    ax = fig.add_subplot()
    buckets = sorted({c["length"] for c in cables}, key=length_bucket_order)
    media = sorted({c["medium"] for c in cables})
    bottom = [0.0] * len(buckets)
    for k, medium in enumerate(media):
        counts = [sum(c["count"] for c in cables if c["medium"] == medium and c["length"] == b) for b in buckets]
        ax.bar(range(len(buckets)), counts, bottom=bottom, label=medium, color=colormaps["tab10"](k % 10))
        bottom = [a + b for a, b in zip(bottom, counts, strict=True)]
    ax.set_xticks(range(len(buckets)), buckets, fontsize=8, rotation=30)
    ax.set_xlabel("cable length bucket (m)")
    ax.set_ylabel("cables (count)")
    ax.set_title("cables by medium and length (provisioning BOM)")
    ax.legend(fontsize=7, title="medium", title_fontsize=7)
    ax.grid(True, axis="y", alpha=0.3)
    return fig


def hall_figure(name: str, halls: dict) -> Figure:
    """The SuperCluster's hall grid (hall placement stage): one square per hall cell, the DCN hall
    in black, SuperPoD halls coloured by their run to it (m) and labelled with their number."""
    rows, cols, pitch = halls["rows"], halls["cols"], halls["pitch_m"]
    fig = Figure(figsize=(max(5.0, cols * 0.8 + 2.5), max(4.0, rows * 0.8 + 1.0)), layout="constrained")
    ax = fig.add_subplot()
    lengths = halls["run_lengths_m"]
    norm = Normalize(min(lengths), max(max(lengths), min(lengths) + 1e-9))
    cmap = colormaps["viridis"]
    for r in range(rows):
        for c in range(cols):
            ax.add_patch(Rectangle((c * pitch, r * pitch), 0.9 * pitch, 0.9 * pitch, fill=False, ec="#ccc"))
    for s, ((r, c), length) in enumerate(zip(halls["superpod_cells"], lengths, strict=True)):
        ax.add_patch(Rectangle((c * pitch, r * pitch), 0.9 * pitch, 0.9 * pitch, color=cmap(norm(length))))
        ax.text((c + 0.45) * pitch, (r + 0.45) * pitch, str(s), ha="center", va="center", fontsize=7, color="white")
    r, c = halls["dcn_cell"]
    ax.add_patch(Rectangle((c * pitch, r * pitch), 0.9 * pitch, 0.9 * pitch, color="black"))
    ax.text((c + 0.45) * pitch, (r + 0.45) * pitch, "DCN", ha="center", va="center", fontsize=8, color="white")
    ax.set_xlim(-0.1 * pitch, cols * pitch)
    ax.set_ylim(rows * pitch, -0.1 * pitch)
    ax.set_aspect("equal")
    ax.set_xlabel("m")
    ax.set_ylabel("m")
    fig.colorbar(ScalarMappable(norm, cmap), ax=ax, label="DCN run per cable (m)")
    ax.set_title(f"{name}: halls (pitch {pitch:g} m), {halls['cable_length_m'] / 1000:,.0f} km of DCN cable "
                 f"({halls['report']['status']})", fontsize=10)
    return fig


def _runs(rows: list[int]) -> list[tuple[int, int]]:
    """[0, 1, 2, 5, 6] -> [(0, 2), (5, 6)]."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and r == out[-1][1] + 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out
