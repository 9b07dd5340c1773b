"""Broadcast by scatter + all-gather, per-dimension hierarchical algorithms, HCCL's names, long
pipelines and halving-doubling on a large switch, against closed forms written from the
algorithms' step structure (not from the code).

Costs on `dims` fabrics: a ring hop costs L and moves m bytes in m / B; a switch path costs
2L (chip -> switch -> chip) and m / B through the chip's one link, shared by the flows leaving
(or entering) the chip in the flow model.
"""

import pytest

from topo_opt.collectives import score_fabric
from topo_opt.errors import InstanceError
from topo_opt.families.dims import dims_fabric
from topo_opt.instance import DimSpec

B0, L0 = 50.0, 400.0  # ring dimension
B1, L1 = 30.0, 250.0  # switch dimension
N = 6 * 2**20 + 4321


def _ring_switch(k0: int, k1: int):
    return dims_fabric((DimSpec("ring", k0, B0, L0), DimSpec("switch", k1, B1, L1)))


def _ring_phase(k: int, m: float, both_ways: bool = False) -> float:
    """Reduce-scatter of m bytes per chip on a ring of k: k-1 steps of one hop with m/k (m/(2k) each way)."""
    return (k - 1) * (L0 * 1e-9 + m / ((2 if both_ways else 1) * k) / (B0 * 1e9))


def _switch_ring_phase(k: int, m: float) -> float:
    """A ring laid over a switch: k-1 steps, each chip's link carrying one flow of m/k."""
    return (k - 1) * (2 * L1 * 1e-9 + m / k / (B1 * 1e9))


@pytest.mark.parametrize("model", ["alpha-beta", "flow"])
@pytest.mark.parametrize("k0,k1", [(4, 8), (6, 5), (16, 3)])
def test_ring_ring_is_the_sum_of_per_dimension_ring_phases(model: str, k0: int, k1: int) -> None:
    fabric = _ring_switch(k0, k1)
    rs = _ring_phase(k0, N) + _switch_ring_phase(k1, N / k0)
    want = {"reduce-scatter": rs, "all-gather": rs, "all-reduce": 2 * rs}
    records = score_fabric(fabric, list(want), [N], ["hierarchical:ring/ring"], model=model)
    for rec in records:
        assert rec["algorithm"] == "hierarchical:ring/ring"
        assert rec["time_s"] == pytest.approx(want[rec["collective"]], rel=1e-9), rec["collective"]


@pytest.mark.parametrize("model", ["alpha-beta", "flow"])
def test_bidir_ring_then_halving_doubling(model: str) -> None:
    """Both-ways ring on the ring, recursive halving (distances 4, 2, 1 of 8; m/2, m/4, m/8) on the switch."""
    k0, k1 = 6, 8
    m = N / k0
    halving = sum(2 * L1 * 1e-9 + m / 2 ** (j + 1) / (B1 * 1e9) for j in range(3))
    rs = _ring_phase(k0, N, both_ways=True) + halving
    (ar,) = score_fabric(_ring_switch(k0, k1), ["all-reduce"], [N], ["hierarchical:bidir-ring/halving-doubling"],
                         model=model)
    assert ar["time_s"] == pytest.approx(2 * rs, rel=1e-9)


def test_hccl_names_are_aliases() -> None:
    fabric = _ring_switch(4, 8)
    ours = score_fabric(fabric, ["all-reduce"], [N], ["hierarchical:ring/halving-doubling", "bidir-ring"])
    hccl = score_fabric(fabric, ["all-reduce"], [N], ["hierarchical:Ring/RHD", "Double-Ring"])
    assert [r["algorithm"] for r in hccl] == [r["algorithm"] for r in ours]
    assert [r["time_s"] for r in hccl] == [r["time_s"] for r in ours]


def test_hierarchical_alone_keeps_its_line_choice() -> None:
    """`hierarchical` = both-ways ring on the ring, direct on the switch (one step of m/k to each peer)."""
    fabric = _ring_switch(6, 5)
    (plain,) = score_fabric(fabric, ["reduce-scatter"], [N], ["hierarchical"], model="alpha-beta")
    direct = 2 * L1 * 1e-9 + N / 6 / 5 / (B1 * 1e9)
    assert plain["time_s"] == pytest.approx(_ring_phase(6, N, both_ways=True) + direct, rel=1e-9)


@pytest.mark.parametrize("algorithm,match", [
    ("hierarchical:ring", "2 dimensions"),
    ("hierarchical:ring/NHR", "unknown line algorithm"),
    ("hierarchical:ring/halving-doubling", "power-of-two"),
    ("Bruck", "unknown algorithm"),
])
def test_bad_per_dimension_names_are_refused(algorithm: str, match: str) -> None:
    with pytest.raises(InstanceError, match=match):
        score_fabric(_ring_switch(4, 6), ["all-reduce"], [N], [algorithm])


@pytest.mark.parametrize("model", ["alpha-beta", "flow"])
def test_scatter_allgather_broadcast_on_a_switch(model: str) -> None:
    """Scatter: the root sends n/p to each of p-1 peers; all-gather: every chip sends n/p to every
    other. Each step costs 2L plus, in the flow model, (p-1) n/p through one chip link (alone: n/p)."""
    p = 12
    fabric = dims_fabric((DimSpec("switch", p, B1, L1),))
    (rec,) = score_fabric(fabric, ["broadcast"], [N], ["scatter-allgather"], model=model)
    per_step = (p - 1 if model == "flow" else 1) * N / p / (B1 * 1e9)
    assert rec["time_s"] == pytest.approx(2 * (2 * L1 * 1e-9 + per_step), rel=1e-9)


def test_scatter_allgather_sends_into_every_dimension_at_once() -> None:
    """On a 2-D full-mesh product the rotated scatter beats the chain by far and stays within
    twice the injection bound (scatter and all-gather each need (p-1)/p n / B at least)."""
    fabric = dims_fabric((DimSpec("full-mesh", 8, B0, L0), DimSpec("full-mesh", 8, B0, L0)))
    n = 2**30
    (sag,) = score_fabric(fabric, ["broadcast"], [n], ["scatter-allgather"])
    (chain,) = score_fabric(fabric, ["broadcast"], [n], ["ring"])
    assert sag["time_s"] < chain["time_s"] / 4
    p = 64
    assert 0.45 < sag["efficiency"] <= p / (2 * (p - 1)) * (1 + 1e-12)


def test_long_chain_timed_at_steady_state_matches_closed_form() -> None:
    """A chain over 700 chips has more stages than are timed one by one; on identical links the
    k chunks of n/k cross p-1 hops cut-through: (k + p - 2) n/(k B) + (p - 1) L exactly, with
    k = ceil(n / 4 KiB)."""
    p = 700
    fabric = dims_fabric((DimSpec("ring", p, B0, L0),))
    for model in ("alpha-beta", "flow"):
        (rec,) = score_fabric(fabric, ["broadcast"], [N], ["ring"], model=model)
        k = rec["chunks"]
        assert k == -(-N // 4096)
        assert rec["time_s"] == pytest.approx((k + p - 2) * N / k / (B0 * 1e9) + (p - 1) * L0 * 1e-9, rel=1e-9)


def test_broadcast_on_a_1024_chip_ring_reaches_90_percent_of_its_bound() -> None:
    """Two chains (one each way round) of n/2 over 1,023 hops at 50 GB/s and 500 ns a hop: at 1 GiB
    the fill, (p-2)/k, and the latency, (p-1) L, cost about 5 % of n / (2B); auto picks them."""
    p, n = 1024, 2**30
    fabric = dims_fabric((DimSpec("ring", p, 50.0, 500.0),))
    (rec,) = score_fabric(fabric, ["broadcast"], [n], ["auto"])
    assert rec["algorithm"] == "bidir-ring"
    k = n // 2 // 4096
    want = (k + p - 2) * n / (2 * k) / 50e9 + (p - 1) * 500e-9
    assert rec["time_s"] == pytest.approx(want, rel=1e-9)
    assert rec["lower_bound_s"] == pytest.approx(n / 100e9, rel=1e-12)
    assert rec["efficiency"] >= 0.9


def test_halving_doubling_on_8192_chip_switch_is_rabenseifner() -> None:
    """2 log2(p) alpha + 2 (p-1)/p n / B with alpha = 2L: every step pairs each chip with one peer."""
    p, n = 8192, 2**30
    fabric = dims_fabric((DimSpec("switch", p, 50.0, 500.0),))
    (rec,) = score_fabric(fabric, ["all-reduce"], [n], ["halving-doubling"])
    want = 2 * 13 * 2 * 500e-9 + 2 * (p - 1) / p * n / 50e9
    assert rec["time_s"] == pytest.approx(want, rel=1e-9)
