"""`score_fabric`: time collectives on a fabric graph and report them against their bounds.

One record per (collective, algorithm, size):

- collective, algorithm: names; for `auto`, the algorithm chosen, with `"auto": true` and the
  times of the others in `alternatives` (null when a bound showed it could not win);
- size_bytes: whole buffer per chip (nccl-tests); time_s: simulated time;
- algbw_GBps = size_bytes / time_s / 1e9; busbw_GBps = algbw x 2(p-1)/p (all-reduce),
  x (p-1)/p (reduce-scatter, all-gather, all-to-all), x 1 (broadcast);
- lower_bound_s, lower_bound_method: the bandwidth bound (`bounds`); efficiency = bound / time;
- bottleneck ("kind tail->head"), bottleneck_kind, bottleneck_utilization: the busiest
  directed link and its busy time / time_s;
- model: flow (max-min fair sharing) or alpha-beta (no sharing);
- routing: structured (dimension order where the family defines it) or shortest (every flow
  split over all shortest paths of the graph, the naive routing);
- group_chips, groups, group_spec: chips per group, concurrent groups, the groups spec;
- steps, chunks, engine: steps timed (with repeats), pipeline chunks, symmetric / per-flow.
"""

from collections.abc import Sequence

import numpy as np

from topo_opt.collectives.algorithms import (
    ALGORITHMS,
    SHIFT_ALGORITHMS,
    NotApplicable,
    build_schedule,
    canonical,
)
from topo_opt.collectives.bounds import injection_GBps, lower_bound_s
from topo_opt.collectives.engine import Evaluator, Timing, step_key, step_scale
from topo_opt.collectives.groups import GroupError, Groups, make_groups
from topo_opt.collectives.routing import ROUTINGS, dor_latency_ns, network
from topo_opt.collectives.schedule import STAR, Explicit, Schedule, Step, pipeline_latency_s
from topo_opt.collectives.structured import structured_network
from topo_opt.errors import InstanceError
from topo_opt.families.base import Fabric
from topo_opt.instance import COLLECTIVES, MAX_GRAPH_BYTES, FabricSpec, graph_size_estimate

MODELS = ("flow", "alpha-beta")
ENGINES = ("auto", "per-chip", "structured")
_PER_FLOW = "the structured scorer times Shift schedules only (these route chip pairs one by one)"
_TIE = 1e-9  # relative difference below which two algorithms' times count as equal
BUSBW_FACTOR = {
    "all-reduce": lambda p: 2 * (p - 1) / p,
    "reduce-scatter": lambda p: (p - 1) / p,
    "all-gather": lambda p: (p - 1) / p,
    "all-to-all": lambda p: (p - 1) / p,
    "broadcast": lambda p: 1.0,
}


def score_fabric(fabric: Fabric, collectives: Sequence[str], sizes_bytes: Sequence[int],
                 algorithms: Sequence[str] = ("auto",), model: str = "flow",
                 groups: str | None = None, routing: str = "structured", engine: str = "auto") -> list[dict]:
    """One record per (collective, algorithm, size), in that nesting order.

    `engine`: per-chip (the fabric's graph), structured (its description: `structured`), or
    auto: per-chip unless the graph would be over the size limit.
    Raises InstanceError for an unknown collective, algorithm, model, routing or engine, a bad
    groups spec, or an algorithm that does not apply to the collective or fabric.
    """
    where = fabric.name or "fabric"
    _check(where, "collective", collectives, COLLECTIVES)
    try:
        algorithms = [a if a == "auto" else canonical(a) for a in algorithms]
    except ValueError as exc:
        raise InstanceError(where, "algorithm", str(exc)) from None
    _check(where, "model", [model], MODELS)
    _check(where, "routing", [routing], ROUTINGS)
    for size in sizes_bytes:
        if int(size) != size or size <= 0:
            raise InstanceError(where, "size", f"sizes must be positive whole bytes, got {size!r}")
    _check(where, "engine", [engine], ENGINES)
    net = _network(fabric, engine, routing)
    try:
        grp = make_groups(net, groups)
    except GroupError as exc:
        raise InstanceError(where, "groups", str(exc)) from None
    if net.structured and grp.axes is None:
        sizes = " x ".join(str(k) for k in net.view.sizes)
        raise InstanceError(where, "groups", f"groups {grp.spec!r} do not line up with the fabric's dimensions "
                            f"({sizes}, fastest first); the structured scorer needs groups of whole dimensions")
    if grp.p < 2:
        raise InstanceError(where, "groups", f"groups {grp.spec!r} hold one chip each: nothing to exchange")
    evaluator = Evaluator(net, grp, model, routing)
    records = []
    for collective in collectives:
        for algorithm in algorithms:
            for size in sizes_bytes:
                if algorithm == "auto":
                    records.append(_auto(evaluator, collective, int(size)))
                    continue
                try:
                    schedule = build_schedule(collective, algorithm, grp.shape, size)
                    timing = evaluator.run(schedule)
                except NotApplicable as exc:
                    raise InstanceError(where, "algorithm", f"{algorithm} for {collective}: {exc}") from None
                records.append(_record(evaluator, collective, algorithm, int(size), schedule, timing))
    return records


def chosen_engine(fabric: Fabric, engine: str = "auto") -> str:
    """per-chip or structured: auto takes the structured scorer for a family that builds its graph
    only on request (a SuperCluster) or when the graph would be over the size limit."""
    if engine != "auto":
        return engine
    if fabric.graph_built:
        return "per-chip"
    spec = FabricSpec(fabric.desc.family, fabric.desc.params)
    lazy = spec.family_def.lazy_graph
    return "structured" if lazy or graph_size_estimate(spec)[2] > MAX_GRAPH_BYTES else "per-chip"


def _network(fabric: Fabric, engine: str, routing: str):
    where = fabric.name or "fabric"
    if chosen_engine(fabric, engine) == "per-chip":
        return network(fabric)
    try:
        net = structured_network(fabric)
    except ValueError as exc:
        raise InstanceError(where, "engine", str(exc)) from None
    if routing != "structured" and net.structured:  # a non-product fabric routes by shortest paths anyway
        raise InstanceError(where, "routing", f"the structured scorer routes a product fabric by dimension order "
                                              f"only, not {routing}")
    return net


def _check(where: str, field: str, names: Sequence[str], allowed: tuple[str, ...]) -> None:
    for name in names:
        if name not in allowed:
            raise InstanceError(where, field, f"unknown {field} {name!r} (one of: {', '.join(allowed)})")


def _auto(ev: Evaluator, collective: str, size: int) -> dict:
    """The fastest algorithm for this size. Candidates are timed in increasing order of a bound
    no schedule can beat (the collective's bandwidth bound, and per step the shortest link latency
    plus its largest flow at a chip's full injection bandwidth); once that bound reaches the best
    time found, the rest cannot win and are skipped. The choice is that of timing them all."""
    g = ev.groups
    floor_s, _ = _bound(ev, collective, size)
    inj = _memo(ev, ("injection",), lambda: injection_GBps(ev.net, g)) * 1e9
    candidates, reasons = [], {}
    for algorithm in ALGORITHMS:
        if ev.net.structured and algorithm not in SHIFT_ALGORITHMS:
            reasons.setdefault(_PER_FLOW, []).append(algorithm)
            continue
        try:
            schedule = build_schedule(collective, algorithm, g.shape, size)
        except NotApplicable as exc:
            reasons.setdefault(str(exc), []).append(algorithm)
            continue
        candidates.append((max(_cheap_floor_s(ev, schedule, inj), floor_s), algorithm, schedule))
    candidates.sort(key=lambda c: (c[0], ALGORITHMS.index(c[1])))
    best, alternatives = None, {}
    for bound, algorithm, schedule in candidates:
        if best is not None and bound > best[1].time_s * (1 + _TIE):
            alternatives[algorithm] = None
            continue
        try:
            timing = ev.run(schedule)
        except NotApplicable as exc:
            reasons.setdefault(str(exc), []).append(algorithm)
            continue
        alternatives[algorithm] = timing.time_s
        if best is None or _faster(algorithm, timing.time_s, best[0], best[1].time_s):
            best = (algorithm, timing, schedule)
    if best is None:
        raise InstanceError(ev.net.desc.name or "fabric", "algorithm",
                            f"no algorithm can score {collective} here: "
                            + "; ".join(f"{', '.join(algs)}: {why}" for why, algs in reasons.items()))
    record = _record(ev, collective, best[0], size, best[2], best[1])
    record["auto"] = True
    record["alternatives"] = {a: alternatives[a] for a in ALGORITHMS if a in alternatives}
    return record


def _cheap_floor_s(ev: Evaluator, schedule: Schedule, inj_Bps: float) -> float:
    """Per step its largest flow at full injection bandwidth, plus latencies as `Evaluator.run`
    charges them: each step's floor, or for a pipeline the largest floor once per hop."""
    transfer = sum(s.repeat * max(_largest(p) for p in s.parts) / inj_Bps for s in schedule.steps)
    alphas = [_alpha_floor_s(ev, s) for s in schedule.steps]
    if schedule.hops:
        return transfer + pipeline_latency_s(schedule, max(alphas))
    return transfer + sum(s.repeat * a for s, a in zip(schedule.steps, alphas, strict=True))


def _faster(algorithm: str, time_s: float, best: str, best_s: float) -> bool:
    """Strictly faster, ties (within rounding) going to the algorithm listed first."""
    if abs(time_s - best_s) <= _TIE * best_s:
        return ALGORITHMS.index(algorithm) < ALGORITHMS.index(best)
    return time_s < best_s


def _memo(ev: Evaluator, key: tuple, compute):
    if key not in ev.memo:
        ev.memo[key] = compute()
    return ev.memo[key]


def _bound(ev: Evaluator, collective: str, size: int) -> tuple[float, str]:
    """`lower_bound_s`, computed once per collective: every bound is linear in the size."""
    per_byte, method = _memo(ev, ("bound", collective), lambda: lower_bound_s(collective, 1.0, ev.net, ev.groups))
    return per_byte * size, method


def _alpha_floor_s(ev: Evaluator, step: Step) -> float:
    """A step's alpha cannot be below the path latency of any of its flows (computed once per
    step pattern: it does not depend on the bytes)."""
    return _memo(ev, ("alpha", step_key(step, step_scale(step))), lambda: _alpha_floor_uncached(ev, step))


def _alpha_floor_uncached(ev: Evaluator, step: Step) -> float:
    """Exact from rank digits for dimension-order routing on aligned groups, else the shortest
    link's latency."""
    g = ev.groups
    if g.axes is None or ev.routing == "shortest":
        return float(ev.net.links.latency_ns.min()) * 1e-9
    shape = np.array(g.shape.shape)
    worst = 0.0
    for part in step.parts:
        if isinstance(part, Explicit):
            strides = np.cumprod(np.concatenate([[1], shape[:-1]]))
            offsets = ((part.dst[:, None] // strides) - (part.src[:, None] // strides)) % shape
        else:
            far = [k // 2 if d.shape == "ring" else 1 for k, d in zip(shape, g.shape.dims, strict=True)]
            offsets = np.array([[f if o == STAR else o for f, o in zip(far, part.offset, strict=True)]])
        worst = max(worst, float(dor_latency_ns(ev.net.view, g.axes, offsets, part.via).max()))
    return worst * 1e-9


def _largest(part) -> float:
    return float(part.size_bytes.max()) if isinstance(part, Explicit) else float(part.size_bytes)


def _record(ev: Evaluator, collective: str, algorithm: str, size: int, schedule: Schedule,
            timing: Timing) -> dict:
    g: Groups = ev.groups
    p = g.p
    time_s = timing.time_s
    bound, method = _bound(ev, collective, size)
    link = int(np.argmax(timing.busy_s))
    algbw = size / time_s / 1e9
    return {
        "collective": collective,
        "algorithm": algorithm,
        "auto": False,
        "size_bytes": size,
        "time_s": time_s,
        "algbw_GBps": algbw,
        "busbw_GBps": algbw * BUSBW_FACTOR[collective](p),
        "lower_bound_s": bound,
        "lower_bound_method": method,
        "efficiency": bound / time_s,
        "bottleneck": ev.net.links.label(link),
        "bottleneck_kind": str(ev.net.links.kind[link]),
        "bottleneck_utilization": float(timing.busy_s[link] / time_s),
        "model": ev.model,
        "routing": ev.routing,
        "group_chips": p,
        "groups": g.count,
        "group_spec": g.spec,
        "steps": timing.steps,
        "chunks": schedule.chunks,
        "engine": timing.engine,
    }
