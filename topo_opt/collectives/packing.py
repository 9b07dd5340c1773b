"""Broadcast as a fractional packing of cascade trees (`tree-packing`), weighted by an LP.

A broadcast from root r can run at most at the root's injection bandwidth B_r, and a chip can
receive at most at its own; reaching that needs r to send every byte once and every other chip
to forward at the rate of each of its links. Scatter + all-gather makes the root send twice;
trees translated from one shape make it forward as often as any chip. Here the trees are built
around r instead, on a group that is a product of full meshes and switches (UB-Mesh's X, Y, Z,
W meshes, its HRS uplink, and its rack LRS as a virtual element spanning X and Y).

**Cascade tree T(v, o).** o is an order of elements covering every digit once (`multidim_orders`),
ending in element e; v a chip that differs from r only in e's digits. r sends v the tree's piece;
then element by element along o, every holder broadcasts it over its line of that element: it
sends 1/c of the piece to each of the c other chips of the line that do not hold it yet (r never
receives), and each of them forwards its 1/c to the other c - 1 (the line's scatter + all-gather,
the optimal broadcast inside a full mesh or switch). Holders before phase s are the sub-product of
v over o's first s - 1 elements, so every line meets them at most once; since r differs from v
only in e, which comes last, r is never a holder and is skipped in v's own line of e. Every
chip but r receives the piece exactly once; r sends it once.

**Symmetry.** Permuting the non-root values of any digit maps the fabric onto itself and fixes r
(the group G_r). T(v, o) is invariant under the permutations that also fix v, so the trees of one
*type* (o, and which of e's digits v changes) summed over all their v put the same load on every
pair (a, b) of one G_r-orbit. The orbit of a pair is its per-digit type t_d: a_d = b_d = r_d (0),
a_d = b_d != r_d (1), r_d -> other (2), other -> r_d (3), other -> another (4), with the element
carrying it. So one tree per type is built, and its loads summed per orbit: S_j[key].

**LP.** With lambda_j the share of the buffer on type j (spread evenly over its trees) and every
link and switch port a chip owns loaded at most T x its bandwidth:

    minimise T  s.t.  sum_j lambda_j S_j[key] / |key| <= T B_link      (every mesh pair orbit),
                      sum_j lambda_j P_j[c, e, dir] <= T B_e          (switch ports of class c),
                      sum_j lambda_j = 1, lambda >= 0,

|key| the number of pairs in the orbit, P the load per chip of class c (the digits where it
differs from r) on its port of switch element e. Then 1 / T is the broadcast rate of the packing;
the schedule (`algorithms.tree_packing`) is its steady state: every pair of a line carries
n lambda-weighted load per orbit, in k chunks, the trees pipelined cut-through.

The LP depends on the group's shape only (HiGHS, deterministic); results are cached.
"""

import functools
import itertools
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from topo_opt.collectives.schedule import GroupShape
from topo_opt.collectives.topology import Dim

_TYPES = 5  # per-digit pair types 0..4 (module docstring)


class NotPackable(ValueError):
    """The group is not a product of full meshes and switches."""


@dataclass(frozen=True, eq=False)
class Packing:
    """Per pair orbit (`keys`, decoded by `pair_keys`) the load of one pair as a fraction of the
    buffer; `latency_s` the deepest tree path's latency, `hops` its hop count, `rate_share` 1/T
    over the root's injection bandwidth (what the LP reached), `trees` the tree types it uses."""

    keys: np.ndarray
    per_pair: np.ndarray
    latency_s: float
    hops: int
    rate_share: float
    trees: tuple[tuple[float, "TreeType"], ...]  # (share of the buffer, type) of the types used


Element = tuple[tuple[int, ...], str, Dim]


@dataclass(frozen=True)
class TreeType:
    """Trees T(v1, v2, o): o the order (element indices), r -> v1 over element `hop` (None: v1 = r),
    v1 -> v2 over o[-1]; v1 differs from r in the digits `first`, v2 from v1 in `changed`
    (any non-root values: every such v1, v2 is one tree of the type)."""

    order: tuple[int, ...]
    hop: int | None
    first: tuple[int, ...]
    changed: tuple[int, ...]


def check_elements(elements: list[Element]) -> None:
    """NotPackable unless every element reaches every chip of its line in one hop."""
    for _, name, dim in elements:
        if not (dim.shape in ("full-mesh", "switch") or (dim.shape == "ring" and dim.size == 2)):
            raise NotPackable(f"dimension {name} is a {dim.shape} of {dim.size}: tree-packing needs full "
                              "meshes and switches (a line must reach every chip of it in one hop)")


def _digits(g: GroupShape, ranks: np.ndarray) -> np.ndarray:
    strides = np.cumprod((1,) + g.shape[:-1])
    return (ranks[:, None] // strides) % np.array(g.shape)


def pair_keys(a: np.ndarray, b: np.ndarray, element: int) -> np.ndarray:
    """Orbit key of pairs (rows of digit vectors a -> b) carried by element number `element`."""
    t = np.where(a == b, np.where(a == 0, 0, 1), np.where(a == 0, 2, np.where(b == 0, 3, 4)))
    return t @ (_TYPES ** np.arange(a.shape[1])) + element * _TYPES ** a.shape[1]


def _decode(keys: np.ndarray, ndig: int) -> tuple[np.ndarray, np.ndarray]:
    """(per-digit types (keys x digits), element index) of orbit keys."""
    element = keys // _TYPES ** ndig
    rest = keys % _TYPES ** ndig
    return (rest[:, None] // _TYPES ** np.arange(ndig)) % _TYPES, element


def _orbit_sizes(g: GroupShape, keys: np.ndarray) -> np.ndarray:
    t, _ = _decode(keys, len(g.shape))
    k = np.array(g.shape, dtype=float)
    per = np.where(t == 0, 1.0, np.where(t == 4, (k - 1) * (k - 2), k - 1))
    return per.prod(axis=1)


def _class_sizes(g: GroupShape, bits: np.ndarray) -> np.ndarray:
    """Chips per class (bit d set: the chip's digit d differs from the root's)."""
    k = np.array(g.shape, dtype=float)
    on = (bits[:, None] >> np.arange(len(g.shape))) & 1
    return np.where(on == 1, k - 1, 1.0).prod(axis=1)


def _tree(g: GroupShape, elements: list[Element], order: tuple[int, ...], v1: np.ndarray, hop: int | None,
          v2: np.ndarray):
    """Loads of one tree per pair orbit: ({key: summed load per unit piece}, hops, latency_s).

    r sends the piece to v1 over element `hop` (none when v1 = r), v1 to v2 over order[-1]; then
    the cascade from v2, skipping r and v1: both sit at position 0 of their line of the last
    element, the only phase whose lines meet them. Holders before a phase have v2's digits in that
    phase's and later elements and any digits in earlier ones, so a phase's lines differ only in
    which outside digits are at the root's value (the pair orbits' outside types), counted with
    their multiplicities; the lines through r and v1 lose position 0 from their receivers."""
    ndig, last = len(g.shape), order[-1]
    k = np.array(g.shape)
    zero = np.zeros(ndig, dtype=np.int64)
    keys, amounts = [pair_keys(v1[None, :], v2[None, :], last)], [np.ones(1)]
    hops, latency = 1, elements[last][2].hop_latency_ns
    if hop is not None:
        keys.append(pair_keys(zero[None, :], v1[None, :], hop))
        amounts.append(np.ones(1))
        hops, latency = 2, latency + elements[hop][2].hop_latency_ns
    earlier: list[int] = []
    for el in order:
        inside = list(elements[el][0])
        outside = [d for d in range(ndig) if d not in inside]
        free = np.array([d in earlier for d in outside], dtype=bool)
        # outside zero patterns of the holders' lines and how many lines have each
        pats = np.array(list(itertools.product((0, 1), repeat=len(outside))), dtype=np.int64)
        fixed = (v2[outside] != 0).astype(np.int64)
        pats = pats[(pats[:, ~free] == fixed[~free]).all(axis=1)]
        count = np.where(pats[:, free] == 1, k[outside][free] - 1, 1).prod(axis=1).astype(float)
        special = np.zeros(len(pats))
        if el == last:  # the lines through r and through v1 (one line each)
            for chip in {tuple(zero[outside]), tuple(v1[outside])}:
                special[(pats == (np.array(chip) != 0)).all(axis=1)] += 1
        depth = 0
        for cut, lines in ((False, count - special), (True, special)):
            live = lines > 0
            part, pairs, c = _line_pairs(g.shape, tuple(inside), tuple(v2[inside].tolist()), cut, el)
            if not c or not live.any():
                continue
            depth = max(depth, 1 if c == 1 else 2)
            offset = pats[live] @ (_TYPES ** np.array(outside))  # type 1 where outside digits are not r's
            keys.append((part[None, :] + offset[:, None]).ravel())
            amounts.append(np.outer(lines[live] / c, pairs).ravel())
        earlier += inside
        hops += depth
        latency += depth * elements[el][2].hop_latency_ns
    uniq, inv = np.unique(np.concatenate(keys), return_inverse=True)
    total = np.bincount(inv.ravel(), weights=np.concatenate(amounts))
    return dict(zip(uniq.tolist(), total.tolist(), strict=True)), hops, latency * 1e-9


@functools.lru_cache(maxsize=4096)
def _line_pairs(shape: tuple[int, ...], inside: tuple[int, ...], holder: tuple[int, ...], cut: bool, el: int):
    """A line broadcast from the holder at local position `holder` (position 0 excluded when `cut`):
    (distinct pair orbit keys, with the outside digits at r's value, and how many pairs each, c the
    receivers): the holder sends to each receiver, each receiver to every other."""
    positions = np.array(list(itertools.product(*[range(shape[d]) for d in inside])), dtype=np.int64)
    rec = positions[~(positions == np.array(holder)).all(axis=1)]
    if cut:
        rec = rec[rec.any(axis=1)]
    c = len(rec)
    i, j = np.nonzero(~np.eye(c, dtype=bool))
    a = np.zeros((c + len(i), len(shape)), dtype=np.int64)
    b = a.copy()
    a[:, inside] = np.vstack([np.repeat(np.array(holder)[None, :], c, axis=0), rec[i]])
    b[:, inside] = np.vstack([rec, rec[j]])
    part, pairs = np.unique(pair_keys(a, b, el), return_counts=True)
    return part, pairs.astype(float), c


def _columns(g: GroupShape, elements: list[Element], orders: list[tuple[Element, ...]]):
    """One tree per type: for every order o (ending in element e) and v2 - v1 a non-empty set of
    e's digits, v1 = r (the root's neighbour starts the cascade) or v1 a root neighbour over
    another element whose digits e does not share (two hops, so that the chips next to r forward
    once instead of sourcing the cascade)."""
    index = {e[0]: i for i, e in enumerate(elements)}
    starts = [(None, ())] + [(i, c) for i, (digits, _, _) in enumerate(elements)
                             for r in range(1, len(digits) + 1) for c in itertools.combinations(digits, r)]
    cols = []
    for order in orders:
        o = tuple(index[e[0]] for e in order)
        digits = elements[o[-1]][0]
        for hop, first in starts:
            if set(first) & set(digits):
                continue
            for r in range(1, len(digits) + 1):
                for changed in itertools.combinations(digits, r):
                    v1 = np.zeros(len(g.shape), dtype=np.int64)
                    v1[list(first)] = 1
                    v2 = v1.copy()
                    v2[list(changed)] = 1
                    cols.append((TreeType(o, hop, first, changed), _tree(g, elements, o, v1, hop, v2)))
    return cols


def solve_packing(g: GroupShape, elements: list[Element], orders: list[tuple[Element, ...]]) -> Packing:
    """The LP of the module docstring over every tree type, trees following `orders` (orders of
    elements covering every digit once)."""
    cols = _columns(g, elements, orders)
    keys = np.array(sorted({k for _, (s, _, _) in cols for k in s}), dtype=np.int64)
    col_of = {k: i for i, k in enumerate(keys.tolist())}
    loads = np.zeros((len(keys), len(cols)))
    for j, (_, (sums, _, _)) in enumerate(cols):
        for k, x in sums.items():
            loads[col_of[k], j] = x
    ndig = len(g.shape)
    types, element = _decode(keys, ndig)
    per_pair = loads / _orbit_sizes(g, keys)[:, None]
    rows, caps = [], []
    mesh = np.array([elements[e][2].shape != "switch" for e in element])
    rows.append(per_pair[mesh])
    caps.append(np.array([elements[e][2].link_GBps for e in element[mesh]]))
    weights = 1 << np.arange(ndig)
    tails = (np.isin(types, (1, 3, 4)) * weights).sum(axis=1)
    heads = (np.isin(types, (1, 2, 4)) * weights).sum(axis=1)
    for e in np.unique(element[~mesh]):
        mine = element == e
        for ends in (tails, heads):
            classes, inv = np.unique(ends[mine], return_inverse=True)
            port = csr_matrix((np.ones(mine.sum()), (inv.ravel(), np.arange(mine.sum()))),
                              shape=(len(classes), mine.sum()))
            rows.append(np.asarray(port @ loads[mine]) / _class_sizes(g, classes)[:, None])
            caps.append(np.full(len(classes), elements[e][2].link_GBps))
    a = np.vstack(rows) / np.concatenate(caps)[:, None]
    m = len(cols)
    res = linprog(np.r_[np.zeros(m), 1.0], A_ub=np.hstack([a, -np.ones((len(a), 1))]), b_ub=np.zeros(len(a)),
                  A_eq=np.r_[np.ones(m), 0.0][None, :], b_eq=[1.0], bounds=[(0, None)] * (m + 1), method="highs")
    if not res.success:
        raise NotPackable(f"tree-packing LP failed: {res.message}")
    lam = np.where(res.x[:m] > 1e-12, res.x[:m], 0.0)
    lam /= lam.sum()
    used = np.flatnonzero(lam)
    injection = sum(e[2].chip_GBps for e in elements)
    return Packing(keys, per_pair @ lam, max(cols[j][1][2] for j in used), max(cols[j][1][1] for j in used),
                   float(1.0 / (res.x[m] * injection)), tuple((float(lam[j]), cols[j][0]) for j in used))


@dataclass(frozen=True, eq=False)
class PackedFlows:
    """The packing's steady state: per element with load, its line pairs and their load as a
    fraction of the buffer (`fraction`), and the `via` that keeps them on that element."""

    packing: Packing
    parts: tuple[tuple[np.ndarray, np.ndarray, np.ndarray, tuple[str, ...]], ...]


def _pairs(g: GroupShape, elements: list[Element], packing: Packing) -> PackedFlows:
    """Every pair of a line of every element, with its orbit's load (pairs without load dropped)."""
    ranks = np.arange(g.p)
    dig = _digits(g, ranks)
    strides = np.cumprod((1,) + g.shape[:-1])
    parts = []
    for i, (inside, name, dim) in enumerate(elements):
        local = np.array([g.shape[d] for d in inside])
        offsets = np.array(list(itertools.product(*[range(k) for k in local]))[1:], dtype=np.int64)
        src = np.repeat(ranks, len(offsets))
        moved = dig[src]
        moved[:, inside] = (moved[:, inside] + np.tile(offsets, (g.p, 1))) % local
        keys = pair_keys(dig[src], moved, i)
        at = np.minimum(np.searchsorted(packing.keys, keys), len(packing.keys) - 1)
        fraction = np.where(packing.keys[at] == keys, packing.per_pair[at], 0.0)
        keep = fraction > 0
        arrays = [np.array(x[keep]) for x in (src, moved @ strides, fraction)]
        for x in arrays:
            x.flags.writeable = False  # shared by the schedules of every size (and their step keys)
        parts.append((*arrays, (name,) if dim.virtual else ()))
    return PackedFlows(packing, tuple(parts))


_PACKED: dict[GroupShape, PackedFlows] = {}


def packed_flows(g: GroupShape, elements: list[Element], orders: list[tuple[Element, ...]]) -> PackedFlows:
    """The packing of a group shape (its elements and their orders) and its flows, once per shape."""
    if g not in _PACKED:
        check_elements(elements)
        _PACKED[g] = _pairs(g, elements, solve_packing(g, elements, orders))
    return _PACKED[g]
