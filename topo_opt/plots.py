"""Figures built as matplotlib `Figure` objects without pyplot (so no GUI backend is touched: saving
renders with Agg); `io.write_figure` writes them."""

from matplotlib import colormaps
from matplotlib.backend_bases import FigureCanvasBase
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from topo_opt.instance import Floor

# File formats `io.write_figure` can write (by suffix), from matplotlib itself.
FIGURE_FORMATS = tuple(sorted(FigureCanvasBase.get_supported_filetypes()))

_ZONE_COLOURS = {"liquid": "tab:blue", "air": "tab:orange"}


def placement_figure(name: str, floor: Floor, placement: dict) -> Figure:
    """Floor plan: slots as boxes, cabinets coloured by kW, cooling zones outlined, optical links drawn."""
    w, pitch = floor.slot_width_m, floor.row_pitch_m
    fig = Figure(
        figsize=(max(6.0, floor.slots_per_row * w * 0.45), max(4.0, floor.rows * pitch * 0.25 + 1.5))
    )
    ax = fig.add_subplot()
    kw = [c["power_kw"] for c in placement["cabinets"]]
    norm = Normalize(vmin=0, vmax=max(kw) if kw else 1)
    cmap = colormaps["viridis"]
    for r in range(floor.rows):
        for p in range(floor.slots_per_row):
            ax.add_patch(
                Rectangle((p * w, r * pitch), 0.9 * w, 0.6 * w, facecolor="0.92", edgecolor="0.8", lw=0.3)
            )
    centre = {}
    for c in placement["cabinets"]:
        x, y = c["position"] * w, c["row"] * pitch
        ax.add_patch(
            Rectangle(
                (x, y),
                0.9 * w,
                0.6 * w,
                facecolor=cmap(norm(c["power_kw"])),
                edgecolor="black" if c["kind"] == "compute" else "red",
                lw=0.5,
            )
        )
        centre[c["cabinet"]] = (x + 0.45 * w, y + 0.3 * w)
    optics = {m for m, d in placement["cables_by_medium"].items() if d["kind"] == "optics"}
    long_links = [b["cabinets"] for b in placement["bundles"] if b["medium"] in optics]
    alpha = min(0.5, 40 / max(len(long_links), 1))  # a few links stay visible, thousands stay a haze
    for a, b in long_links:
        (xa, ya), (xb, yb) = centre[a], centre[b]
        ax.plot([xa, xb], [ya, yb], color="tab:red", alpha=alpha, lw=0.6)
    for z in floor.cooling_zones:
        for first, last in _runs(sorted(z.rows)):  # one outline per run of consecutive rows
            top, height = first * pitch - 0.25 * w, (last - first) * pitch + 1.1 * w
            ax.add_patch(
                Rectangle(
                    (-0.15 * w, top),
                    floor.slots_per_row * w + 0.1 * w,
                    height,
                    fill=False,
                    edgecolor=_ZONE_COLOURS[z.kind],
                    lw=1.2,
                    ls="--",
                )
            )
            ax.text(-0.3 * w, top, z.name, ha="right", va="top", fontsize=7, color=_ZONE_COLOURS[z.kind])
    rep = placement["report"]
    bound = f"{rep['bound']:,.0f}" if rep["bound"] is not None else "none"
    ax.set_title(
        f"{name}: {rep['status']}, cables {rep['objective']:,.0f} USD (bound {bound}), "
        f"{placement['objective']['optical_modules']:,} optical modules; red: optical links",
        fontsize=9,
    )
    ax.set_xlim(-2.5 * w, floor.slots_per_row * w + w)
    ax.set_ylim(floor.rows * pitch, -pitch)
    ax.set_aspect("equal")
    ax.set_xlabel("m along the row")
    ax.set_ylabel("m across rows")
    fig.colorbar(
        ScalarMappable(norm=norm, cmap=cmap), ax=ax, label="cabinet kW (red edge: interconnect)", shrink=0.8
    )
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
