"""Records, tables and the stacked breakdown figure of `train`."""

from matplotlib.figure import Figure

from topo_opt.training.search import Rejected, SearchResult, lost_by, rejection_summary
from topo_opt.training.steptime import StepTime

PARTS = ("compute", "memory", "tp", "ep", "pp", "dp", "bubble")
_COLOURS = dict(zip(PARTS, ("tab:blue", "tab:cyan", "tab:orange", "tab:purple", "tab:green", "tab:red", "0.7"),
                    strict=True))


def step_record(st: StepTime, records: dict | None = None) -> dict:
    """One layout's figures; `records` (the scorer's, by need) adds the algorithm chosen per collective."""
    plan, lo = st.plan, st.plan.layout
    comm = []
    for op, time_s in st.ops:
        rec = (records or {}).get(op.need, {})
        comm.append({"axis": op.axis, "collective": op.collective, "algorithm": rec.get("algorithm", op.algorithm),
                     "group_chips": op.size, "stride": op.stride, "size_bytes": op.size_bytes,
                     "count": op.count, "time_s": time_s, "overlaps": op.window or None})
        if op.axis == "pp":  # timed as one step of a ring all-gather of pp sends
            comm[-1].update(send_bytes=op.size_bytes // op.size, send_s=time_s / (op.size - 1))
    hbm = {k: v / 1e9 for k, v in plan.hbm_bytes.items()}
    return {
        "layout": lo.to_dict(), "label": lo.label(), "step_s": st.step_s,
        "breakdown_s": dict(st.breakdown_s), "tokens_per_s": st.tokens_per_s, "mfu": st.mfu,
        "batch_sequences": plan.batch, "microbatches": plan.microbatches,
        "bubble_fraction": (lo.pp - 1) / (lo.interleave * plan.microbatches),
        "model_flops_per_step": plan.model_flops, "hardware_flops_per_step": plan.hardware_flops,
        "hbm_GB": hbm, "hbm_capacity_GB": plan.hbm_capacity_bytes / 1e9, "comm": comm,
    }


def rejected_record(r: Rejected) -> dict:
    return {"label": r.layout.label(), "kind": r.kind, "reason": r.reason}


def search_record(result: SearchResult, records: dict, top: int) -> dict:
    ranked = result.ranked
    best = ranked[0] if ranked else None
    return {
        "best": step_record(best, records) if best else None,
        "top": [dict(step_record(r, records), lost_by=lost_by(r, best) if i else None)
                for i, r in enumerate(ranked[:top])],
        "timed_beyond_top": [{"label": r.plan.layout.label(), "step_s": r.step_s, "lost_by": lost_by(r, best)}
                             for r in ranked[top:]],
        "rejected": rejection_summary(result.rejected),
        "candidates": result.candidates, "timed": len(ranked), "scorer_calls": result.scorer_calls,
    }


def format_step(rec: dict) -> str:
    b = rec["breakdown_s"]
    hbm = rec["hbm_GB"]
    lines = [f"layout {rec['label']}: batch {rec['batch_sequences']:,} sequences in {rec['microbatches']} "
             f"micro-batches per pipeline",
             f"  step {rec['step_s']:.3f} s   tokens/s {rec['tokens_per_s']:,.0f}   MFU {rec['mfu']:.1%}   "
             f"bubble fraction {rec['bubble_fraction']:.1%}",
             "  " + "   ".join(f"{k} {b[k]:.3f}" for k in PARTS) + "  (s)",
             f"  HBM per chip {hbm['total']:.1f} of {rec['hbm_capacity_GB']:.0f} GB (weights {hbm['weights']:.1f}, "
             f"gradients {hbm['gradients']:.1f}, optimizer {hbm['optimizer']:.1f}, activations "
             f"{hbm['activations']:.1f}, logits {hbm['logits']:.1f})"]
    for c in rec["comm"]:
        if "send_s" in c:
            lines.append(f"  {c['axis']:>3} {'send':<14} {'ring step':<16} {c['group_chips']:>5} chips "
                         f"{c['send_bytes'] / 2**20:>10.1f} MiB x {c['count']:g}: {c['send_s'] * 1e3:.3f} ms each")
            continue
        lines.append(f"  {c['axis']:>3} {c['collective']:<14} {c['algorithm']:<16} {c['group_chips']:>5} chips "
                     f"{c['size_bytes'] / 2**20:>10.1f} MiB x {c['count']:g}: {c['time_s'] * 1e3:.3f} ms each")
    return "\n".join(lines)


def format_layout_search(rec: dict) -> str:
    if rec["best"] is None:
        head = "no layout runs"
    else:
        head = "best:\n" + format_step(rec["best"])
    rows = [f"{'#':>2} {'step s':>8} {'tok/s':>11} {'MFU':>6}  layout  (why slower than #1)"]
    for i, r in enumerate(rec["top"], 1):
        rows.append(f"{i:>2} {r['step_s']:8.3f} {r['tokens_per_s']:11,.0f} {r['mfu']:6.1%}  {r['label']}"
                    + (f"  ({r['lost_by']})" if r["lost_by"] else ""))
    rejected = [f"  {kind}: {v['count']} (e.g. {v['example']})" for kind, v in rec["rejected"].items()]
    return "\n".join([head, "", f"top {len(rec['top'])} of {rec['timed']} timed ({rec['candidates']} candidates, "
                                f"{rec['scorer_calls']} scorer calls):", *rows,
                      f"{len(rec['timed_beyond_top'])} more timed; rejected without timing:", *rejected])


def breakdown_figure(records: list[dict], title: str) -> Figure:
    """Stacked step-time breakdown, one bar per layout."""
    fig = Figure(figsize=(max(6.0, 0.9 * len(records) + 2), 4.5))
    ax = fig.add_subplot()
    bottoms = [0.0] * len(records)
    for part in PARTS:
        values = [r["breakdown_s"][part] for r in records]
        if any(values):
            ax.bar(range(len(records)), values, bottom=bottoms, label=part, color=_COLOURS[part])
            bottoms = [b + v for b, v in zip(bottoms, values, strict=True)]
    ax.set_xticks(range(len(records)), [r["label"].replace(",", "\n") for r in records], fontsize=6)
    ax.set_ylabel("step time (s)")
    ax.set_title(title)
    ax.legend(fontsize=7)
    return fig
