"""Timing of one step: max-min fair sharing of link bandwidth (fluid), or alpha-beta.

A step is a set of flows that start together; A[l, f] is the fraction of flow f that crosses
link l (a flow split over equal-cost paths has fractions below 1), c_l the link's bandwidth.

**Max-min fair share (progressive filling).** All unfrozen flows raise their rate together;
link l is saturated when sum_f A[l, f] r_f = c_l; the flows crossing a saturated link freeze at
their current rate. When a flow completes, the rates of the rest are recomputed. The step's
transfer time is the completion time of its last flow (its makespan).

When every flow of a step carries the same number of bytes b, the makespan is exactly
b * max_l (sum_f A[l, f]) / c_l: the first link to saturate carries only flows that freeze at
the lowest rate, they all finish last and together, and the link stays saturated until then.
The fast engine uses this; the brute-force engine always runs progressive filling.

**Alpha-beta.** No sharing: each flow runs alone at r_f = min_l c_l / A[l, f] and the step's
transfer time is max_f b_f / r_f.

In both models a step takes alpha + transfer, alpha being the longest path latency of its flows.
"""

import numpy as np

_REL_TOL = 1e-9


def maxmin_rates(A, capacity: np.ndarray, active: np.ndarray) -> np.ndarray:
    """Max-min fair rates (bytes/s) of the active flows; A is (links x flows), dense or sparse."""
    rate = np.zeros(A.shape[1])
    free = active.copy()
    residual = capacity.astype(float).copy()
    while free.any():
        load = np.asarray(A @ free.astype(float)).ravel()
        used = load > 0
        if not used.any():
            raise ValueError("a flow crosses no link")
        inc = float(np.min(residual[used] / load[used]))
        rate[free] += inc
        residual -= inc * load
        saturated = used & (residual <= _REL_TOL * capacity)
        residual[saturated] = 0.0
        hit = np.asarray(A.T @ saturated.astype(float)).ravel() > 0
        free &= ~hit
    return rate


def fluid_completions(A, capacity: np.ndarray, size_bytes: np.ndarray) -> np.ndarray:
    """Completion time (s) of every flow under max-min sharing, rates recomputed at each completion."""
    remaining = size_bytes.astype(float).copy()
    done = remaining <= 0
    finish = np.zeros(len(remaining))
    now = 0.0
    while not done.all():
        rate = maxmin_rates(A, capacity, ~done)
        live = np.flatnonzero(~done)
        dt = float(np.min(remaining[live] / rate[live]))
        now += dt
        remaining[live] -= rate[live] * dt
        ended = live[remaining[live] <= _REL_TOL * size_bytes[live]]
        ended = ended if ended.size else live[np.argmin(remaining[live])]
        finish[ended] = now
        done[ended] = True
    return finish


def transfer_time(A, capacity_Bps: np.ndarray, size_bytes: np.ndarray, model: str,
                  exact: bool = False) -> float:
    """Transfer time (s) of one step's flows (no latency) under `model` ('flow' or 'alpha-beta').

    `exact` forces progressive filling even when all flows carry the same bytes.
    """
    if A.shape[1] == 0:
        return 0.0
    if model == "alpha-beta":
        per_byte = _max_per_column(A, capacity_Bps)
        return float(np.max(size_bytes * per_byte))
    if not exact and np.ptp(size_bytes) <= _REL_TOL * size_bytes.max():
        load = np.asarray(A @ np.ones(A.shape[1])).ravel()
        return float(size_bytes.max() * np.max(load / capacity_Bps))
    return float(fluid_completions(A, capacity_Bps, size_bytes).max())


def _max_per_column(A, capacity: np.ndarray) -> np.ndarray:
    """max_l A[l, f] / c_l for every flow f: seconds per byte of flow f running alone."""
    if hasattr(A, "tocsc"):
        scaled = A.tocsr().multiply(1.0 / capacity[:, None]).tocsc()
        return np.asarray(scaled.max(axis=0).todense()).ravel()
    return np.max(A / capacity[:, None], axis=0)
