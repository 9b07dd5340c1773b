"""Greedy baseline: grow the placement one cabinet at a time. It is the benchmark's baseline, the
first incumbent of the search and the fallback when everything else runs out of time.

Order: start from the cabinet with the most bundle bandwidth; then always take the unplaced cabinet
with the most bandwidth to cabinets already placed (Prim's order on the bundle graph; ties by index).
Slot: among the free slots that keep cooling, row power and zone capacity within limits, the one
minimising, lexicographically,
    (sum_k cost_b(s, slot_k),  sum_k bandwidth_b x length(s, slot_k),  s)
over the placed partners k (bundle b to each).
With a `quota` n[type, row] (a feasible count matrix from the pre-check), a cabinet of type k may enter
row r only while fewer than n[k, r] cabinets of its type stand there; that greedy cannot get stuck.
"""

import numpy as np

from topo_opt.placement.problem import PlacementProblem, incidence, run_cost_usd


def greedy_placement(
    problem: PlacementProblem, types: np.ndarray, quota: np.ndarray | None = None
) -> np.ndarray | None:
    """slot of every cabinet, or None when a cabinet finds no feasible slot (retry with a quota)."""
    n = problem.n_cabinets
    ptr, partner, bundle = incidence(problem)
    slot_of = np.full(n, -1, dtype=np.int64)
    free = np.ones(problem.n_slots, dtype=bool)
    row_load = np.zeros(problem.floor.rows)
    zone_load = np.zeros(problem.n_zones + 1)
    in_row = np.zeros((types.max() + 1, problem.floor.rows), dtype=np.int64)
    total = np.bincount(partner, problem.bandwidth_GBps[bundle], n)
    link = np.zeros(n)
    for _ in range(n):
        c = int(np.argmax(np.where(slot_of < 0, link * (total.max() + 1) + total, -np.inf)))
        zones = problem.zone_of(c, np.arange(problem.n_slots))
        ok = (
            problem.allowed[c]
            & free
            & (row_load[problem.slot_row] + problem.power_kw[c] <= problem.row_cap_kw + 1e-9)
        )
        ok &= zone_load[zones] + problem.power_kw[c] <= problem.zone_cap_kw[zones] + 1e-9
        if quota is not None:
            ok &= in_row[types[c], problem.slot_row] < quota[types[c], problem.slot_row]
        if not ok.any():
            return None
        mine = slice(ptr[c], ptr[c + 1])
        s = _best_slot(problem, ok, slot_of, partner[mine], bundle[mine])
        slot_of[c] = s
        free[s] = False
        row_load[problem.slot_row[s]] += problem.power_kw[c]
        zone_load[zones[s]] += problem.power_kw[c]
        in_row[types[c], problem.slot_row[s]] += 1
        np.add.at(link, partner[mine], problem.bandwidth_GBps[bundle[mine]])
    return slot_of


def _best_slot(
    problem: PlacementProblem, ok: np.ndarray, slot_of: np.ndarray, partners: np.ndarray, bundles: np.ndarray
) -> int:
    placed = slot_of[partners] >= 0
    cand = np.flatnonzero(ok)
    if not placed.any():
        return int(cand[0])
    ps, bs = slot_of[partners[placed]], bundles[placed]
    cost = run_cost_usd(problem, bs[:, None], cand[None, :], ps[:, None]).sum(axis=0)
    pull = (problem.bandwidth_GBps[bs][:, None] * problem.length_m[cand[None, :], ps[:, None]]).sum(axis=0)
    return int(cand[np.lexsort((cand, pull, cost))[0]])
