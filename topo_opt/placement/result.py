"""The placement result: frozen, JSON-ready through `to_dict`, re-checkable by `verify.verify_placement`."""

from collections import defaultdict
from dataclasses import dataclass

import numpy as np

from topo_opt.instance import Floor
from topo_opt.physical import Cabinet, length_bucket, length_bucket_order
from topo_opt.placement.problem import PlacementProblem, bundle_tiers, row_loads_kw, run_cost_usd, zone_loads_kw
from topo_opt.solution import StageReport


@dataclass(frozen=True)
class CableRun:
    """The cables of one bundle: both cabinets, medium, count, length of each cable."""

    cabinets: tuple[int, int]
    medium: str
    medium_kind: str
    cables: int
    length_m: float
    cost_usd: float
    optical_modules: int
    power_w: float


@dataclass(frozen=True)
class Phase:
    """One step of the solve and the objective it left (wall time excluded: results are reproducible)."""

    name: str
    objective_usd: float | None
    detail: str


@dataclass(frozen=True)
class Placement:
    report: StageReport
    slot_of_cabinet: tuple[int, ...]
    cabinets: tuple[Cabinet, ...]
    floor: Floor
    row_power_kw: tuple[float, ...]
    zone_power_kw: tuple[float, ...]
    runs: tuple[CableRun, ...]
    greedy_objective_usd: float
    packing: dict
    phases: tuple[Phase, ...]

    @property
    def cable_cost_usd(self) -> float:
        return sum(r.cost_usd for r in self.runs)

    def to_dict(self) -> dict:
        spr = self.floor.slots_per_row
        totals = _totals(self.runs)
        return {
            "report": self.report.to_dict(),
            "objective": {"cable_cost_usd": round(self.cable_cost_usd, 2), **totals},
            "greedy_objective_usd": round(self.greedy_objective_usd, 2),
            "bound_method": self.report.bound_method,
            "cabinets": [
                {
                    "cabinet": c.index,
                    "kind": c.kind,
                    "group": c.group,
                    "cooling": c.cooling,
                    "slot": s,
                    "row": s // spr,
                    "position": s % spr,
                    "power_kw": round(c.power_kw, 3),
                }
                for c, s in zip(self.cabinets, self.slot_of_cabinet, strict=True)
            ],
            "rows": [
                {"row": r, "power_kw": round(p, 3), "cap_kw": self.floor.row_power_kw}
                for r, p in enumerate(self.row_power_kw)
            ],
            "zones": [
                {
                    "zone": z.name,
                    "kind": z.kind,
                    "rows": list(z.rows),
                    "power_kw": round(p, 3),
                    "cap_kw": z.capacity_kw,
                }
                for z, p in zip(self.floor.cooling_zones, self.zone_power_kw, strict=True)
            ],
            "cables_by_medium": _by_medium(self.runs),
            "cables_by_length_m": _by_length(self.runs),
            "bundles": [
                {
                    "cabinets": list(r.cabinets),
                    "medium": r.medium,
                    "cables": r.cables,
                    "length_m": round(r.length_m, 3),
                }
                for r in self.runs
            ],
            "packing": self.packing,
            "phases": [
                {"phase": p.name, "objective_usd": p.objective_usd, "detail": p.detail} for p in self.phases
            ],
        }


def cable_runs(problem: PlacementProblem, slot_of: np.ndarray) -> tuple[CableRun, ...]:
    tiers = bundle_tiers(problem, slot_of)
    lengths = problem.length_m[slot_of[problem.bundle_a], slot_of[problem.bundle_b]]
    out = []
    for b, (k, length) in enumerate(zip(tiers, lengths, strict=True)):
        m = problem.tier_media[k]
        n = int(problem.cables[b, k])
        out.append(
            CableRun(
                (int(problem.bundle_a[b]), int(problem.bundle_b[b])),
                m.name,
                m.kind,
                n,
                float(length),
                float(run_cost_usd(problem, b, slot_of[problem.bundle_a[b]], slot_of[problem.bundle_b[b]])),
                n * m.optical_modules,
                n * m.power_w,
            )
        )
    return tuple(out)


def loads(problem: PlacementProblem, slot_of: np.ndarray) -> tuple[tuple[float, ...], tuple[float, ...]]:
    rows = row_loads_kw(problem, slot_of)
    zones = zone_loads_kw(problem, slot_of)[: problem.n_zones]
    return tuple(float(x) for x in rows), tuple(float(x) for x in zones)


def _totals(runs: tuple[CableRun, ...]) -> dict:
    return {
        "cables": sum(r.cables for r in runs),
        "optical_modules": sum(r.optical_modules for r in runs),
        "cable_length_m": round(sum(r.cables * r.length_m for r in runs), 3),
        "network_power_kw": round(sum(r.power_w for r in runs) / 1000, 3),
    }


def _by_medium(runs: tuple[CableRun, ...]) -> dict:
    groups: dict[str, list[CableRun]] = defaultdict(list)
    for r in runs:
        groups[r.medium].append(r)
    return {
        m: {
            "kind": rs[0].medium_kind,
            "cost_usd": round(sum(r.cost_usd for r in rs), 2),
            **_totals(tuple(rs)),
        }
        for m, rs in sorted(groups.items())
    }


def _by_length(runs: tuple[CableRun, ...]) -> dict:
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for r in runs:
        out[r.medium][length_bucket(r.length_m)] += r.cables
    return {m: dict(sorted(buckets.items(), key=lambda kv: length_bucket_order(kv[0])))
            for m, buckets in sorted(out.items())}
