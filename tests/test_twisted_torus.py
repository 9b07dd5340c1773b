"""Twisted tori as TPU v4 slices (k x k x 2k: each k-ring's wrap-around lands k further along
the 2k dimension; k x 2k x 2k: along both 2k dimensions; equal sizes: no twist).

Distances are checked against a Cayley graph written here from the definition (chip c linked
to c + e_d in the twisted coordinate group), the plain torus against the hand counts diameter =
sum floor(k_d/2) and mean hops = (p/(p-1)) sum k_d/4 (even k), and all-to-all against the hop
bound: every byte crosses at least its shortest distance, over all links' capacity.
"""

import math

import networkx as nx
import numpy as np
import pytest

from topo_opt.collectives import score_fabric
from topo_opt.families.torus import torus_fabric

SHAPES = [(4, 4, 8), (4, 8, 8), (8, 8, 8)]


def _cayley_distances(shape: tuple[int, ...]) -> np.ndarray:
    """BFS distances from chip 0 in the Cayley graph of the twisted group, by the definition."""
    k = np.array(shape)
    top = k.max()
    strides = np.cumprod(np.concatenate([[1], k[:-1]]))

    def step(c: int, d: int, sign: int) -> int:
        x = (c // strides) % k
        x[d] += sign
        if 2 < k[d] < top and not 0 <= x[d] < k[d]:  # a twisted wrap: half-way round each longest
            x[k == top] += sign * (top // 2)
        return int(((x % k) * strides).sum())

    g = nx.Graph()
    for c in range(math.prod(shape)):
        for d in range(len(shape)):
            g.add_edge(c, step(c, d, 1))
    dist = nx.single_source_shortest_path_length(g, 0)
    return np.array([dist[c] for c in range(math.prod(shape))])


def _distances(fabric) -> np.ndarray:
    dist = nx.single_source_shortest_path_length(fabric.graph, 0)
    return np.array([dist[c] for c in range(fabric.chips)])


@pytest.mark.parametrize("shape", SHAPES)
def test_twisted_distances_follow_the_definition(shape):
    assert (np.sort(_distances(torus_fabric(shape, 50.0, twist=True))) == np.sort(_cayley_distances(shape))).all()


@pytest.mark.parametrize("shape", SHAPES)
def test_plain_torus_hop_counts_by_hand(shape):
    d = _distances(torus_fabric(shape, 50.0))
    p = math.prod(shape)
    assert d.max() == sum(k // 2 for k in shape)
    assert d.sum() / (p - 1) == pytest.approx(p / (p - 1) * sum(k / 4 for k in shape), rel=1e-12)


def test_twist_shortens_the_slices_tpu_v4_twists():
    """4x4x8: diameter 8 -> 6; 4x8x8: 10 -> 6 (both 2k dimensions twisted); 8x8x8: no twist."""
    diam = {(s, t): _distances(torus_fabric(s, 50.0, twist=t)).max() for s in SHAPES for t in (False, True)}
    assert (diam[(4, 4, 8), True], diam[(4, 8, 8), True]) == (6, 6)
    assert diam[(8, 8, 8), True] == diam[(8, 8, 8), False] == 12


@pytest.mark.parametrize("shape,gain", [((4, 4, 8), 1.7), ((4, 8, 8), 1.35)])
def test_all_to_all_reaches_the_hop_bound_and_beats_the_plain_torus(shape, gain):
    n = 2**30
    (tw,) = score_fabric(torus_fabric(shape, 50.0, 500.0, twist=True), ["all-to-all"], [n], ["direct"])
    (plain,) = score_fabric(torus_fabric(shape, 50.0, 500.0), ["all-to-all"], [n], ["direct"])
    assert tw["efficiency"] >= 0.99 and tw["lower_bound_method"].startswith("hops")
    d = _cayley_distances(shape)
    hop_bound = n * d.sum() / (math.prod(shape) * 2 * len(shape) * 50e9)  # 2n links of 50 GB/s per chip
    assert tw["lower_bound_s"] == pytest.approx(hop_bound, rel=1e-12)
    assert plain["time_s"] / tw["time_s"] > gain
