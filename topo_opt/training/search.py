"""Evaluate one layout, or search the layouts of a model on a fabric.

Search: every (tp, pp, ep, micro-batch, schedule, recompute) with tp x pp x dp = chips, tp within
the fabric's tensor-parallel domain (the family's `tp_domain`: a UB-Mesh rack, a rail-optimized server, a
fat-tree leaf, …) and dividing the heads, ep dividing dp and the experts; sequence parallelism on
with tp > 1 and ZeRO-1 (the distributed optimizer: in this model never slower than ZeRO-0, and
smaller). Layouts that break a rule or do not fit in HBM are rejected without scoring. The rest
are ranked by their compute-and-bubble floor (the step time with free communication, which no
collective time can lower) and timed with the scorer in that order, until the floor of the next
exceeds the 10th best step time found: those cannot enter the top 10 (branch and bound).
"""

from collections import Counter
from dataclasses import dataclass

from topo_opt.catalog import ChipType
from topo_opt.errors import InstanceError
from topo_opt.training.comm import FreeComm
from topo_opt.training.layout import BATCH_TOLERANCE, Layout, layout_problem
from topo_opt.training.model import ModelSpec
from topo_opt.training.steptime import Efficiency, StepTime, plan_step, step_time

TOP = 10

@dataclass(frozen=True)
class SearchSpace:
    tp_max: int = 16
    micro_batches: tuple[int, ...] = (1, 2, 4)
    schedules: tuple[tuple[str, int], ...] = (("1f1b", 1), ("interleaved", 2))
    recompute: tuple[str, ...] = ("none", "selective", "full")
    zero: tuple[int, ...] = (1,)
    top: int = TOP


@dataclass(frozen=True)
class Rejected:
    layout: Layout
    reason: str
    kind: str  # rule, batch, hbm, unaligned, scorer, bound


def check_chip(chip: ChipType | None, dtype: str, where: str) -> ChipType:
    """The chip must give the peak of the model's dtype, its HBM capacity and bandwidth."""
    if chip is None:
        raise InstanceError(where, "chip", "train needs the instance's chip (peak FLOPs, HBM)")
    peak = "compute_tflops_fp8" if dtype == "fp8" else "compute_tflops_bf16"
    for name in (peak, "memory_gb", "memory_GBps"):
        if not getattr(chip, name) > 0:
            raise InstanceError(where, f"chip.{name}", f"not given for {chip.name}; train needs it")
    return chip


def evaluate(model: ModelSpec, layout: Layout, chip: ChipType, eff: Efficiency, comm,
             chips: int) -> StepTime | Rejected:
    """The step time of one layout, or why it cannot run."""
    problem = layout_problem(layout, model.layers, model.heads, model.experts, chips)
    if problem:
        return Rejected(layout, f"{problem[0]}: {problem[1]}", "rule")
    plan = plan_step(model, layout, chip, eff)
    target = layout.global_batch or model.global_batch
    if abs(plan.batch - target) > BATCH_TOLERANCE * target:
        return Rejected(layout, f"batch: dp x mb x micro-batches = {plan.batch:,} sequences, more than "
                                f"{BATCH_TOLERANCE:.0%} from the global batch {target:,}", "batch")
    if layout.schedule == "interleaved" and plan.microbatches % layout.pp:
        return Rejected(layout, f"v: the interleaved schedule needs micro-batches ({plan.microbatches}) "
                                f"a multiple of pp = {layout.pp}", "rule")
    if not plan.fits:
        return Rejected(layout, f"hbm: needs {plan.hbm_bytes['total'] / 1e9:,.1f} GB per chip, the chip has "
                                f"{plan.hbm_capacity_bytes / 1e9:,.0f} GB", "hbm")
    try:
        return step_time(plan, comm)
    except InstanceError as exc:
        return Rejected(layout, f"scorer: {exc.message}", "scorer")


def _divisors(n: int) -> list[int]:
    return [k for k in range(1, n + 1) if n % k == 0]


def candidates(model: ModelSpec, chips: int, tp_domain: int, space: SearchSpace) -> list[Layout]:
    out = []
    for tp in _divisors(tp_domain):
        if tp > space.tp_max or model.heads % tp or chips % tp:
            continue
        for pp in _divisors(chips // tp):
            if pp > model.layers:
                continue
            dp = chips // (tp * pp)
            eps = [e for e in _divisors(dp) if model.experts % e == 0] if model.moe else [1]
            for ep in eps:
                for mb in space.micro_batches:
                    for schedule, v in space.schedules:
                        if pp == 1 and v > 1:
                            continue
                        for recompute in space.recompute:
                            for zero in space.zero:
                                out.append(Layout(tp, pp, dp, ep, tp if tp > 1 else 1, mb, 0, schedule, v,
                                                  recompute, zero))
    return out


@dataclass(frozen=True)
class SearchResult:
    ranked: tuple[StepTime, ...]  # timed, fastest first
    rejected: tuple[Rejected, ...]
    candidates: int
    scorer_calls: int


def search(model: ModelSpec, chip: ChipType, eff: Efficiency, comm, chips: int, tp_domain: int,
           space: SearchSpace | None = None) -> SearchResult:
    space = space or SearchSpace()
    layouts = candidates(model, chips, tp_domain, space)
    rejected, floors = [], []
    for layout in layouts:
        result = evaluate(model, layout, chip, eff, FreeComm(), chips)
        if not isinstance(result, Rejected):
            result = _unaligned(result, comm) or result
        if isinstance(result, Rejected):
            rejected.append(result)
        else:
            floors.append((per_target_s(result, model), layout.label(), layout))
    floors.sort(key=lambda f: (f[0], f[1]))
    timed: list[StepTime] = []
    for i, (floor_s, _, layout) in enumerate(floors):
        if len(timed) >= space.top and floor_s > sorted(per_target_s(r, model) for r in timed)[space.top - 1]:
            tenth = sorted(per_target_s(r, model) for r in timed)[space.top - 1]
            rejected += [Rejected(lo, f"bound: compute and bubble alone take {f:.3f} s (at the target batch), "
                                      f"above the {space.top}th best step {tenth:.3f} s", "bound")
                         for f, _, lo in floors[i:]]
            break
        result = evaluate(model, layout, chip, eff, comm, chips)
        (rejected if isinstance(result, Rejected) else timed).append(result)
    timed.sort(key=lambda r: (per_target_s(r, model), r.plan.layout.label()))
    return SearchResult(tuple(timed), tuple(rejected), len(layouts), comm.calls)


def per_target_s(result: StepTime, model: ModelSpec) -> float:
    """Step time scaled to the target batch: layouts whose rounded batches differ compare fairly
    (the ranking is by tokens per second)."""
    target = result.plan.layout.global_batch or model.global_batch
    return result.step_s * target / result.plan.batch


def _unaligned(result: StepTime, comm) -> Rejected | None:
    """Data- and expert-parallel groups must be whole fabric dimensions (see `comm.aligned`)."""
    for op in result.plan.per_microbatch + result.plan.per_step:
        if op.axis in ("dp", "edp", "ep") and not comm.aligned(op.stride, op.size):
            return Rejected(result.plan.layout, f"unaligned: the {op.axis} groups ({op.size} chips at stride "
                                                f"{op.stride}) are not whole fabric dimensions", "unaligned")
    return None


def rejection_summary(rejected: tuple[Rejected, ...]) -> dict:
    """Counts per kind and the most common reasons (numbers stripped would merge too much)."""
    kinds = Counter(r.kind for r in rejected)
    return {kind: {"count": n, "example": next(f"{r.layout.label()}: {r.reason}" for r in rejected if r.kind == kind)}
            for kind, n in sorted(kinds.items())}


def lost_by(result: StepTime, best: StepTime) -> str:
    """Why a timed layout is slower than the best: tokens/s behind, and the breakdown item that grew most."""
    diff = {k: result.breakdown_s[k] - best.breakdown_s[k] for k in result.breakdown_s}
    worst = max(diff, key=lambda k: diff[k])
    return f"{result.tokens_per_s / best.tokens_per_s - 1:+.1%} tokens/s; {worst} {diff[worst]:+.3f} s"

