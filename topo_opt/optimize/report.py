"""A search's text summary, its figure (Pareto scatter) and its HTML page."""

from html import escape

from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from topo_opt.errors import InstanceError
from topo_opt.io import read_json
from topo_opt.optimize.search import search_errors
from topo_opt.report import _html_table

FRONT_COLUMNS = ("network_cost_usd", "comm_time_s", "total_power_kw", "network_power_kw", "optical_modules",
                 "floor_slots")


def read_search(path) -> dict:
    """A search.json read back and validated against its schema (exit 2 when it is not one)."""
    doc = read_json(path)
    errors = search_errors(doc) if isinstance(doc, dict) else ["(top): not a JSON object"]
    if errors:
        raise InstanceError(str(path), errors[0].split(":")[0], "is not a valid search.json: " + errors[0])
    return doc


def _row(point: dict) -> list[str]:
    o = point["objectives"]
    return [point["id"], _params(point["params"]), f"{o['network_cost_usd'] / 1e6:,.2f}",
            f"{o['comm_time_s'] * 1e3:,.3f}", f"{o['total_power_kw']:,.0f}", f"{o['network_power_kw']:,.0f}",
            f"{o['optical_modules']:,.0f}", f"{o['floor_slots']:,.0f}"]


def _params(params: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in params.items())


FAMILY_MARKERS = {"ub-mesh": "o", "clos": "s", "torus": "^", "dragonfly": "D", "dims": "v"}
HEADER = ["candidate", "parameters", "network MUSD", "comm ms", "total kW", "network kW", "optics", "slots"]


def format_search(doc: dict, path: str) -> str:
    c = doc["counts"]
    lines = [f"search {doc['spec']['name']}: {c['candidates']} candidates ({c['screened']} screened, "
             f"{c['ok']} ok, {c['rejected']} rejected) over {', '.join(c['families'])}; "
             f"method {doc['method']['name']} (budget {doc['method']['budget']}, seed {doc['method']['seed']})",
             f"front ({len(doc['front'])}):"]
    widths = [18, 60, 13, 10, 9, 11, 9, 6]
    lines.append("  " + "".join(h.ljust(w) for h, w in zip(HEADER, widths, strict=True)))
    for point in doc["front"]:
        lines.append("  " + "".join(v[:w - 1].ljust(w) for v, w in zip(_row(point), widths, strict=True)))
    rec = doc["recommendation"]
    lines.append(f"recommendation: {rec['id']}: {rec['reason']}" if rec else "recommendation: none (no candidate "
                 "passed screening and placement)")
    reasons: dict[str, int] = {}
    for cand in doc["candidates"]:
        if cand["status"] == "rejected":
            what = cand["reason"].split(":")[0] if not cand["reason"].startswith("cap ") else \
                cand["reason"].split(" (")[0]
            reasons[what] = reasons.get(what, 0) + 1
    if reasons:
        lines.append("rejected: " + ", ".join(f"{k} {n}" for k, n in sorted(reasons.items())))
    lines.append(f"search written to {path}")
    return "\n".join(lines)


def pareto_figure(doc: dict) -> Figure:
    """Network cost against communication time, total power as colour; front ringed, recommendation starred."""
    fig = Figure(figsize=(9, 6), layout="constrained")
    ax = fig.subplots()
    ok = [c for c in doc["candidates"] if c["status"] == "ok"]
    rejected = [c for c in doc["candidates"] if c["status"] == "rejected" and c["objectives"]]
    if rejected:
        ax.scatter([c["objectives"]["comm_time_s"] * 1e3 for c in rejected],
                   [c["objectives"]["network_cost_usd"] / 1e6 for c in rejected],
                   marker="x", color="#bbbbbb", label="rejected (over a cap)")
    if ok:
        power = [c["objectives"]["total_power_kw"] for c in ok]
        norm = Normalize(min(power), max(power))
        for family in sorted({c["family"] for c in ok}):
            mine = [c for c in ok if c["family"] == family]
            points = ax.scatter([c["objectives"]["comm_time_s"] * 1e3 for c in mine],
                                [c["objectives"]["network_cost_usd"] / 1e6 for c in mine],
                                c=[c["objectives"]["total_power_kw"] for c in mine], cmap="viridis", norm=norm,
                                s=32, marker=FAMILY_MARKERS.get(family, "o"), label=family)
        fig.colorbar(points, ax=ax, label="total power (kW)")
    front = doc["front"]
    ax.scatter([p["objectives"]["comm_time_s"] * 1e3 for p in front],
               [p["objectives"]["network_cost_usd"] / 1e6 for p in front],
               facecolors="none", edgecolors="red", s=90, label="Pareto front")
    rec = doc["recommendation"]
    if rec:
        ax.scatter([rec["objectives"]["comm_time_s"] * 1e3], [rec["objectives"]["network_cost_usd"] / 1e6],
                   marker="*", s=300, color="gold", edgecolors="black", label=f"recommended: {rec['id']}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("workload communication time (ms, log)")
    ax.set_ylabel("network cost (million USD, log)")
    ax.set_title(f"{doc['spec']['name']}: {doc['counts']['screened']} candidates screened")
    ax.legend(loc="best", fontsize=8)
    return fig


def search_figures(doc: dict) -> list[tuple[str, str, Figure]]:
    return [("pareto", "Network cost against communication time (colour: total power)", pareto_figure(doc))]


def search_html(doc: dict, images: dict[str, str], recommended_link: str | None) -> str:
    spec, rec = doc["spec"], doc["recommendation"]
    figures = "".join(f"<figure><img src='{uri}' alt='{escape(title)}'><figcaption>{escape(title)}</figcaption>"
                      f"</figure>" for title, uri in images.items())
    front = _html_table(HEADER, [_row(p) for p in doc["front"]])
    rejected = _html_table(["candidate", "parameters", "reason"],
                           [[c["id"], _params(c["params"]), c["reason"]] for c in doc["candidates"]
                            if c["status"] == "rejected"])
    if rec:
        link = f" (<a href='{escape(recommended_link)}'>its report</a>)" if recommended_link else ""
        recommendation = f"<p><b>Recommended: {escape(rec['id'])}</b>{link}: {escape(rec['reason'])}.</p>"
    else:
        recommendation = "<p>No recommendation: no candidate passed screening and placement.</p>"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>topo_opt search: {escape(spec['name'])}</title>
<style>body{{font-family:sans-serif;margin:2em}}table{{border-collapse:collapse;font-size:90%}}
td,th{{border:1px solid #ccc;padding:2px 6px}}img{{max-width:100%}}</style></head><body>
<h1>search {escape(spec['name'])}</h1>
<p>{escape(spec.get('description') or '')}; {spec['chips']:,} chips; spec sha256 <code>{spec['sha256'][:16]}…</code>;
method {escape(doc['method']['name'])}, budget {doc['method']['budget']}, seed {doc['method']['seed']};
{doc['counts']['candidates']} candidates, {doc['counts']['ok']} ok, {doc['counts']['rejected']} rejected.</p>
{recommendation}
{figures}
<h2>Pareto front</h2>{front}
<h2>Rejected candidates</h2>{rejected}
</body></html>
"""
