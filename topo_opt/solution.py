"""Solver options and the honest per-stage report every solver stage returns."""

from dataclasses import asdict, dataclass

# Statuses as OR-Tools names them; a heuristic answer is FEASIBLE, never OPTIMAL.
STATUSES = ("OPTIMAL", "FEASIBLE", "INFEASIBLE", "UNKNOWN", "MODEL_INVALID", "NOT_RUN")


@dataclass(frozen=True)
class SolveOptions:
    time_limit_s: float = 30.0
    seed: int = 0
    workers: int = 2


@dataclass(frozen=True)
class StageReport:
    """status, objective, best proven bound and relative gap = |objective - bound| / max(|objective|, 1e-9)."""

    stage: str
    status: str
    objective: float | None
    bound: float | None
    gap: float | None
    bound_method: str
    wall_s: float
    time_limit_s: float
    seed: int
    workers: int

    def to_dict(self) -> dict:
        return asdict(self)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    if objective is None or bound is None:
        return None
    return abs(objective - bound) / max(abs(objective), 1e-9)
