"""The placement problem as arrays, shared by every placement algorithm, and its exact evaluation.

Notation used throughout `topo_opt.placement`:

- cabinets c = 0..N-1 (`physical.cabinets_of`), slots s = 0..S-1 with s = row x slots_per_row + position;
- bundles b = (a_b, c_b), a_b < c_b: the links between two cabinets (`physical.cabinet_bundles`);
- length(s, t) = |pos_s - pos_t| x slot_width_m + |row_s - row_t| x row_pitch_m + 2 x cable_slack_m;
- tiers: the distinct media reaches r_0 < r_1 < ... < r_{T-1}; tier(s, t) = min{k : length(s, t) <= r_k},
  and tier T means beyond every reach (forbidden). Tier k uses m_k = cheapest_medium(media, r_k), the
  same medium `cheapest_medium` picks for any length in (r_{k-1}, r_k];
- cables_b(k) = sum_j ceil(bandwidth_GBps_bj / bandwidth_GBps(m_k)) over the bundle's parts j (one
  part per edge kind when the bundles are what provisioning bought, so the count is the BOM's; one
  part, the whole bundle, otherwise);
- cost_b(s, t) = cables_b(k) x (cost_usd(m_k) + cost_usd_per_m(m_k) x length(s, t)), k = tier(s, t):
  fixed parts (modules, connectors) per cable plus copper or fibre per metre;
- objective(p) = sum_b cost_b(p(a_b), p(c_b))  [USD of cables, optics included].

Bounds and proxies that see only tiers price tier k at its shortest run, min{length(s, t) : tier(s, t)
= k} (`tier_floor_usd`): never above the cost of any run of that tier, so they stay lower bounds.

Constraints of a placement p (an injective map cabinets -> slots):
- cooling: c may stand in row r iff a cooling zone of c's kind (liquid/air) covers r; a floor that lists
  no zones does not model cooling (every row takes every cabinet, no zone caps);
- row power: sum of power_kw over the cabinets of row r <= row_power_kw;
- zone capacity: sum of power_kw over the cabinets of zone z's kind in z's rows <= capacity_kw.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from topo_opt.catalog import MediumType
from topo_opt.instance import Floor
from topo_opt.physical import Cabinet, cheapest_medium

if TYPE_CHECKING:
    from topo_opt.design import Design

COOLING_KINDS = ("liquid", "air")
# A bundle beyond every medium's reach costs this many times the dearest reachable tier, so search
# heuristics can step through such placements; CP-SAT forbids them and verify rejects them.
FORBIDDEN_FACTOR = 1000.0


@dataclass(frozen=True, eq=False)
class PlacementProblem:
    """Everything the algorithms need, as numpy arrays (see the module docstring for the maths)."""

    name: str
    floor: Floor
    cabinets: tuple[Cabinet, ...]
    tier_media: tuple[MediumType, ...]  # medium of tier k < T
    tier_reach_m: np.ndarray  # (T,)
    slot_row: np.ndarray  # (S,)
    slot_pos: np.ndarray  # (S,)
    length_m: np.ndarray  # (S, S)
    tier: np.ndarray  # (S, S) int8, T = beyond reach
    power_kw: np.ndarray  # (N,)
    cooling: np.ndarray  # (N,) index into COOLING_KINDS
    allowed: np.ndarray  # (N, S) bool: cooling admits the slot's row
    zone_of_row: np.ndarray  # (2, rows) zone index per cooling kind and row; Z (no zone) when none
    zone_cap_kw: np.ndarray  # (Z + 1,) the last entry, infinite, stands for "no zone"
    zone_names: tuple[str, ...]
    bundle_a: np.ndarray  # (B,)
    bundle_b: np.ndarray  # (B,)
    bandwidth_GBps: np.ndarray  # (B,)
    parts_GBps: np.ndarray  # (B, J): the bundle's parts, zero-padded
    cables: np.ndarray  # (B, T) cables per tier
    cost_usd: np.ndarray  # (B, T + 1) fixed cost per tier; column T = FORBIDDEN_FACTOR x the dearest
    per_m_usd: np.ndarray  # (B, T + 1) cost per metre of run per tier; column T = 0
    tier_min_length_m: np.ndarray  # (T + 1,) shortest run of each tier (0 where a tier has none)

    @property
    def n_cabinets(self) -> int:
        return len(self.cabinets)

    @property
    def n_slots(self) -> int:
        return len(self.slot_row)

    @property
    def n_tiers(self) -> int:
        return len(self.tier_media)

    @property
    def n_zones(self) -> int:
        return len(self.zone_names)

    @property
    def row_cap_kw(self) -> float:
        return self.floor.row_power_kw

    def zone_of(self, cabinets: np.ndarray | int, slots: np.ndarray | int) -> np.ndarray:
        """Zone index of cabinets standing in slots (broadcast); n_zones where no zone applies."""
        return self.zone_of_row[self.cooling[cabinets], self.slot_row[slots]]


def build_problem(design: "Design") -> PlacementProblem:
    instance = design.instance
    return problem_from_parts(instance.name, instance.floor, design.cabinets, instance.media, design.bundles)


def problem_from_parts(
    name: str,
    floor: Floor,
    cabinets: tuple[Cabinet, ...],
    media: tuple[MediumType, ...],
    bundles: dict[tuple[int, int], dict],
) -> PlacementProblem:
    """Arrays of the problem; also used to build sub-problems (a group on a small canvas floor)."""
    slots = np.arange(floor.rows * floor.slots_per_row)
    slot_row, slot_pos = slots // floor.slots_per_row, slots % floor.slots_per_row
    length = (
        np.abs(slot_pos[:, None] - slot_pos[None, :]) * floor.slot_width_m
        + np.abs(slot_row[:, None] - slot_row[None, :]) * floor.row_pitch_m
        + 2 * floor.cable_slack_m
    )
    reach = np.array(sorted({m.reach_m for m in media}), dtype=float)
    tier_media = tuple(cheapest_medium(media, r) for r in reach)
    tier = np.searchsorted(reach, length - 1e-9, side="left").astype(np.int8)
    zone_of_row, zone_cap, zone_names = _zones(floor)
    cooling = np.array([COOLING_KINDS.index(c.cooling) for c in cabinets], dtype=np.int64)
    modelled = bool(floor.cooling_zones)
    allowed = (
        (zone_of_row[cooling][:, slot_row] < len(zone_names))
        if modelled
        else np.ones((len(cabinets), len(slots)), bool)
    )
    pairs = np.array(list(bundles), dtype=np.int64).reshape(-1, 2)
    parts = _parts(bundles)
    cables, cost, per_m = _tier_costs(parts, tier_media)
    n_tiers = len(tier_media)
    shortest = np.array([length[tier == k].min() if (tier == k).any() else 0.0 for k in range(n_tiers + 1)])
    return PlacementProblem(
        name=name,
        floor=floor,
        cabinets=cabinets,
        tier_media=tier_media,
        tier_reach_m=reach,
        slot_row=slot_row,
        slot_pos=slot_pos,
        length_m=length,
        tier=tier,
        power_kw=np.array([c.power_kw for c in cabinets], dtype=float),
        cooling=cooling,
        allowed=allowed,
        zone_of_row=zone_of_row,
        zone_cap_kw=zone_cap,
        zone_names=zone_names,
        bundle_a=pairs[:, 0],
        bundle_b=pairs[:, 1],
        bandwidth_GBps=parts.sum(axis=1),
        parts_GBps=parts,
        cables=cables,
        cost_usd=cost,
        per_m_usd=per_m,
        tier_min_length_m=shortest,
    )


def _zones(floor: Floor) -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    zones = floor.cooling_zones
    zone_of_row = np.full((len(COOLING_KINDS), floor.rows), len(zones), dtype=np.int64)
    for z, zone in enumerate(zones):
        zone_of_row[COOLING_KINDS.index(zone.kind), list(zone.rows)] = z
    caps = np.array([z.capacity_kw for z in zones] + [np.inf], dtype=float)
    return zone_of_row, caps, tuple(z.name for z in zones)


def cables_needed(bandwidth_GBps: float | np.ndarray, medium: MediumType) -> np.ndarray:
    """ceil(bandwidth / medium bandwidth), tolerant of float noise (4741.33 / 100 -> 48, 1200 / 100 -> 12)."""
    return np.ceil(np.asarray(bandwidth_GBps) / medium.bandwidth_GBps - 1e-9).astype(np.int64)


def _parts(bundles: dict[tuple[int, int], dict]) -> np.ndarray:
    """(B, J) part bandwidths: a bundle's `parts_GBps` when it has them, else its `bandwidth_GBps`."""
    rows = [tuple(d.get("parts_GBps", (d["bandwidth_GBps"],))) for d in bundles.values()]
    width = max((len(r) for r in rows), default=1)
    out = np.zeros((len(rows), width))
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


def _tier_costs(parts: np.ndarray, tier_media: tuple[MediumType, ...]) -> tuple[np.ndarray, ...]:
    """(cables, fixed cost, cost per metre), each (B, T) with the forbidden column T appended to the
    costs (a fixed FORBIDDEN_FACTOR x the dearest tier at its reach, nothing per metre)."""
    # reshape with an explicit width: a group whose cabinets share no bundle has zero rows
    cables = np.stack([cables_needed(parts, m).sum(axis=1) for m in tier_media], axis=1).reshape(
        len(parts), len(tier_media))
    cost = cables * np.array([m.cost_usd for m in tier_media], dtype=float)
    per_m = cables * np.array([m.cost_usd_per_m for m in tier_media], dtype=float)
    at_reach = cables * np.array([m.cable_cost_usd(m.reach_m) for m in tier_media], dtype=float)
    dearest = at_reach.max(axis=1, keepdims=True) if at_reach.size else np.zeros((len(parts), 1))
    return (cables, np.concatenate([cost, FORBIDDEN_FACTOR * np.maximum(dearest, 1.0)], axis=1),
            np.concatenate([per_m, np.zeros((len(parts), 1))], axis=1))


# --- evaluation -----------------------------------------------------------------------------------


def bundle_tiers(problem: PlacementProblem, slot_of: np.ndarray) -> np.ndarray:
    return problem.tier[slot_of[problem.bundle_a], slot_of[problem.bundle_b]]


def run_cost_usd(problem: PlacementProblem, bundles: np.ndarray, s: np.ndarray, t: np.ndarray) -> np.ndarray:
    """cost_b(s, t) of the module docstring, broadcast over bundles and slot pairs."""
    k = problem.tier[s, t]
    return problem.cost_usd[bundles, k] + problem.per_m_usd[bundles, k] * problem.length_m[s, t]


def tier_floor_usd(problem: PlacementProblem) -> np.ndarray:
    """(B, T + 1): each tier priced at its shortest run, a lower bound of every run's cost in it."""
    return problem.cost_usd + problem.per_m_usd * problem.tier_min_length_m[None, :]


def objective_usd(problem: PlacementProblem, slot_of: np.ndarray) -> float:
    bundles = np.arange(len(problem.bundle_a))
    return float(run_cost_usd(problem, bundles, slot_of[problem.bundle_a], slot_of[problem.bundle_b]).sum())


def row_loads_kw(problem: PlacementProblem, slot_of: np.ndarray) -> np.ndarray:
    return np.bincount(problem.slot_row[slot_of], weights=problem.power_kw, minlength=problem.floor.rows)


def zone_loads_kw(problem: PlacementProblem, slot_of: np.ndarray) -> np.ndarray:
    """(Z + 1,) load per zone, the last entry for cabinets in no zone."""
    zones = problem.zone_of(np.arange(problem.n_cabinets), slot_of)
    return np.bincount(zones, weights=problem.power_kw, minlength=problem.n_zones + 1)


def incidence(problem: PlacementProblem) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR of the bundle graph: cabinet c's partners are partner[ptr[c]:ptr[c+1]], and the bundles
    bundle[ptr[c]:ptr[c+1]]."""
    a, b = problem.bundle_a, problem.bundle_b
    ends, others = np.concatenate([a, b]), np.concatenate([b, a])
    ids = np.concatenate([np.arange(len(a)), np.arange(len(a))])
    order = np.argsort(ends, kind="stable")
    ptr = np.searchsorted(ends[order], np.arange(problem.n_cabinets + 1))
    return ptr, others[order], ids[order]


def is_feasible(problem: PlacementProblem, slot_of: np.ndarray) -> bool:
    """The constraints of the module docstring (the solver's own check; verify.py re-checks independently)."""
    n = problem.n_cabinets
    return bool(
        len(np.unique(slot_of)) == n
        and problem.allowed[np.arange(n), slot_of].all()
        and (row_loads_kw(problem, slot_of) <= problem.row_cap_kw + 1e-6).all()
        and (zone_loads_kw(problem, slot_of) <= problem.zone_cap_kw + 1e-6).all()
        and (bundle_tiers(problem, slot_of) < problem.n_tiers).all()
    )


def median_saving_usd(problem: PlacementProblem) -> float:
    """Median over bundles of cost(dearest tier) - cost(cheapest tier): the annealing temperature scale."""
    cost = tier_floor_usd(problem)[:, : problem.n_tiers]
    return (float(np.median(cost.max(axis=1) - cost.min(axis=1))) if len(cost) else 0.0) or 1.0
