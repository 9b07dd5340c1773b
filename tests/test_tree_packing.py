"""Broadcast by tree-packing: every tree of the LP's types simulated chip by chip (independently
of the pair-orbit arithmetic the algorithm uses), a closed form on one full mesh, and the Atlas
SuperPoDs within 10 % of the injection bound (issue 16)."""

import itertools
import math
from collections import defaultdict

import numpy as np
import pytest

from topo_opt.collectives import score_fabric
from topo_opt.collectives.algorithms import MIN_CHUNK_BYTES, NotApplicable, _elements, build_schedule, multidim_orders
from topo_opt.collectives.packing import packed_flows
from topo_opt.collectives.schedule import GroupShape
from topo_opt.collectives.topology import Dim
from topo_opt.fabric import build_fabric
from topo_opt.families.dims import dims_fabric
from topo_opt.instance import DimSpec
from topo_opt.io import read_instance

GIB = 2**30


def _ubmesh_like(kx: int, ky: int, ku: int) -> GroupShape:
    """X and Y full meshes, an uplink switch, and a rack switch spanning X and Y (UB-Mesh's shape)."""
    x = Dim("x", "full-mesh", (0,), kx, 90.0, 150.0, ("x",))
    y = Dim("y", "full-mesh", (1,), ky, 60.0, 200.0, ("y",))
    u = Dim("uplink", "switch", (2,), ku, 100.0, 1200.0, ("uplink",))
    lrs = Dim("lrs", "switch", (0, 1), kx * ky, 100.0, 600.0, ("lrs",), virtual=True)
    return GroupShape((kx, ky, ku), (x, y, u), ((lrs, (0, 1)),))


def _digits(shape: tuple[int, ...], rank: int) -> tuple[int, ...]:
    return tuple((rank // math.prod(shape[:i])) % k for i, k in enumerate(shape))


def _simulate(g: GroupShape, elements, tree, v1: int, v2: int) -> dict:
    """Loads of one tree, pair by pair: r -> v1 -> v2, then each holder's line broadcast (scatter to
    the chips of the line that lack the piece, r excluded, then every receiver to every other)."""
    loads: dict = defaultdict(float)
    last = tree.order[-1]
    if tree.hop is not None:
        loads[(0, v1, tree.hop)] += 1.0
    loads[(v1, v2, last)] += 1.0
    got, holders = {v1, v2} - {0}, {v2}
    digits = {c: _digits(g.shape, c) for c in range(g.p)}
    for el in tree.order:
        inside = elements[el][0]
        new: set[int] = set()
        for h in sorted(holders):
            line = [c for c in range(g.p) if c != h and all(
                digits[c][d] == digits[h][d] for d in range(len(g.shape)) if d not in inside)]
            rec = [c for c in line if c != 0 and c not in got]
            assert not new & set(rec), "a chip receives the piece twice"
            for c in rec:
                loads[(h, c, el)] += 1 / len(rec)
                for c2 in rec:
                    if c2 != c:
                        loads[(c, c2, el)] += 1 / len(rec)
            new |= set(rec)
        got |= new
        holders |= new
    assert got == set(range(1, g.p)), "every chip but the root gets the piece"
    return loads


def _instances(g: GroupShape, tree) -> list[tuple[int, int]]:
    """Every (v1, v2) of a tree type: any non-root values on its digits."""
    strides = [math.prod(g.shape[:i]) for i in range(len(g.shape))]
    out = []
    for a in itertools.product(*[range(1, g.shape[d]) for d in tree.first]):
        v1 = sum(x * strides[d] for x, d in zip(a, tree.first, strict=True))
        for b in itertools.product(*[range(1, g.shape[d]) for d in tree.changed]):
            out.append((v1, v1 + sum(x * strides[d] for x, d in zip(b, tree.changed, strict=True))))
    return out


@pytest.mark.parametrize("shape", [(3, 4, 3), (2, 3, 4)])
def test_packed_loads_are_the_trees_summed(shape) -> None:
    g = _ubmesh_like(*shape)
    elements, orders = _elements(g), multidim_orders(g)
    flows = packed_flows(g, elements, orders)
    want: dict = defaultdict(float)
    for share, tree in flows.packing.trees:
        instances = _instances(g, tree)
        for v1, v2 in instances:
            for pair, load in _simulate(g, elements, tree, v1, v2).items():
                want[pair] += share * load / len(instances)
    got = {(int(s), int(d), i): float(f) for i, (src, dst, frac, _) in enumerate(flows.parts)
           for s, d, f in zip(src, dst, frac, strict=True)}
    assert set(got) == {k for k, v in want.items() if v > 1e-12}
    assert max(abs(got[k] - want[k]) for k in got) < 1e-9
    into, out = np.zeros(g.p), np.zeros(g.p)
    for (s, d, _), f in got.items():
        out[s] += f
        into[d] += f
    assert into[0] == 0.0 and out[0] == pytest.approx(1.0)  # the root sends the buffer once, receives nothing
    # every other chip receives it once, each piece from one line
    assert into[1:] == pytest.approx(np.ones(g.p - 1))
    assert 0.5 < flows.packing.rate_share <= 1.0 + 1e-9


@pytest.mark.parametrize("model", ["flow", "alpha-beta"])
def test_full_mesh_closed_form(model: str) -> None:
    """On one full mesh of k chips the root sends n/(k-1) to each peer, which scatters it to the
    other k-2 and they exchange it: every link carries n/(k-1); three hops of L."""
    k, bw, lat, n = 6, 40.0, 300.0, 3 * GIB + 1234
    (rec,) = score_fabric(dims_fabric((DimSpec("full-mesh", k, bw, lat),)), ["broadcast"], [n], ["tree-packing"],
                          model=model)
    chunks = math.ceil(n / (k - 1) / MIN_CHUNK_BYTES)
    period = n / (k - 1) / chunks / (bw * 1e9)
    want = (chunks + 2) * period + 3 * lat * 1e-9  # every flow is alone on its link: both models agree
    assert rec["chunks"] == chunks and rec["time_s"] == pytest.approx(want, rel=1e-9)


def test_rings_are_refused_with_the_reason() -> None:
    fabric = dims_fabric((DimSpec("ring", 8, 50.0, 400.0), DimSpec("full-mesh", 3, 50.0, 400.0)))
    with pytest.raises(Exception, match="needs full meshes and switches"):
        score_fabric(fabric, ["broadcast"], [GIB], ["tree-packing"])
    g = GroupShape((4,), (Dim("x", "full-mesh", (0,), 4, 1.0, 1.0, ("x",)),))
    with pytest.raises(NotApplicable, match="broadcast algorithm"):
        build_schedule("all-reduce", "tree-packing", g, GIB)


@pytest.mark.parametrize("path", ["instances/atlas950-superpod.yaml", "instances/atlas960-superpod.yaml"])
def test_atlas_broadcast_within_ten_percent_of_the_bound(path: str) -> None:
    (rec,) = score_fabric(build_fabric(read_instance(path)), ["broadcast"], [GIB])
    assert rec["auto"] and rec["algorithm"] == "tree-packing"
    assert rec["lower_bound_method"].startswith("injection")
    assert rec["efficiency"] >= 0.90
