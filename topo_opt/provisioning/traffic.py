"""Workload -> traffic: the bytes each chip puts on each level of the fabric.

**Levels.** The provisioning model sees a fabric as a product of levels, innermost first (UB-Mesh:
x = board mesh, y = rack mesh, z / w = the pod's rack-row and rack-column meshes, pod = the HRS
Clos; a Clos: leaf, pod, core; `dims` / torus: its dimensions). Chips are numbered mixed-radix
over the level sizes n_0, n_1, ... with level 0 fastest (the fabric convention), so chip c has
coordinate (c // B_l) mod n_l on level l, where B_l = n_0 ... n_{l-1}.

**Layout.** `tp=8,pp=8,dp=128` lists parallel axes innermost first and is read the same way: axis a
has stride s_a = product of the sizes before it, so TP takes consecutive chips (the tightest
domain: a board), then PP, then DP. Axis a covers the chip-index digits [s_a, s_a g_a); on level l
it spans g_{a,l} = min(s_a g_a, B_{l+1}) / max(s_a, B_l) coordinates; each bound must divide the
next (B_l | lo | hi | B_{l+1}), else the term splits a level unevenly: an input error. Without a
layout, the workload's collectives run over all chips as one axis.

**Roles.** An axis's name says what it runs and how much, per chip per training step, relative to
the TP buffer (`AXIS_ROLES`). tp, pp and dp come from a GPT-3-175B-like Megatron step (hidden
12,288, sequence 2,048, 96 layers, micro-batch 1, 12 micro-batches per step, bf16, tp=8, pp=8,
dp=128): TP all-reduces 4 activations of A = 50.3 MB per layer per micro-batch, 12 layers per
stage: 28.9 GB of buffer; DP all-reduces the stage's gradients, 175e9 x 2 B / 64 = 5.47 GB
(0.189 of TP); PP sends one activation forward and one gradient back per micro-batch, 1.21 GB
(0.042). sp, cp and ep are assumptions. Unknown names run the workload's collectives, sharing
one unit of buffer.

**Bytes per level** for a buffer S on an axis spanning levels with sizes g_1..g_k (g = prod g_i):

- all-reduce, hierarchical (reduce-scatter inward-out, all-gather back): the level at position i
  of the order carries 2 (g_i - 1) / g_i x S / prod_{j<i} g_j. Levels are ordered by scope (board,
  cabinet, group, global) so the costly outer levels see the smallest shard; levels of equal scope
  (UB-Mesh z and w) split the buffer evenly over their orders (multi-dimensional algorithms).
  reduce-scatter and all-gather carry half of that; broadcast (scatter + all-gather) the same.
- all-to-all and p2p go straight to the destination. On a product of levels (meshes, rings) a byte
  crosses, in dimension order, every level where source and destination differ; a `nested` level
  (a switch tier that reaches every chip below it: a Clos tier, the UB-Mesh HRS over pods; always
  the outermost levels) is crossed alone when it is the outermost level that differs. With N the
  product of the nested sizes spanned: all-to-all puts S (1 - 1/g_l) / N on a product level and
  S (1 - 1/g_l) / prod_{j>l} g_j on a nested one. p2p (pipeline neighbours in the axis's digit
  order) changes the digit of level i at g / prod_{j<i} g_j - 1 of the g - 1 stage boundaries, and
  carries into the outer digits; a product level carries
  S (g / prod_{j<i} g_j - g / prod_{product} g_j) / (g - 1), a nested level
  S (g / prod_{j<i} g_j - g / prod_{j<=i} g_j) / (g - 1).
  A product level `crossed_always` (a rail-optimized server domain: the rails join only chips of
  the same local rank, so a byte to another rank crosses the domain whatever else it crosses) is
  not bypassed by the nested levels: all-to-all puts S (1 - 1/g_l) on it and p2p
  S (g / prod_{j<i} g_j - 1) / (g - 1) (every boundary that changes its digit).

**Patterns.** Traffic on a level is an `exchange` (uniform over the level's line: all-to-all, and
reductions on full meshes and switches) or `neighbour` (to the adjacent coordinates: p2p, and
reductions on rings, which use the ring algorithm). `route_factor` gives the link load per byte.
"""

import itertools
import math
from collections import defaultdict
from dataclasses import dataclass

from topo_opt.errors import InstanceError
from topo_opt.instance import AXIS_ROLES, AxisRole, Instance, parse_layout
from topo_opt.netspec import PATTERNS, Level

REDUCTIONS = {"all-reduce": 1.0, "reduce-scatter": 0.5, "all-gather": 0.5, "broadcast": 1.0}


@dataclass(frozen=True)
class AxisTraffic:
    name: str
    size: int
    stride: int
    collective: str
    buffer: float
    spans: tuple[tuple[str, int], ...]  # (level, coordinates spanned), innermost first


@dataclass(frozen=True)
class Traffic:
    """Per-chip bytes on each (level, pattern) for one unit of buffer rate (`demand`)."""

    axes: tuple[AxisTraffic, ...]
    demand: tuple[tuple[str, str, float], ...]
    axis_injection: tuple[tuple[str, float], ...] = ()  # (axis name, its share of `injection`)

    def injection(self) -> float:
        """Bytes a chip sends per unit rate, every level counted once (no detour factors)."""
        return sum(d for _, _, d in self.demand)


def workload_target(instance: Instance, traffic: Traffic, rate_GBps: float) -> tuple[float, str]:
    """(t, what it stands for): the plan carries t x the reference rate R on every (level, pattern).

    Relative: t = target_throughput. Absolute (`workload.target_GBps`, axis a at G_a GB/s per chip):
    axis a sends R x inj_a per chip at t = 1 (inj_a = its bytes per unit rate, every level counted
    once), and the axes' proportions are fixed by the layout, so t = max_a G_a / (R inj_a): the
    binding axis gets exactly its rate, the others at least theirs."""
    wl = instance.workload
    if not wl.target_GBps:
        return wl.target_throughput, f"target_throughput {wl.target_throughput:g} x the reference rate"
    injection = dict(traffic.axis_injection)
    need = {a: g / (rate_GBps * injection[a]) for a, g in wl.target_GBps}
    axis = max(need, key=lambda a: need[a])
    return need[axis], (f"workload.target_GBps {axis}: {dict(wl.target_GBps)[axis]:g} GB/s per chip "
                        f"({need[axis]:.4g} x the reference rate)")


def pattern_on(collective: str, shape: str) -> str:
    if collective == "p2p" or (collective in REDUCTIONS and shape == "ring"):
        return "neighbour"
    return "exchange"


def workload_traffic(instance: Instance, levels: tuple[Level, ...]) -> Traffic:
    """Per-level demand of the instance's workload on these levels (see the module docstring)."""
    axes = _axes(instance, levels)
    by_name = {lv.name: lv for lv in levels}
    demand: dict[tuple[str, str], float] = defaultdict(float)
    per_axis: dict[str, float] = defaultdict(float)
    for axis in axes:
        for level, share in _level_bytes(axis, by_name).items():
            demand[(level, pattern_on(axis.collective, by_name[level].shape))] += axis.buffer * share
            per_axis[axis.name] += axis.buffer * share
    order = {lv.name: i for i, lv in enumerate(levels)}
    items = sorted(demand.items(), key=lambda kv: (order[kv[0][0]], PATTERNS.index(kv[0][1])))
    return Traffic(axes, tuple((lv, p, d) for (lv, p), d in items if d > 0), tuple(sorted(per_axis.items())))


def _axes(instance: Instance, levels: tuple[Level, ...]) -> tuple[AxisTraffic, ...]:
    chips = math.prod(lv.size for lv in levels)
    wl = instance.workload
    terms = parse_layout(wl.layout) if wl.layout else (("all", chips),)
    covered = math.prod(size for _, size in terms)
    if covered != chips:
        raise InstanceError(instance.source_file, "workload.layout",
                            f"covers {covered:,} chips but the fabric has {chips:,}; "
                            "make the sizes multiply out")
    out: list[AxisTraffic] = []
    stride = 1
    for name, size in terms:
        spans = _spans(instance, levels, name, stride, size)
        role = AXIS_ROLES.get(name)
        if role is None and size > 1 and not wl.collectives:
            raise InstanceError(instance.source_file, "workload.collectives",
                                f"is empty, so axis {name!r} sends nothing; list the collectives it runs")
        roles = [role] if role else [AxisRole(c, 1.0 / len(wl.collectives)) for c in wl.collectives]
        out.extend(AxisTraffic(name, size, stride, r.collective, r.buffer, spans) for r in roles)
        stride *= size
    return tuple(a for a in out if a.size > 1)


def _spans(instance: Instance, levels: tuple[Level, ...], name: str, stride: int, size: int
           ) -> tuple[tuple[str, int], ...]:
    spans = []
    low = 1
    for lv in levels:
        lo, hi = max(stride, low), min(stride * size, low * lv.size)
        if hi > lo:
            if hi % lo or lo % low or (low * lv.size) % hi:
                sizes = " x ".join(str(v.size) for v in levels)
                raise InstanceError(instance.source_file, "workload.layout",
                                    f"{name}={size} splits the fabric level {lv.name!r} unevenly "
                                    f"(levels {sizes}); choose sizes that divide them")
            spans.append((lv.name, hi // lo))
        low *= lv.size
    return tuple(spans)


def _level_bytes(axis: AxisTraffic, levels: dict[str, Level]) -> dict[str, float]:
    """Bytes per unit buffer each spanned level carries (module docstring formulas)."""
    if axis.collective not in ("all-to-all", "p2p"):
        return {lv: REDUCTIONS[axis.collective] * b for lv, b in _hierarchical(axis.spans, levels).items()}
    g = axis.size
    sizes = [gl for _, gl in axis.spans]
    nested = [levels[lv].nested for lv, _ in axis.spans]
    first = nested.index(True) if any(nested) else len(sizes)
    out = {}
    for i, (lv, gl) in enumerate(axis.spans):
        inner = math.prod(sizes[:i])
        bypass = len(sizes) if levels[lv].crossed_always else first  # where the nested levels take over
        if axis.collective == "all-to-all":
            out[lv] = (1 - 1 / gl) / math.prod(sizes[i + 1:] if nested[i] else sizes[bypass:])
        else:
            outer_digit = inner * gl if nested[i] else math.prod(sizes[:bypass])
            out[lv] = (g / inner - g / outer_digit) / (g - 1)
    return out


def _hierarchical(spans: tuple[tuple[str, int], ...], levels: dict[str, Level]) -> dict[str, float]:
    """All-reduce bytes per level, averaged over the orders of equal-scope levels."""
    by_scope: dict[int, list[tuple[str, int]]] = defaultdict(list)
    for lv, gl in spans:
        by_scope[levels[lv].scope].append((lv, gl))
    groups = [by_scope[s] for s in sorted(by_scope)]
    orders = list(itertools.product(*(itertools.permutations(grp) for grp in groups)))
    out: dict[str, float] = defaultdict(float)
    for order in orders:
        shard = 1.0
        for lv, gl in itertools.chain.from_iterable(order):
            out[lv] += 2 * (gl - 1) / gl * shard / len(orders)
            shard /= gl
    return dict(out)
