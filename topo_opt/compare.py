"""Side-by-side comparison of result files: one column per design, one row per metric."""

import csv
from io import StringIO

from topo_opt.resilience import availability_from_result

GIB = 2**30

# (key, label, format) in display order; values come from `design_metrics`.
METRICS = (
    ("family", "fabric family", "{}"),
    ("chips", "chips", "{:,}"),
    ("cabinets", "cabinets", "{:,}"),
    ("floor_used", "floor slots used", "{:.0%}"),
    ("floor_area_m2", "floor area (m2)", "{:,.0f}"),
    ("network_cost_usd", "network cost (USD)", "{:,.0f}"),
    ("network_cost_share", "network cost share", "{:.1%}"),
    ("network_power_kw", "network power (kW)", "{:,.1f}"),
    ("total_power_kw", "total power (kW)", "{:,.0f}"),
    ("optical_modules", "optical modules", "{:,}"),
    ("switches", "switches", "{:,}"),
    ("high_radix_switches", "high-radix switches", "{:,}"),
    ("allreduce_busbw_GBps", "all-reduce busbw @1GiB (GB/s)", "{:,.1f}"),
    ("allreduce_algorithm", "all-reduce algorithm @1GiB", "{}"),
    ("allreduce_efficiency", "all-reduce efficiency @1GiB", "{:.1%}"),
    ("alltoall_time_ms", "all-to-all time @1GiB (ms)", "{:,.3f}"),
    ("fabric_mtbf_h", "fabric MTBF (h)", "{:,.1f}"),
    ("network_availability", "network availability", "{:.2%}"),
    ("job_stop_mtbf_h", "job-stopping MTBF (h)", "{:,.1f}"),
    ("job_availability", "job availability", "{:.2%}"),
    ("placement_status", "placement status", "{}"),
    ("placement_gap", "placement gap", "{:.1%}"),
)


def _score(result: dict, collective: str, size_bytes: int) -> dict | None:
    """The `auto` record (else the fastest) of a collective at a size."""
    records = [r for r in result.get("scores", []) if r["collective"] == collective and r["size_bytes"] == size_bytes]
    auto = [r for r in records if r.get("auto")]
    return (auto or sorted(records, key=lambda r: r["time_s"]) or [None])[0]


def design_metrics(result: dict) -> dict:
    """The figures `compare` shows, from one result file (None where a stage did not run)."""
    # a SuperCluster's figures are its totals (G x the SuperPoD template's BOM + the DCN's)
    bom = (result.get("supercluster") or {}).get("totals") or (result.get("provisioning") or {}).get("bom") or {}
    placement = result.get("placement") or {}
    floor = result.get("floor") or {}
    stage = (result.get("stages") or {}).get("placement") or {}
    allreduce = _score(result, "all-reduce", GIB)
    alltoall = _score(result, "all-to-all", GIB)
    avail = availability_from_result(result) or {}
    return {
        "design": result["instance"]["name"],
        "family": result["instance"]["family"],
        "chips": result["instance"]["chips"],
        "cabinets": len(placement["cabinets"]) if "cabinets" in placement else None,
        "floor_used": floor.get("slots_used", 0) / floor["slots"] if floor.get("slots") else None,
        "floor_area_m2": floor.get("area_m2"),
        "network_cost_usd": bom.get("network_cost_usd"),
        "network_cost_share": bom.get("network_cost_share"),
        "network_power_kw": bom.get("network_power_kw"),
        "total_power_kw": bom.get("total_power_kw"),
        "optical_modules": bom.get("optical_modules"),
        "switches": sum(bom["switches"].values()) if "switches" in bom else None,
        "high_radix_switches": bom.get("high_radix_switches"),
        "allreduce_busbw_GBps": allreduce["busbw_GBps"] if allreduce else None,
        "allreduce_algorithm": allreduce["algorithm"] if allreduce else None,
        "allreduce_efficiency": allreduce["efficiency"] if allreduce else None,
        "alltoall_time_ms": alltoall["time_s"] * 1e3 if alltoall else None,
        "fabric_mtbf_h": avail.get("fabric_mtbf_h"),
        "network_availability": avail.get("fabric_availability"),
        "job_stop_mtbf_h": avail.get("job_stop_mtbf_h"),
        "job_availability": avail.get("availability"),
        "placement_status": stage.get("status"),
        "placement_gap": stage.get("gap"),
    }


def _cell(value: object, fmt: str) -> str:
    return "-" if value is None else fmt.format(value)


def compare_table(results: list[dict]) -> str:
    """Plain-text table: a row per metric, a column per design."""
    metrics = [design_metrics(r) for r in results]
    header = ["metric"] + [m["design"] for m in metrics]
    rows = [[label] + [_cell(m[key], fmt) for m in metrics] for key, label, fmt in METRICS]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
             for row in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def compare_csv(results: list[dict]) -> str:
    """CSV with the same layout as the table, raw (unformatted) values."""
    metrics = [design_metrics(r) for r in results]
    buffer = StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["metric"] + [m["design"] for m in metrics])
    for key, _, _ in METRICS:
        writer.writerow([key] + ["" if m[key] is None else m[key] for m in metrics])
    return buffer.getvalue()
