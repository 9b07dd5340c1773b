"""Collective algorithms as schedules (Thakur, Rabenseifner and Gropp 2005; Chan et al. 2007).

`size_bytes` n is the whole buffer per chip as nccl-tests counts it (all-gather output,
reduce-scatter input, all-reduce buffer, all-to-all send buffer). With p ranks, and a message
of m bytes costing alpha + m beta, the schedules take (RS reduce-scatter, AG all-gather, AR
all-reduce, BC broadcast, A2A all-to-all):

- ring — RS, AG: p-1 steps of n/p to the next rank: (p-1) alpha + (p-1)/p n beta; AR: twice
  that; BC: chain 0 -> 1 -> ... -> p-1 pipelined in k chunks: (k+p-2) n/k beta + (p-1) alpha.
- bidir-ring — as ring with n/(2p) each way round: (p-1) alpha + (p-1)/(2p) n beta (RS, AG),
  twice for AR; BC: two chains, n/2 each: (k+p-2) n/(2k) beta + (p-1) alpha.
- tree — double binary tree (n/2 per tree) pipelined in k chunks, reduce and broadcast
  overlapped: AR (k+2H-1) n/(2k) beta + 2H alpha; BC (k+H-1) n/(2k) beta + H alpha.
- halving-doubling — RS recursive halving (distances p/2..1, n/2..n/p), AG recursive doubling:
  log p alpha + (p-1)/p n beta each; AR = RS + AG on p' = 2^floor(log p) ranks, the other
  p-p' folding in and out with n (2(alpha + n beta) more); BC binomial scatter + doubling:
  2 log p alpha + 2(p-1)/p n beta. RS, AG and BC need a power of two.
- direct — RS, AG, A2A: one step, n/p to every peer: alpha + n/p beta; AR: RS then AG;
  BC: the root sends n to every peer: alpha + n beta.
- pairwise — A2A: p-1 steps, each a shift by one offset: (p-1)(alpha + n/p beta).
- hierarchical — dimension by dimension, each with its line algorithm (direct on a full mesh
  or switch, both-ways ring on a ring); AG and AR's second half in reverse order.
  `hierarchical:A/B/...` names the line algorithm of each dimension of the group in order
  (`LINE_ALGORITHMS`: ring, bidir-ring, direct, halving-doubling), as ASTRA-sim, NCCL and
  HCCL run them: RS on a line of k chips with m bytes per chip costs, per dimension,
  ring (k-1)(alpha + m/k beta), bidir-ring (k-1)(alpha + m/(2k) beta), direct alpha + m/k beta,
  halving-doubling sum_j (alpha + m/2^(j+1) beta); m shrinks by k after each dimension; AG
  mirrors RS, AR is RS then AG.
- scatter-allgather — BC: scatter of n/p to every rank (digit by digit, on rotated digit
  orders weighted by the root's bandwidth into their first dimension), then all-gather
  (multi-dim, or both-ways ring on unaligned groups): about 2 (p-1)/p n beta; van de Geijn.
- HCCL's names (`HCCL_ALIASES`) map onto these where they are the same algorithm.
- multi-dim — several dimension orders at once on LP fractions of the buffer
  (`multidim_fractions`); RS, AG, AR.
- ubmesh-xy — A2A: direct, with the traffic that changes both X and Y split over X-first and
  Y-first routes.

H is the height of the double binary tree (edges from rank 0 to its deepest leaf). Pipelined
algorithms forward chunks cut-through: a chip sends chunk i+1 while chunk i is still in flight,
so a pipeline of D hops pays each hop's latency once, D alpha, and its links are busy (k+D-1)
chunk times (LogGP's gap, not its latency, per chunk; NCCL's tuner likewise charges latency per
step of the algorithm, not per chunk). Nothing then favours few chunks, so k cuts the chain's
m bytes into `MIN_CHUNK_BYTES` pieces (at most `MAX_CHUNKS`). alpha and beta vary with the path where
the fabric makes them (a ring's hops), which is why schedules, not formulas, are what the
engine times.
"""

import functools
import itertools
import math
from collections.abc import Callable

import numpy as np
from scipy.optimize import linprog

from topo_opt.collectives.packing import NotPackable, packed_flows
from topo_opt.collectives.schedule import (
    STAR,
    Explicit,
    GroupShape,
    Schedule,
    Shift,
    Step,
    all_peers,
    explicit,
    line_peers,
    merge,
)
from topo_opt.collectives.topology import Dim

ALGORITHMS = ("ring", "bidir-ring", "tree", "halving-doubling", "direct", "hierarchical", "multi-dim",
              "pairwise", "ubmesh-xy", "scatter-allgather", "tree-packing")
LINE_ALGORITHMS = ("ring", "bidir-ring", "direct", "halving-doubling")
# Those whose schedules are Shift steps only (on groups aligned with the fabric's dimensions):
# what the structured scorer times; the others route chip pairs one by one.
SHIFT_ALGORITHMS = ("direct", "hierarchical", "multi-dim", "pairwise", "ubmesh-xy")
# HCCL's algorithm names (CANN collective communication docs) that are one of ours; HCCL's NHR
# (non-uniform hierarchical ring) and NB (non-uniform Bruck) have no counterpart here.
HCCL_ALIASES = {"Ring": "ring", "Double-Ring": "bidir-ring", "Mesh": "direct", "Star": "direct",
                "RHD": "halving-doubling", "Pairwise": "pairwise"}
PER_DIM = "hierarchical:"
MAX_CHUNKS = 2**20
# Smallest unit a chip forwards on in a pipeline (assumed: a UB / NVLink transaction of a few KiB;
# NCCL's LL128 protocol moves 128-byte lines, its Simple protocol 512 KiB steps).
MIN_CHUNK_BYTES = 4096
MAX_PIPELINE_STEPS = 512  # distinct stages of a pipeline timed one by one (see `_pipeline`)
_MAX_ORDERS = 5040  # dimension orders the multi-dim LP considers before falling back to rotations


class NotApplicable(ValueError):
    """The algorithm does not apply to this collective, group or fabric; the message says why."""


# --- building blocks -----------------------------------------------------------------------------

def _ring_next(p: int, step: int, size_bytes: float) -> Explicit:
    ranks = np.arange(p)
    return explicit(ranks, (ranks + step) % p, size_bytes)


def _chunks(depth: int, chain_bytes: float) -> int:
    """Chunk count k: (k + depth - 1) chain_bytes / k beta + depth alpha falls with k, so the chain
    is cut into `MIN_CHUNK_BYTES` pieces (at most `MAX_CHUNKS`)."""
    if depth <= 1:
        return 1
    return int(min(MAX_CHUNKS, max(1, math.ceil(chain_bytes / MIN_CHUNK_BYTES))))


def _pipeline(src: np.ndarray, dst: np.ndarray, offset: np.ndarray, chunks: int,
              chunk_bytes: float) -> list[Step]:
    """Edge e forwards chunk i at stage offset[e] + i; consecutive stages with the same edges merge.

    A pipeline of more than `MAX_PIPELINE_STEPS` distinct stages (a chain over thousands of
    chips) is timed as its steady state, every edge active, for each of its stages: an upper
    bound on each ramp stage (fewer flows never take longer), exact when the edges are alike.
    """
    bounds = np.unique(np.concatenate([[0], offset, offset + chunks]))
    if len(bounds) - 1 > MAX_PIPELINE_STEPS:
        return [Step((explicit(src, dst, chunk_bytes),), int(bounds[-1] - bounds[0]))]
    steps = []
    for lo, hi in itertools.pairwise(bounds):
        active = (offset <= lo) & (lo < offset + chunks)
        if active.any():
            steps.append(Step((explicit(src[active], dst[active], chunk_bytes),), int(hi - lo)))
    return steps


def _inorder_tree(nodes: list[int], parent_of: int, parent: dict[int, int]) -> None:
    """Balanced binary tree over `nodes` in in-order layout (root in the middle), hung below `parent_of`."""
    if not nodes:
        return
    mid = len(nodes) // 2
    parent[nodes[mid]] = parent_of
    _inorder_tree(nodes[:mid], nodes[mid], parent)
    _inorder_tree(nodes[mid + 1:], nodes[mid], parent)


def double_binary_tree(p: int) -> list[dict[int, int]]:
    """Two trees (child -> parent) over ranks 1..p-1 below rank 0; the second is the first laid out
    over the ranks rotated by one, so most interior ranks of one tree are leaves of the other."""
    ranks = list(range(1, p))
    trees = []
    for order in (ranks, ranks[1:] + ranks[:1]):
        parent: dict[int, int] = {}
        _inorder_tree(order, 0, parent)
        trees.append(parent)
    return trees


def _heights_depths(parent: dict[int, int]) -> tuple[dict[int, int], dict[int, int]]:
    children: dict[int, list[int]] = {}
    for c, q in parent.items():
        children.setdefault(q, []).append(c)
    depth, height = {0: 0}, {}
    order = [0]
    for u in order:
        for c in children.get(u, []):
            depth[c] = depth[u] + 1
            order.append(c)
    for u in reversed(order):
        height[u] = 1 + max((height[c] for c in children.get(u, [])), default=-1)
    return height, depth


def tree_height(p: int) -> int:
    """H: edges from rank 0 down to the deepest rank of the double binary tree."""
    return max(_heights_depths(t)[0][0] for t in double_binary_tree(p))


# --- per-collective schedules ----------------------------------------------------------------------

def ring(collective: str, g: GroupShape, n: float) -> Schedule:
    p = g.p
    if collective in ("reduce-scatter", "all-gather", "all-reduce"):
        reps = 2 * (p - 1) if collective == "all-reduce" else p - 1
        return Schedule((Step((_ring_next(p, 1, n / p),), reps),))
    if collective == "broadcast":
        k = _chunks(p - 1, n)
        ranks = np.arange(p - 1)
        return Schedule(tuple(_pipeline(ranks, ranks + 1, ranks, k, n / k)), k, p - 1)
    raise NotApplicable("ring has no all-to-all schedule here; use direct, pairwise or hierarchical")


def bidir_ring(collective: str, g: GroupShape, n: float) -> Schedule:
    p = g.p
    if collective in ("reduce-scatter", "all-gather", "all-reduce"):
        reps = 2 * (p - 1) if collective == "all-reduce" else p - 1
        both = merge([_ring_next(p, 1, n / (2 * p)), _ring_next(p, p - 1, n / (2 * p))])
        return Schedule((Step((both,), reps),))
    if collective == "broadcast":
        k = _chunks(p - 1, n / 2)
        hops = np.arange(p - 1)
        src = np.concatenate([hops, (p - hops) % p])
        dst = np.concatenate([hops + 1, p - hops - 1])
        return Schedule(tuple(_pipeline(src, dst, np.concatenate([hops, hops]), k, n / (2 * k))), k, p - 1)
    raise NotApplicable("bidir-ring has no all-to-all schedule here; use direct, pairwise or hierarchical")


def tree(collective: str, g: GroupShape, n: float) -> Schedule:
    """Double binary tree, pipelined; all-reduce overlaps the reduction (up) and broadcast (down)."""
    if collective not in ("all-reduce", "broadcast"):
        raise NotApplicable(f"tree applies to all-reduce and broadcast, not {collective}")
    src, dst, off, stages = _tree_edges(g.p, collective == "all-reduce")
    k = _chunks(stages, n / 2)
    return Schedule(tuple(_pipeline(src, dst, off, k, n / (2 * k))), k, stages)


@functools.lru_cache(maxsize=16)
def _tree_edges(p: int, up_and_down: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, int]:
    """(src, dst, stage offset) of every tree edge and the number of distinct offsets.

    Up (reduce): a rank of height h sends chunk i to its parent at stage i + h. Down (broadcast):
    a parent at depth d sends chunk i at stage i + d, after H stages of reduction in all-reduce.
    """
    trees = double_binary_tree(p)
    shape = [_heights_depths(t) for t in trees]
    top = max(h[0] for h, _ in shape)
    src, dst, off = [], [], []
    for parent, (height, depth) in zip(trees, shape, strict=True):
        for child, par in sorted(parent.items()):
            if up_and_down:
                src += [child, par]
                dst += [par, child]
                off += [height[child], top + depth[par]]
            else:
                src.append(par), dst.append(child), off.append(depth[par])
    return np.array(src), np.array(dst), np.array(off), (2 * top if up_and_down else top)


def _recursive_halving(p: int, n: float) -> list[Step]:
    ranks = np.arange(p)
    return [Step((explicit(ranks, ranks ^ (p >> (j + 1)), n / 2 ** (j + 1)),))
            for j in range(p.bit_length() - 1)]


def _recursive_doubling(p: int, n: float) -> list[Step]:
    ranks = np.arange(p)
    return [Step((explicit(ranks, ranks ^ (1 << j), n * 2**j / p),)) for j in range(p.bit_length() - 1)]


def halving_doubling(collective: str, g: GroupShape, n: float) -> Schedule:
    p = g.p
    power = 1 << (p.bit_length() - 1)
    if collective == "all-reduce":
        steps = _recursive_halving(power, n) + _recursive_doubling(power, n)
        extra = np.arange(power, p)
        if extra.size:
            fold_in = Step((explicit(extra, extra - power, n),))
            fold_out = Step((explicit(extra - power, extra, n),))
            steps = [fold_in, *steps, fold_out]
        return Schedule(tuple(steps))
    if collective == "all-to-all":
        raise NotApplicable("halving-doubling has no all-to-all schedule; use direct, pairwise or "
                            "hierarchical")
    if power != p:
        raise NotApplicable(f"halving-doubling {collective} needs a power-of-two group, got {p} chips")
    if collective == "reduce-scatter":
        return Schedule(tuple(_recursive_halving(p, n)))
    if collective == "all-gather":
        return Schedule(tuple(_recursive_doubling(p, n)))
    scatter = []
    for j in range(p.bit_length() - 1):
        holders = np.arange(0, p, p >> j)
        scatter.append(Step((explicit(holders, holders + (p >> (j + 1)), n / 2 ** (j + 1)),)))
    return Schedule(tuple(scatter + _recursive_doubling(p, n)))


def direct(collective: str, g: GroupShape, n: float) -> Schedule:
    p = g.p
    if collective == "broadcast":
        return Schedule((Step((explicit(np.zeros(p - 1), np.arange(1, p), n),)),))
    one = Step(tuple(all_peers(g.shape, n / p)))
    return Schedule((one, one) if collective == "all-reduce" else (one,))


def pairwise(collective: str, g: GroupShape, n: float) -> Schedule:
    """p-1 steps, each a shift by one offset; shifts that the fabric's symmetry makes equal
    (a full mesh or switch digit: any non-zero value; a ring digit: d and k-d) are timed once."""
    if collective != "all-to-all":
        raise NotApplicable(f"pairwise is an all-to-all algorithm, not {collective}")
    # digits are independent: a class of offsets is a class per digit, its first offset in
    # lexicographic order the smallest value of each, its size the product of the digits' counts
    per_digit = []
    for i, k in enumerate(g.shape):
        digit: dict[int, list] = {}
        for d in range(k):
            digit.setdefault(_offset_class(g, i, d), [d, 0])[1] += 1
        per_digit.append(list(digit.values()))
    steps = [Step((Shift(tuple(v for v, _ in combo), n / g.p),), math.prod(c for _, c in combo))
             for combo in itertools.product(*per_digit) if any(v for v, _ in combo)]
    return Schedule(tuple(steps))


def _offset_class(g: GroupShape, digit: int, value: int) -> int:
    if g.dims is None or value == 0:
        return value
    dim = g.dims[digit]
    if dim.shape == "ring":
        return min(value, dim.size - value)
    return 1


# --- dimension-aware algorithms -------------------------------------------------------------------

def _need_dims(g: GroupShape, algorithm: str) -> tuple[Dim, ...]:
    if g.dims is None:
        raise NotApplicable(
            f"{algorithm} needs a group that spans whole fabric dimensions (a dims, torus or ub-mesh "
            "fabric, with groups aligned to its dimensions)")
    return g.dims


def _line_reduce_scatter(g: GroupShape, element: tuple[int, ...], name: str, m: float,
                         via: tuple[str, ...] = ()) -> list[Step]:
    """Reduce-scatter of m bytes within the lines of `element` (digits): direct on a full mesh or
    switch (one step), both-ways ring on a ring (k-1 steps)."""
    dims = g.dims
    k = math.prod(g.shape[i] for i in element)
    if len(element) == 1 and dims[element[0]].shape == "ring" and k > 2:
        off = [0] * len(g.shape)
        off[element[0]] = 1
        fwd = Shift(tuple(off), m / (2 * k), via)
        off[element[0]] = k - 1
        return [Step((fwd, Shift(tuple(off), m / (2 * k), via)), k - 1)]
    return [Step(tuple(line_peers(g.shape, element, m / k, via)))]


def _elements(g: GroupShape) -> list[tuple[tuple[int, ...], str, Dim]]:
    """Digits as (digits, name, dim), plus usable virtual dimensions (their digits all in the group)."""
    out = [((i,), d.name, d) for i, d in enumerate(g.dims) if d.size > 1]
    out += [(digits, dim.name, dim) for dim, digits in g.extras]
    return out


def _line_phase(g: GroupShape, digit: int, algorithm: str, m: float) -> list[Step]:
    """Reduce-scatter of m bytes per chip along one digit with a named line algorithm."""
    k = g.shape[digit]
    off = [0] * len(g.shape)
    if algorithm == "ring":
        off[digit] = 1
        return [Step((Shift(tuple(off), m / k),), k - 1)]
    if algorithm == "bidir-ring" and k > 2:
        off[digit] = 1
        fwd = Shift(tuple(off), m / (2 * k))
        off[digit] = k - 1
        return [Step((fwd, Shift(tuple(off), m / (2 * k))), k - 1)]
    if algorithm in ("direct", "bidir-ring"):  # a 2-chip ring is one link: the direct exchange
        return [Step(tuple(line_peers(g.shape, (digit,), m / k)))]
    if k & (k - 1):
        raise NotApplicable(f"halving-doubling on a line needs a power-of-two size, got {k}")
    stride = math.prod(g.shape[:digit])
    ranks = np.arange(g.p)
    value = (ranks // stride) % k
    return [Step((explicit(ranks, ranks + ((value ^ (k >> (j + 1))) - value) * stride, m / 2 ** (j + 1)),))
            for j in range(k.bit_length() - 1)]


def per_dimension(collective: str, g: GroupShape, n: float, names: tuple[str, ...]) -> Schedule:
    """`hierarchical:A/B/...`: the digits of size > 1 in order, digit i reduce-scattered with
    names[i]; all-gather mirrors it (steps reversed), all-reduce is RS then AG."""
    dims = _need_dims(g, "hierarchical")
    digits = [i for i, d in enumerate(dims) if d.size > 1]
    if collective not in ("reduce-scatter", "all-gather", "all-reduce"):
        raise NotApplicable(f"per-dimension choices apply to reduce-scatter, all-gather and all-reduce, "
                            f"not {collective}")
    if len(names) != len(digits):
        raise NotApplicable(f"{len(names)} line algorithms given for a group of {len(digits)} dimensions "
                            f"({', '.join(dims[i].name for i in digits)})")
    rs, m = [], n
    for i, name in zip(digits, names, strict=True):
        rs.append(_line_phase(g, i, name, m))
        m /= g.shape[i]
    ag = [list(reversed(phase)) for phase in reversed(rs)]
    chosen = {"reduce-scatter": rs, "all-gather": ag, "all-reduce": rs + ag}[collective]
    return Schedule(tuple(step for phase in chosen for step in phase))


def canonical(algorithm: str) -> str:
    """Our name of an algorithm (HCCL aliases resolved, also per dimension); ValueError if unknown."""
    if algorithm.startswith(PER_DIM):
        names = [HCCL_ALIASES.get(a, a) for a in algorithm[len(PER_DIM):].split("/")]
        bad = [a for a in names if a not in LINE_ALGORITHMS]
        if bad or not names:
            raise ValueError(f"unknown line algorithm {bad[0] if bad else ''!r} in {algorithm!r} "
                             f"(one of: {', '.join(LINE_ALGORITHMS + tuple(HCCL_ALIASES))})")
        return PER_DIM + "/".join(names)
    name = HCCL_ALIASES.get(algorithm, algorithm)
    if name not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r} (one of: {', '.join(ALGORITHMS)}, auto, "
                         f"hierarchical:A/B/..., or HCCL's {', '.join(HCCL_ALIASES)})")
    return name


def hierarchical(collective: str, g: GroupShape, n: float) -> Schedule:
    """Dimension by dimension in the group's digit order (innermost first); all-gather and the
    second half of all-reduce go back in reverse order."""
    dims = _need_dims(g, "hierarchical")
    digits = [i for i, d in enumerate(dims) if d.size > 1]
    if collective == "all-to-all":
        return Schedule(tuple(Step(tuple(line_peers(g.shape, (i,), n / g.shape[i]))) for i in digits))
    if collective == "broadcast":
        steps = []
        strides = np.cumprod((1,) + g.shape[:-1])
        ranks = np.arange(g.p)
        digit_of = (ranks[:, None] // strides) % np.array(g.shape)
        for i in digits:
            holders = ranks[(digit_of[:, i:] == 0).all(axis=1)]
            peers = np.arange(1, g.shape[i]) * strides[i]
            src = np.repeat(holders, len(peers))
            steps.append(Step((explicit(src, src + np.tile(peers, len(holders)), n),)))
        return Schedule(tuple(steps))
    rs, m = [], n
    for i in digits:
        rs.append(_line_reduce_scatter(g, (i,), dims[i].name, m))
        m /= g.shape[i]
    return _rs_ag(collective, [rs])


def _rs_ag(collective: str, orders: list[list[list[Step]]]) -> Schedule:
    """Reduce-scatter / all-gather / all-reduce from per-order reduce-scatter phases run side by
    side: stage s joins phase s of every order; all-gather runs the phases mirrored."""
    stages = max(len(o) for o in orders)
    padded = [o + [[]] * (stages - len(o)) for o in orders]
    rs = [_zip_steps([o[s] for o in padded]) for s in range(stages)]
    ag = [_zip_steps([o[s] for o in padded]) for s in reversed(range(stages))]
    chosen = {"reduce-scatter": rs, "all-gather": ag, "all-reduce": rs + ag}[collective]
    return Schedule(tuple(step for stage in chosen for step in stage))


def _zip_steps(phases: list[list[Step]]) -> list[Step]:
    """Run phases side by side: step t joins step t of each phase (repeats unrolled, then re-merged)."""
    unrolled = [[s.parts for s in phase for _ in range(s.repeat)] for phase in phases]
    out: list[Step] = []
    for t in range(max((len(u) for u in unrolled), default=0)):
        parts = tuple(p for u in unrolled if t < len(u) for p in u[t])
        if out and out[-1].parts == parts:
            out[-1] = Step(parts, out[-1].repeat + 1)
        else:
            out.append(Step(parts))
    return out


def multidim_orders(g: GroupShape) -> list[tuple[tuple[tuple[int, ...], str, Dim], ...]]:
    """Orders of elements that cover every digit once: permutations of the digits, and of the
    virtual dimensions standing in for the digits they span."""
    elements = _elements(g)
    real = [e for e in elements if len(e[0]) == 1]
    covers = [real]
    for extra in (e for e in elements if len(e[0]) > 1):
        covers.append([extra] + [e for e in real if e[0][0] not in extra[0]])
    orders = []
    for cover in covers:
        if math.factorial(len(cover)) <= _MAX_ORDERS:
            orders += list(itertools.permutations(cover))
        else:
            orders += [tuple(cover[i:] + cover[:i]) for i in range(len(cover))]
    return orders


def multidim_fractions(g: GroupShape) -> list[tuple[float, tuple]]:
    """Buffer fraction per dimension order, from an LP that balances each stage's load.

    Order o carries a fraction f_o of the buffer; its stage s reduce-scatters along element e =
    o(s), moving v(o, s) = (k_e - 1)/k_e * prod_{s' < s} 1/k_{o(s')} of f_o per chip, which
    element e carries at B_e (the chip's bandwidth into that dimension). Stages run one after
    the other, and elements of one stage in parallel, so

        minimise sum_s T_s  s.t.  sum_{o: o(s) = e} f_o v(o, s) / B_e <= T_s  (every s, e),
                                  sum_o f_o = 1, f >= 0.

    The result does not depend on the buffer size (HiGHS, deterministic).
    """
    orders = multidim_orders(g)
    stages = max(len(o) for o in orders)
    names = sorted({e[1] for o in orders for e in o})
    nvar = len(orders) + stages
    rows, rhs = [], []
    for s in range(stages):
        for name in names:
            row = np.zeros(nvar)
            for j, o in enumerate(orders):
                if s < len(o) and o[s][1] == name:
                    digits, _, dim = o[s]
                    before = math.prod(math.prod(g.shape[i] for i in e[0]) for e in o[:s])
                    k = math.prod(g.shape[i] for i in digits)
                    row[j] = (k - 1) / k / before / dim.chip_GBps
            if row.any():
                row[len(orders) + s] = -1.0
                rows.append(row)
                rhs.append(0.0)
    cost = np.concatenate([np.zeros(len(orders)), np.ones(stages)])
    eq = np.concatenate([np.ones(len(orders)), np.zeros(stages)])[None, :]
    res = linprog(cost, A_ub=np.array(rows), b_ub=np.array(rhs), A_eq=eq, b_eq=[1.0],
                  bounds=[(0, None)] * nvar, method="highs")
    if not res.success:
        raise NotApplicable(f"multi-dim LP failed: {res.message}")
    return [(float(f), o) for f, o in zip(res.x[: len(orders)], orders, strict=True) if f > 1e-9]


def multi_dim(collective: str, g: GroupShape, n: float) -> Schedule:
    """Several dimension orders at once (multi-ring, UB-Mesh's borrowing of idle links), each on
    its LP fraction of the buffer; UB-Mesh's rack LRS joins as a switch over the rack."""
    _need_dims(g, "multi-dim")
    if collective not in ("all-reduce", "reduce-scatter", "all-gather"):
        raise NotApplicable(f"multi-dim applies to all-reduce, reduce-scatter and all-gather, "
                            f"not {collective}")
    orders = []
    for fraction, order in _cached_fractions(g):
        m, phases = fraction * n, []
        for digits, name, dim in order:
            via = (name,) if dim.virtual else ()
            phases.append(_line_reduce_scatter(g, digits, name, m, via))
            m /= math.prod(g.shape[i] for i in digits)
        orders.append(phases)
    return _rs_ag(collective, orders)


_FRACTIONS: dict[GroupShape, list] = {}


def _cached_fractions(g: GroupShape) -> list:
    if g not in _FRACTIONS:
        _FRACTIONS[g] = multidim_fractions(g)
    return _FRACTIONS[g]


def ubmesh_xy(collective: str, g: GroupShape, n: float) -> Schedule:
    """UB-Mesh all-to-all: as direct, but traffic that changes both the X and the Y mesh coordinate
    goes half X-first and half Y-first, one forwarding hop in between."""
    dims = _need_dims(g, "ubmesh-xy")
    if collective != "all-to-all":
        raise NotApplicable(f"ubmesh-xy is an all-to-all algorithm, not {collective}")
    meshes = [i for i, d in enumerate(dims) if d.shape == "full-mesh" and d.size > 1]
    if len(meshes) < 2:
        raise NotApplicable("ubmesh-xy needs a group spanning two full-mesh dimensions (X and Y)")
    x, y = meshes[:2]
    parts = []
    for shift in all_peers(g.shape, n / g.p):
        if shift.offset[x] == STAR and shift.offset[y] == STAR:
            names = (dims[x].name, dims[y].name)
            parts += [Shift(shift.offset, shift.size_bytes / 2, names),
                      Shift(shift.offset, shift.size_bytes / 2, names[::-1])]
        else:
            parts.append(shift)
    return Schedule((Step(tuple(parts)),))


def _scatter_orders(g: GroupShape) -> list[tuple[float, tuple[int, ...]]]:
    """(buffer fraction, digit order) of the scatter: the rotations of the digits, order j taking
    a share of the buffer proportional to what the root can send into its first dimension,
    B_j k_j / (k_j - 1), so the root's links into every dimension finish the first phase together."""
    if g.dims is None:
        return [(1.0, (0,))]
    digits = [i for i, d in enumerate(g.dims) if d.size > 1]
    orders = [tuple(digits[j:] + digits[:j]) for j in range(len(digits))]
    weight = np.array([g.dims[o[0]].chip_GBps * g.shape[o[0]] / (g.shape[o[0]] - 1) for o in orders])
    return list(zip((weight / weight.sum()).tolist(), orders, strict=True))


def _scatter_phases(g: GroupShape, n: float, fraction: float, order: tuple[int, ...]) -> list[Explicit]:
    """Scatter of fraction * n from rank 0, digit by digit in `order`: a holder sends each peer of
    its line the part of the buffer that ranks reachable from that peer by the later digits own."""
    strides = np.cumprod((1,) + g.shape[:-1])
    holders = np.zeros(1, dtype=np.int64)
    phases = []
    for pos, i in enumerate(order):
        below = math.prod(g.shape[j] for j in order[pos + 1:])
        peers = np.arange(1, g.shape[i]) * strides[i]
        src = np.repeat(holders, len(peers))
        dst = src + np.tile(peers, len(holders))
        phases.append(explicit(src, dst, fraction * n * below / g.p))
        holders = np.concatenate([holders, dst])
    return phases


def scatter_allgather(collective: str, g: GroupShape, n: float) -> Schedule:
    """Broadcast as a scatter of n/p to every rank, then an all-gather (van de Geijn; Chan et al.
    2007): (p-1)/p n beta twice plus the latencies, against n beta for a chain. The scatter runs
    digit by digit on rotated digit orders (`_scatter_orders`) so the root sends into every
    dimension at once; the all-gather is multi-dim on aligned groups, both-ways ring otherwise."""
    if collective != "broadcast":
        raise NotApplicable(f"scatter-allgather is a broadcast algorithm, not {collective}")
    orders = [_scatter_phases(g, n, f, o) for f, o in _scatter_orders(g)]
    stages = max(len(o) for o in orders)
    scatter = tuple(Step((merge([o[s] for o in orders if s < len(o)]),)) for s in range(stages))
    gather = multi_dim("all-gather", g, n) if g.dims is not None else bidir_ring("all-gather", g, n)
    return Schedule(scatter + gather.steps)


def tree_packing(collective: str, g: GroupShape, n: float) -> Schedule:
    """Broadcast over an LP-weighted packing of cascade trees built around the root, so that the
    root sends every byte once and every chip forwards through all its links (`packing`). Its
    steady state is one period, repeated k + D - 1 times for k chunks over trees D hops deep; k
    makes the largest flow of a period `MIN_CHUNK_BYTES` (smaller ones would be batched, which
    changes only latency), and the latency is the deepest tree path's, hop by hop."""
    if collective != "broadcast":
        raise NotApplicable(f"tree-packing is a broadcast algorithm, not {collective}")
    _need_dims(g, "tree-packing")
    try:
        flows = packed_flows(g, _elements(g), multidim_orders(g))
    except NotPackable as exc:
        raise NotApplicable(str(exc)) from None
    pk = flows.packing
    k = int(min(MAX_CHUNKS, max(1, math.ceil(n * float(pk.per_pair.max()) / MIN_CHUNK_BYTES))))
    parts = tuple(Explicit(src, dst, fraction * (n / k), via) for src, dst, fraction, via in flows.parts)
    return Schedule((Step(parts, k + pk.hops - 1),), k, pk.hops, pk.latency_s)


BUILDERS: dict[str, Callable[[str, GroupShape, float], Schedule]] = {
    "ring": ring, "bidir-ring": bidir_ring, "tree": tree, "halving-doubling": halving_doubling,
    "direct": direct, "hierarchical": hierarchical, "multi-dim": multi_dim, "pairwise": pairwise,
    "ubmesh-xy": ubmesh_xy, "scatter-allgather": scatter_allgather, "tree-packing": tree_packing,
}


def build_schedule(collective: str, algorithm: str, g: GroupShape, size_bytes: float) -> Schedule:
    """The algorithm's schedule for one group; NotApplicable says why when it has none."""
    if g.p < 2:
        raise NotApplicable("a group needs at least 2 chips")
    algorithm = canonical(algorithm)
    if algorithm.startswith(PER_DIM):
        return per_dimension(collective, g, float(size_bytes), tuple(algorithm[len(PER_DIM):].split("/")))
    return BUILDERS[algorithm](collective, g, float(size_bytes))
